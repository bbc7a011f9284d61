//! Push device keys made ahead of an enrollment (format 5): `spare_device_keys`, one row per key
//! ready to be taken. A software spare's PKCS#8 is sealed like an OTP secret, bound to the row's
//! id and the key's size; a platform spare (a key the platform key store made ahead, under an
//! alias the core chose) is only named: its alias, which the enrolled account takes as its id,
//! and its public key.
//!
//! Taking a spare deletes its row in a committed transaction before the key is used, so a key
//! is handed out once whatever happens next (a crash, a failed registration): a spare is never
//! registered for two tokens.

use rusqlite::{OptionalExtension, params};

use super::crypto::SealingKey;
use super::{Vault, VaultError};
use crate::account::AccountId;
use crate::secret::Secret;
use crate::time::UnixTime;

/// Which spares: software keys of one size, or the platform key store's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpareKind {
    Software { bits: usize },
    Platform,
}

fn spare_aad(id: &str, bits: usize) -> Vec<u8> {
    format!("authcore/spare-device-key/v1|{id}|{bits}").into_bytes()
}

fn bits_param(bits: usize) -> i64 {
    i64::try_from(bits).unwrap_or(i64::MAX)
}

fn count(conn: &rusqlite::Connection, kind: SpareKind) -> Result<usize, VaultError> {
    let n: i64 = match kind {
        SpareKind::Software { bits } => conn.query_row(
            "SELECT COUNT(*) FROM spare_device_keys WHERE kind = 'software' AND bits = ?1",
            [bits_param(bits)],
            |r| r.get(0),
        )?,
        SpareKind::Platform => conn.query_row(
            "SELECT COUNT(*) FROM spare_device_keys WHERE kind = 'platform'",
            [],
            |r| r.get(0),
        )?,
    };
    Ok(usize::try_from(n).unwrap_or(0))
}

fn seal(key: &SealingKey, id: &str, bits: usize, pkcs8: &Secret) -> Result<Vec<u8>, VaultError> {
    key.seal(pkcs8.expose(), &spare_aad(id, bits))
        .map_err(|_| VaultError::Random)
}

impl Vault {
    /// How many spares of `kind` are ready.
    pub fn spare_device_keys(&self, kind: SpareKind) -> Result<usize, VaultError> {
        count(&self.conn, kind)
    }

    /// Keeps a software key of `bits` as a spare, unless `keep` of that size are ready already
    /// (another handle filled the pool meanwhile). Returns whether it was kept.
    pub fn add_spare_software_key(
        &mut self,
        bits: usize,
        pkcs8: &Secret,
        keep: usize,
        now: UnixTime,
    ) -> Result<bool, VaultError> {
        let tx = self.conn.transaction()?;
        if count(&tx, SpareKind::Software { bits })? >= keep {
            return Ok(false);
        }
        let id = AccountId::random();
        let sealed = seal(&self.key, id.as_str(), bits, pkcs8)?;
        tx.execute(
            "INSERT INTO spare_device_keys(id, kind, bits, device_key, public_key, created_at)
             VALUES (?1, 'software', ?2, ?3, NULL, ?4)",
            params![id.as_str(), bits_param(bits), sealed, now],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Keeps a key the platform key store made under `alias` (a fresh account id) as a spare,
    /// unless `keep` platform spares are ready already. Returns whether it was kept; when not,
    /// the caller deletes the platform's key.
    pub fn add_spare_platform_key(
        &mut self,
        alias: &AccountId,
        public_key_spki: &[u8],
        keep: usize,
        now: UnixTime,
    ) -> Result<bool, VaultError> {
        let tx = self.conn.transaction()?;
        if count(&tx, SpareKind::Platform)? >= keep {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO spare_device_keys(id, kind, bits, device_key, public_key, created_at)
             VALUES (?1, 'platform', NULL, NULL, ?2, ?3)",
            params![alias.as_str(), public_key_spki, now],
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Takes the oldest software spare of `bits`: its row is deleted and committed before the
    /// key is returned, so no other enrollment (in this process or another) gets it again. A
    /// spare that does not decrypt (altered on disk) is deleted and passed over.
    pub fn take_spare_software_key(&mut self, bits: usize) -> Result<Option<Secret>, VaultError> {
        let tx = self.conn.transaction()?;
        let mut found = None;
        loop {
            let row: Option<(String, Vec<u8>)> = tx
                .query_row(
                    "SELECT id, device_key FROM spare_device_keys
                     WHERE kind = 'software' AND bits = ?1
                     ORDER BY created_at, rowid LIMIT 1",
                    [bits_param(bits)],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((id, sealed)) = row else { break };
            tx.execute("DELETE FROM spare_device_keys WHERE id = ?1", [&id])?;
            if let Ok(pkcs8) = self.key.open(&sealed, &spare_aad(&id, bits)) {
                found = Some(pkcs8);
                break;
            }
        }
        tx.commit()?;
        Ok(found)
    }

    /// Takes the oldest platform spare: its alias (the id the new account takes) and public
    /// key, deleted and committed before they are returned.
    pub fn take_spare_platform_key(&mut self) -> Result<Option<(AccountId, Vec<u8>)>, VaultError> {
        let tx = self.conn.transaction()?;
        let mut found = None;
        loop {
            let row: Option<(String, Vec<u8>)> = tx
                .query_row(
                    "SELECT id, public_key FROM spare_device_keys WHERE kind = 'platform'
                     ORDER BY created_at, rowid LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((id, spki)) = row else { break };
            tx.execute("DELETE FROM spare_device_keys WHERE id = ?1", [&id])?;
            let held_by_account: Option<String> = tx
                .query_row("SELECT id FROM accounts WHERE id = ?1", [&id], |r| r.get(0))
                .optional()?;
            if let (Ok(alias), None) = (AccountId::parse(&id), held_by_account) {
                found = Some((alias, spki));
                break;
            }
        }
        tx.commit()?;
        Ok(found)
    }
}
