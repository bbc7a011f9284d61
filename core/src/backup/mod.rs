//! `backup`: authcore's own encrypted backup file (docs/backup.md): the byte format
//! (`format.rs`: Argon2id, AES-256-GCM, an authenticated header), what it holds (`payload.rs`:
//! every OTP account, and the push tokens to enroll again as metadata only) and how files are
//! written so that a crash never leaves a half-written one (`files.rs`: temporary file, fsync,
//! rename; the newest N kept). The facade's calls live in `authenticator/backup.rs`, the
//! automatic writer in `authenticator/auto_backup.rs`.

mod files;
mod format;
mod payload;

pub use self::files::{BackupDir, WrittenBackup, write_atomically};
pub use self::format::{
    BackupKey, FORMAT_VERSION, MAGIC, MAX_FILE_BYTES, decrypt, encrypt, kdf_params,
};
pub use self::payload::{BackupAccount, Payload, Reenroll};

use crate::error::{Echo, ErrorKind};

/// Why a backup could not be made, read or written. No variant carries a secret or the
/// password; paths and reasons only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupError {
    /// The file is not an authcore backup, or is truncated or malformed before decryption.
    #[error("not a usable authcore backup: {reason}")]
    Damaged { reason: String },
    /// A backup written by a newer authcore.
    #[error(
        "the backup was written by a newer authcore (format {found}, this one reads up to {known}); update the app"
    )]
    NewerFormat { found: u8, known: u8 },
    /// The header's key-derivation parameters are refused (hostile or unsupported); names the
    /// parameter.
    #[error("the backup's key derivation is refused: {reason}")]
    BadKdf { reason: String },
    /// AES-GCM refused the file: the password is wrong, or a byte was changed.
    #[error("the backup does not decrypt: wrong password, or the file was altered")]
    DoesNotDecrypt,
    /// It decrypted, but what it holds is not valid (names the entry and field).
    #[error("the backup's content is invalid: {reason}")]
    BadContent { reason: String },
    /// A password that cannot be used (empty).
    #[error("backup password: {reason}")]
    BadPassword { reason: String },
    /// Restoring without merging into a vault that already holds accounts.
    #[error(
        "the vault already holds {count} accounts: restore with merge to add the backup's accounts to them"
    )]
    VaultNotEmpty { count: usize },
    /// An automatic-backup setting that cannot be used (directory, how many to keep).
    #[error("automatic backups: {reason}")]
    BadSetting { reason: String },
    /// Automatic backups are off (for a call that needs them on).
    #[error("automatic backups are off")]
    AutoOff,
    /// Writing or reading the backup file or directory failed.
    #[error("backup file {}: {reason}", Echo(path))]
    Io { path: String, reason: String },
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

impl BackupError {
    /// What kind of failure this is (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            BackupError::Damaged { .. }
            | BackupError::NewerFormat { .. }
            | BackupError::BadKdf { .. }
            | BackupError::BadContent { .. }
            | BackupError::BadPassword { .. }
            | BackupError::VaultNotEmpty { .. }
            | BackupError::BadSetting { .. }
            | BackupError::AutoOff => ErrorKind::BadInput,
            BackupError::DoesNotDecrypt => ErrorKind::WrongPassword,
            BackupError::Io { .. } | BackupError::Random => ErrorKind::Vault,
        }
    }

    pub(crate) fn io(path: &std::path::Path, e: &std::io::Error) -> Self {
        BackupError::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests;
