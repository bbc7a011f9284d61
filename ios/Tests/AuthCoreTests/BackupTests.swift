import Foundation
import XCTest

@testable import AuthCore

/// Backups through `AuthCoreClient` as an app uses them: a backup restores onto a fresh vault
/// with identical codes, counters, groups and order; verify changes nothing; a wrong password
/// and a damaged file are typed errors that change nothing; an automatic backup appears after
/// a change.
final class BackupTests: XCTestCase {
    var dir: URL!

    override func setUpWithError() throws {
        dir = FileManager.default.temporaryDirectory.appendingPathComponent("authcore-swift-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: dir)
    }

    func open(_ name: String) async throws -> AuthCoreClient {
        try await AuthCoreClient.open(
            path: dir.appendingPathComponent(name).path, keyStore: InMemoryKeychain(), platform: .ios,
            deviceKeys: .software(bits: 2048), transport: NoNetwork(), timeSource: FixedTime(59))
    }

    let checkAt = Date(timeIntervalSince1970: 1_700_000_000)

    func fill(_ client: AuthCoreClient) async throws {
        _ = try await client.add(uri: "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub")
        _ = try await client.add(uri: "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=41&digits=8")
        _ = try await client.add(uri: "otpauth://steam/Steam:dave?secret=MFRGGZDFMZTWQ2LK&issuer=Steam")
        let ids = try await client.accounts().map(\.id)
        _ = try await client.setGroup(id: ids[0], group: "Work")
        _ = try await client.nextHotp(id: ids[1])
        _ = try await client.move(id: ids[2], to: 0)
    }

    func view(_ client: AuthCoreClient) async throws -> [String] {
        let accounts = try await client.accounts()
        let codes = Dictionary(uniqueKeysWithValues: try await client.codes(at: checkAt).map { ($0.id, $0.code) })
        return accounts.map { a in
            "\(a.issuer)|\(a.label)|\(a.group ?? "-")|\(String(describing: a.counter))|\(a.digits.map(String.init) ?? "-")|\(codes[a.id] ?? "-")"
        }
    }

    func testABackupRestoresOntoAFreshVaultWithIdenticalCodes() async throws {
        let old = try await open("old.sqlite")
        try await fill(old)
        let file = try await old.createBackup(password: "backup pw")
        let fresh = try await open("new.sqlite")
        let report = try await fresh.restoreBackup(file, password: "backup pw")
        XCTAssertEqual(report.added.count, 3)
        XCTAssertEqual(report.createdAt, 59)
        XCTAssertTrue(report.duplicates.isEmpty)
        let restoredView = try await view(fresh)
        let oldView = try await view(old)
        XCTAssertEqual(restoredView, oldView)
        let verify = try await fresh.verifyBackup(file, password: "backup pw")
        XCTAssertTrue(verify.identical)
        XCTAssertEqual(verify.matching, 3)
        do {
            _ = try await fresh.restoreBackup(file, password: "backup pw")
            XCTFail("a vault with accounts needs merge")
        } catch AuthCoreError.InvalidInput(let text) {
            XCTAssertEqual(text, "the vault already holds 3 accounts: restore with merge to add the backup's accounts to them")
        }
        let merged = try await fresh.restoreBackup(file, password: "backup pw", merge: true)
        XCTAssertEqual(merged.duplicates.count, 3)
    }

    func testAWrongPasswordOrADamagedFileIsATypedErrorAndChangesNothing() async throws {
        let old = try await open("old.sqlite")
        try await fill(old)
        let file = try await old.createBackup(password: "pw")
        let fresh = try await open("new.sqlite")
        do {
            _ = try await fresh.restoreBackup(file, password: "PW")
            XCTFail("wrong password")
        } catch AuthCoreError.WrongPassword(let text) {
            XCTAssertEqual(text, "the backup does not decrypt: wrong password, or the file was altered")
        }
        var flipped = file
        flipped[flipped.count - 5] ^= 1
        do {
            _ = try await fresh.verifyBackup(flipped, password: "pw")
            XCTFail("a flipped bit")
        } catch AuthCoreError.WrongPassword {}
        do {
            _ = try await fresh.restoreBackup(file.prefix(30), password: "pw")
            XCTFail("truncated")
        } catch AuthCoreError.InvalidInput(let text) {
            XCTAssertEqual(text, "not a usable authcore backup: truncated: 30 bytes, a backup has at least 66")
        }
        let accounts = try await fresh.accounts()
        XCTAssertTrue(accounts.isEmpty)
    }

    func testAnAutomaticBackupAppearsAfterAChange() async throws {
        let backups = dir.appendingPathComponent("backups")
        try FileManager.default.createDirectory(at: backups, withIntermediateDirectories: true)
        func files() throws -> [String] {
            try FileManager.default.contentsOfDirectory(atPath: backups.path).filter { $0.hasSuffix(".backup") }.sorted()
        }
        let old = try await open("old.sqlite")
        try await fill(old)
        let off = try await old.backupStatus()
        XCTAssertFalse(off.enabled)
        let status = try await old.enableAutoBackup(directory: backups.path, password: "auto pw", keep: 5)
        XCTAssertTrue(status.enabled)
        XCTAssertEqual(status.backups, 1)
        XCTAssertNil(status.lastError)
        _ = try await old.add(uri: "otpauth://totp/New:n?secret=ONSWG4TFOQ&issuer=New")
        // The core writes it after two quiet seconds, without a flush; wait up to 30 s.
        let deadline = Date().addingTimeInterval(30)
        while try files().count < 2, Date() < deadline {
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        XCTAssertEqual(try files().count, 2)
        let pending = try await old.flushBackup()
        XCTAssertNil(pending)
        let newest = try Data(contentsOf: backups.appendingPathComponent(try files().last!))
        let restored = try await open("restored.sqlite")
        _ = try await restored.restoreBackup(newest, password: "auto pw")
        let restoredView = try await view(restored)
        let oldView = try await view(old)
        XCTAssertEqual(restoredView, oldView)
        try await old.disableAutoBackup()
        let reenroll = try await old.reenrollList()
        XCTAssertTrue(reenroll.isEmpty)
    }

    /// core/testdata/backup-format1.backup (password "format 1"), written by the desktop CLI and
    /// also restored by the Rust and Kotlin suites: a backup holds no platform key.
    func testAFormat1BackupFromTheDesktopRestoresWithTheSameCodes() async throws {
        let text: String =
            "QVVUSENCQUsBAQABAAAAAAADAAAAAabEmZQLBwIvpQWHKIACPqOalD3zeuxV5E2HjVjzXiozu0F9eAbnBzFo09pt9v9cNUrp" +
            "3q7rlinqCbaXAiU8/O4C6BEa8p7ss+VWXqYJ5SB7AZ96yXLEhSjPSSKWOmQkDBKwL9rKnAviRyTWPpcs614bILUd/31BbKUN" +
            "SImQ3ie2cR3Kbs6zrFoaiBSMQBZPGL4O/g/ddvYIIVXvLJjiMH0DLMGFyIqiOC+FapwK61X/nXyc9/95A/90JFdKu0wrINej" +
            "YN1YwpMdS/Cwk+hHU/oIDTDtB6mYRh/ke2a/XxIgYJ2VjNDCb5Ql9IY9wAGNo+2nE1UySETEfsAisnX/xuwl9uoyBOcGM4tT" +
            "wHzQKwsasuYQrECZUMYONcfQ8SIPMf7kwe+IBydXKI6kkdGTpeSeSeelz2nxMm5LHp7QRN2j66+4xHvy4Px+h4oyF+2pKmdF" +
            "ACV7s6oOQc7cqvlmQvdTZ0YfW9OJAVlvKP+yj+MUbg1qgTyHkMt5AifNe9Y5iIHz4Y5nhqeXUo869Iob7KCWO3dbMCtdcnjs" +
            "hpRInECKN8c3x63llogz1YiHQhjkIN9N2/N5LMY7xHXBQAs3p9bbyoltqWEOaQgQcotVoHr6mc9f8PtGTLyYENeSwzBWcPrX" +
            "mWwLZJVgWN4UPYECaz769Y4pKJoR3qQHOry0Z5SMJUm2lD9kWLRfJsIbJO1x9CQVt7xyhfkFbdog0WWJOLJi6sftutS0U59a" +
            "0nznX1pCTY5f2viGUJttVeyUUm3GdROrOSfQXLHLgT9Sul2K1sPVcErF+V/5teww3+lGYGJ2oCKeb68G/LU9L5dptdI="
        let file = try XCTUnwrap(Data(base64Encoded: text))
        let client = try await open("restored.sqlite")
        let report = try await client.restoreBackup(file, password: "format 1")
        XCTAssertEqual(report.added.count, 3)
        let codes = Dictionary(uniqueKeysWithValues: try await client.codes(at: checkAt).map { ($0.issuer, $0.code) })
        XCTAssertEqual(codes, ["GitHub": "324550", "Steam": "5DJH6"])
        let accounts = try await client.accounts()
        XCTAssertEqual(accounts[0].group, "Work")
        let hotp = try await client.nextHotp(id: accounts[1].id)
        XCTAssertEqual(hotp.code, "30055299")
    }
}
