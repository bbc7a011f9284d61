//! `vault`: the encrypted account store, and the only module that speaks SQL.
//!
//! One SQLite file (WAL, `synchronous=FULL`), one transaction per change, numbered migrations.
//! OTP secrets are sealed with AES-256-GCM under a random master key; the master key is stored
//! only wrapped by key slots (the platform key store, and optionally a password). The format is
//! documented in docs/vault.md.
//!
//! This file holds the handle; `error` its errors, `lifecycle` creating and opening the file,
//! `unlock` the key slots, `codec` the account rows, `accounts`, `settings`, `passwordless`, `push`
//! (tokens), `push_requests`, `containers` and `spare_keys` (device keys made ahead) what is
//! stored.

mod accounts;
mod codec;
mod container_sync;
mod containers;
pub mod crypto;
mod error;
pub(crate) mod files;
mod lifecycle;
mod passwordless;
mod push;
mod push_requests;
mod schema;
mod settings;
pub mod slots;
mod spare_keys;
mod unlock;

use std::path::PathBuf;

use rusqlite::Connection;

pub use self::container_sync::SyncChange;
pub use self::containers::{ContainerToken, StoredContainer};
pub use self::crypto::CryptoError;
use self::crypto::SealingKey;
pub use self::error::VaultError;
pub use self::push::StoredDeviceKey;
pub use self::push_requests::PushInserted;
pub use self::settings::Setting;
pub use self::slots::{FileKeyStore, KdfParams, KeyStore, KeyStoreError};
pub use self::spare_keys::SpareKind;
use crate::secret::Secret;

/// How to unlock an existing vault.
pub enum Unlock<'a> {
    KeyStore(&'a dyn KeyStore),
    Password(&'a str),
}

/// An open, unlocked vault. `Send`; callers that share it wrap it in a lock.
pub struct Vault {
    conn: Connection,
    key: SealingKey,
    master: Secret,
    path: PathBuf,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Vault {
    /// SQLite's `data_version`: it changes when another connection commits, so a cache of the
    /// vault knows when to reload.
    pub fn data_version(&self) -> Result<i64, VaultError> {
        // Asked before every facade call (the code list's once a second): a cached statement
        // saves the parse, most of the call. The value is read anew at each execution.
        let mut statement = self.conn.prepare_cached("PRAGMA data_version")?;
        Ok(statement.query_row([], |r| r.get(0))?)
    }
}

#[cfg(test)]
mod hardening_tests;

#[cfg(test)]
mod tests;
