//! `VaultError`: why a vault operation failed, its kind, and how SQLite's errors read (damage
//! told apart from a failing disk).

use std::path::PathBuf;

use rusqlite::Connection;

use super::KeyStoreError;
use crate::account::AccountError;
use crate::error::ErrorKind;

/// Why a vault operation failed. No variant carries secret material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no vault at {path}")]
    Missing { path: PathBuf },
    #[error("{path} already exists; refusing to overwrite it")]
    AlreadyExists { path: PathBuf },
    #[error("{path} is not an authcore vault")]
    NotAVault { path: PathBuf },
    #[error(
        "the vault was written by a newer authcore (format {found}, this one knows up to {known}); update the app"
    )]
    NewerFormat { found: u32, known: u32 },
    #[error("the vault is damaged: {what}; nothing was changed")]
    Damaged { what: String },
    #[error("the key store's key does not open this vault")]
    WrongKey,
    #[error("wrong password")]
    WrongPassword,
    #[error("this vault has no password slot")]
    NoPassword,
    #[error("password: {reason}")]
    BadPassword { reason: String },
    #[error("KDF parameters: {reason}")]
    BadKdfParams { reason: String },
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    #[error("no account with id {id}")]
    NotFound { id: String },
    #[error("{name} is not a HOTP account")]
    NotHotp { name: String },
    #[error("the HOTP counter of {name} cannot go past 2^64-1")]
    CounterExhausted { name: String },
    #[error("{name} has no OTP credential (it is a push-only account)")]
    NoOtp { name: String },
    #[error("the push token {serial} is already enrolled here (account {id})")]
    PushSerialTaken { serial: String, id: String },
    #[error("{name} already has a push token ({serial}); delete the account to enroll another")]
    AlreadyHasPush { name: String, serial: String },
    #[error("{name} has no push token")]
    NoPush { name: String },
    #[error("container {serial} is already registered on this device")]
    ContainerExists { serial: String },
    #[error("no container {serial} is registered on this device")]
    NoContainer { serial: String },
    #[error(transparent)]
    Invalid(#[from] AccountError),
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("the system random number generator failed")]
    Random,
}

impl VaultError {
    /// What kind of failure this is (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            VaultError::Missing { .. }
            | VaultError::AlreadyExists { .. }
            | VaultError::NotAVault { .. }
            | VaultError::NewerFormat { .. }
            | VaultError::Damaged { .. }
            | VaultError::Storage { .. }
            | VaultError::Random => ErrorKind::Vault,
            VaultError::WrongKey | VaultError::KeyStore(_) => ErrorKind::KeyStore,
            VaultError::WrongPassword => ErrorKind::WrongPassword,
            VaultError::NotFound { .. } | VaultError::NoContainer { .. } => ErrorKind::NotFound,
            VaultError::NoPassword
            | VaultError::BadPassword { .. }
            | VaultError::BadKdfParams { .. }
            | VaultError::NotHotp { .. }
            | VaultError::CounterExhausted { .. }
            | VaultError::NoOtp { .. }
            | VaultError::PushSerialTaken { .. }
            | VaultError::AlreadyHasPush { .. }
            | VaultError::NoPush { .. }
            | VaultError::ContainerExists { .. }
            | VaultError::Invalid(_) => ErrorKind::BadInput,
        }
    }
}

impl From<rusqlite::Error> for VaultError {
    fn from(e: rusqlite::Error) -> Self {
        // SQLite's messages name tables and constraints, never bound values, so no secret leaks.
        // (rusqlite's out-of-range message shows the integer; no secret is stored as one.)
        let damage = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        ) || matches!(
            // Every table is STRICT, so only damage can put a value of another type in a column.
            e,
            rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::Utf8Error(..)
                | rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)
        );
        if damage {
            VaultError::Damaged {
                what: e.to_string(),
            }
        } else {
            VaultError::Storage {
                reason: e.to_string(),
            }
        }
    }
}

pub(super) fn damaged(what: impl Into<String>) -> VaultError {
    VaultError::Damaged { what: what.into() }
}

/// A storage error while reading can come from damage that SQLite did not name as such (a
/// damaged length field makes it run out of memory, for one). An integrity check, run only on
/// this error path, tells the two apart.
pub(super) fn explain(conn: &Connection, e: VaultError) -> VaultError {
    if !matches!(e, VaultError::Storage { .. }) {
        return e;
    }
    match conn.query_row("PRAGMA quick_check(1)", [], |r| r.get::<_, String>(0)) {
        Ok(verdict) if verdict != "ok" => damaged(verdict.replace('\n', " ")),
        Err(check) => match VaultError::from(check) {
            damage @ VaultError::Damaged { .. } => damage,
            _ => e,
        },
        Ok(_) => e,
    }
}
