import Foundation
import XCTest

@testable import AuthCore

/// A Swift key store shaped like the Keychain one: the master key stays in this store, the vault
/// keeps only an opaque random handle.
final class InMemoryKeychain: VaultKeyStore, @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Data: Data] = [:]
    private(set) var wraps = 0

    func wrap(masterKey: Data) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        wraps += 1
        let handle = Data(UUID().uuidString.utf8)
        items[handle] = masterKey
        return handle
    }

    func unwrap(wrapped: Data) throws -> Data {
        lock.lock(); defer { lock.unlock() }
        guard let key = items[wrapped] else { throw KeyStoreError.WrongKey }
        return key
    }
}

final class LockedKeychain: VaultKeyStore, @unchecked Sendable {
    func wrap(masterKey: Data) throws -> Data { throw KeyStoreError.Unavailable(reason: "device locked") }
    func unwrap(wrapped: Data) throws -> Data { throw KeyStoreError.Unavailable(reason: "device locked") }
}

/// A time source that moves only when a test sets `now` (read from the client's queue).
final class FixedTime: TimeSource, @unchecked Sendable {
    private let lock = NSLock()
    private var value: Int64
    init(_ now: Int64) { value = now }
    var now: Int64 {
        get { lock.lock(); defer { lock.unlock() }; return value }
        set { lock.lock(); value = newValue; lock.unlock() }
    }
    func nowUnixSeconds() -> Int64 { now }
}

/// What the tests open vaults with: the desktop's rule, software device keys (no Keychain on
/// Linux; these tests enroll nothing) and a transport that refuses every request, so a test that
/// reached the network by mistake would fail instead of depending on it.
func testOptions(_ time: TimeSource = FixedTime(0), platform: Platform = .desktop) -> OpenOptions {
    OpenOptions(platform: platform, deviceKeys: .software(bits: 2048), transport: NoNetwork(), timeSource: time)
}

final class NoNetwork: HttpTransport, @unchecked Sendable {
    func send(request: HttpRequest) async throws -> HttpResponse {
        throw TransportError.Connection(reason: "these tests have no network")
    }
}

let sha1Seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
let sha256Seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA"
let sha512Seed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA"

final class AuthCoreTests: XCTestCase {
    var dir: URL!
    var vault: String { dir.appendingPathComponent("vault.sqlite").path }

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("authcore-swift-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func rfcVault(_ store: VaultKeyStore = InMemoryKeychain(), time: TimeSource = FixedTime(59)) throws -> Authenticator {
        let auth = try Authenticator.openOrCreate(path: vault, keyStore: store, options: testOptions(time))
        _ = try auth.addUri(uri: "otpauth://totp/RFC:sha1?secret=\(sha1Seed)&digits=8&algorithm=SHA1")
        _ = try auth.addUri(uri: "otpauth://totp/RFC:sha256?secret=\(sha256Seed)&digits=8&algorithm=SHA256")
        _ = try auth.addUri(uri: "otpauth://totp/RFC:sha512?secret=\(sha512Seed)&digits=8&algorithm=SHA512")
        return auth
    }

    func testCodesAtFixedTimesEqualTheRfc6238Vectors() throws {
        let auth = try rfcVault()
        let table: [(Int64, [String])] = [
            (59, ["94287082", "46119246", "90693936"]),
            (1111111109, ["07081804", "68084774", "25091201"]),
            (1111111111, ["14050471", "67062674", "99943326"]),
            (1234567890, ["89005924", "91819424", "93441116"]),
            (2000000000, ["69279037", "90698825", "38618901"]),
            (20000000000, ["65353130", "77737706", "47863826"]),
        ]
        for (t, want) in table {
            XCTAssertEqual(try auth.codesAt(unixSeconds: t, query: nil).map(\.code), want, "at \(t)")
        }
        XCTAssertEqual(try auth.codes(query: nil).map(\.code), ["94287082", "46119246", "90693936"])
        let first = try XCTUnwrap(try auth.codes(query: "sha1").first)
        XCTAssertEqual(first.validFor, 1)
        XCTAssertEqual(first.otpType, .totp)
    }

    func testTheSwiftKeyStoreWrapsTheMasterKeyAndReopensTheVault() throws {
        let store = InMemoryKeychain()
        _ = try rfcVault(store)
        XCTAssertEqual(store.wraps, 1)
        XCTAssertEqual(try Authenticator.openOrCreate(path: vault, keyStore: store, options: testOptions()).accounts().count, 3)
        XCTAssertThrowsError(try Authenticator.openOrCreate(path: vault, keyStore: InMemoryKeychain(), options: testOptions())) { error in
            guard case AuthCoreError.KeyStore(let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "the key store's key does not open this vault")
            XCTAssertEqual(error.localizedDescription, message, "LocalizedError gives the core's text")
        }
    }

    func testAFailingKeyStoreSurfacesAsAClearError() {
        XCTAssertThrowsError(try Authenticator.openOrCreate(path: vault, keyStore: LockedKeychain(), options: testOptions())) { error in
            guard case AuthCoreError.KeyStore(let message) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(message, "the key store refused: key store unavailable: device locked")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: vault), "nothing is left behind")
    }

    func testErrorsArriveAsTheRightCasesWithReadableMessages() throws {
        let auth = try rfcVault()
        XCTAssertThrowsError(try auth.addUri(uri: "otpauth://totp/X?secret=JBSWY3DPEHPK3PXP&digits=11")) { error in
            XCTAssertEqual(error as? AuthCoreError, .InvalidInput(text: "digits=11: must be between 6 and 10"))
        }
        XCTAssertThrowsError(try auth.addUri(uri: "otpauth://totp/X?secret=Q1")) { error in
            XCTAssertEqual(error as? AuthCoreError, .InvalidInput(text: "secret: '1' is not base32 (character 2)"))
        }
        XCTAssertThrowsError(try auth.nextHotp(id: "nope")) { error in
            guard case AuthCoreError.NotFound = error else { return XCTFail("\(error)") }
        }
        XCTAssertEqual(try auth.accounts().count, 3, "failed calls change nothing")
    }

    func testPasswordHotpRenameMoveDelete() throws {
        do {
            let auth = try rfcVault()
            try auth.setPassword(password: "correct horse")
            let hotp = try XCTUnwrap(try auth.addUri(uri: "otpauth://hotp/Bank:me?secret=\(sha1Seed)&counter=0").first).account
            XCTAssertEqual(try auth.nextHotp(id: hotp.id).code, "755224")
            XCTAssertEqual(try auth.nextHotp(id: hotp.id).code, "287082")
            XCTAssertEqual(try auth.rename(id: hotp.id, issuer: "Big Bank", label: nil).issuer, "Big Bank")
            _ = try auth.moveAccount(id: hotp.id, position: 0)
            XCTAssertEqual(try auth.accounts().first?.id, hotp.id)
            XCTAssertTrue(try auth.addUri(uri: "otpauth://totp/RFC:sha1?secret=\(sha1Seed)&digits=8").first!.alreadyPresent)
            _ = try auth.delete(id: hotp.id)
        }
        XCTAssertEqual(try Authenticator.openWithPassword(path: vault, password: "correct horse", options: testOptions()).accounts().count, 3)
        XCTAssertThrowsError(try Authenticator.openWithPassword(path: vault, password: "wrong", options: testOptions())) { error in
            guard case AuthCoreError.WrongPassword = error else { return XCTFail("\(error)") }
        }
    }

    func testReleasingTheObjectClosesTheVault() throws {
        let store = InMemoryKeychain()
        weak var weakAuth: Authenticator?
        do {
            let auth = try rfcVault(store)
            weakAuth = auth
        }
        XCTAssertNil(weakAuth, "the object is freed when the last reference goes")
        XCTAssertEqual(try Authenticator.openOrCreate(path: vault, keyStore: store, options: testOptions()).accounts().count, 3)
    }

    func testManyTasksAndThreadsAtOnce() async throws {
        let client = AuthCoreClient(try rfcVault(), platform: .desktop, timeSource: FixedTime(59))
        try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<64 {
                group.addTask {
                    let letter = Character(UnicodeScalar(UInt8(65 + i % 26)))
                    _ = try await client.add(uri: "otpauth://totp/Load:user\(i)?secret=JBSWY3DPEHPK3PX\(letter)&issuer=Load\(i)")
                    return try await client.codes().count
                }
            }
            for try await count in group { XCTAssertGreaterThanOrEqual(count, 3) }
        }
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<50 { _ = try? client.authenticator.codesAt(unixSeconds: 59, query: nil) }
        }
        let all = try await client.accounts()
        XCTAssertEqual(all.count, 67)
        XCTAssertEqual(Set(all.map(\.id)).count, 67)
    }

    /// The async layer opens with everything fixed: the transport given is the one push calls
    /// use, and the password path takes the same options.
    func testTheClientOpensWithItsOptionsAndUsesItsTransport() async throws {
        let store = InMemoryKeychain()
        let client = try await AuthCoreClient.open(
            path: vault, keyStore: store, platform: .android, deviceKeys: .software(bits: 2048),
            transport: NoNetwork(), timeSource: FixedTime(59))
        _ = try await client.add(uri: "otpauth://totp/RFC:sha1?secret=\(sha1Seed)&digits=8&algorithm=SHA1")
        let codes = try await client.codes()
        let code = try XCTUnwrap(codes.first)
        XCTAssertEqual(code.code, "94287082")
        XCTAssertEqual(code.clockOffset, 0)
        XCTAssertFalse(code.clockFromServer, "no push server has told the time")
        let rule = try await client.passwordlessRule()
        XCTAssertEqual(rule.maxAccounts, 1, "the rule of the platform given at open (.android)")

        let scan = try await client.scanPushEnrollment(
            uri: "otpauth://pipush/PIPU0001?url=https%3A%2F%2Fpi.example%2Fttype%2Fpush&ttl=10&issuer=Example"
                + "&enrollment_credential=0123456789abcdef0123456789abcdef&v=1&serial=PIPU0001&sslverify=1")
        XCTAssertEqual(scan.preview().issuer, "Example")
        let error = await thrown { try await client.enrollPush(scan: scan) }
        guard case .Network(let message)? = error else { return XCTFail("\(String(describing: error))") }
        XCTAssertEqual(message, "network: these tests have no network")

        try await client.setPassword("correct horse")
        let restored = try await AuthCoreClient.openWithPassword(
            path: vault, password: "correct horse", platform: .ios, deviceKeys: .software(bits: 2048),
            transport: NoNetwork(), timeSource: FixedTime(59))
        let accounts = try await restored.accounts()
        XCTAssertEqual(accounts.count, 1)
    }

    func testCodeStreamYieldsEveryCodeWithItsCountdown() async throws {
        let time = FixedTime(1111111109)
        let client = AuthCoreClient(try rfcVault(time: time), platform: .desktop, timeSource: time)
        var first: [AccountCode]?
        for try await codes in client.codeStream(pollNanoseconds: 10_000_000) {
            first = codes
            break
        }
        let codes = try XCTUnwrap(first)
        XCTAssertEqual(codes.map(\.code), ["07081804", "68084774", "25091201"])
        XCTAssertEqual(codes[0].validFor, 1)
        XCTAssertEqual(codes[0].nextCode, "14050471")
    }

    func testPasswordlessFollowsThePlatformRuleWhichIsData() throws {
        let auth = try rfcVault()
        let ids = try auth.accounts().map(\.id)
        XCTAssertEqual(try auth.passwordlessRule(platform: .android).maxAccounts, 1)
        XCTAssertNil(try auth.passwordlessRule(platform: .ios).maxAccounts)
        XCTAssertTrue(try auth.enablePasswordless(id: ids[0], platform: .android).passwordless)
        XCTAssertThrowsError(try auth.enablePasswordless(id: ids[1], platform: .android)) { error in
            guard case let AuthCoreError.PasswordlessLimit(_, platform, limit, holders) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(platform, .android)
            XCTAssertEqual(limit, 1)
            XCTAssertEqual(holders, ["RFC (sha1)"])
        }
        _ = try auth.enablePasswordless(id: ids[1], platform: .ios)
        _ = try auth.enablePasswordless(id: ids[2], platform: .ios)
        XCTAssertEqual(try auth.accounts().filter(\.passwordless).count, 3)
        _ = try auth.disablePasswordless(id: ids[1])
        _ = try auth.disablePasswordless(id: ids[2])
        XCTAssertTrue(try auth.movePasswordless(from: ids[0], to: ids[2], platform: .android).passwordless)
        XCTAssertEqual(try auth.accounts().filter(\.passwordless).map(\.id), [ids[2]])
        try auth.setPasswordlessRules(json: #"{"passwordless":{"android":{"max_accounts":2}}}"#)
        _ = try auth.enablePasswordless(id: ids[0], platform: .android)
    }

    func testPreviewShowsWhatAQrCodeWouldAdd() throws {
        let preview = try previewUri(uri: "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC")
        XCTAssertEqual(preview.map(\.issuer), ["Example"])
        XCTAssertEqual(preview.map(\.label), ["alice@google.com"])
    }

    func testFfiCostOfFetching100AccountsCodes() throws {
        let auth = try Authenticator.openOrCreate(path: vault, keyStore: InMemoryKeychain(), options: testOptions(FixedTime(1_700_000_000)))
        let lines = (0..<100).map { i -> String in
            let a = Character(UnicodeScalar(UInt8(65 + i % 26)))
            let b = Character(UnicodeScalar(UInt8(65 + i / 26)))
            return "otpauth://totp/Bench:u\(i)?secret=JBSWY3DPEHPK3P\(a)\(b)&issuer=B\(i)"
        }
        _ = try auth.addUriLines(text: lines.joined(separator: "\n"))
        for _ in 0..<50 { _ = try auth.codes(query: nil) }
        let rounds = 500
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<rounds { XCTAssertEqual(try auth.codes(query: nil).count, 100) }
        let micros = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(rounds)
        print(String(format: "FFI cost (Swift): codes() for 100 accounts = %.1f µs per call", micros))
        // Timed as `CodeListTests`' per-second refresh is, to compare with it.
        let median = try benchMicros([{ _ = try auth.codes(query: nil) }])[0]
        print(String(format: "bench-row: swift_codes_100 %.1f", median))
    }
}
