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
#endif
