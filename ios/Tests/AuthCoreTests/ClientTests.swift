import Foundation
import XCTest

@testable import AuthCore

/// The idiomatic layer: every FFI call through `AuthCoreClient`, synchronous calls off the
/// cooperative pool, and a `codeStream` driven by the injected clock.
final class ClientTests: XCTestCase {
    var dir: URL!
    var vault: String { dir.appendingPathComponent("vault.sqlite").path }
    let rfcSha1 = "otpauth://totp/RFC:sha1?secret=\(sha1Seed)&digits=8&algorithm=SHA1"

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("authcore-swift-client-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func open(_ time: TimeSource = FixedTime(59), platform: Platform = .ios, keyStore: VaultKeyStore = InMemoryKeychain()) async throws -> AuthCoreClient {
        try await AuthCoreClient.open(
            path: vault, keyStore: keyStore, platform: platform, deviceKeys: .software(bits: 2048),
            transport: NoNetwork(), timeSource: time)
    }

    func testCodeStreamYieldsOnTheInjectedClocksRolloverAndOnChangesNeverTheSameListTwice() async throws {
        let time = FixedTime(1111111108) // two seconds before a 30 s period ends
        let client = try await open(time)
        _ = try await client.add(uri: rfcSha1)
        // Collected into a buffer by a task of its own, so a test can also see that nothing came.
        let collected = Collected()
        let stream = client.codeStream(pollNanoseconds: 5_000_000)
        let collector = Task { for try await codes in stream { collected.append(codes) } }
        defer { collector.cancel() }
        func waitFor(_ count: Int) async throws -> [AccountCode] {
            for _ in 0..<500 where collected.count < count { try await Task.sleep(nanoseconds: 10_000_000) }
            XCTAssertEqual(collected.count, count, "element \(count) did not come")
            return collected.last
        }
        func assertQuiet(_ why: String) async throws {
            let before = collected.count
            try await Task.sleep(nanoseconds: 300_000_000)
            XCTAssertEqual(collected.count, before, "no element: \(why)")
        }

        let start = try await waitFor(1)
        XCTAssertEqual(start.map(\.code), ["07081804"])
        XCTAssertEqual(start[0].validFor, 2)
        try await assertQuiet("the time source did not move")

        time.now = 1111111109 // a countdown second ticked
        let got1 = try await waitFor(2)[0].validFor
        XCTAssertEqual(got1, 1)
        try await assertQuiet("still 1111111109")

        time.now = 1111111110 // the rollover: the next code is now current
        let rolled = try await waitFor(3)
        XCTAssertEqual(rolled.map(\.code), ["14050471"])
        XCTAssertEqual(rolled[0].validFor, 30)
        try await assertQuiet("after the rollover")

        let other = try await client.add(uri: "otpauth://totp/Other:bob?secret=JBSWY3DPEHPK3PXP&issuer=Other")[0].account
        let got2 = try await waitFor(4).map(\.issuer)
        XCTAssertEqual(got2, ["RFC", "Other"])
        _ = try await client.rename(id: other.id, issuer: "Renamed")
        let got3 = try await waitFor(5).map(\.issuer)
        XCTAssertEqual(got3, ["RFC", "Renamed"])
        _ = try await client.setNote(id: other.id, note: "a note")
        try await assertQuiet("a note is not shown in the list")
        _ = try await client.delete(id: other.id)
        let got4 = try await waitFor(6).map(\.issuer)
        XCTAssertEqual(got4, ["RFC"])
        try await assertQuiet("nothing changed since the delete")
    }

    /// Unlocking with the password (Argon2id) runs on the clients' queues: while more unlocks
    /// than the pool has threads are inside the core at once, a task on the cooperative pool
    /// still runs. Each unlock stops inside the core, after its Argon2id, where it logs the
    /// vault opened, until the probe has run. Were the unlocks run on the pool, they would fill
    /// it with fewer than all of them inside, the rest could not start, and the waits below fail
    /// after a minute instead of hanging.
    func testThePoolStaysResponsiveDuringUnlocks() async throws {
        let setUp = try await open()
        try await setUp.setPassword("correct horse")
        let unlocks = max(4, 2 * ProcessInfo.processInfo.activeProcessorCount)
        let inside = TestTally(unlocks)
        let probed = TestGate()
        defer { probed.open() }
        let unlocked = TestTally(unlocks)
        let vault = self.vault
        let all = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<unlocks {
                    group.addTask {
                        let sink = HoldingSink(inside: inside, until: probed)
                        let client = try await AuthCoreClient.openWithPassword(
                            path: vault, password: "correct horse", platform: .ios,
                            deviceKeys: .software(bits: 2048), transport: NoNetwork(), timeSource: FixedTime(59),
                            logger: sink)
                        unlocked.arrive()
                        XCTAssertFalse(sink.timedOut, "an unlock waited a minute for the probe")
                        let has = try await client.hasPassword()
                        XCTAssertTrue(has)
                    }
                }
                try await group.waitForAll()
            }
        }
        let allInside = await inside.all.wait(seconds: 60)
        XCTAssertTrue(allInside, "\(inside.count) of \(unlocks) unlocks got inside the core")
        let unlockedWhileProbing = await Task.detached { unlocked.count }.value // needs a free pool thread
        probed.open()
        try await all.value
        XCTAssertEqual(unlockedWhileProbing, 0, "every unlock was still inside the core")
        XCTAssertEqual(unlocked.count, unlocks)
    }

    func testEveryVaultCallIsReachableThroughTheClient() async throws {
        let client = try await open()
        let added = try await client.add(uriLines: "\(rfcSha1)\notpauth://hotp/Bank:me?secret=\(sha1Seed)&counter=0\n")
        XCTAssertEqual(added.map(\.alreadyPresent), [false, false])
        let (totp, hotp) = (added[0].account, added[1].account)

        let got6 = try await client.codes(at: Date(timeIntervalSince1970: 59)).map(\.code)
        XCTAssertEqual(got6, ["94287082"])
        let got7 = try await client.codes(at: Date(timeIntervalSince1970: 1111111109.9), matching: "sha1").map(\.code)
        XCTAssertEqual(got7, ["07081804"])
        let hotpCode = try await client.nextHotp(id: hotp.id)
        XCTAssertEqual(hotpCode.code, "755224")

        let got8 = try await client.clockOffset()
        XCTAssertEqual(got8, 0)
        try await client.setClockOffset(seconds: -30)
        let got9 = try await client.clockOffset()
        XCTAssertEqual(got9, -30)
        let got10 = try await client.codes()[0].clockOffset
        XCTAssertEqual(got10, -30)
        let tooFar = await thrown { try await client.setClockOffset(seconds: 100_000) }
        guard case .InvalidInput? = tooFar else { return XCTFail("\(String(describing: tooFar))") }

        let got11 = try await client.move(id: hotp.id, to: 0).id
        XCTAssertEqual(got11, hotp.id)
        let got12 = try await client.accounts().map(\.id)
        XCTAssertEqual(got12, [hotp.id, totp.id])
        let got13 = try await client.move(id: hotp.id, to: Int.max).id
        XCTAssertEqual(got13, hotp.id, "past the end is last")
        let got14 = try await client.accounts().map(\.id)
        XCTAssertEqual(got14, [totp.id, hotp.id])
        let got15 = try await client.setGroup(id: totp.id, group: "g").group
        XCTAssertEqual(got15, "g")
        let got16 = try await client.search("Bank").map(\.id)
        XCTAssertEqual(got16, [hotp.id])

        let got17 = try await client.hasPassword()
        XCTAssertFalse(got17)
        try await client.setPassword("correct horse")
        let got18 = try await client.hasPassword()
        XCTAssertTrue(got18)
        try await client.removePassword()
        let got19 = try await client.hasPassword()
        XCTAssertFalse(got19)

        let exported = try await client.exportOtpauthUris()
        XCTAssertEqual(exported.count, 2)
        XCTAssertTrue(exported.allSatisfy { $0.hasPrefix("otpauth://") && $0.contains("secret=") }, "\(exported)")
        let migration = try await client.exportMigration()
        XCTAssertEqual(migration.payloads.count, 1)
        XCTAssertTrue(migration.leftOut.isEmpty)
        let preview = try await AuthCoreClient.preview(uri: migration.payloads[0])
        XCTAssertEqual(preview.map(\.issuer).sorted(), ["Bank", "RFC"])
        let accounts = try await client.accounts()
        let rfc = try XCTUnwrap(accounts.first { $0.issuer == "RFC" })
        let one = try await client.exportAccountUri(id: rfc.id)
        XCTAssertEqual(one, exported.first { $0.contains("RFC") })
        let png = try AuthCoreClient.qrCodePng(text: one)
        XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
        let sealed = try await client.exportAegis(password: "aegis pw")
        XCTAssertFalse(sealed.contains("RFC"))
        let reread = try await client.previewImport(data: Data(sealed.utf8), password: "aegis pw")
        XCTAssertEqual(reread.entries().map(\.issuer).sorted(), ["Bank", "RFC"])
        let plain = try await client.exportAegis(password: nil)
        XCTAssertTrue(plain.contains("\"RFC\"") && plain.contains("\"Bank\""), plain)
        let steam = try await client.add(uri: "otpauth://steam/Steam:gamer?secret=MFRGGZDFMZTWQ2LK")
        let partial = try await client.exportMigration()
        XCTAssertEqual(partial.leftOut.map(\.accountId), [steam[0].account.id])
        XCTAssertEqual(partial.leftOut.first?.reason, "Steam codes cannot be exported to Google Authenticator")
    }

    func testTheCoresDiagnosticsReachTheLogSink() async throws {
        let sink = RecordingSink()
        let client = try await AuthCoreClient.open(
            path: vault, keyStore: InMemoryKeychain(), platform: .ios, deviceKeys: .software(bits: 2048),
            transport: NoNetwork(), timeSource: FixedTime(59), logger: sink)
        _ = try await client.add(uri: "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP")
        let lines = sink.lines
        XCTAssertEqual(lines.first, "info vault: vault opened: 0 account(s)")
        XCTAssertFalse(lines.joined().contains("JBSWY3DPEHPK3PXP"), "\(lines)")
    }

    func testAnAmbiguousIdSaysHowManyMatchAndAMissingOneIsNotFound() async throws {
        let client = try await open()
        // 17 accounts, so at least two ids share their first hex digit.
        let uris = (1...17).map { "otpauth://totp/Many:user\($0)?secret=JBSWY3DPEHPK3PXP" }.joined(separator: "\n")
        let ids = try await client.add(uriLines: uris).map(\.account.id)
        let groups = Dictionary(grouping: ids) { String($0.prefix(1)) }
        let (prefix, sharing) = try XCTUnwrap(groups.first { $0.value.count > 1 })
        let ambiguous = await thrown { try await client.delete(id: prefix) }
        guard case let .Ambiguous(message, matches)? = ambiguous else { return XCTFail("\(String(describing: ambiguous))") }
        XCTAssertEqual(Int(matches), sharing.count)
        XCTAssertEqual(message, "'\(prefix)' matches \(sharing.count) accounts; give more of the id")
        let missing = await thrown { try await client.delete(id: "no-such-id") }
        XCTAssertEqual(missing, .NotFound(text: "no account matches 'no-such-id'"))
        let count = try await client.accounts().count
        XCTAssertEqual(count, 17, "refused calls change nothing")
    }

    func testPasswordlessCallsDefaultToThePlatformGivenAtOpen() async throws {
        let client = try await open(platform: .android)
        XCTAssertEqual(client.platform, .android)
        let rule = try await client.passwordlessRule()
        XCTAssertEqual(rule, PasswordlessRule(maxAccounts: 1, requireNumberMatching: true, requireDeviceUnlock: true))
        let got20 = try await client.passwordlessRule(for: .ios).maxAccounts
        XCTAssertNil(got20)
        let ids = try await client.add(uriLines: "\(rfcSha1)\notpauth://totp/Two:b?secret=JBSWY3DPEHPK3PXP").map(\.account.id)
        let got21 = try await client.enablePasswordless(id: ids[0]).passwordless
        XCTAssertTrue(got21)
        let limit = await thrown { try await client.enablePasswordless(id: ids[1]) }
        guard case let .PasswordlessLimit(message, platform, max, holders)? = limit else { return XCTFail("\(String(describing: limit))") }
        XCTAssertEqual(platform, .android)
        XCTAssertEqual(max, 1)
        XCTAssertEqual(holders, ["RFC (sha1)"])
        XCTAssertEqual(message, "android allows passwordless for 1 account; RFC (sha1) already has it: turn it off there first, or move it")
        let got22 = try await client.movePasswordless(from: ids[0], to: ids[1]).passwordless
        XCTAssertTrue(got22)
        let got23 = try await client.disablePasswordless(id: ids[1]).passwordless
        XCTAssertFalse(got23)
        try await client.setPasswordlessRules(json: #"{"passwordless":{"android":{"max_accounts":2}}}"#)
        let got24 = try await client.passwordlessRule().maxAccounts
        XCTAssertEqual(got24, 2)
        try await client.setPasswordlessRules(json: nil)
        let got25 = try await client.passwordlessRule().maxAccounts
        XCTAssertEqual(got25, 1)
    }

    func testArgumentsTheFfiCannotCarryAreRefusedByName() async throws {
        let client = try await open()
        let id = try await client.add(uri: rfcSha1)[0].account.id
        let position = await thrown { try await client.move(id: id, to: -1) }
        XCTAssertEqual(position, .InvalidInput(text: "position must not be negative (was -1)"))
        let before1970 = await thrown { try await client.codes(at: Date(timeIntervalSince1970: -1)) }
        XCTAssertEqual(before1970, .InvalidInput(text: "at must not be before 1970 (was -1.0)"))
        let got26 = try await client.accounts().map(\.id)
        XCTAssertEqual(got26, [id])
    }

    /// Software key sizes are the core's to check, when the vault is opened with them.
    func testUnsupportedSoftwareKeySizesAreRefusedAtOpen() async throws {
        for bits: Int32 in [-2048, 0, 1024, 8192] {
            let refused = await thrown {
                try await AuthCoreClient.open(
                    path: dir.appendingPathComponent("bits\(bits).sqlite").path, keyStore: InMemoryKeychain(),
                    platform: .ios, deviceKeys: .software(bits: bits), transport: NoNetwork())
            }
            guard case .InvalidInput(let message)? = refused else { return XCTFail("bits \(bits): \(String(describing: refused))") }
            XCTAssertEqual(message, "software_key_bits: \(bits) is not supported (use 2048, 3072 or 4096)")
        }
        let client = try await AuthCoreClient.open(
            path: vault, keyStore: InMemoryKeychain(), platform: .ios, deviceKeys: .software(bits: 3072), transport: NoNetwork())
        let none = try await client.accounts()
        XCTAssertTrue(none.isEmpty)
    }
}

/// What a collecting task has seen, read by the test.
final class Collected: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [[AccountCode]] = []
    func append(_ codes: [AccountCode]) { lock.lock(); items.append(codes); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return items.count }
    var last: [AccountCode] { lock.lock(); defer { lock.unlock() }; return items.last ?? [] }
}

/// Holds the call that opened its vault inside the core, at the "vault opened" line, until
/// `until` opens (at most a minute: `timedOut` then says so); counts each such call in `inside`.
final class HoldingSink: LogSink, @unchecked Sendable {
    private let lock = NSLock()
    private let inside: TestTally
    private let until: TestGate
    private var late = false
    var timedOut: Bool { lock.lock(); defer { lock.unlock() }; return late }

    init(inside: TestTally, until: TestGate) {
        self.inside = inside
        self.until = until
    }

    func log(level: LogLevel, target: String, message: String) {
        guard target == "vault", message.hasPrefix("vault opened") else { return }
        inside.arrive()
        if !until.block(seconds: 60) { lock.lock(); late = true; lock.unlock() }
    }
}

/// Keeps every line the core logs, as "level target: message".
final class RecordingSink: LogSink, @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []
    var lines: [String] { lock.lock(); defer { lock.unlock() }; return kept }
    func log(level: LogLevel, target: String, message: String) {
        lock.lock(); kept.append("\(level) \(target): \(message)"); lock.unlock()
    }
}
