import Foundation

/// What an app uses of authcore: every call of the core as `async` functions, for SwiftUI and
/// any actor. The generated `Authenticator` it wraps is internal to this module
/// (scripts/swift-internal.sh); failures throw `AuthCoreError`, whose
/// cases name what went wrong with a message a user can read.
///
/// **Threads.** Every vault call of the core is synchronous and some are slow: unlocking with
/// the password runs Argon2id (a tenth of a second or more), the Keychain may block, SQLite
/// waits for the disk. Swift's cooperative thread pool has one thread per core and must never be
/// blocked, so each client sends its synchronous calls to a serial `DispatchQueue` of its own
/// (opening included) and awaits them through a continuation: the awaiting task is suspended,
/// not a pool thread. One queue per client keeps its calls in order; the core serialises them
/// behind its own lock anyway. The push calls that talk to a server are UniFFI `async`
/// functions: their awaits on the transport suspend, and what runs in between (a signature, a
/// vault write) is short; key generation runs on a thread of the core's own.
public final class AuthCoreClient: Sendable {
    /// The generated object: not for apps, which use this class (tests reach it through
    /// `@testable import`).
    let authenticator: Authenticator
    /// The platform given at open: its passwordless rule is the default of the passwordless calls.
    public let platform: Platform
    /// The clock given at open: `codeStream` follows it.
    let timeSource: TimeSource
    let queue: DispatchQueue
    /// Bumped by every call that may change what `codeStream` shows.
    let changes = ChangeCounter()

    init(_ authenticator: Authenticator, platform: Platform, timeSource: TimeSource, queue: DispatchQueue = AuthCoreClient.makeQueue()) {
        self.authenticator = authenticator
        self.platform = platform
        self.timeSource = timeSource
        self.queue = queue
    }

    static func makeQueue() -> DispatchQueue {
        DispatchQueue(label: "org.authcore.vault", qos: .userInitiated)
    }

    /// Runs a synchronous FFI call on `queue` and suspends the caller until it is done.
    static func onQueue<T>(_ queue: DispatchQueue, _ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Opens the vault at `path`, creating it on first use, its master key wrapped by `keyStore`.
    ///
    /// Everything that must stay the same while the vault is open is given here, once, so an
    /// app cannot forget it or change it under a running call:
    /// - `platform`: whose passwordless rule gates approvals (the core cannot know where it runs);
    /// - `deviceKeys`: where push tokens enrolled from now on keep their RSA key
    ///   (`.platformStore(store:)` with the Keychain on a phone, `.software(bits:)` sealed in the
    ///   vault otherwise);
    /// - `transport`: the HTTP stack that carries push requests (`URLSessionTransport` unless the
    ///   app brings its own, e.g. a session with certificate pinning);
    /// - `timeSource`: the clock codes, push timestamps and `codeStream` follow;
    /// - `logger`: receives the core's diagnostics (vault opened, each push exchange, imports,
    ///   refused notifications), never a secret; `open(path:)` on Apple passes an `OSLogSink`.
    ///
    /// On an iPhone use `open(path:)`, which passes the Keychain stores and `.ios`.
    public static func open(
        path: String,
        keyStore: VaultKeyStore,
        platform: Platform,
        deviceKeys: DeviceKeys,
        transport: HttpTransport = URLSessionTransport(),
        timeSource: TimeSource = systemTimeSource(),
        logger: LogSink? = nil
    ) async throws -> AuthCoreClient {
        let options = OpenOptions(
            platform: platform, deviceKeys: deviceKeys, transport: transport, timeSource: timeSource,
            logger: logger)
        let queue = makeQueue()
        return try await onQueue(queue) {
            let authenticator = try Authenticator.openOrCreate(path: path, keyStore: keyStore, options: options)
            return AuthCoreClient(authenticator, platform: platform, timeSource: timeSource, queue: queue)
        }
    }

    /// Opens an existing vault with its password (a restored backup, a new phone), with the same
    /// fixed options as `open(path:keyStore:platform:deviceKeys:transport:timeSource:logger:)`.
    /// Argon2id makes this take a tenth of a second or more, on the client's queue.
    public static func openWithPassword(
        path: String,
        password: String,
        platform: Platform,
        deviceKeys: DeviceKeys,
        transport: HttpTransport = URLSessionTransport(),
        timeSource: TimeSource = systemTimeSource(),
        logger: LogSink? = nil
    ) async throws -> AuthCoreClient {
        let options = OpenOptions(
            platform: platform, deviceKeys: deviceKeys, transport: transport, timeSource: timeSource,
            logger: logger)
        let queue = makeQueue()
        return try await onQueue(queue) {
            let authenticator = try Authenticator.openWithPassword(path: path, password: password, options: options)
            return AuthCoreClient(authenticator, platform: platform, timeSource: timeSource, queue: queue)
        }
    }

    /// What a scanned QR code would add, without adding it (no vault needed): for a
    /// confirmation screen. The accounts have an empty id.
    public static func preview(uri: String) async throws -> [Account] {
        try await onQueue(makeQueue()) { try previewUri(uri: uri) }
    }

    /// A read: the call on the client's queue.
    func run<T>(_ body: @escaping @Sendable (Authenticator) throws -> T) async throws -> T {
        let authenticator = self.authenticator
        return try await Self.onQueue(queue) { try body(authenticator) }
    }

    /// A change: the same, then `codeStream` looks again at once.
    func write<T>(_ body: @escaping @Sendable (Authenticator) throws -> T) async throws -> T {
        defer { changes.bump() }
        return try await run(body)
    }

    // MARK: Accounts

    /// Adds what a scanned QR code carries (`otpauth://` or a Google Authenticator transfer QR).
    public func add(uri: String) async throws -> [AddedAccount] { try await write { try $0.addUri(uri: uri) } }
    /// Adds every URI of a text (one per line, e.g. an exported file), all or none.
    public func add(uriLines text: String) async throws -> [AddedAccount] {
        try await write { try $0.addUriLines(text: text) }
    }
    public func accounts() async throws -> [Account] { try await run { try $0.accounts() } }
    /// Accounts whose issuer or label contains `query` (any case) or whose id starts with it.
    public func search(_ query: String) async throws -> [Account] { try await run { try $0.search(query: query) } }
    public func rename(id: String, issuer: String? = nil, label: String? = nil) async throws -> Account {
        try await write { try $0.rename(id: id, issuer: issuer, label: label) }
    }
    public func setGroup(id: String, group: String?) async throws -> Account {
        try await write { try $0.setGroup(id: id, group: group) }
    }
    public func setNote(id: String, note: String?) async throws -> Account {
        try await write { try $0.setNote(id: id, note: note) }
    }
    /// Moves an account to `position` (0 is the top; past the end means last). A negative
    /// position throws `AuthCoreError.InvalidInput` naming it; nothing is moved.
    public func move(id: String, to position: Int) async throws -> Account {
        guard position >= 0 else {
            throw AuthCoreError.InvalidInput(text: "position must not be negative (was \(position))")
        }
        // Past the end means last, so a position beyond UInt32 means the same as UInt32.max.
        let at = UInt32(clamping: position)
        return try await write { try $0.moveAccount(id: id, position: at) }
    }
    /// Deletes an account and returns what it was.
    public func delete(id: String) async throws -> Account { try await write { try $0.delete(id: id) } }

    // MARK: Codes

    /// Current and next codes of the time-based accounts (all, or those matching `query`), at
    /// the time source's time plus the stored offset.
    public func codes(matching query: String? = nil) async throws -> [AccountCode] {
        try await run { try $0.codes(query: query) }
    }
    /// The same at `date` exactly (no offset applied), to the whole second. A date before 1970
    /// throws `AuthCoreError.InvalidInput`.
    public func codes(at date: Date, matching query: String? = nil) async throws -> [AccountCode] {
        let seconds = date.timeIntervalSince1970.rounded(.down)
        guard seconds >= 0, let unix = Int64(exactly: seconds) else {
            throw AuthCoreError.InvalidInput(text: "at must not be before 1970 (was \(seconds))")
        }
        return try await run { try $0.codesAt(unixSeconds: unix, query: query) }
    }
    /// Advances a HOTP account's counter (saved first) and returns the code.
    public func nextHotp(id: String) async throws -> HotpCode { try await write { try $0.nextHotp(id: id) } }

    // MARK: The clock

    /// Seconds added to the device clock for every code (the user's correction).
    public func clockOffset() async throws -> Int64 { try await run { try $0.clockOffset() } }
    /// Sets the offset; the core refuses more than a day either way (`.InvalidInput`).
    public func setClockOffset(seconds: Int64) async throws {
        try await write { try $0.setClockOffset(seconds: seconds) }
    }

    // MARK: The password slot

    public func hasPassword() async throws -> Bool { try await run { try $0.hasPassword() } }
    /// Adds or replaces the password that can also unlock this vault (`openWithPassword`, a
    /// new phone). Argon2id: a tenth of a second or more, on the client's queue.
    public func setPassword(_ password: String) async throws { try await run { try $0.setPassword(password: password) } }
    public func removePassword() async throws { try await run { try $0.removePassword() } }

    // MARK: Passwordless

    /// The passwordless rule in force for `platform` (this app's by default).
    public func passwordlessRule(for platform: Platform? = nil) async throws -> PasswordlessRule {
        let platform = platform ?? self.platform
        return try await run { try $0.passwordlessRule(platform: platform) }
    }
    /// Replaces every platform's rules with a JSON rule set, or restores the defaults (`nil`).
    public func setPasswordlessRules(json: String?) async throws {
        try await run { try $0.setPasswordlessRules(json: json) }
    }
    /// Turns passwordless on for account `id` if the platform's rule allows one more account;
    /// the error names the accounts that already hold it.
    public func enablePasswordless(id: String, platform: Platform? = nil) async throws -> Account {
        let platform = platform ?? self.platform
        return try await write { try $0.enablePasswordless(id: id, platform: platform) }
    }
    public func disablePasswordless(id: String) async throws -> Account {
        try await write { try $0.disablePasswordless(id: id) }
    }
    /// Moves passwordless from one account to another in one step.
    public func movePasswordless(from: String, to: String, platform: Platform? = nil) async throws -> Account {
        let platform = platform ?? self.platform
        return try await write { try $0.movePasswordless(from: from, to: to, platform: platform) }
    }

    // MARK: Exports: the only way secrets leave

    /// EXPLICIT EXPORT: every account with a code as an `otpauth://` URI, secrets in the clear.
    /// Call only after the user asked for it and confirmed.
    public func exportOtpauthUris() async throws -> [String] { try await run { try $0.exportOtpauthUris() } }
    /// EXPLICIT EXPORT: one account as an `otpauth://` URI, to show as a QR code and move it alone.
    public func exportAccountUri(id: String) async throws -> String { try await run { try $0.exportAccountUri(id: id) } }
    /// EXPLICIT EXPORT: Google Authenticator transfer payloads, one `otpauth-migration://` URI per
    /// QR code to show in order (ten accounts each, one batch). Accounts the format cannot carry
    /// (a period other than 30 s, Steam, other than 6 or 8 digits) are in `leftOut` with the
    /// reason: tell the user, they are not in the QR codes.
    public func exportMigration() async throws -> MigrationExport { try await run { try $0.exportMigration() } }
    /// EXPLICIT EXPORT: an Aegis vault file (JSON), encrypted as Aegis does under `password`
    /// (scrypt, on the client's queue), or plain with every secret in the clear when it is nil.
    public func exportAegis(password: String?) async throws -> String {
        try await run { try $0.exportAegis(password: password) }
    }
    /// A QR code of `text` as PNG bytes (8-pixel modules, a quiet zone), for an app that does not
    /// draw its own (Core Image's `CIQRCodeGenerator` is the native choice on Apple platforms).
    public static func qrCodePng(text: String) throws -> Data { try AuthCore.qrCodePng(text: text) }
}

/// A counter of changes made through a client, read by its code streams.
final class ChangeCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count: UInt64 = 0

    func bump() {
        lock.lock(); defer { lock.unlock() }
        count &+= 1
    }

    var current: UInt64 {
        lock.lock(); defer { lock.unlock() }
        return count
    }
}

// The generated records declare Sendable only for Swift 6 compilers; older ones need it here.
#if !compiler(>=6)
extension AccountCode: @unchecked Sendable {}
extension Account: @unchecked Sendable {}
extension AddedAccount: @unchecked Sendable {}
extension HotpCode: @unchecked Sendable {}
extension PasswordlessRule: @unchecked Sendable {}
extension PushEnrollmentPreview: @unchecked Sendable {}
extension ServerClock: @unchecked Sendable {}
extension HttpHeader: @unchecked Sendable {}
extension HttpRequest: @unchecked Sendable {}
extension HttpResponse: @unchecked Sendable {}
extension HttpMethod: @unchecked Sendable {}
extension OpenOptions: @unchecked Sendable {}
extension DeviceKeys: @unchecked Sendable {}
extension Platform: @unchecked Sendable {}
extension DeclineReason: @unchecked Sendable {}
extension PushRequest: @unchecked Sendable {}
extension CheckOutcome: @unchecked Sendable {}
extension ApproveOutcome: @unchecked Sendable {}
extension PushTokenUpdate: @unchecked Sendable {}
extension ImportEntry: @unchecked Sendable {}
extension ImportAction: @unchecked Sendable {}
extension ImportReport: @unchecked Sendable {}
extension SkippedEntry: @unchecked Sendable {}
extension DroppedCounts: @unchecked Sendable {}
#endif
