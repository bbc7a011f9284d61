package org.authcore

import java.time.Duration
import java.time.Instant

// What apps see of the core's records: Kotlin types (Int, Long, Instant, Duration) where the
// generated ones (Ffi*, renamed in android/uniffi-kotlin.toml) carry Kotlin's unsigned types,
// which do not mix with the rest of an Android code base (no `UInt` in Compose, Room or JSON
// libraries) and invite silent wrapping on conversion. Every conversion below is checked: a value
// that does not fit throws instead of wrapping. The core never produces such a value (its
// counters and times are SQLite integers, i.e. signed 64-bit; import positions and counts are
// bounded by the import size cap), so a throw means a broken build.

/** An account without its secret. */
data class Account(
    val id: String,
    val issuer: String,
    val label: String,
    val otpType: OtpType,
    /** `null` for a push-only account, as are [digits], [period] and [counter]. */
    val algorithm: HashAlgorithm?,
    val digits: Int?,
    /** TOTP and Steam: seconds per code. */
    val period: Int?,
    /** HOTP: the counter the next code uses. */
    val counter: Long?,
    /** The push token's serial when the account has one; its code (if any) is the fallback. */
    val pushSerial: String?,
    /** When the push token's server registered it; `null` without a push token. */
    val pushEnrolledAt: Instant?,
    val group: String?,
    val note: String?,
    /** Position in the user's order (0 is the top). */
    val sortOrder: Long,
    /** [Instant.EPOCH] in a [AuthCore.previewUri] preview, which is not stored. */
    val createdAt: Instant,
    val updatedAt: Instant,
    /** Passwordless (phone sign-in) is on for this account. */
    val passwordless: Boolean,
)

/** What adding a URI did to one account. */
data class AddedAccount(
    val account: Account,
    /** The vault already held this exact account and nothing was added. */
    val alreadyPresent: Boolean,
)

/** A time-based account's current code, its countdown and the next code. */
data class AccountCode(
    val id: String,
    val issuer: String,
    val label: String,
    val otpType: OtpType,
    val code: String,
    /** Whole seconds [code] stays valid (1..[period]), by the clock given at open plus [clockOffset]. */
    val validFor: Int,
    val nextCode: String,
    /** Seconds per code. */
    val period: Int,
    /**
     * Seconds added to the device clock for this code: the user's offset, or the account's push
     * server's clock when that server also checks its codes ([clockFromServer]).
     */
    val clockOffset: Long,
    val clockFromServer: Boolean,
)

/** A HOTP code just made; the stored counter is now [counter] + 1. */
data class HotpCode(val id: String, val code: String, val counter: Long)

/** A platform's passwordless rule (data the issuer or app may change). */
data class PasswordlessRule(
    /** How many accounts may hold passwordless at once; `null` means no limit. */
    val maxAccounts: Int?,
    val requireNumberMatching: Boolean,
    val requireDeviceUnlock: Boolean,
)

/** What a push enrollment QR code would enroll, for a confirmation screen (nothing secret). */
data class PushEnrollmentPreview(
    val serial: String,
    val issuer: String,
    val label: String,
    /** The server's PUSH endpoint. */
    val url: String,
    /** False only when the server itself said not to verify its certificate. */
    val sslverify: Boolean,
    /** The server sends no notifications for this token: the app must poll ([AuthCore.checkPending]). */
    val pollOnly: Boolean,
    /** How long the QR code may be used after scanning. */
    val ttl: Duration,
    val scannedAt: Instant,
    /** The last moment [AuthCore.enrollPush] may use the scan. */
    val expiresAt: Instant,
)

/**
 * A scanned enrollment QR code waiting for the user's confirmation ([AuthCore.scanPushEnrollment]).
 * It holds the one-time enrollment credential, which never crosses into Kotlin; pass it to
 * [AuthCore.enrollPush] once. Closing it (or dropping it) frees the native side.
 */
class PushEnrollmentScan internal constructor(internal val scan: FfiPushEnrollmentScan) : AutoCloseable {
    /** What the QR code would enroll. */
    fun preview(): PushEnrollmentPreview = scan.preview().toModel()

    override fun close() = scan.close()

    override fun toString(): String = "PushEnrollmentScan(${preview()})"
}

/** A verified push request waiting for the user: what to show, nothing secret. */
data class PushRequest(
    /** Identifies the request in [AuthCore.approve] / [AuthCore.deny]. */
    val nonce: String,
    val accountId: String,
    val serial: String,
    val issuer: String,
    val label: String,
    val title: String,
    val question: String,
    /** Number matching: the options to offer; `null` when the server did not ask for it. */
    val answers: List<String>?,
    val receivedAt: Instant,
    val expiresAt: Instant,
    /** The server accepts a reason with a denial. */
    val declineReasons: Boolean,
    /** The account holds passwordless: approving needs number matching and `deviceUnlocked`. */
    val passwordless: Boolean,
    /** The server wants the device unlocked before an answer. */
    val unlockRequired: Boolean,
)

/** The outcome of "check for notifications" ([AuthCore.checkPending]). */
data class CheckOutcome(
    /** Every request waiting for an answer, oldest first. */
    val requests: List<PushRequest>,
    /** One readable line per server that could not be polled or entry that was refused. */
    val problems: List<String>,
    /** Every push server's clock as last seen (each corrects its own requests and codes). */
    val serverClocks: List<ServerClock>,
)

/**
 * Another app's export file, read and compared with the vault ([AuthCore.previewImport]);
 * nothing is changed yet. What the screen shows ([format], [entries], [dropped]) is read once,
 * on the layer's dispatcher, so these properties never call into the core. The parsed secrets
 * never cross into Kotlin: they stay in the core until [AuthCore.commitImport] takes them
 * (once) or [close] frees them.
 */
class ImportPreview internal constructor(internal val preview: FfiImportPreview) : AutoCloseable {
    /** The recognised format's name, for the screen ("Aegis", "2FAS", "QR code image"...). */
    val format: String = preview.format()

    /** Every entry of the file, in file order, with what importing would do to it. */
    val entries: List<ImportEntry> = preview.entries().map { it.toModel() }

    /** What the vault would not keep from the file (icons, pins...), counted. */
    val dropped: DroppedCounts = preview.dropped().toModel()

    override fun close() = preview.close()

    override fun toString(): String = "ImportPreview($format, ${entries.size} entries)"
}

/** One entry of a previewed file (nothing secret). */
data class ImportEntry(
    /** 1-based position in the file, as the exporting app lists it. */
    val position: Int,
    val issuer: String,
    val label: String,
    /** `totp`, `hotp`, `steam`, or the name of a type authcore cannot hold (e.g. `motp`). */
    val otpType: String,
    val group: String?,
    /** [ImportAction.New], [ImportAction.AlreadyPresent] or [ImportAction.CannotImport] and why. */
    val action: ImportAction,
)

/** What the vault does not keep from a file, counted so that nothing is lost silently. */
data class DroppedCounts(val icons: Int, val pins: Int, val favourites: Int, val extraGroups: Int)

/** An entry a commit did not add, and why. */
data class SkippedEntry(val position: Int, val issuer: String, val label: String, val reason: String)

/** What [AuthCore.commitImport] did. */
data class ImportReport(
    val format: String,
    /** The accounts now in the vault, in file order. */
    val added: List<Account>,
    /** Entries the vault already held, as "issuer (label)": not added twice. */
    val duplicates: List<String>,
    val skipped: List<SkippedEntry>,
    val dropped: DroppedCounts,
)

/**
 * What [AuthCore.restoreBackup] did: the accounts added in the backup's order, those already
 * here (not added twice), and the push tokens the backup lists to enroll again on this phone.
 */
data class RestoreReport(
    /** When the backup was made. */
    val createdAt: Instant,
    val added: List<Account>,
    val duplicates: List<AccountName>,
    val reenroll: List<BackupReenroll>,
)

// --- checked conversions ------------------------------------------------------------------------

private fun UByte.toIntExact(): Int = toInt() // always fits

private fun UInt.toIntExact(name: String): Int =
    if (this <= Int.MAX_VALUE.toUInt()) toInt() else throw ArithmeticException("$name: $this does not fit an Int")

private fun ULong.toLongExact(name: String): Long =
    if (this <= Long.MAX_VALUE.toULong()) toLong() else throw ArithmeticException("$name: $this does not fit a Long")


/** A parameter the caller gives as a non-negative Int, as the FFI's `u32`. */
internal fun Int.toUIntParam(name: String): UInt {
    require(this >= 0) { "$name must not be negative (was $this)" }
    return toUInt()
}

/** A moment as the FFI's `UnixTime` (whole Unix seconds): only from 1970 on. */
internal fun Instant.toUnixSecondsParam(name: String): Long {
    require(epochSecond >= 0) { "$name must not be before 1970 (was $this)" }
    return epochSecond
}

internal fun FfiAccount.toModel() = Account(
    id = id,
    issuer = issuer,
    label = label,
    otpType = otpType,
    algorithm = algorithm,
    digits = digits?.toIntExact(),
    period = period?.toIntExact("Account.period"),
    counter = counter?.toLongExact("Account.counter"),
    pushSerial = pushSerial,
    pushEnrolledAt = pushEnrolledAt?.let(Instant::ofEpochSecond),
    group = group,
    note = note,
    sortOrder = sortOrder,
    createdAt = Instant.ofEpochSecond(createdAt),
    updatedAt = Instant.ofEpochSecond(updatedAt),
    passwordless = passwordless,
)

internal fun FfiAddedAccount.toModel() = AddedAccount(account.toModel(), alreadyPresent)

internal fun FfiAccountCode.toModel() = AccountCode(
    id = id,
    issuer = issuer,
    label = label,
    otpType = otpType,
    code = code,
    validFor = validFor.toIntExact("AccountCode.validFor"),
    nextCode = nextCode,
    period = period.toIntExact("AccountCode.period"),
    clockOffset = clockOffset,
    clockFromServer = clockFromServer,
)

internal fun FfiHotpCode.toModel() = HotpCode(id, code, counter.toLongExact("HotpCode.counter"))

internal fun FfiPasswordlessRule.toModel() = PasswordlessRule(
    maxAccounts = maxAccounts?.toIntExact("PasswordlessRule.maxAccounts"),
    requireNumberMatching = requireNumberMatching,
    requireDeviceUnlock = requireDeviceUnlock,
)

internal fun FfiPushEnrollmentPreview.toModel() = PushEnrollmentPreview(
    serial = serial,
    issuer = issuer,
    label = label,
    url = url,
    sslverify = sslverify,
    pollOnly = pollOnly,
    ttl = Duration.ofSeconds(ttlSeconds.toLongExact("PushEnrollmentPreview.ttl")),
    scannedAt = Instant.ofEpochSecond(scannedAt),
    expiresAt = Instant.ofEpochSecond(expiresAt),
)

internal fun FfiPushRequest.toModel() = PushRequest(
    nonce = nonce,
    accountId = accountId,
    serial = serial,
    issuer = issuer,
    label = label,
    title = title,
    question = question,
    answers = answers,
    receivedAt = Instant.ofEpochSecond(receivedAt),
    expiresAt = Instant.ofEpochSecond(expiresAt),
    declineReasons = declineReasons,
    passwordless = passwordless,
    unlockRequired = unlockRequired,
)

internal fun FfiCheckOutcome.toModel() = CheckOutcome(requests.map { it.toModel() }, problems, serverClocks)

internal fun FfiImportEntry.toModel() = ImportEntry(
    position = position.toIntExact("ImportEntry.position"),
    issuer = issuer,
    label = label,
    otpType = otpType,
    group = group,
    action = action,
)

internal fun FfiDroppedCounts.toModel() = DroppedCounts(
    icons = icons.toIntExact("DroppedCounts.icons"),
    pins = pins.toIntExact("DroppedCounts.pins"),
    favourites = favourites.toIntExact("DroppedCounts.favourites"),
    extraGroups = extraGroups.toIntExact("DroppedCounts.extraGroups"),
)

internal fun FfiSkippedEntry.toModel() =
    SkippedEntry(position.toIntExact("SkippedEntry.position"), issuer, label, reason)

internal fun FfiRestoreReport.toModel() = RestoreReport(
    createdAt = Instant.ofEpochSecond(createdAt),
    added = added.map { it.toModel() },
    duplicates = duplicates,
    reenroll = reenroll,
)

internal fun FfiImportReport.toModel() = ImportReport(
    format = format,
    added = added.map { it.toModel() },
    duplicates = duplicates,
    skipped = skipped.map { it.toModel() },
    dropped = dropped.toModel(),
)

/**
 * A scanned container QR code waiting for the user's confirmation ([AuthCore.scanContainer]).
 * Its one-time registration challenge never crosses into Kotlin; pass it to
 * [AuthCore.registerContainer] once.
 */
class ContainerScan internal constructor(internal val scan: FfiContainerScan) : AutoCloseable {
    /** What the QR code would register: the server, whether a passphrase is needed, expiry. */
    fun preview(): ContainerPreview = scan.preview()

    override fun close() = scan.close()

    override fun toString(): String = "ContainerScan(${preview()})"
}

/** What one container sync did. */
data class ContainerSyncReport(
    val serial: String,
    val added: List<Account>,
    /** Accounts whose token came again with a new secret (after a rollover onto this phone). */
    val renewed: List<Account>,
    val takenOver: List<Account>,
    val unchanged: Int,
    /** The accounts removed (their names) because the server no longer lists their token. */
    val removed: List<String>,
    /** Tokens that could not be taken in; the next sync tries again. */
    val problems: List<String>,
    val policies: ContainerPolicies,
)

/** A registration: the container and its first sync, or why that failed (sync again). */
data class ContainerRegistered(val container: Container, val sync: ContainerSyncReport?, val syncError: String?)

/** One container's outcome in [AuthCore.syncAllContainers]. */
data class ContainerSyncOutcome(val serial: String, val report: ContainerSyncReport?, val error: String?)

internal fun FfiContainerSyncReport.toModel() = ContainerSyncReport(
    serial = serial,
    added = added.map { it.toModel() },
    renewed = renewed.map { it.toModel() },
    takenOver = takenOver.map { it.toModel() },
    unchanged = unchanged,
    removed = removed,
    problems = problems,
    policies = policies,
)

internal fun FfiContainerRegistered.toModel() = ContainerRegistered(container, sync?.toModel(), syncError)

internal fun FfiContainerSyncOutcome.toModel() = ContainerSyncOutcome(serial, report?.toModel(), error)
