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
 *
 * Platform-neutral (it runs on a plain JVM too); an Android app opens it with
 * `AndroidAuthCore.open`, which passes the Android key stores, platform and transport.
 */
class AuthCore(
    val authenticator: Authenticator,
    private val dispatcher: CoroutineDispatcher = Dispatchers.IO,
) : AutoCloseable {
    companion object {
        /**
         * Opens the vault at [path], creating it on first use, its master key wrapped by
         * [keyStore]. What the core needs from the platform is fixed here, for as long as the
         * vault is open, so that no call can run before it is set or see it change:
         * - [platform]: whose passwordless rule gates approvals (the core cannot tell where it
         *   runs);
         * - [deviceKeys]: where push tokens' RSA keys live: the platform's key store
         *   ([DeviceKeys.PlatformStore]) or, as an explicit choice, software keys sealed in the
         *   vault ([software]);
         * - [transport]: the HTTP stack that carries every push request;
         * - [timeSource]: the clock of codes and push timestamps.
         */
        suspend fun open(
            path: String,
            keyStore: VaultKeyStore,
            platform: Platform,
            deviceKeys: DeviceKeys,
            transport: HttpTransport = HttpUrlConnectionTransport(),
            timeSource: TimeSource = systemTimeSource(),
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): AuthCore = withContext(dispatcher) {
            val options = OpenOptions(platform, deviceKeys, transport, timeSource)
            AuthCore(Authenticator.openOrCreate(path, keyStore, options), dispatcher)
        }

        /**
         * Opens an existing vault with its password (a restored backup, a new phone), with the
         * same fixed choices as [open].
         */
        suspend fun openWithPassword(
            path: String,
            password: String,
            platform: Platform,
            deviceKeys: DeviceKeys,
            transport: HttpTransport = HttpUrlConnectionTransport(),
            timeSource: TimeSource = systemTimeSource(),
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): AuthCore = withContext(dispatcher) {
            val options = OpenOptions(platform, deviceKeys, transport, timeSource)
            AuthCore(Authenticator.openWithPassword(path, password, options), dispatcher)
        }

        /**
         * Software device keys of [bits] (2048, 3072 or 4096) sealed in the vault, for the
         * desktop, tests, or a device without a usable key store. privacyIDEA's own app uses
         * 4096; 2048 is several times faster to generate.
         */
        fun software(bits: Int = 4096): DeviceKeys = DeviceKeys.Software(bits.toUInt())
    }

    private suspend fun <T> io(block: Authenticator.() -> T): T =
        withContext(dispatcher) { authenticator.block() }

    /**
     * The UniFFI `suspend` calls, polled on [dispatcher]: the core's future runs there between
     * its requests (it signs with the device key and writes the vault), and waits on the
     * transport, which does its I/O on its own threads.
     */
    private suspend fun <T> pushCall(block: suspend Authenticator.() -> T): T =
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

    // Push approvals (privacyIDEA PUSH). Requests travel through the transport given at open.

    /**
     * Reads a push enrollment QR code (`otpauth://pipush/...`) just scanned, for a confirmation
     * screen ([PushEnrollmentScan.preview]: issuer, serial, server, `sslverify`, expiry). The
     * QR code's time to live runs from this scan; pass the scan to [enrollPush] once the user
     * agreed. The one-time enrollment credential stays inside the scan.
     */
    suspend fun scanPushEnrollment(uri: String): PushEnrollmentScan = io { scanPushEnrollment(uri) }

    /**
     * Enrolls a [scan]ned push token with its server (the device key is made, registered and
     * stored), as a new account or joined to the account [attachTo], whose code then stays the
     * fallback. [pushToken] is the FCM token, if any (a poll-only token needs none). A scan
     * enrolls once: scan the QR code again to retry.
     */
    suspend fun enrollPush(scan: PushEnrollmentScan, pushToken: String? = null, attachTo: String? = null): Account =
        pushCall { enrollPush(scan, pushToken, attachTo) }

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

    /**
     * "Check for notifications": polls every push account's server (on resume, pull-to-refresh).
     * [CheckOutcome.serverClocks] tells each server's clock as seen on its answers.
     */
    suspend fun checkPending(): CheckOutcome = pushCall { checkPending() }

    /**
     * Approves request [nonce]. [answer] is the number-matching choice when the request has
     * [PushRequest.answers]; [deviceUnlocked] is true only right after the platform confirmed the
     * user (BiometricPrompt with `DEVICE_CREDENTIAL`), which passwordless accounts require.
     */
    suspend fun approve(nonce: String, answer: String? = null, deviceUnlocked: Boolean = false): ApproveOutcome =
        pushCall { approvePush(nonce, answer, deviceUnlocked) }

    /** Denies request [nonce]; give a [reason] only when [PushRequest.declineReasons] is true. */
    suspend fun deny(nonce: String, reason: DeclineReason? = null) = pushCall { denyPush(nonce, reason) }

    /** Sends FCM's new token (`FirebaseMessagingService.onNewToken`) to every push server. */
    suspend fun updatePushToken(token: String): PushTokenUpdate = pushCall { updatePushToken(token) }

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
