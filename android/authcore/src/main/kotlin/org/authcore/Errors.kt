package org.authcore

/**
 * Every failure of an [AuthCore] call, one class per thing an app may do differently, with the
 * facts it needs as properties. [message] is the core's readable text (what to show or log);
 * branch on the class, never on the text:
 *
 * ```
 * try { core.approve(nonce, answer) } catch (e: AuthCoreException) {
 *     when (e) {
 *         is AuthCoreException.NeedsUnlock -> askForBiometricThenRetry()
 *         is AuthCoreException.AnswerRefused -> showWrongNumber()
 *         is AuthCoreException.Forged -> reportSecurityEvent(e.serial)
 *         else -> showError(e.message)
 *     }
 * }
 * ```
 *
 * The generated `FfiAuthCoreException` (whose `message` reads "text=..., serial=...") is the
 * [cause]; apps never need it.
 */
sealed class AuthCoreException(message: String) : Exception(message) {
    // The Throwable's message is always set here: a non-null view for apps.
    override val message: String get() = super.message ?: ""

    /** Something the user or app supplied is wrong (a URI, a name, an offset); nothing changed. */
    class InvalidInput(message: String) : AuthCoreException(message)

    /** No account has that id. */
    class NotFound(message: String) : AuthCoreException(message)

    /** The id prefix matches [matches] accounts: ask for more of it. */
    class Ambiguous(message: String, val matches: Int) : AuthCoreException(message)

    /** The password does not open the vault or the imported file. */
    class WrongPassword(message: String) : AuthCoreException(message)

    /** The platform key store failed or holds a different key than this vault needs. */
    class KeyStore(message: String) : AuthCoreException(message)

    /** The vault file is missing, damaged, newer than this library, or the disk failed. */
    class Vault(message: String) : AuthCoreException(message)

    /**
     * A push enrollment QR code, notification or answer that cannot be used: malformed,
     * unsupported, for a token not enrolled here ([serial]), no such request ([nonce]).
     */
    class BadPush(message: String, val serial: String?, val nonce: String?) : AuthCoreException(message)

    /**
     * A SECURITY EVENT: a push request for token [serial] whose server signature does not
     * verify, so the enrolled server did not send it. Nothing was kept.
     */
    class Forged(message: String, val serial: String) : AuthCoreException(message)

    /** Push request [nonce] was already answered here: a second delivery or answer. */
    class Replayed(message: String, val nonce: String) : AuthCoreException(message)

    /** A push request ([nonce]) or an enrollment QR code (no nonce) whose time ran out. */
    class Expired(message: String, val nonce: String?) : AuthCoreException(message)

    /**
     * The server refused the answer to request [nonce] (a wrong number-matching choice, a
     * request no longer open there); the request stays open for another try.
     */
    class AnswerRefused(message: String, val nonce: String) : AuthCoreException(message)

    /**
     * The push or container server refused a request or answered with an error ([httpStatus]
     * when it sent one; [serverCode], privacyIDEA's error code, for a container: 3000, 905, 303).
     */
    class ServerRefused(message: String, val httpStatus: Int?, val serverCode: Long? = null) : AuthCoreException(message)

    /** The push server could not be reached (connection, DNS, TLS, time-out). Try again later. */
    class Network(message: String) : AuthCoreException(message)

    /**
     * [platform] allows passwordless for [limit] accounts and [holders] ("issuer (label)")
     * already hold it: turn it off there, or move it.
     */
    class PasswordlessLimit(
        message: String,
        val platform: Platform,
        val limit: Int,
        val holders: List<String>,
    ) : AuthCoreException(message)

    /** The approval (of token [serial]'s request) needs the number-matching answer. */
    class NeedsNumberMatching(message: String, val serial: String?) : AuthCoreException(message)

    /**
     * The approval (of token [serial]'s request) needs the platform's confirmation that the user
     * unlocked the device just now (BiometricPrompt with `DEVICE_CREDENTIAL`): ask, then approve
     * again with `deviceUnlocked = true`.
     */
    class NeedsUnlock(message: String, val serial: String?) : AuthCoreException(message)

    /** The device clock is outside what the push protocol can express. */
    class Clock(message: String) : AuthCoreException(message)

    /** An earlier call failed mid-way inside the library; close and reopen the vault. */
    class Internal(message: String) : AuthCoreException(message)

    /**
     * Container [serial] was moved to another phone (the server no longer accepts this phone's
     * key): its tokens here no longer work. Offer [AuthCore.forgetContainer] with
     * `deleteAccounts = true`.
     */
    class ContainerMoved(message: String, val serial: String) : AuthCoreException(message)

    /**
     * The server says container [serial] is not registered ([serverCode] 3001) or does not
     * exist (601): offer to forget it here; its accounts can stay.
     */
    class ContainerGone(message: String, val serial: String, val serverCode: Long?) : AuthCoreException(message)
}

/**
 * The layer's exception for a generated one. Not chained to it: the generated type is internal
 * (scripts/kotlin-internal.sh), and what it held is in the subclass's properties.
 */
internal fun FfiAuthCoreException.toPublic(): AuthCoreException =
    when (this) {
        is FfiAuthCoreException.InvalidInput -> AuthCoreException.InvalidInput(text)
        is FfiAuthCoreException.NotFound -> AuthCoreException.NotFound(text)
        is FfiAuthCoreException.Ambiguous -> AuthCoreException.Ambiguous(text, matches.toIntSaturated())
        is FfiAuthCoreException.WrongPassword -> AuthCoreException.WrongPassword(text)
        is FfiAuthCoreException.KeyStore -> AuthCoreException.KeyStore(text)
        is FfiAuthCoreException.Vault -> AuthCoreException.Vault(text)
        is FfiAuthCoreException.BadPush -> AuthCoreException.BadPush(text, serial, nonce)
        is FfiAuthCoreException.Forged -> AuthCoreException.Forged(text, serial)
        is FfiAuthCoreException.Replayed -> AuthCoreException.Replayed(text, nonce)
        is FfiAuthCoreException.Expired -> AuthCoreException.Expired(text, nonce)
        is FfiAuthCoreException.AnswerRefused -> AuthCoreException.AnswerRefused(text, nonce)
        is FfiAuthCoreException.ServerRefused -> AuthCoreException.ServerRefused(text, httpStatus?.toInt(), serverCode)
        is FfiAuthCoreException.Network -> AuthCoreException.Network(text)
        is FfiAuthCoreException.PasswordlessLimit ->
            AuthCoreException.PasswordlessLimit(text, platform, limit.toIntSaturated(), holders)
        is FfiAuthCoreException.NeedsNumberMatching -> AuthCoreException.NeedsNumberMatching(text, serial)
        is FfiAuthCoreException.NeedsUnlock -> AuthCoreException.NeedsUnlock(text, serial)
        is FfiAuthCoreException.Clock -> AuthCoreException.Clock(text)
        is FfiAuthCoreException.Internal -> AuthCoreException.Internal(text)
        is FfiAuthCoreException.ContainerMoved -> AuthCoreException.ContainerMoved(text, serial)
        is FfiAuthCoreException.ContainerGone -> AuthCoreException.ContainerGone(text, serial, serverCode)
    }

// A count of accounts: the core's are small; more than Int.MAX_VALUE reads as Int.MAX_VALUE.
private fun UInt.toIntSaturated(): Int = if (this <= Int.MAX_VALUE.toUInt()) toInt() else Int.MAX_VALUE

/** Runs a call of the generated API, rethrowing its failure as [AuthCoreException]. */
internal inline fun <T> ffiCall(block: () -> T): T =
    try {
        block()
    } catch (e: FfiAuthCoreException) {
        throw e.toPublic()
    }
