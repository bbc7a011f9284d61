import Foundation

// MARK: Backups: moving out and starting over
// Creating, restoring and verifying derive a key with Argon2id (a quarter second or more), so
// like every vault call they run on the client's serial queue, never on a pool thread.
extension AuthCoreClient {
    /// An encrypted backup of every account under `password` (Argon2id + AES-256-GCM, no
    /// platform key: it restores on any phone, iOS or Android): the file's bytes, for the app to
    /// write where the user chose (a document picker, the iCloud container). Push tokens are
    /// listed in it as metadata only: see `reenrollList()`.
    public func createBackup(password: String) async throws -> Data {
        try await run { try $0.createBackup(password: password) }
    }

    /// Restores a backup file: into an empty vault (a new phone), or with `merge` added to the
    /// accounts here, those already present reported in `duplicates`, not added twice. A wrong
    /// password throws `AuthCoreError.WrongPassword`, a damaged file or a vault with accounts
    /// (without `merge`) `.InvalidInput`; each changes nothing.
    public func restoreBackup(_ file: Data, password: String, merge: Bool = false) async throws -> RestoreReport {
        try await write { try $0.restoreBackup(file: file, password: password, merge: merge) }
    }

    /// Decrypts a backup and compares it with the vault ("does my backup work?"), changing nothing.
    public func verifyBackup(_ file: Data, password: String) async throws -> VerifyReport {
        try await run { try $0.verifyBackup(file: file, password: password) }
    }

    /// Switches automatic backups on: after every change (changes close together coalesce) a
    /// backup is written into `directory` (an existing directory: the app's Documents, or the
    /// iCloud container's `Documents` from `url(forUbiquityContainerIdentifier:)`), the newest
    /// `keep` kept. `password` is needed only here and to restore. The first backup is written
    /// now. Call `flushBackup()` when the scene enters the background.
    public func enableAutoBackup(directory: String, password: String, keep: Int = 10) async throws -> BackupStatus {
        guard let keep32 = Int32(exactly: keep) else {
            throw AuthCoreError.InvalidInput(text: "keep=\(keep): must be between 1 and 1000")
        }
        return try await run { try $0.enableAutoBackup(dir: directory, keep: keep32, password: password) }
    }

    /// Switches automatic backups off; the backups written stay.
    public func disableAutoBackup() async throws {
        try await run { try $0.disableAutoBackup() }
    }

    /// Writes the pending automatic backup now: its path, or nil when there was nothing new.
    @discardableResult
    public func flushBackup() async throws -> String? {
        try await run { try $0.flushBackup() }
    }

    /// What automatic backups are set to and last did; a failure is kept, never silent.
    public func backupStatus() async throws -> BackupStatus {
        try await run { try $0.backupStatus() }
    }

    /// What cannot move to a new phone (push tokens, bound to this phone's device key), with
    /// what to do about each. Holds no secret.
    public func reenrollList() async throws -> [ReenrollItem] {
        try await run { try $0.reenrollList() }
    }
}
