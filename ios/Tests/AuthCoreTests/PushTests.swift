import Foundation
import XCTest

@testable import AuthCore

/// The push-server stand-in's description (tests/src/bin/push_stand_in.rs): scripts/test-swift.sh
/// starts it and names the file in AUTHCORE_PUSH_STAND_IN. Without it these tests fail.
struct StandIn {
    let json: [String: Any]

    static func load() throws -> StandIn {
        guard let path = ProcessInfo.processInfo.environment["AUTHCORE_PUSH_STAND_IN"] else {
            throw StandInMissing(reason: "AUTHCORE_PUSH_STAND_IN is not set: run scripts/test-swift.sh, which starts the push stand-in")
        }
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let json = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw StandInMissing(reason: "\(path) is not a JSON object")
        }
        return StandIn(json: json)
    }

    func string(_ key: String) -> String { json[key] as? String ?? "" }
    var uri: String { string("enrollment_uri") }
    var url: String { string("url") }
    var serial: String { string("serial") }
    var question: String { string("question") }
    var title: String { string("title") }
    var presenceAnswer: String { string("presence_answer") }
    var presenceOptions: [String] { json["presence_options"] as? [String] ?? [] }
    func nonce(_ name: String) -> String { (json["nonces"] as? [String: String])?[name] ?? "" }
    func notification(_ name: String) -> String { (json["notifications"] as? [String: String])?[name] ?? "" }
}

struct StandInMissing: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// A device key store that cannot be used, as the Keychain is before first unlock. (Swift on
/// Linux has no Security framework: the working stores are the software keys here and the
/// Keychain store on Apple platforms.)
final class LockedDeviceKeys: DeviceKeyStore, @unchecked Sendable {
    private let lock = NSLock()
    private var calls: [String] = []
    var seen: [String] { lock.lock(); defer { lock.unlock() }; return calls }
    private func record(_ call: String) { lock.lock(); calls.append(call); lock.unlock() }

    func generate(alias: String) throws -> Data {
        record("generate")
        throw KeyStoreError.Unavailable(reason: "device locked")
    }
    func sign(alias: String, message: Data) throws -> Data {
        record("sign")
        throw KeyStoreError.Unavailable(reason: "device locked")
    }
    func delete(alias: String) throws { record("delete") }
}

/// The error an async call threw, or nil (failing the test) when it returned.
func thrown<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> AuthCoreError? {
    do {
        _ = try await body()
        XCTFail("expected an error", file: file, line: line)
    } catch let error as AuthCoreError {
        return error
    } catch {
        XCTFail("expected an AuthCoreError, got \(error)", file: file, line: line)
    }
    return nil
}

final class PushTests: XCTestCase {
    var dir: URL!
    var standIn: StandIn!

    override func setUpWithError() throws {
        standIn = try StandIn.load()
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("authcore-swift-push-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        if let dir { try? FileManager.default.removeItem(at: dir) }
    }

    func open(_ name: String = "vault.sqlite") throws -> AuthCoreClient {
        let auth = try Authenticator.openOrCreate(
            path: dir.appendingPathComponent(name).path, keyStore: InMemoryKeychain(), timeSource: systemTimeSource())
        try auth.setSoftwareKeyBits(bits: 2048)
        return AuthCoreClient(auth)
    }

    func enrolled() async throws -> (AuthCoreClient, Account) {
        let client = try open()
        return (client, try await client.enrollPush(uri: standIn.uri))
    }

    func testTheEnrollmentQrCodeIsPreviewedAndABadOneIsAPushError() async throws {
        let client = try open()
        let preview = try await client.previewPushEnrollment(uri: standIn.uri)
        XCTAssertEqual(preview.serial, standIn.serial)
        XCTAssertEqual(preview.issuer, "StandIn")
        XCTAssertEqual(preview.label, standIn.serial)
        XCTAssertEqual(preview.url, standIn.url)
        XCTAssertFalse(preview.sslverify)
        XCTAssertTrue(preview.pollOnly)
        XCTAssertEqual(preview.ttlSeconds, 600)
        let bad = await thrown { try await client.previewPushEnrollment(uri: self.standIn.uri.replacingOccurrences(of: "&v=1&", with: "&v=2&")) }
        guard case .Push(let message)? = bad else { return XCTFail("\(String(describing: bad))") }
        XCTAssertTrue(message.contains("v=2"), message)
        let accounts = try await client.accounts()
        XCTAssertTrue(accounts.isEmpty, "a preview stores nothing")
    }

    func testEnrollsApprovesASignedNotificationAndRefusesItsReplay() async throws {
        let (client, account) = try await enrolled()
        XCTAssertEqual(account.otpType, .push)
        XCTAssertEqual(account.pushSerial, standIn.serial)
        XCTAssertNil(account.algorithm)

        let request = try await client.handleNotification(standIn.notification("plain"))
        XCTAssertEqual(request.nonce, standIn.nonce("plain"))
        XCTAssertEqual(request.accountId, account.id)
        XCTAssertEqual(request.serial, standIn.serial)
        XCTAssertEqual(request.question, standIn.question)
        XCTAssertEqual(request.title, standIn.title)
        XCTAssertNil(request.answers)
        XCTAssertTrue(request.declineReasons)
        XCTAssertFalse(request.passwordless)
        XCTAssertEqual(request.expiresAt - request.receivedAt, 120)
        var pending = try await client.pendingPushRequests()
        XCTAssertEqual(pending, [request])
        let again = try await client.handleNotification(standIn.notification("plain"))
        XCTAssertEqual(again, request, "a second delivery before the answer is the same request")

        let outcome = try await client.approve(nonce: request.nonce)
        XCTAssertNil(outcome.displayCode)
        pending = try await client.pendingPushRequests()
        XCTAssertTrue(pending.isEmpty)

        let replay = await thrown { try await client.handleNotification(self.standIn.notification("plain")) }
        guard case .Push(let message)? = replay else { return XCTFail("\(String(describing: replay))") }
        XCTAssertTrue(message.contains("already answered"), message)
        let twice = await thrown { try await client.approve(nonce: request.nonce) }
        guard case .Push? = twice else { return XCTFail("\(String(describing: twice))") }
    }

    func testTheForeignDeviceKeyStoreIsUsedAndItsFailureIsReadable() async throws {
        let client = try open()
        let keys = LockedDeviceKeys()
        try client.setDeviceKeyStore(keys)
        let error = await thrown { try await client.enrollPush(uri: self.standIn.uri) }
        guard case .KeyStore(let message)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(message.contains("device locked"), message)
        XCTAssertEqual(keys.seen, ["generate"])
        let accounts = try await client.accounts()
        XCTAssertTrue(accounts.isEmpty)
    }

    func testAForgedNotificationAndOneForAnUnknownTokenAreRefused() async throws {
        let empty = try open("empty.sqlite")
        let unknown = await thrown { try await empty.handleNotification(self.standIn.notification("plain")) }
        guard case .Push(let unknownMessage)? = unknown else { return XCTFail("\(String(describing: unknown))") }
        XCTAssertTrue(unknownMessage.contains("unknown serial"), unknownMessage)

        let (client, _) = try await enrolled()
        let forged = await thrown { try await client.handleNotification(self.standIn.notification("forged")) }
        guard case .Push(let message)? = forged else { return XCTFail("\(String(describing: forged))") }
        XCTAssertTrue(message.contains("signature does not verify"), message)
        let pending = try await client.pendingPushRequests()
        XCTAssertTrue(pending.isEmpty, "nothing refused is kept")
    }

    func testNumberMatchingRefusesAWrongChoiceAndAcceptsTheRightOne() async throws {
        let (client, _) = try await enrolled()
        let request = try await client.handleNotification(standIn.notification("number_matching"))
        XCTAssertEqual(request.answers, ["A", "B", "C"])
        let wrong = try XCTUnwrap(standIn.presenceOptions.first { $0 != standIn.presenceAnswer })
        let refused = await thrown { try await client.approve(nonce: request.nonce, answer: wrong) }
        guard case .Server(let message)? = refused else { return XCTFail("\(String(describing: refused))") }
        XCTAssertTrue(message.contains("refused"), message)
        var pending = try await client.pendingPushRequests()
        XCTAssertEqual(pending.map(\.nonce), [request.nonce], "still open")
        _ = try await client.approve(nonce: request.nonce, answer: standIn.presenceAnswer)
        pending = try await client.pendingPushRequests()
        XCTAssertTrue(pending.isEmpty)
    }

    func testPasswordlessOnAndroidNeedsNumberMatchingAndTheDeviceUnlock() async throws {
        let (client, account) = try await enrolled()
        XCTAssertTrue(try client.authenticator.enablePasswordless(id: account.id, platform: .android).passwordless)
        let plain = try await client.handleNotification(standIn.notification("plain"))
        XCTAssertTrue(plain.passwordless)
        let noMatching = await thrown { try await client.approve(nonce: plain.nonce, deviceUnlocked: true) }
        guard case .ApprovalRefused(let m1)? = noMatching else { return XCTFail("\(String(describing: noMatching))") }
        XCTAssertTrue(m1.contains("number matching"), m1)

        let request = try await client.handleNotification(standIn.notification("number_matching"))
        let locked = await thrown { try await client.approve(nonce: request.nonce, answer: self.standIn.presenceAnswer) }
        guard case .ApprovalRefused(let m2)? = locked else { return XCTFail("\(String(describing: locked))") }
        XCTAssertTrue(m2.contains("device unlock"), m2)
        _ = try await client.approve(nonce: request.nonce, answer: standIn.presenceAnswer, deviceUnlocked: true)
        let pending = try await client.pendingPushRequests()
        XCTAssertEqual(pending.map(\.nonce), [plain.nonce])
    }

    func testThePlatformTheAppSetsPicksTheRuleThatGatesApprovals() async throws {
        let (client, account) = try await enrolled()
        try client.setPlatform(.ios)
        _ = try client.authenticator.enablePasswordless(id: account.id, platform: .ios)
        // An issuer's rule: iOS passwordless without the unlock; the desktop keeps it.
        try client.authenticator.setPasswordlessRules(
            json: #"{"passwordless":{"ios":{"max_accounts":null,"require_device_unlock":false},"desktop":{"max_accounts":1}}}"#)
        let request = try await client.handleNotification(standIn.notification("number_matching"))
        try client.setPlatform(.desktop)
        let refused = await thrown { try await client.approve(nonce: request.nonce, answer: self.standIn.presenceAnswer) }
        guard case .ApprovalRefused(let m)? = refused else { return XCTFail("\(String(describing: refused))") }
        XCTAssertTrue(m.contains("device unlock"), m)
        try client.setPlatform(.ios)
        _ = try await client.approve(nonce: request.nonce, answer: standIn.presenceAnswer)
        let pending = try await client.pendingPushRequests()
        XCTAssertFalse(pending.map(\.nonce).contains(request.nonce))
    }

    func testPollsDeniesWithAReasonAndTakesUserInfo() async throws {
        let (client, account) = try await enrolled()
        let checked = try await client.checkPending()
        XCTAssertEqual(checked.problems, [])
        XCTAssertEqual(Set(checked.requests.map(\.nonce)), [standIn.nonce("plain"), standIn.nonce("number_matching")])
        let offset = try XCTUnwrap(checked.serverClockOffset, "the stand-in's Date header gives the server clock")
        XCTAssertTrue((-5...5).contains(offset), "server clock offset \(offset)")

        let payload = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(standIn.notification("plain").utf8)) as? [String: String])
        var userInfo: [AnyHashable: Any] = ["aps": ["content-available": 1]]
        for (key, value) in payload { userInfo[key] = value }
        let request = try await client.handleNotification(userInfo: userInfo)
        XCTAssertEqual(request.accountId, account.id)
        try await client.deny(nonce: request.nonce, reason: .unknownTrigger)
        let after = try await client.checkPending()
        XCTAssertEqual(after.requests.map(\.nonce), [standIn.nonce("number_matching")])

        let update = try await client.updatePushToken("apns-token-2")
        XCTAssertEqual(update.updated, [], "a poll-only token is not sent a push token")
        XCTAssertEqual(update.problems, [])
    }

    func testAnUnreachableServerIsANetworkError() async throws {
        let client = try open()
        let uri = standIn.uri.replacingOccurrences(
            of: #"127\.0\.0\.1%3A\d+"#, with: "127.0.0.1%3A9", options: .regularExpression)
        let error = await thrown { try await client.enrollPush(uri: uri) }
        guard case .Network(let message)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertTrue(message.hasPrefix("network:"), message)
    }

    /// The Keychain store's PKCS#1 -> SubjectPublicKeyInfo wrapping, against OpenSSL's output for
    /// the same 2048-bit key (`openssl rsa -RSAPublicKey_out` and `-pubout`, DER).
    func testSpkiWrappingMatchesOpenSsl() throws {
        let pkcs1 = try XCTUnwrap(Data(base64Encoded: "MIIBCgKCAQEAr0KYGbkqqSBz7Z6plmdF+36qG5/bAKgh4Y0yjI/ZdMn6COBGNGZ/RIvIpViFN+9y6R7Al56FMoqNyfv3s1YMSib1he3pdF0VWHbXqiA8N+Huku8nJjx4ye/kyY7C3VnNwXB03WIyB+Rtfs9Ox+gJdj3o3btsAkHLl55Ey9NzBgg74FqJmnSPAiP+6d7qgmOm9p8r+4ppEBQfyPvqKIkf7DK11o/df6GvDOLTPSbQrqJWPd6n/BiFBFDXk/AreLWnR1T6UpA+gi4VmAqSr370uA7jI3eCIVeJf7FS032GrHwNa6N6k2+EEFKBRHXFaJSRKZGjMKIVDWq4ywSZal/KhwIDAQAB"))
        let spki = try XCTUnwrap(Data(base64Encoded: "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAr0KYGbkqqSBz7Z6plmdF+36qG5/bAKgh4Y0yjI/ZdMn6COBGNGZ/RIvIpViFN+9y6R7Al56FMoqNyfv3s1YMSib1he3pdF0VWHbXqiA8N+Huku8nJjx4ye/kyY7C3VnNwXB03WIyB+Rtfs9Ox+gJdj3o3btsAkHLl55Ey9NzBgg74FqJmnSPAiP+6d7qgmOm9p8r+4ppEBQfyPvqKIkf7DK11o/df6GvDOLTPSbQrqJWPd6n/BiFBFDXk/AreLWnR1T6UpA+gi4VmAqSr370uA7jI3eCIVeJf7FS032GrHwNa6N6k2+EEFKBRHXFaJSRKZGjMKIVDWq4ywSZal/KhwIDAQAB"))
        XCTAssertEqual(DER.spki(fromPkcs1: pkcs1), spki)
    }
}
