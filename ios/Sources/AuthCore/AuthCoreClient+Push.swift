import Foundation

// MARK: Push approvals (privacyIDEA PUSH)
// The network calls are UniFFI async functions: Swift's executor polls them and the requests go
// through the transport given at opening, so no thread is blocked while they wait. The others
// are synchronous and run on the client's queue, like every vault call.
extension AuthCoreClient {
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
    /// requests). A scan enrolls once: a second call throws `AuthCoreError.InvalidInput`.
    public func enrollPush(scan: PushEnrollmentScan, pushToken: String? = nil, attachTo: String? = nil) async throws -> Account {
        defer { changes.bump() }
        return try await authenticator.enrollPush(scan: scan, pushToken: pushToken, attachTo: attachTo)
    }

    /// Takes in a remote notification's `userInfo` as APNs delivers it
    /// (`application(_:didReceiveRemoteNotification:)`, `UNNotificationContent.userInfo`): the
    /// challenge's fields are top-level string values beside `aps`, which is ignored, as is any
    /// other value that is not a string. The request is verified against the enrolled server's
    /// key before it is kept; a request delivered twice is kept once.
    public func handleNotification(userInfo: [AnyHashable: Any]) async throws -> PushRequest {
        // Only the string entries cross: `[AnyHashable: Any]` is not Sendable, and the core reads
        // nothing else. The core takes the map as it is; nothing is re-encoded here.
        var data: [String: String] = [:]
        for case let (key as String, value as String) in userInfo { data[key] = value }
        return try await handleNotification(data: data)
    }

    /// The same for a notification's data as a string map (e.g. from a relay of the app's own).
    public func handleNotification(data: [String: String]) async throws -> PushRequest {
        try await run { try $0.handleNotificationData(data: data) }
    }

    /// The same for a notification as JSON: the data map, or privacyIDEA's gateway message
    /// `{"device_token", "data"}`, as a relay of the app's own may pass it on.
    public func handleNotification(json payload: String) async throws -> PushRequest {
        try await run { try $0.handleNotification(payload: payload) }
    }

    /// The requests kept and still answerable, without asking any server.
    public func pendingPushRequests() async throws -> [PushRequest] { try await run { try $0.pendingPushRequests() } }

    /// "Check for notifications": polls every push account's server (on launch, pull-to-refresh,
    /// a background refresh). One server failing does not stop the others (see `problems`);
    /// `serverClocks` is each server's clock as its answers showed it (which may move the codes
    /// of accounts that server also checks).
    public func checkPending() async throws -> CheckOutcome {
        defer { changes.bump() }
        return try await authenticator.checkPending()
    }

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
}
