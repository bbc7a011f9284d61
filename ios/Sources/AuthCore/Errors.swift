import Foundation

// The errors the core throws (and the ones the platform's key stores and transports throw back)
// as `LocalizedError`, so `localizedDescription` and SwiftUI alerts show the core's readable
// text: `description` is the Rust `Display` the FFI exports with each error type. Branch on the
// case and its associated values, never on the text:
//
//     do { try await client.approve(nonce: nonce, answer: answer) }
//     catch AuthCoreError.NeedsUnlock { askForFaceIDThenApproveAgain() }
//     catch let AuthCoreError.Forged(_, serial) { reportSecurityEvent(serial) }
//     catch { show(error.localizedDescription) }

extension AuthCoreError: LocalizedError {
    public var errorDescription: String? { description }
}

extension KeyStoreError: LocalizedError {
    public var errorDescription: String? { description }
}

extension TransportError: LocalizedError {
    public var errorDescription: String? { description }
}
