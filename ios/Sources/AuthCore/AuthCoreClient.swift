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
    public static func open(
        path: String,
        keyStore: VaultKeyStore,
        timeSource: TimeSource = systemTimeSource()
    ) async throws -> AuthCoreClient {
        try await Task.detached {
            AuthCoreClient(try Authenticator.openOrCreate(path: path, keyStore: keyStore, timeSource: timeSource))
        }.value
    }

    /// Opens an existing vault with its password (a restored backup, a new phone).
    public static func open(path: String, password: String, timeSource: TimeSource = systemTimeSource()) async throws -> AuthCoreClient {
        try await Task.detached {
            AuthCoreClient(try Authenticator.openWithPassword(path: path, password: password, timeSource: timeSource))
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
    // The network calls are UniFFI async functions on the library's own runtime; they never
    // block a thread of the caller. The others run detached, like the calls above.

    /// Keeps the device keys of push tokens enrolled from now on in `store` (on Apple platforms,
    /// `KeychainDeviceKeyStore`). Without one they are software keys sealed in the vault.
    public func setDeviceKeyStore(_ store: DeviceKeyStore) throws { try authenticator.setDeviceKeyStore(store: store) }

    /// The platform whose passwordless rule gates approvals: call once after opening with `.ios`
    /// on an iPhone (the core assumes desktop until told).
    public func setPlatform(_ platform: Platform) throws { try authenticator.setPlatform(platform: platform) }

    /// Size of new software device keys: 4096 bits unless changed (2048 and 3072 allowed).
    public func setSoftwareKeyBits(_ bits: UInt32) throws { try authenticator.setSoftwareKeyBits(bits: bits) }

    /// What a push enrollment QR code would enroll, for a confirmation screen.
    public func previewPushEnrollment(uri: String) async throws -> PushEnrollmentPreview {
        try await run { try $0.previewPushEnrollment(uri: uri) }
    }

    /// Enrolls the push token of a scanned QR code (`otpauth://pipush/...`) with its server, as a
    /// new account or joined to the account `attachTo`. `pushToken` is the APNs token, if any.
    public func enrollPush(uri: String, pushToken: String? = nil, attachTo: String? = nil) async throws -> Account {
        try await authenticator.enrollPush(uri: uri, pushToken: pushToken, attachTo: attachTo)
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

    /// "Check for notifications": polls every push account's server (on launch, pull-to-refresh).
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
extension PushRequest: @unchecked Sendable {}
extension CheckOutcome: @unchecked Sendable {}
extension ApproveOutcome: @unchecked Sendable {}
extension PushTokenUpdate: @unchecked Sendable {}
#endif
