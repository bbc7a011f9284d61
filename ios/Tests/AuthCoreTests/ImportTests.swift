import Foundation
import XCTest

@testable import AuthCore

/// Other apps' real export files from the shared corpus (`shared/fixtures`; its README lists
/// the entries and check codes), read at test time from `AUTHCORE_FIXTURES`, which
/// scripts/test-swift.sh points at the corpus mounted read-only in the chroot. Without it these
/// tests fail; they never skip.
enum Fixtures {
    static func data(_ relative: String, file: StaticString = #filePath, line: UInt = #line) throws -> Data {
        guard let dir = ProcessInfo.processInfo.environment["AUTHCORE_FIXTURES"], !dir.isEmpty else {
            XCTFail("no fixture corpus: set AUTHCORE_FIXTURES to shared/fixtures", file: file, line: line)
            throw FixtureMissing(path: relative)
        }
        let url = URL(fileURLWithPath: dir).appendingPathComponent(relative)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            XCTFail("fixture \(url.path) is missing from the corpus", file: file, line: line)
            throw FixtureMissing(path: url.path)
        }
        return data
    }

    struct FixtureMissing: Error { let path: String }
}

final class ImportTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("authcore-swift-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func open(_ name: String = "vault.sqlite") async throws -> AuthCoreClient {
        try await AuthCoreClient.open(
            path: dir.appendingPathComponent(name).path, keyStore: InMemoryKeychain(), platform: .ios,
            deviceKeys: .software(bits: 2048), transport: NoNetwork(), timeSource: FixedTime(59))
    }

    /// The README's check values: TOTP and Steam at t = 1700000000, HOTP at the file's counter.
    let checkAt = Date(timeIntervalSince1970: 1_700_000_000)
    let timeChecks = ["Deno": "790195", "SPDX": "9993814", "Airbnb": "65516786", "Boeing": "747JR"]
    let hotpChecks = ["Issuu": "253717", "Air Canada": "4444976", "WWE": "24622277"]

    func assertTimeCodes(_ client: AuthCoreClient, _ issuers: Set<String>, line: UInt = #line) async throws {
        let codes = Dictionary(uniqueKeysWithValues: try await client.codes(at: checkAt).map { ($0.issuer, $0.code) })
        for (issuer, code) in timeChecks where issuers.contains(issuer) {
            XCTAssertEqual(codes[issuer], code, "code of \(issuer)", line: line)
        }
    }

    /// Advances the HOTP counters: after the re-import checks, which compare counters too.
    func assertHotpCodes(_ client: AuthCoreClient, _ issuers: Set<String>, line: UInt = #line) async throws {
        let accounts = try await client.accounts()
        for (issuer, code) in hotpChecks where issuers.contains(issuer) {
            let id = try XCTUnwrap(accounts.first { $0.issuer == issuer }?.id, issuer, line: line)
            let next = try await client.nextHotp(id: id)
            XCTAssertEqual(next.code, code, "HOTP code of \(issuer)", line: line)
        }
    }

    func summary(_ preview: ImportPreview) -> [String] {
        preview.entries().map { "\($0.position) \($0.otpType) \($0.issuer) (\($0.label))" }
    }

    func testAnEncryptedAegisVaultImportsItsSevenEntriesOnce() async throws {
        let file = try Fixtures.data("aegis/importers/aegis_encrypted.json")
        let client = try await open()

        let wrong = await thrown { try await client.previewImport(data: file, password: "wrong") }
        guard case .WrongPassword(let message)? = wrong else { return XCTFail("\(String(describing: wrong))") }
        XCTAssertEqual(message, "wrong password for this Aegis file; nothing was imported")
        let none = try await client.accounts()
        XCTAssertTrue(none.isEmpty, "a wrong password changes nothing")

        let preview = try await client.previewImport(data: file, password: "test")
        XCTAssertEqual(preview.format(), "Aegis")
        XCTAssertEqual(summary(preview), [
            "1 totp Deno (Mason)", "2 totp SPDX (James)", "3 totp Airbnb (Elijah)", "4 hotp Issuu (James)",
            "5 hotp Air Canada (Benjamin)", "6 hotp WWE (Mason)", "7 steam Boeing (Sophia)",
        ])
        XCTAssertEqual(preview.entries().map(\.action), Array(repeating: .new, count: 7))
        let stillNone = try await client.accounts()
        XCTAssertTrue(stillNone.isEmpty, "a preview changes nothing")

        let report = try await client.commitImport(preview)
        XCTAssertEqual(report.format, "Aegis")
        XCTAssertEqual(report.added.map(\.issuer), ["Deno", "SPDX", "Airbnb", "Issuu", "Air Canada", "WWE", "Boeing"])
        XCTAssertEqual(report.added.map(\.digits), [6, 7, 8, 6, 7, 8, 5])
        XCTAssertEqual(report.added.first { $0.issuer == "WWE" }?.counter, 10300)
        XCTAssertEqual(report.duplicates, [])
        XCTAssertEqual(report.skipped, [])
        try await assertTimeCodes(client, Set(timeChecks.keys))

        let again = try await client.previewImport(data: file, password: "test")
        XCTAssertEqual(again.entries().map(\.action), Array(repeating: .alreadyPresent, count: 7))
        let second = try await client.commitImport(again, allOrNothing: false)
        XCTAssertEqual(second.added, [])
        XCTAssertEqual(second.duplicates.count, 7)
        XCTAssertTrue(second.duplicates.contains("Deno (Mason)"), "\(second.duplicates)")
        let count = try await client.accounts().count
        XCTAssertEqual(count, 7, "nothing added twice")

        let used = await thrown { try await client.commitImport(again) }
        guard case .InvalidInput(let reason)? = used else { return XCTFail("\(String(describing: used))") }
        XCTAssertEqual(reason, "this import preview was already committed: read the file again")
        try await assertHotpCodes(client, Set(hotpChecks.keys))
    }

    func testAnEncrypted2fasV4BackupImportsAllOrNothingItsIconsCounted() async throws {
        let file = try Fixtures.data("aegis/importers/2fas_authenticator_encrypted_v4.2fas")
        let client = try await open()

        let wrong = await thrown { try await client.previewImport(data: file, password: "tset") }
        guard case .WrongPassword? = wrong else { return XCTFail("\(String(describing: wrong))") }
        let none = try await client.accounts()
        XCTAssertTrue(none.isEmpty, "a wrong password changes nothing")

        let preview = try await client.previewImport(data: file, password: "test", format: "2fas")
        XCTAssertEqual(preview.format(), "2FAS")
        XCTAssertEqual(summary(preview), [
            "1 totp Deno (Mason)", "2 hotp Issuu (James)", "3 hotp Air Canada (Benjamin)", "4 hotp WWE (Mason)",
            "5 steam Boeing (Sophia)",
        ])
        XCTAssertEqual(preview.dropped(), DroppedCounts(icons: 5, pins: 0, favourites: 0, extraGroups: 0))

        let report = try await client.commitImport(preview, allOrNothing: true)
        XCTAssertEqual(report.added.count, 5)
        XCTAssertEqual(report.dropped.icons, 5)
        try await assertTimeCodes(client, ["Deno", "Boeing"])

        let again = try await client.previewImport(data: file, password: "test")
        XCTAssertEqual(again.entries().map(\.action), Array(repeating: .alreadyPresent, count: 5))
        try await assertHotpCodes(client, ["Issuu", "Air Canada", "WWE"])
    }

    func testAGoogleAuthenticatorExportScreenshotAddsItsAccountsOnce() async throws {
        let image = try Fixtures.data("extract_otp_secrets/example_export.png")
        let client = try await open()

        let added = try await client.add(qrImage: image)
        XCTAssertEqual(added.map { "\($0.account.issuer) (\($0.account.label))" },
                       ["Test1 (test1@example1.com)", "Test2 (test2@example2.com)", "Test3 (test3@example3.com)"])
        XCTAssertEqual(added.map(\.alreadyPresent), [false, false, false])
        XCTAssertEqual(Set(added.map(\.account.otpType)), [.totp])

        let twice = try await client.add(qrImage: image)
        XCTAssertEqual(twice.map(\.alreadyPresent), [true, true, true], "the same image adds nothing")
        let preview = try await client.previewImport(data: image)
        XCTAssertEqual(preview.format(), "QR code image")
        XCTAssertEqual(preview.entries().map(\.action), Array(repeating: .alreadyPresent, count: 3))

        let notOtp = try Fixtures.data("extract_otp_secrets/tests/data/qr_but_without_otp.png")
        let refused = await thrown { try await client.add(qrImage: notOtp) }
        guard case .InvalidInput(let reason)? = refused else { return XCTFail("\(String(describing: refused))") }
        XCTAssertEqual(reason, "this QR code image file is damaged: QR code 1: 'NOT A otpauth-migration:' is not an otpauth:// or otpauth-migration:// URI")
        let count = try await client.accounts().count
        XCTAssertEqual(count, 3, "a refused image adds nothing")
    }

    /// An encrypted file's KDF (scrypt for Aegis) runs on the clients' queues: while more
    /// previews than the pool has threads are under way, a task on the cooperative pool still
    /// runs. Each client's vault is kept locked by a call of the test's own, on a queue of the
    /// test's, held inside the core where it reads the clock with the vault locked (adding an
    /// account): a preview runs its KDF, then waits for that lock inside the core, so none can
    /// return before the probe has run. Were the previews run on the pool, they would fill it,
    /// the rest could not start, and the waits below fail after a minute instead of hanging.
    func testThePoolStaysResponsiveWhileEncryptedFilesAreRead() async throws {
        let file = try Fixtures.data("aegis/importers/aegis_encrypted.json")
        let count = max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
        let clock = HeldClock(59, holding: TestTally(count))
        defer { clock.release.open() }
        let clients = try await withThrowingTaskGroup(of: AuthCoreClient.self) { group in
            for i in 0..<count {
                let path = dir.appendingPathComponent("vault\(i).sqlite").path
                group.addTask {
                    try await AuthCoreClient.open(
                        path: path, keyStore: InMemoryKeychain(), platform: .ios,
                        deviceKeys: .software(bits: 2048), transport: NoNetwork(), timeSource: clock)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let holders = TestTally(count)
        for client in clients {
            let holder = clock.holdingQueue()
            holder.async {
                _ = try? client.authenticator.addUri(uri: "otpauth://totp/Held:lock?secret=JBSWY3DPEHPK3PXP")
                holders.arrive()
            }
        }
        let allLocked = await clock.holding.all.wait(seconds: 60)
        XCTAssertTrue(allLocked, "every vault is locked by a held call")

        let started = TestTally(count)
        let returned = TestTally(count)
        let all = Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for client in clients {
                    group.addTask {
                        started.arrive()
                        let entries = try await client.previewImport(data: file, password: "test").entries().count
                        returned.arrive()
                        return entries
                    }
                }
                for try await entries in group { XCTAssertEqual(entries, 7) }
            }
        }
        let allStarted = await started.all.wait(seconds: 60)
        XCTAssertTrue(allStarted, "\(started.count) of \(count) previews started")
        let returnedWhileProbing = await Task.detached { returned.count }.value // needs a free pool thread
        clock.release.open()
        try await all.value
        XCTAssertEqual(returnedWhileProbing, 0, "every preview was still under way")
        XCTAssertEqual(returned.count, count)
        let unheld = await holders.all.wait(seconds: 60)
        XCTAssertTrue(unheld, "the held calls ended")
        XCTAssertFalse(clock.timedOut, "a held call waited a minute for the probe")
    }
}

/// A fixed clock that holds a read made on one of its holding queues (with the vault locked,
/// when the core adds an account) until `release` opens, at most a minute (`timedOut` then
/// says so), each such read counted in `holding`. Reads anywhere else return at once.
final class HeldClock: TimeSource, @unchecked Sendable {
    private static let key = DispatchSpecificKey<Bool>()
    private let lock = NSLock()
    private let value: Int64
    private var late = false
    let holding: TestTally
    let release = TestGate()

    init(_ now: Int64, holding: TestTally) {
        value = now
        self.holding = holding
    }

    var timedOut: Bool { lock.lock(); defer { lock.unlock() }; return late }

    /// A serial queue whose clock reads are held.
    func holdingQueue() -> DispatchQueue {
        let queue = DispatchQueue(label: "org.authcore.test.holder")
        queue.setSpecific(key: Self.key, value: true)
        return queue
    }

    func nowUnixSeconds() -> Int64 {
        if DispatchQueue.getSpecific(key: Self.key) == true {
            holding.arrive()
            if !release.block(seconds: 60) { lock.lock(); late = true; lock.unlock() }
        }
        return value
    }
}
