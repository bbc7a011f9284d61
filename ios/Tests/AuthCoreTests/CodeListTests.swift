import Foundation
import XCTest

@testable import AuthCore

/// `CodeList`: its rows are what `codes()` returns at every second, it fetches the names again
/// when the core's list version moves (here or through another connection), keeps the code
/// strings that did not change, and its `updates()` follow the time source; plus the per-second
/// refresh's FFI cost (a benchmark: printed, never asserted).
final class CodeListTests: XCTestCase {
    var dir: URL!
    var vault: String { dir.appendingPathComponent("vault.sqlite").path }
    /// One store for every handle a test opens: an in-memory keychain keeps its keys per instance.
    let keychain = InMemoryKeychain()
    let uris = [
        "otpauth://totp/RFC:sha1?secret=\(sha1Seed)&digits=8",
        "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=41",
        "otpauth://totp/Cloud:carol?secret=\(sha512Seed)&issuer=Cloud&algorithm=SHA512&period=60",
        "otpauth://steam/Steam:dave?secret=MFRGGZDFMZTWQ2LK&issuer=Steam",
    ]

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("authcore-swift-codelist-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func open(_ time: TimeSource) async throws -> AuthCoreClient {
        try await AuthCoreClient.open(
            path: vault, keyStore: keychain, platform: .desktop, deviceKeys: .software(bits: 2048),
            transport: NoNetwork(), timeSource: time)
    }

    /// A row as `codes()` shows it.
    func row(_ c: AccountCode) -> CodeRow {
        CodeRow(
            id: c.id, issuer: c.issuer, label: c.label, otpType: c.otpType, period: c.period,
            digits: UInt8(c.code.utf8.count), code: c.code, nextCode: c.nextCode, validFor: c.validFor,
            clockOffset: c.clockOffset, clockFromServer: c.clockFromServer)
    }

    func testRowsAreTheCodesAtEverySecondAcrossRolloversAndAClockOffset() async throws {
        let time = FixedTime(1111111100)
        let client = try await open(time)
        _ = try await client.add(uriLines: uris.joined(separator: "\n"))
        let list = client.codeList()
        for offset: Int64 in [0, 17] {
            try await client.setClockOffset(seconds: offset)
            for second in 0..<130 {
                time.now = 1111111100 + Int64(second)
                try await list.refresh()
                let expected = try await client.codes().map(row)
                XCTAssertEqual(list.rows, expected, "+\(second) s, offset \(offset)")
            }
        }
        // HOTP has no countdown: three rows. RFC 6238 at 59 s: the comparison cannot pass on two equal mistakes.
        XCTAssertEqual(list.rows.map(\.issuer), ["RFC", "Cloud", "Steam"])
        try await client.setClockOffset(seconds: 0)
        time.now = 59
        try await list.refresh()
        XCTAssertEqual(list.rows[0].code, "94287082")
        XCTAssertEqual(list.rows[0].validFor, 1)
    }

    func testAChangeFetchesTheNamesAgainAndOnlyWhatMovedIsNew() async throws {
        let time = FixedTime(1111111100)
        let client = try await open(time)
        _ = try await client.add(uriLines: uris.joined(separator: "\n"))
        let list = client.codeList()
        let firstMoved = try await list.refresh()
        XCTAssertTrue(firstMoved)
        let first = list.rows
        let again = try await list.refresh()
        XCTAssertFalse(again, "the same second: nothing moved")
        XCTAssertEqual(list.rows, first)

        time.now += 1 // a countdown second
        let ticked = try await list.refresh()
        XCTAssertTrue(ticked)
        XCTAssertEqual(list.rows.map(\.validFor), first.map { $0.validFor - 1 })
        XCTAssertEqual(list.rows.map(\.code), first.map(\.code))

        let rfc = first[0].id
        _ = try await client.rename(id: rfc, issuer: "Renamed")
        try await list.refresh()
        XCTAssertEqual(list.rows.map(\.issuer), ["Renamed", "Cloud", "Steam"])
        _ = try await client.move(id: rfc, to: 3) // of all four accounts: the HOTP one counts
        try await list.refresh()
        XCTAssertEqual(list.rows.map(\.issuer), ["Cloud", "Steam", "Renamed"])
        _ = try await client.delete(id: rfc)
        try await list.refresh()
        XCTAssertEqual(list.rows.map(\.issuer), ["Cloud", "Steam"])

        // Another connection (a second process, the CLI) adds one: seen at the next refresh.
        try addThroughAnotherConnection(time)
        let seen = try await list.refresh()
        XCTAssertTrue(seen)
        XCTAssertEqual(list.rows.map(\.issuer), ["Cloud", "Steam", "Other"])
        let expected = try await client.codes().map(row)
        XCTAssertEqual(list.rows, expected)
        // Everything removed: the list empties.
        for row in list.rows { _ = try await client.delete(id: row.id) }
        let emptied = try await list.refresh()
        XCTAssertTrue(emptied)
        XCTAssertEqual(list.rows, [])
    }

    /// A second handle on the vault (another process, the CLI) adds an account and closes.
    func addThroughAnotherConnection(_ time: FixedTime) throws {
        let other = try Authenticator.openOrCreate(path: vault, keyStore: keychain, options: testOptions(time))
        _ = try other.addUri(uri: "otpauth://totp/Other:eve?secret=JBSWY3DPEHPK3PXP&issuer=Other")
    }

    func testAMalformedTickBufferIsAnInternalErrorNotACrash() throws {
        let row = CodeListRow(
            id: "a", issuer: "I", label: "L", otpType: .totp, period: 30, digits: 6, clockOffset: 0,
            clockFromServer: false)
        let seven: [UInt8] = [7, 0, 0, 0]
        let codes: [UInt8] = [6] + Array("123456".utf8) + [6] + Array("654321".utf8)
        let rows = try XCTUnwrap(try CodeList.decode(validFor: seven, codes: codes, [row], previous: []))
        XCTAssertEqual(rows.map { [$0.code, $0.nextCode, String($0.validFor)] }, [["123456", "654321", "7"]])
        XCTAssertNil(try CodeList.decode(validFor: seven, codes: codes, [row], previous: rows), "nothing moved")
        XCTAssertNil(try CodeList.decode(validFor: seven, codes: nil, [row], previous: rows), "nothing moved")
        let six = try XCTUnwrap(try CodeList.decode(validFor: [6, 0, 0, 0], codes: nil, [row], previous: rows))
        XCTAssertEqual(six.map(\.validFor), [6])
        XCTAssertEqual(six.map(\.code), ["123456"])
        let bad: [([UInt8], [UInt8]?, [CodeRow])] = [
            (seven, Array(codes.dropLast()), []), (seven, codes + [0], []), ([7, 0, 0], codes, []),
            (seven, [200] + Array("1".utf8), []), (seven + seven, codes, []), (seven, nil, []),
        ]
        for (validFor, codes, previous) in bad {
            XCTAssertThrowsError(try CodeList.decode(validFor: validFor, codes: codes, [row], previous: previous)) { error in
                guard case AuthCoreError.Internal = error else { return XCTFail("\(error)") }
            }
        }
    }

    func testUpdatesFollowTheTimeSourcesSecondAndAChangeAtOnce() async throws {
        let time = FixedTime(1111111108)
        let client = try await open(time)
        _ = try await client.add(uri: uris[0])
        let list = client.codeList()
        let collected = CollectedRows()
        let stream = list.updates(pollNanoseconds: 5_000_000)
        let collector = Task { for try await rows in stream { collected.append(rows) } }
        defer { collector.cancel() }
        func waitFor(_ what: String, _ p: @escaping ([CodeRow]) -> Bool) async throws {
            for _ in 0..<500 where !(collected.last.map(p) ?? false) { try await Task.sleep(nanoseconds: 10_000_000) }
            XCTAssertTrue(collected.last.map(p) ?? false, what)
        }
        try await waitFor("first rows") { $0.first?.validFor == 2 }
        time.now = 1111111110 // the rollover
        try await waitFor("rolled over") { $0.first?.validFor == 30 && $0.first?.code == "14050471" }
        let before = collected.count
        // The time source stands still: only the change itself can make this refresh.
        _ = try await client.add(uri: "otpauth://totp/Other:bob?secret=JBSWY3DPEHPK3PXP&issuer=Other")
        try await waitFor("added") { $0.map(\.issuer) == ["RFC", "Other"] }
        XCTAssertEqual(collected.count, before + 1)
    }

    func testUpdatesSeeAnotherConnectionsChangeThroughTheWatchTheClockStandingStill() async throws {
        let time = FixedTime(1111111108)
        let client = try await open(time)
        _ = try await client.add(uri: uris[0])
        let list = client.codeList()
        let collected = CollectedRows()
        let stream = list.updates(pollNanoseconds: 5_000_000, watchMilliseconds: 10)
        let collector = Task { for try await rows in stream { collected.append(rows) } }
        func waitFor(_ what: String, _ p: @escaping ([CodeRow]) -> Bool) async throws {
            for _ in 0..<500 where !(collected.last.map(p) ?? false) { try await Task.sleep(nanoseconds: 10_000_000) }
            XCTAssertTrue(collected.last.map(p) ?? false, what)
        }
        try await waitFor("first rows") { $0.count == 1 }
        // Not through the client, and the time source stands still: only the watch can tell.
        try addThroughAnotherConnection(time)
        try await waitFor("seen through the watch") { $0.map(\.issuer) == ["RFC", "Other"] }
        collector.cancel()
        _ = await collector.result
        // A watch of one's own, for refreshes on one's own timer; a bad interval is named.
        let watch = try list.watch(intervalMilliseconds: 10)
        let other = try Authenticator.openOrCreate(path: vault, keyStore: keychain, options: testOptions(time))
        _ = try other.addUri(uri: "otpauth://totp/Third:f?secret=JBSWY3DPEHPK3PXP&issuer=Third")
        var seen = false
        for _ in 0..<500 where !seen {
            try await list.refresh()
            seen = list.rows.map(\.issuer) == ["RFC", "Other", "Third"]
            if !seen { try await Task.sleep(nanoseconds: 10_000_000) }
        }
        XCTAssertTrue(seen, "seen through the watch at a refresh")
        watch.cancel()
        watch.cancel()
        XCTAssertThrowsError(try list.watch(intervalMilliseconds: 0)) { error in
            XCTAssertEqual(error as? AuthCoreError, .InvalidInput(text: "interval_ms: 0 is not between 1 and 60000"))
        }
    }

    func testFfiCostOfThePerSecondRefreshOf100Accounts() async throws {
        let time = FixedTime(1_700_000_000)
        let client = try await open(time)
        let lines = (0..<100).map { i -> String in
            let a = Character(UnicodeScalar(UInt8(65 + i % 26)))
            let b = Character(UnicodeScalar(UInt8(65 + i / 26)))
            return "otpauth://totp/Bench:u\(i)?secret=JBSWY3DPEHPK3P\(a)\(b)&issuer=B\(i)"
        }
        _ = try await client.add(uriLines: lines.joined(separator: "\n"))
        let list = client.codeList()
        let auth = client.authenticator
        // Each refresh is the next second, so one in 30 makes every code anew (a rollover). The
        // synchronous refresh the client's queue runs (the hop to the queue is not the FFI's).
        // The UI holds the last rows it drew, so a refresh cannot change them in place.
        // A watch is open, as `updates()` keeps one: a second in which nothing changed makes no
        // FFI call. The second row is the same refresh without one (a listVersion() call).
        let watch = try list.watch()
        let unwatched = client.codeList()
        var held = list.rows
        let timings = try benchMicros([
            { time.now += 1; _ = try list.refreshHere(); held = list.rows },
            { time.now += 1; _ = try unwatched.refreshHere(); held = unwatched.rows },
            { time.now += 1; _ = try list.refreshHere() },
            { _ = try list.refreshHere() },
            { time.now += 1; _ = try auth.codeTicksOn(deviceUnixSeconds: time.now) },
            { time.now += 1; _ = try auth.listVersion() },
        ])
        watch.cancel()
        XCTAssertEqual(held.count, 100)
        print(String(format: "bench-row: swift_refresh_100 %.1f", timings[0]))
        print(String(format: "FFI cost (Swift): refresh() with no watch open = %.1f µs", timings[1]))
        print(String(format: "FFI cost (Swift): refresh() with nobody holding the last rows = %.1f µs", timings[2]))
        print(String(format: "FFI cost (Swift): refresh() within one second = %.1f µs", timings[3]))
        print(String(format: "FFI cost (Swift): codeTicksOn() alone (no time-source callback) = %.1f µs", timings[4]))
        print(String(format: "FFI cost (Swift): listVersion() = %.1f µs", timings[5]))
    }
}

/// What a stream yielded, appended from its task.
final class CollectedRows: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [[CodeRow]] = []
    func append(_ rows: [CodeRow]) { lock.lock(); items.append(rows); lock.unlock() }
    var count: Int { lock.lock(); defer { lock.unlock() }; return items.count }
    var last: [CodeRow]? { lock.lock(); defer { lock.unlock() }; return items.last }
}

/// Microseconds per call of each body: warmed up, then the median of 21 rounds of batches of 200
/// calls, the bodies taking turns within each round, so another process taking the CPU for a
/// moment weighs on all of them alike and on the median little.
func benchMicros(_ bodies: [() throws -> Void]) throws -> [Double] {
    for body in bodies { for _ in 0..<300 { try body() } }
    var batches = Array(repeating: [Double](), count: bodies.count)
    for _ in 0..<21 {
        for (i, body) in bodies.enumerated() {
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<200 { try body() }
            batches[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / 200)
        }
    }
    return batches.map { $0.sorted()[$0.count / 2] }
}
