package org.authcore

import java.time.Instant
import kotlinx.coroutines.CoroutineDispatcher
import kotlinx.coroutines.Dispatchers
import kotlinx.coroutines.flow.Flow
import kotlinx.coroutines.flow.MutableStateFlow
import kotlinx.coroutines.flow.first
import kotlinx.coroutines.flow.flow
import kotlinx.coroutines.flow.flowOn
import kotlinx.coroutines.flow.update
import kotlinx.coroutines.withContext
import kotlinx.coroutines.withTimeoutOrNull

/**
 * What an Android app uses of authcore: every call of the core, as `suspend` functions that run
 * on [dispatcher] (I/O by default), so UI code calls them from the main thread without blocking,
 * with Kotlin types ([Account], [AccountCode], [PushRequest]: `Int`, `Long`, `Instant`, never
 * unsigned types). The generated `Authenticator` it wraps is internal to this module
 * (scripts/kotlin-internal.sh).
 *
 * Failures are thrown as the sealed [AuthCoreException] hierarchy (Errors.kt): one class per
 * thing an app may do differently ([AuthCoreException.NeedsUnlock],
 * [AuthCoreException.PasswordlessLimit] with its holders, [AuthCoreException.Forged] with the
 * token, ...), each with a message a user can read. A Kotlin argument the
 * FFI cannot carry (a negative position, a moment before 1970) is an [IllegalArgumentException]
 * naming the parameter, thrown before anything is called.
 *
 * Platform-neutral (it runs on a plain JVM too); an Android app opens it with
 * `AndroidAuthCore.open`, which passes the Android key stores, platform and transport.
 */
class AuthCore internal constructor(
    internal val authenticator: Authenticator,
    /** The platform given at open: its passwordless rule is the default of the passwordless calls. */
    val platform: Platform,
    internal val timeSource: TimeSource,
    internal val dispatcher: CoroutineDispatcher = Dispatchers.IO,
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
         * - [timeSource]: the clock of codes, push timestamps and [codesFlow];
         * - [logger]: receives the core's diagnostics (vault opened, each push exchange, imports,
         *   refused notifications), never a secret; `AndroidAuthCore` passes a Logcat sink.
         */
        suspend fun open(
            path: String,
            keyStore: VaultKeyStore,
            platform: Platform,
            deviceKeys: DeviceKeys,
            transport: HttpTransport = HttpUrlConnectionTransport(),
            timeSource: TimeSource = SystemTimeSource,
            logger: LogSink? = null,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): AuthCore = withContext(dispatcher) {
            val options = OpenOptions(platform, deviceKeys, transport, timeSource, logger)
            AuthCore(ffiCall { Authenticator.openOrCreate(path, keyStore, options) }, platform, timeSource, dispatcher)
        }

        /**
         * Opens an existing vault with its password (a restored backup, a new phone), with the
         * same fixed choices as [open]. Argon2id makes this take a tenth of a second or more.
         */
        suspend fun openWithPassword(
            path: String,
            password: String,
            platform: Platform,
            deviceKeys: DeviceKeys,
            transport: HttpTransport = HttpUrlConnectionTransport(),
            timeSource: TimeSource = SystemTimeSource,
            logger: LogSink? = null,
            dispatcher: CoroutineDispatcher = Dispatchers.IO,
        ): AuthCore = withContext(dispatcher) {
            val options = OpenOptions(platform, deviceKeys, transport, timeSource, logger)
            AuthCore(ffiCall { Authenticator.openWithPassword(path, password, options) }, platform, timeSource, dispatcher)
        }

        /**
         * Software device keys of [bits] (2048, 3072 or 4096) sealed in the vault, for the
         * desktop, tests, or a device without a usable key store. privacyIDEA's own app uses
         * 4096; 2048 is several times faster to generate. The core checks the size when the
         * vault is opened with it, so the layer does not: any other value, negative ones
         * included, is [AuthCoreException.InvalidInput] from [open] / [openWithPassword].
         */
        fun software(bits: Int = 4096): DeviceKeys = DeviceKeys.Software(bits)

        /**
         * What a scanned QR code would add, without adding it (no vault needed): for a
         * confirmation screen. The accounts have an empty id and [Instant.EPOCH] times.
         */
        fun previewUri(uri: String): List<Account> = ffiCall { org.authcore.previewUri(uri) }.map { it.toModel() }

        /**
         * A QR code of [text] as PNG bytes (8-pixel modules, a quiet zone), for an app that does
         * not draw QR codes itself (an export's payloads, [exportAccountUri]). The bytes are the
         * caller's to protect when [text] is a secret.
         */
        fun qrCodePng(text: String): ByteArray = ffiCall { org.authcore.qrCodePng(text) }
    }

    /**
     * Bumped after every call that may change what [codesFlow] shows (accounts, names, the
     * clock offset, push calls that learn a server's clock), so the flow looks again at once
     * instead of at the clock's next second.
     */
    internal val changes = MutableStateFlow(0L)

    private suspend fun <T> io(block: Authenticator.() -> T): T =
        withContext(dispatcher) { ffiCall { authenticator.block() } }

    private suspend fun <T> write(block: Authenticator.() -> T): T =
        try {
            io(block)
        } finally {
            changes.update { it + 1 }
        }

    /**
     * The UniFFI `suspend` calls, polled on [dispatcher]: the core's future runs there between
     * its requests (it signs with the device key and writes the vault), and waits on the
     * transport, which does its I/O on its own threads.
     */
    private suspend fun <T> pushCall(block: suspend Authenticator.() -> T): T =
        try {
            withContext(dispatcher) { ffiCall { authenticator.block() } }
        } finally {
            changes.update { it + 1 }
        }

    // --- accounts -------------------------------------------------------------------------------

    /** Adds what a scanned QR code carries (`otpauth://` or a Google Authenticator transfer QR). */
    suspend fun addUri(uri: String): List<AddedAccount> = write { addUri(uri) }.map { it.toModel() }

    /** Adds every URI of a text (one per line, e.g. an exported file), all or none. */
    suspend fun addUriLines(text: String): List<AddedAccount> = write { addUriLines(text) }.map { it.toModel() }

    suspend fun accounts(): List<Account> = io { accounts() }.map { it.toModel() }

    /** Accounts whose issuer or label contains [query] (any case) or whose id starts with it. */
    suspend fun search(query: String): List<Account> = io { search(query) }.map { it.toModel() }

    suspend fun rename(id: String, issuer: String? = null, label: String? = null): Account =
        write { rename(id, issuer, label) }.toModel()

    suspend fun setGroup(id: String, group: String?): Account = write { setGroup(id, group) }.toModel()

    suspend fun setNote(id: String, note: String?): Account = write { setNote(id, note) }.toModel()

    /** Moves an account to [position] (0 is the top; past the end means last) in the user's order. */
    suspend fun move(id: String, position: Int): Account {
        val at = position.toUIntParam("position")
        return write { moveAccount(id, at) }.toModel()
    }

    /** Deletes an account and returns what it was. */
    suspend fun delete(id: String): Account = write { delete(id) }.toModel()

    // --- codes ----------------------------------------------------------------------------------

    /**
     * Current and next codes of the time-based accounts (all, or those matching [query]), at the
     * time source's time plus the stored offset.
     */
    suspend fun codes(query: String? = null): List<AccountCode> = io { codes(query) }.map { it.toModel() }

    /** The same at [at] exactly (no offset applied): for "what was the code at ..." and tests. */
    suspend fun codesAt(at: Instant, query: String? = null): List<AccountCode> {
        val seconds = at.toUnixSecondsParam("at")
        return io { codesAt(seconds, query) }.map { it.toModel() }
    }

    /** Advances a HOTP account's counter (saved first) and returns the code. */
    suspend fun nextHotp(id: String): HotpCode = write { nextHotp(id) }.toModel()

    /**
     * The codes list for a screen that shows it, by the time source given at open (not the wall
     * clock): emitted at once, then each time it changes, never the same list twice in a row.
     *
     * "Changed" is what a countdown UI draws: a code or next code (a rollover), the accounts
     * (added, removed, renamed, reordered, through this object at once, through another process
     * at the next second), a clock offset, or [AccountCode.validFor], the whole seconds left.
     * So a list with time-based accounts is emitted once per second of the time source, and not
     * at all while it stands still (a fake clock, a paused test). An app that animates the
     * countdown more smoothly interpolates between emissions.
     *
     * The time source is read every [pollMillis] (on [dispatcher]) to see its second change; the
     * vault is read only when it did or a change was made here. Collect it while the list is
     * visible (`repeatOnLifecycle(STARTED)`); cancelling the collector stops it.
     */
    fun codesFlow(query: String? = null, pollMillis: Long = 100): Flow<List<AccountCode>> {
        require(pollMillis > 0) { "pollMillis must be positive (was $pollMillis)" }
        return flow {
            var last: List<AccountCode>? = null
            var seenSecond: Long? = null
            var seenChange: Long? = null
            while (true) {
                val change = changes.value
                val second = timeSource.nowUnixSeconds()
                if (second != seenSecond || change != seenChange) {
                    seenSecond = second
                    seenChange = change
                    val codes = ffiCall { authenticator.codes(query) }.map { it.toModel() }
                    if (codes != last) {
                        emit(codes)
                        last = codes
                    }
                }
                withTimeoutOrNull(pollMillis) { changes.first { it != change } }
            }
        }.flowOn(dispatcher)
    }

    /**
     * The code list of a screen that refreshes every second ([CodeList]: [CodeList.follow] keeps
     * its [CodeList.rows] current). About eight times cheaper a second than [codesFlow]'s
     * [codes] (docs/benchmarks.md): the names cross the FFI only when the list changed, the
     * codes only at a rollover, and each second only the list's version.
     */
    fun codeList(): CodeList = CodeList(this)

    // --- the clock ------------------------------------------------------------------------------

    /** Seconds added to the device clock for every code (the user's correction). */
    suspend fun clockOffset(): Long = io { clockOffset() }

    /** Sets the offset; the core refuses more than a day either way ([AuthCoreException.InvalidInput]). */
    suspend fun setClockOffset(seconds: Long) = write { setClockOffset(seconds) }

    // --- the password slot ----------------------------------------------------------------------

    suspend fun hasPassword(): Boolean = io { hasPassword() }

    /**
     * Adds or replaces the password that can also unlock this vault ([openWithPassword], a
     * backup, a new phone). Argon2id: takes a tenth of a second or more, off the main thread.
     */
    suspend fun setPassword(password: String) = io { setPassword(password) }

    suspend fun removePassword() = io { removePassword() }

    // --- passwordless ---------------------------------------------------------------------------

    /** The passwordless rule in force for [platform] (this app's by default). */
    suspend fun passwordlessRule(platform: Platform = this.platform): PasswordlessRule =
        io { passwordlessRule(platform) }.toModel()

    /** Replaces every platform's rules with a JSON rule set, or restores the defaults (`null`). */
    suspend fun setPasswordlessRules(json: String?) = io { setPasswordlessRules(json) }

    /**
     * Turns passwordless on for account [id] if [platform]'s rule allows one more account; the
     * error names the accounts that already hold it.
     */
    suspend fun enablePasswordless(id: String, platform: Platform = this.platform): Account =
        write { enablePasswordless(id, platform) }.toModel()

    suspend fun disablePasswordless(id: String): Account = write { disablePasswordless(id) }.toModel()

    /** Moves passwordless from account [from] to account [to] in one step. */
    suspend fun movePasswordless(from: String, to: String, platform: Platform = this.platform): Account =
        write { movePasswordless(from, to, platform) }.toModel()

    // --- exports: the only way secrets leave ----------------------------------------------------

    /**
     * EXPLICIT EXPORT: every account with a code as an `otpauth://` URI, secrets in the clear.
     * Call only after the user asked for it and confirmed (and behind `FLAG_SECURE`).
     */
    suspend fun exportOtpauthUris(): List<String> = io { exportOtpauthUris() }

    /** EXPLICIT EXPORT: one account as an `otpauth://` URI, to show as a QR code and move it alone. */
    suspend fun exportAccountUri(id: String): String = io { exportAccountUri(id) }

    /**
     * EXPLICIT EXPORT: Google Authenticator transfer payloads, one `otpauth-migration://` URI per
     * QR code to show in order (ten accounts each, one batch). Accounts the format cannot carry
     * (a period other than 30 s, Steam, other than 6 or 8 digits) are in
     * [MigrationExport.leftOut] with the reason: tell the user, they are not in the QR codes.
     */
    suspend fun exportMigration(): MigrationExport = io { exportMigration() }

    /**
     * EXPLICIT EXPORT: an Aegis vault file (JSON) for leaving to Aegis or any app that imports
     * it: encrypted as Aegis does under [password] (scrypt: a tenth of a second, on
     * [dispatcher]), or plain with every secret in the clear when [password] is null.
     */
    suspend fun exportAegis(password: String?): String = io { exportAegis(password) }

    // --- backups: moving out and starting over -------------------------------------------------

    /**
     * An encrypted backup of every account under [password] (Argon2id + AES-256-GCM, no
     * platform key: it restores on any phone): the file's bytes, for the app to write where the
     * user chose (Storage Access Framework). Push tokens are listed in it as metadata only: see
     * [reenrollList]. The key derivation takes a quarter second or more: on [dispatcher].
     */
    suspend fun createBackup(password: String): ByteArray = io { createBackup(password) }

    /**
     * Restores a backup file ([file]: its bytes): into an empty vault (a new phone), or with
     * [merge] added to the accounts here, those already present reported, not added twice. A
     * wrong password is [AuthCoreException.WrongPassword], a damaged file
     * [AuthCoreException.InvalidInput], a vault with accounts and no [merge]
     * [AuthCoreException.InvalidInput]; each changes nothing.
     */
    suspend fun restoreBackup(file: ByteArray, password: String, merge: Boolean = false): RestoreReport =
        write { restoreBackup(file, password, merge) }.toModel()

    /** Decrypts a backup and compares it with the vault ("does my backup work?"), changing nothing. */
    suspend fun verifyBackup(file: ByteArray, password: String): VerifyReport = io { verifyBackup(file, password) }

    /**
     * Switches automatic backups on: after every change (changes close together coalesce) a
     * backup is written into [dir] (an existing directory, absolute: `context.filesDir` or
     * `getExternalFilesDir`, or a folder the app mirrors to a SAF tree), the newest [keep] kept.
     * [password] is needed only here and to restore. The first backup is written now. Call
     * [flushBackup] in `onStop` so a change made just before the app leaves is not waiting.
     */
    suspend fun enableAutoBackup(dir: String, password: String, keep: Int = 10): BackupStatus =
        io { enableAutoBackup(dir, keep, password) }

    /** Switches automatic backups off; the backups written stay. */
    suspend fun disableAutoBackup() = io { disableAutoBackup() }

    /** Writes the pending automatic backup now: its path, or null when there was nothing new. */
    suspend fun flushBackup(): String? = io { flushBackup() }

    /** What automatic backups are set to and last did; a failure is kept, never silent. */
    suspend fun backupStatus(): BackupStatus = io { backupStatus() }

    /**
     * What cannot move to a new phone (push tokens, bound to this phone's device key), with what
     * to do about each. Holds no secret: safe to show, share or keep anywhere.
     */
    suspend fun reenrollList(): List<ReenrollItem> = io { reenrollList() }

    // --- imports: other apps' export files and QR images ---------------------------------------

    /**
     * Reads another app's export or backup file ([data]: its bytes, e.g. from the Storage
     * Access Framework) and says what importing it would do, changing nothing: for a screen
     * that lists [ImportPreview.entries] before the user confirms. [password] opens an
     * encrypted file; [format] (as the CLI's `--format` spells it: `aegis`, `2fas`, ...)
     * overrides recognition from the content.
     *
     * Encrypted files derive their key with Argon2id, scrypt or PBKDF2 at the exporting app's
     * cost, which can take seconds: this runs on [dispatcher], never on the caller's thread. A
     * wrong password is [AuthCoreException.WrongPassword]; an unreadable or unknown file
     * [AuthCoreException.InvalidInput]. The parsed secrets stay in the core: pass the preview to
     * [commitImport] once, or close it to free them without importing.
     */
    suspend fun previewImport(data: ByteArray, password: String? = null, format: String? = null): ImportPreview =
        io { ImportPreview(previewImport(data, password, format)) }

    /**
     * Adds [preview]'s entries in one transaction: every importable one, or, with
     * [allOrNothing], none at all unless every entry can be imported (then the error names the
     * first that cannot). Entries already present are reported, not added twice. A preview
     * commits once; read the file again to retry. The secrets leave the preview here.
     */
    suspend fun commitImport(preview: ImportPreview, allOrNothing: Boolean = false): ImportReport =
        write { commitImport(preview.preview, allOrNothing) }.toModel()

    /**
     * Adds what the QR codes in a PNG or JPEG image carry (a screenshot of a website's setup
     * QR, a photo of Google Authenticator's export screen), all or nothing. Decoding a large
     * image takes a while: on [dispatcher]. The phone library of scripts/build-android.sh has no
     * picture decoder (it leaves pictures to the app's QR scanner, ML Kit or ZXing, which reads
     * gallery images too): there this throws [AuthCoreException.InvalidInput] saying so, and the
     * app passes the scanned text to [addUri] or [addUriLines] instead.
     */
    suspend fun addQrImage(image: ByteArray): List<AddedAccount> = write { addQrImage(image) }.map { it.toModel() }

    // --- push approvals (privacyIDEA PUSH), through the transport given at open ------------------

    /**
     * Reads a push enrollment QR code (`otpauth://pipush/...`) just scanned, for a confirmation
     * screen ([PushEnrollmentScan.preview]: issuer, serial, server, `sslverify`, expiry). The
     * QR code's time to live runs from this scan; pass the scan to [enrollPush] once the user
     * agreed. The one-time enrollment credential stays inside the scan.
     */
    suspend fun scanPushEnrollment(uri: String): PushEnrollmentScan = PushEnrollmentScan(io { scanPushEnrollment(uri) })

    /**
     * Enrolls a [scan]ned push token with its server (the device key is made, registered and
     * stored), as a new account or joined to the account [attachTo], whose code then stays the
     * fallback. [pushToken] is the FCM token, if any (a poll-only token needs none). A scan
     * enrolls once: scan the QR code again to retry.
     */
    suspend fun enrollPush(scan: PushEnrollmentScan, pushToken: String? = null, attachTo: String? = null): Account =
        pushCall { enrollPush(scan.scan, pushToken, attachTo) }.toModel()

    /**
     * Takes in a push notification's data map as FCM delivers it: `RemoteMessage.data` in
     * `FirebaseMessagingService.onMessageReceived`. The request is verified against the
     * enrolled server's key before it is kept; a request delivered twice is kept once. The map
     * goes to the core as it is: the layer parses and re-encodes nothing.
     */
    suspend fun handleNotification(data: Map<String, String>): PushRequest =
        io { handleNotificationData(data) }.toModel()

    /**
     * The same for a notification as JSON: the data map, or privacyIDEA's gateway message
     * `{"device_token", "data"}`, as a relay of the app's own may pass it on.
     */
    suspend fun handleNotificationJson(payload: String): PushRequest = io { handleNotification(payload) }.toModel()

    /** The requests kept and still answerable, without asking any server. */
    suspend fun pendingPushRequests(): List<PushRequest> = io { pendingPushRequests() }.map { it.toModel() }

    /**
     * "Check for notifications": polls every push account's server (on resume, pull-to-refresh).
     * [CheckOutcome.serverClocks] tells each server's clock as seen on its answers.
     */
    suspend fun checkPending(): CheckOutcome = pushCall { checkPending() }.toModel()

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

    // --- privacyIDEA smartphone containers, through the same transport -----------------------

    /**
     * Reads a container QR code (`pia://container/...`) just scanned, for a confirmation screen
     * ([ContainerScan.preview]: the server, whether a passphrase is needed and its prompt).
     */
    suspend fun scanContainer(uri: String): ContainerScan = ContainerScan(io { scanContainer(uri) })

    /**
     * Registers the [scan]ned container (a new P-384 key, kept in the vault) and syncs it: every
     * token it holds comes to this phone. [passphrase] when the preview asks for one; the
     * device's brand and model (`Build.MANUFACTURER`, `Build.MODEL`) are shown to the admin.
     */
    suspend fun registerContainer(
        scan: ContainerScan,
        passphrase: String? = null,
        deviceBrand: String? = null,
        deviceModel: String? = null,
        pushToken: String? = null,
    ): ContainerRegistered =
        pushCall { registerContainer(scan.scan, passphrase, deviceBrand, deviceModel, pushToken) }.toModel()

    /** The containers registered here, with their tokens and the server's policies. */
    suspend fun containers(): List<Container> = io { containers() }

    /** Syncs one container (pull to refresh, the sync button). */
    suspend fun syncContainer(serial: String, pushToken: String? = null): ContainerSyncReport =
        pushCall { syncContainer(serial, pushToken) }.toModel()

    /** Syncs every container, for the app's start; one failing does not stop the others. */
    suspend fun syncAllContainers(pushToken: String? = null): List<ContainerSyncOutcome> =
        pushCall { syncAllContainers(pushToken) }.map { it.toModel() }

    /**
     * The QR code that moves the container to a new phone (draw it, or use [qrCodePng]). Once
     * the new phone registered, this phone's next sync throws [AuthCoreException.ContainerMoved].
     */
    suspend fun containerTransferQr(serial: String): String = pushCall { containerTransferQr(serial) }

    /** Renews every secret of the container on this phone (the old ones stop working). */
    suspend fun renewContainer(serial: String, passphrase: String? = null, pushToken: String? = null): ContainerSyncReport =
        pushCall { renewContainer(serial, passphrase, pushToken) }.toModel()

    /**
     * Ends this phone's registration and forgets the container here; its accounts stay. Tell
     * the user their codes still work at the server: only a rollover stops a lost phone's.
     */
    suspend fun unregisterContainer(serial: String): ContainerUnregistered = pushCall { unregisterContainer(serial) }

    /** Forgets the container here without the server; [deleteAccounts] removes its accounts. */
    suspend fun forgetContainer(serial: String, deleteAccounts: Boolean = false): Int =
        write { forgetContainer(serial, deleteAccounts) }

    /** Closes the vault; later calls throw [IllegalStateException]. */
    override fun close() = authenticator.close()
}

/**
 * The device's wall clock as the JVM reads it, whole seconds since the epoch: the default time
 * source. The core's `systemTimeSource()` is the same clock behind an FFI call, which the code
 * list would pay every second ([CodeList.refresh] reads the time first); the core calls this
 * one back only when it makes codes or timestamps.
 */
object SystemTimeSource : TimeSource {
    override fun nowUnixSeconds(): Long = Math.floorDiv(System.currentTimeMillis(), 1000L)
}
