import Foundation

/// The async/await face of `Authenticator` for SwiftUI apps: every call runs off the caller's
/// actor (the main actor, typically), and failures throw `AuthCoreError`, whose cases name what
/// went wrong with a message a user can read.
public final class AuthCoreClient: Sendable {
    public let authenticator: Authenticator

    public init(_ authenticator: Authenticator) {
        self.authenticator = authenticator
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
    /// - `timeSource`: the clock codes and push timestamps are made from.
    ///
    /// On an iPhone use `open(path:)`, which passes the Keychain stores and `.ios`.
    public static func open(
        path: String,
        keyStore: VaultKeyStore,
        platform: Platform,
        deviceKeys: DeviceKeys,
        transport: HttpTransport = URLSessionTransport(),
        timeSource: TimeSource = systemTimeSource()
    ) async throws -> AuthCoreClient {
        let options = OpenOptions(
            platform: platform, deviceKeys: deviceKeys, transport: transport, timeSource: timeSource)
        // Opening reads the vault and may run Argon2 or ask the Keychain: off the caller's actor.
        return try await Task.detached {
            AuthCoreClient(try Authenticator.openOrCreate(path: path, keyStore: keyStore, options: options))
        }.value
    }

    /// Opens an existing vault with its password (a restored backup, a new phone), with the same
    /// fixed options as `open(path:keyStore:platform:deviceKeys:transport:timeSource:)`.
    public static func openWithPassword(
        path: String,
        password: String,
        platform: Platform,
        deviceKeys: DeviceKeys,
        transport: HttpTransport = URLSessionTransport(),
        timeSource: TimeSource = systemTimeSource()
    ) async throws -> AuthCoreClient {
        let options = OpenOptions(
            platform: platform, deviceKeys: deviceKeys, transport: transport, timeSource: timeSource)
        return try await Task.detached {
            AuthCoreClient(try Authenticator.openWithPassword(path: path, password: password, options: options))
        }.value
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (Authenticator) throws -> T) async throws -> T {
        let authenticator = self.authenticator
        return try await Task.detached { try body(authenticator) }.value
    }

    /// Adds what a scanned QR code carries (`otpauth://` or a Google Authenticator transfer QR).
    public func add(uri: String) async throws -> [AddedAccount] { try await run { try $0.addUri(uri: uri) } }
    public func accounts() async throws -> [Account] { try await run { try $0.accounts() } }
    public func search(_ query: String) async throws -> [Account] { try await run { try $0.search(query: query) } }
    public func codes(matching query: String? = nil) async throws -> [AccountCode] {
        try await run { try $0.codes(query: query) }
    }
    public func nextHotp(id: String) async throws -> HotpCode { try await run { try $0.nextHotp(id: id) } }
    public func rename(id: String, issuer: String? = nil, label: String? = nil) async throws -> Account {
        try await run { try $0.rename(id: id, issuer: issuer, label: label) }
    }
    public func move(id: String, to position: UInt32) async throws -> Account {
        try await run { try $0.moveAccount(id: id, position: position) }
    }
    public func delete(id: String) async throws -> Account { try await run { try $0.delete(id: id) } }

    // MARK: Push approvals (privacyIDEA PUSH)
    // The network calls are UniFFI async functions: Swift's executor polls them and the requests
    // go through the transport given at opening, so no thread of the caller is blocked. The
    // others run detached, like the calls above.

    /// Reads a push enrollment QR code (`otpauth://pipush/...`) just scanned, for a
    /// confirmation screen (`scan.preview()`: issuer, label, server, expiry). The QR code's
    /// time to live runs from now. Nothing is stored and nothing is sent until `enrollPush`.
    public func scanPushEnrollment(uri: String) async throws -> PushEnrollmentScan {
        try await run { try $0.scanPushEnrollment(uri: uri) }
    }

    /// Enrolls a scanned push token with its server once the user confirmed: makes the device
    /// key, registers it and stores the token, as a new account or joined to the account
    /// `attachTo` (whose code then remains the fallback). `pushToken` is the APNs token if the
    /// app has one yet (`updatePushToken` sends a later one; until then `checkPending` finds the
    /// requests). A scan enrolls once: a second call throws
    /// `AuthCoreError.InvalidInput`.
    public func enrollPush(scan: PushEnrollmentScan, pushToken: String? = nil, attachTo: String? = nil) async throws -> Account {
        try await authenticator.enrollPush(scan: scan, pushToken: pushToken, attachTo: attachTo)
    }

    /// Takes in a push notification's data as JSON; the request is verified before it is kept.
    public func handleNotification(_ payload: String) async throws -> PushRequest {
        try await run { try $0.handleNotification(payload: payload) }
    }

    /// Takes in a remote notification's `userInfo` as APNs delivers it (the challenge's fields are
    /// top-level string values beside `aps`).
    public func handleNotification(userInfo: [AnyHashable: Any]) async throws -> PushRequest {
        var fields: [String: String] = [:]
        for case let (key as String, value as String) in userInfo { fields[key] = value }
        let data = try JSONSerialization.data(withJSONObject: fields)
        return try await handleNotification(String(decoding: data, as: UTF8.self))
    }

    /// The requests kept and still answerable, without asking any server.
    public func pendingPushRequests() async throws -> [PushRequest] { try await run { try $0.pendingPushRequests() } }

    /// "Check for notifications": polls every push account's server (on launch, pull-to-refresh,
    /// a background refresh). One server failing does not stop the others (see `problems`);
    /// `serverClocks` is each server's clock as its answers showed it.
    public func checkPending() async throws -> CheckOutcome { try await authenticator.checkPending() }

    /// Approves request `nonce`. `answer` is the number-matching choice when the request has
    /// `answers`; `deviceUnlocked` is true only right after the user passed Face ID / Touch ID /
    /// the passcode (LocalAuthentication), which passwordless accounts require.
    public func approve(nonce: String, answer: String? = nil, deviceUnlocked: Bool = false) async throws -> ApproveOutcome {
        try await authenticator.approvePush(nonce: nonce, answer: answer, deviceUnlocked: deviceUnlocked)
    }

    /// Denies request `nonce`; give a `reason` only when the request's `declineReasons` is true.
    public func deny(nonce: String, reason: DeclineReason? = nil) async throws {
        try await authenticator.denyPush(nonce: nonce, reason: reason)
    }

    /// Sends the new APNs token to every push server.
    public func updatePushToken(_ token: String) async throws -> PushTokenUpdate {
        try await authenticator.updatePushToken(token: token)
    }

    /// Every time-based account's current code, yielded at once and then at the start of every
    /// tick (a second by default), each with its countdown and the next code. Iterate it while
    /// the list is on screen; cancelling the task ends it.
    public func codeStream(matching query: String? = nil, tickNanoseconds: UInt64 = 1_000_000_000)
        -> AsyncThrowingStream<[AccountCode], Error>
    {
        let authenticator = self.authenticator
        return AsyncThrowingStream { continuation in
            let task = Task.detached {
                do {
                    while !Task.isCancelled {
                        continuation.yield(try authenticator.codes(query: query))
                        let now = UInt64(Date().timeIntervalSince1970 * 1_000_000_000)
                        try await Task.sleep(nanoseconds: tickNanoseconds - now % tickNanoseconds)
                    }
                    continuation.finish()
                } catch is CancellationError {
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

// The generated records declare Sendable only for Swift 6 compilers; older ones need it here.
#if !compiler(>=6)
extension AccountCode: @unchecked Sendable {}
extension Account: @unchecked Sendable {}
extension AddedAccount: @unchecked Sendable {}
extension HotpCode: @unchecked Sendable {}
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
#endif
