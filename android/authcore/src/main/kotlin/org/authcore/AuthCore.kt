package org.authcore

import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.delay
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.withContext

/**
 * The coroutine face of [Authenticator] for Android apps: every call is a `suspend` function that
 * runs on [dispatcher] (I/O by default), so UI code calls it from the main thread without
 * blocking. Failures are thrown as the sealed [AuthCoreException] hierarchy:
 * [AuthCoreException.InvalidInput], [AuthCoreException.NotFound], [AuthCoreException.WrongPassword],
 * [AuthCoreException.KeyStore], [AuthCoreException.Vault] and, for push approvals,
 * [AuthCoreException.Push], [AuthCoreException.Network], [AuthCoreException.Server] and
 * [AuthCoreException.ApprovalRefused], each with a message a user can read.
 */
class AuthCore(
    val authenticator: Authenticator,
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    companion object {
        /** Opens the vault at [path], creating it on first use, its master key wrapped by [keyStore]. */
        suspend fun open(
            path: String,
            keyStore: VaultKeyStore,
            timeSource: TimeSource = systemTimeSource(),
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): AuthCore = withContext(dispatcher) {
            AuthCore(Authenticator.openOrCreate(path, keyStore, timeSource), dispatcher)
        }

        /** Opens an existing vault with its password (a restored backup, a new phone). */
        suspend fun openWithPassword(
            path: String,
            password: String,
            timeSource: TimeSource = systemTimeSource(),
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): AuthCore = withContext(dispatcher) {
            AuthCore(Authenticator.openWithPassword(path, password, timeSource), dispatcher)
        }
    }

    private suspend fun <T> io(block: Authenticator.() -> T): T =
        withContext(dispatcher) { authenticator.block() }

    /** Adds what a scanned QR code carries (`otpauth://` or a Google Authenticator transfer QR). */
    suspend fun addUri(uri: String): List<AddedAccount> = io { addUri(uri) }

    suspend fun accounts(): List<Account> = io { accounts() }

    suspend fun search(query: String): List<Account> = io { search(query) }

    suspend fun codes(query: String? = null): List<AccountCode> = io { codes(query) }

    suspend fun nextHotp(id: String): HotpCode = io { nextHotp(id) }

    suspend fun rename(id: String, issuer: String? = null, label: String? = null): Account =
        io { rename(id, issuer, label) }

    suspend fun setGroup(id: String, group: String?): Account = io { setGroup(id, group) }

    suspend fun setNote(id: String, note: String?): Account = io { setNote(id, note) }

    suspend fun move(id: String, position: Int): Account = io { moveAccount(id, position.toUInt()) }

    suspend fun delete(id: String): Account = io { delete(id) }

    suspend fun setClockOffset(seconds: Long) = io { setClockOffset(seconds) }

    /**
     * Every time-based account's current code, emitted at once and then at the start of every
     * second, each with its countdown (`validFor`) and the next code: collect it in the account
     * list screen while it is visible.
     */
    fun codesFlow(query: String? = null, tickMillis: Long = 1_000): Flow<List<AccountCode>> = flow {
        while (true) {
            emit(authenticator.codes(query))
            delay(tickMillis - System.currentTimeMillis() % tickMillis)
        }
    }.flowOn(dispatcher)

    // Push approvals (privacyIDEA PUSH). The network calls are UniFFI `suspend` functions that
    // run on the library's own runtime and never block the caller's thread; the others run on
    // [dispatcher].

    /**
     * Keeps the device keys of push tokens enrolled from now on in [store] (on Android,
     * `AndroidKeystoreDeviceKeyStore`). Call once after opening; without it the keys are
     * software keys sealed in the vault.
     */
    suspend fun setDeviceKeyStore(store: DeviceKeyStore) = io { setDeviceKeyStore(store) }

    /**
     * The platform whose passwordless rule gates approvals: call once after opening with
     * [Platform.ANDROID] on a phone (the core assumes desktop until told).
     */
    suspend fun setPlatform(platform: Platform) = io { setPlatform(platform) }

    /** Size of new software device keys: 4096 bits unless changed (2048 and 3072 allowed). */
    suspend fun setSoftwareKeyBits(bits: Int) = io { setSoftwareKeyBits(bits.toUInt()) }

    /** What a push enrollment QR code would enroll, for a confirmation screen. */
    suspend fun previewPushEnrollment(uri: String): PushEnrollmentPreview = io { previewPushEnrollment(uri) }

    /**
     * Enrolls the push token of a scanned QR code (`otpauth://pipush/...`) with its server, as a
     * new account or joined to the account [attachTo]. [pushToken] is the FCM token, if any.
     */
    suspend fun enrollPush(uri: String, pushToken: String? = null, attachTo: String? = null): Account =
        authenticator.enrollPush(uri, pushToken, attachTo)

    /** Takes in a push notification's data as JSON; the request is verified before it is kept. */
    suspend fun handleNotification(payload: String): PushRequest = io { handleNotification(payload) }

    /**
     * Takes in a push notification's data map as FCM delivers it
     * (`RemoteMessage.data` in `FirebaseMessagingService.onMessageReceived`).
     */
    suspend fun handleNotification(data: Map<String, String>): PushRequest =
        handleNotification(notificationJson(data))

    /** The requests kept and still answerable, without asking any server. */
    suspend fun pendingPushRequests(): List<PushRequest> = io { pendingPushRequests() }

    /** "Check for notifications": polls every push account's server (on resume, pull-to-refresh). */
    suspend fun checkPending(): CheckOutcome = authenticator.checkPending()

    /**
     * Approves request [nonce]. [answer] is the number-matching choice when the request has
     * [PushRequest.answers]; [deviceUnlocked] is true only right after the platform confirmed the
     * user (BiometricPrompt with `DEVICE_CREDENTIAL`), which passwordless accounts require.
     */
    suspend fun approve(nonce: String, answer: String? = null, deviceUnlocked: Boolean = false): ApproveOutcome =
        authenticator.approvePush(nonce, answer, deviceUnlocked)

    /** Denies request [nonce]; give a [reason] only when [PushRequest.declineReasons] is true. */
    suspend fun deny(nonce: String, reason: DeclineReason? = null) = authenticator.denyPush(nonce, reason)

    /** Sends FCM's new token (`FirebaseMessagingService.onNewToken`) to every push server. */
    suspend fun updatePushToken(token: String): PushTokenUpdate = authenticator.updatePushToken(token)

    override fun close() = authenticator.close()
}

/** A notification's data map as the JSON object [Authenticator.handleNotification] takes. */
fun notificationJson(data: Map<String, String>): String = buildString {
    append('{')
    data.entries.forEachIndexed { i, (key, value) ->
        if (i > 0) append(',')
        appendJsonString(key)
        append(':')
        appendJsonString(value)
    }
    append('}')
}

private fun StringBuilder.appendJsonString(text: String) {
    append('"')
    for (c in text) {
        when {
            c == '"' -> append("\\\"")
            c == '\\' -> append("\\\\")
            c < ' ' -> append("\\u%04x".format(c.code))
            else -> append(c)
        }
    }
    append('"')
}
