//! Unlocking: the key check, the key-store and password slots that wrap the master key, and
//! bringing an older file's schema up to date once it is unlocked.

use std::path::Path;

use rusqlite::{Connection, OptionalExtension, Transaction, params};

use super::crypto::{KEY_LEN, SealingKey};
use super::error::damaged;
use super::lifecycle::configure;
use super::{KdfParams, KeyStore, KeyStoreError, Unlock, Vault, VaultError, schema, slots};
use crate::secret::Secret;
use crate::time::UnixTime;

pub(super) const KEY_CHECK_AAD: &[u8] = b"authcore/key-check/v1";

pub(super) const KEY_CHECK_PLAIN: &[u8] = b"authcore vault key check";

impl Vault {
    pub fn has_password(&self) -> Result<bool, VaultError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM key_slots WHERE kind = 'password'",
            [],
            |r| r.get::<_, i64>(0),
        )? > 0)
    }

    /// Adds the password slot, or replaces it (a new salt every time).
    pub fn set_password(
        &mut self,
        password: &str,
        params: KdfParams,
        now: UnixTime,
    ) -> Result<(), VaultError> {
        check_password(password)?;
        params
            .validate()
            .map_err(|reason| VaultError::BadKdfParams { reason })?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM key_slots WHERE kind = 'password'", [])?;
        insert_password_slot(&tx, &self.master, password, params, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Removes the password slot; the key-store slot always remains, so the vault stays openable.
    pub fn remove_password(&mut self) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM key_slots WHERE kind = 'password'", [])?;
        if n == 0 {
            return Err(VaultError::NoPassword);
        }
        tx.commit()?;
        Ok(())
    }

    /// Re-wraps the master key with a (new) platform key store, replacing the key-store slot:
    /// for a new phone's Keystore after a restore that was opened with the password.
    pub fn replace_key_store(
        &mut self,
        key_store: &dyn KeyStore,
        now: UnixTime,
    ) -> Result<(), VaultError> {
        let wrapped = key_store.wrap(&self.master)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM key_slots WHERE kind = 'keystore'", [])?;
        tx.execute(
            "INSERT INTO key_slots(kind, wrapped_key, created_at) VALUES ('keystore', ?1, ?2)",
            params![wrapped, now],
        )?;
        tx.commit()?;
        Ok(())
    }
}

pub(super) fn check_password(password: &str) -> Result<(), VaultError> {
    if password.is_empty() {
        return Err(VaultError::BadPassword {
            reason: "is empty".into(),
        });
    }
    if password.chars().count() > 1024 {
        return Err(VaultError::BadPassword {
            reason: "longer than 1024 characters".into(),
        });
    }
    Ok(())
}

pub(super) fn insert_password_slot(
    tx: &Transaction<'_>,
    master: &Secret,
    password: &str,
    params: KdfParams,
    now: UnixTime,
) -> Result<(), VaultError> {
    let salt = Secret::random(slots::SALT_LEN).map_err(|_| VaultError::Random)?;
    let kek = slots::password_key(password, salt.expose(), params)
        .map_err(|reason| VaultError::BadKdfParams { reason })?;
    let wrapped = slots::seal_with_password_key(&kek, master).map_err(|_| VaultError::Random)?;
    tx.execute(
        "INSERT INTO key_slots(kind, wrapped_key, kdf_memory_kib, kdf_iterations, kdf_parallelism,
                               kdf_salt, created_at)
         VALUES ('password', ?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            wrapped,
            params.memory_kib,
            params.iterations,
            params.parallelism,
            salt.expose(),
            now
        ],
    )?;
    Ok(())
}

/// Checks that `conn` holds a vault this code can read, unlocks its master key, and brings the
/// schema up to date.
pub(super) fn unlock_file(
    conn: &mut Connection,
    path: &Path,
    unlock: &Unlock<'_>,
) -> Result<(SealingKey, Secret), VaultError> {
    let not_a_vault = || VaultError::NotAVault {
        path: path.to_owned(),
    };
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let app_id = schema::application_id(conn).map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => not_a_vault(),
        _ => VaultError::from(e),
    })?;
    if app_id != schema::APPLICATION_ID {
        return Err(not_a_vault());
    }
    let version = schema::version(conn)?;
    if version > schema::latest() {
        return Err(VaultError::NewerFormat {
            found: version,
            known: schema::latest(),
        });
    }
    if version == 0 {
        return Err(damaged("it has no tables"));
    }
    // Before any slot is read, so that a damaged table is reported as damage.
    schema::check_tables(conn, version).map_err(|e| {
        let mismatch = matches!(e, rusqlite::Error::SqlInputError { .. })
            || e.sqlite_error_code() == Some(rusqlite::ErrorCode::Unknown);
        if mismatch {
            damaged(format!("its tables do not match format {version} ({e})"))
        } else {
            VaultError::from(e)
        }
    })?;
    let master = unlock_master(conn, unlock)?;
    let key = SealingKey::new(&master).map_err(|_| damaged("the master key has the wrong size"))?;
    let check: Vec<u8> = conn
        .query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| damaged("the key check is missing"))?;
    key.open(&check, KEY_CHECK_AAD).map_err(|_| match unlock {
        // A platform key store need not authenticate what it unwraps: a wrong key shows here.
        Unlock::KeyStore(_) => VaultError::WrongKey,
        // The password slot is authenticated, so its key is right and the check was altered.
        Unlock::Password(_) => damaged("the key check does not decrypt"),
    })?;
    configure(conn)?;
    if version < schema::latest() {
        let tx = conn.transaction()?;
        // Another process may have migrated the file while this one waited for the lock.
        let current = schema::version(&tx)?;
        schema::migrate(&tx, current)?;
        tx.commit()?;
    }
    Ok((key, master))
}

pub(super) fn unlock_master(conn: &Connection, unlock: &Unlock<'_>) -> Result<Secret, VaultError> {
    match unlock {
        Unlock::KeyStore(store) => {
            let wrapped: Vec<u8> = conn
                .query_row(
                    "SELECT wrapped_key FROM key_slots WHERE kind = 'keystore' ORDER BY id LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| damaged("it has no key-store slot"))?;
            match store.unwrap(&wrapped) {
                Ok(master) if master.len() == KEY_LEN => Ok(master),
                Ok(_) | Err(KeyStoreError::WrongKey) => Err(VaultError::WrongKey),
                Err(other) => Err(other.into()),
            }
        }
        Unlock::Password(password) => {
            let slot = conn
                .query_row(
                    "SELECT wrapped_key, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt
                     FROM key_slots WHERE kind = 'password'",
                    [],
                    |r| {
                        Ok((
                            r.get::<_, Vec<u8>>(0)?,
                            r.get::<_, u32>(1)?,
                            r.get::<_, u32>(2)?,
                            r.get::<_, u32>(3)?,
                            r.get::<_, Vec<u8>>(4)?,
                        ))
                    },
                )
                .optional()?
                .ok_or(VaultError::NoPassword)?;
            let (wrapped, memory_kib, iterations, parallelism, salt) = slot;
            let params = KdfParams {
                memory_kib,
                iterations,
                parallelism,
            };
            let kek = slots::password_key(password, &salt, params)
                .map_err(|reason| damaged(format!("the password slot's {reason}")))?;
            slots::open_with_password_key(&kek, &wrapped).map_err(|_| VaultError::WrongPassword)
        }
    }
}
