import Foundation
import XCTest

@testable import AuthCore

/// privacyIDEA smartphone containers from Swift, against the real privacyIDEA 3.14 of the pi
/// peer over TLS verified by the Swift runtime's trust store, through `URLSessionTransport`:
/// register and sync, a code the server accepts, a transfer to a second phone after which the
/// first is told the container moved, and forgetting it there.
final class ContainerTests: XCTestCase {
    var dir: URL!
    var peer: PiPeer!
    let keys = InMemoryKeychain()
    static let transport = URLSessionTransport()

    override func setUpWithError() throws {
        peer = try PiPeer.load()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("authcore-swift-container-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func open(_ name: String) async throws -> AuthCoreClient {
        try await AuthCoreClient.open(
            path: dir.appendingPathComponent(name).path, keyStore: keys, platform: .ios,
            deviceKeys: .software(bits: 2048), transport: ContainerTests.transport, timeSource: systemTimeSource())
    }

    func code(_ client: AuthCoreClient, _ accountId: String) async throws -> String {
        let codes = try await client.codes(matching: accountId)
        guard let first = codes.first else { throw PeerError("no code for \(accountId)") }
        return first.code
    }

    func testRegistersSyncsMovesToANewPhoneAndForgetsTheOldCopy() async throws {
        let made = try await peer.container(front: "trusted")
        let old = try await open("old.sqlite")
        let scan = try await old.scanContainer(uri: made.qr)
        let preview = scan.preview()
        XCTAssertEqual(preview.serial, made.container)
        XCTAssertTrue(preview.sslVerify)
        XCTAssertFalse(preview.needsPassphrase)

        let registered = try await old.registerContainer(scan: scan, deviceModel: "Swift Ä1")
        XCTAssertNil(registered.syncError)
        XCTAssertEqual(registered.sync?.added.count, 1)
        XCTAssertTrue(registered.container.policies.clientRollover)
        let again = await thrown { try await old.registerContainer(scan: scan) }
        guard case .InvalidInput(let text)? = again else { return XCTFail("\(String(describing: again))") }
        XCTAssertEqual(text, "this container QR code was already used: scan it again")

        let containers = try await old.containers()
        let token = try XCTUnwrap(containers.first?.tokens.first)
        XCTAssertEqual(token.tokenSerial, made.totpSerial)
        XCTAssertEqual(token.tokenType, "totp")
        let oldCode = try await code(old, token.accountId)
        let acceptedOld = try await peer.check(user: made.user, pass: made.pin + oldCode)
        XCTAssertTrue(acceptedOld, "privacyIDEA accepts the synced secret")
        let synced = try await old.syncContainer(serial: made.container)
        XCTAssertEqual(synced.unchanged, 1)

        let qr = try await old.containerTransferQr(serial: made.container)
        XCTAssertTrue(qr.hasPrefix("pia://container/"), qr)
        let new = try await open("new.sqlite")
        let moved = try await new.registerContainer(scan: try await new.scanContainer(uri: qr))
        let account = try XCTUnwrap(moved.sync?.added.first)
        let oldDied = try await peer.check(user: made.user, pass: made.pin + oldCode)
        XCTAssertFalse(oldDied, "the old phone's code died")
        let newCode = try await code(new, account.id)
        let acceptedNew = try await peer.check(user: made.user, pass: made.pin + newCode)
        XCTAssertTrue(acceptedNew)

        let error = await thrown { try await old.syncContainer(serial: made.container) }
        guard case .ContainerMoved(_, let serial)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(serial, made.container)
        let forgotten = try await old.forgetContainer(serial: made.container, deleteAccounts: true)
        XCTAssertEqual(forgotten, 1)
        let left = try await old.accounts()
        XCTAssertTrue(left.isEmpty)
    }

    func testABadQrCodeIsOneClearError() async throws {
        let client = try await open("vault.sqlite")
        let error = await thrown { try await client.scanContainer(uri: "pia://container/X?nonce=a") }
        guard case .BadPush(let text, _, _)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(text, "container QR code: time: is missing")
    }
}
