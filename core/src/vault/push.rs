//! Push tokens as the vault stores them: `push_credentials`, one row per account that has a
//! push token: everything in [`PushCredential`] except the names (the account's), and the device
//! key. A software device key's PKCS#8 is sealed like an OTP secret, bound to the account id and
//! serial; a platform key (Android Keystore, iOS Keychain) is not here at all: the platform holds
//! it under the account id as its alias. The requests are in `push_requests.rs`.

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};
use std::collections::HashMap;

use super::accounts::touch;
use super::codec::{insert_account, read_account};
use super::crypto::SealingKey;
use super::error::damaged;
use super::{Vault, VaultError};
use crate::account::{Account, AccountId, Names};
use crate::push::{AppForceUnlock, PushCredential};
use crate::secret::Secret;
use crate::time::UnixTime;

/// Where an account's device key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredDeviceKey {
    /// A software RSA key: its PKCS#8 DER (sealed on disk).
    Software(Secret),
    /// The platform key store holds it, under the account id as alias.
    Platform,
}

fn device_key_aad(id: &str, serial: &str) -> Vec<u8> {
    format!("authcore/push-device-key/v1|{id}|{serial}").into_bytes()
}

const CREDENTIAL_COLUMNS: &str = "account_id, serial, url, sslverify, server_public_key, \
     poll_only, fb_token, app_force_unlock, enrolled_at_ms";

fn credential_from_row(r: &Row<'_>) -> rusqlite::Result<(String, PushCredential, Option<String>)> {
    let force: Option<String> = r.get(7)?;
    Ok((
        r.get(0)?,
        PushCredential {
            serial: r.get(1)?,
            url: r.get(2)?,
            sslverify: r.get::<_, i64>(3)? != 0,
            server_public_key_pkcs1: r.get(4)?,
            poll_only: r.get::<_, i64>(5)? != 0,
            fb_token: r.get(6)?,
            enrolled_at: UnixTime::from_millis(r.get(8)?),
            app_force_unlock: None,
        },
        force,
    ))
}

fn parse_force(id: &str, force: Option<String>) -> Result<Option<AppForceUnlock>, VaultError> {
    match force.as_deref() {
        None => Ok(None),
        Some("any") => Ok(Some(AppForceUnlock::Any)),
        Some("biometric") => Ok(Some(AppForceUnlock::Biometric)),
        Some("pin") => Ok(Some(AppForceUnlock::Pin)),
        Some(_) => Err(damaged(format!(
            "account {id}: field app_force_unlock is invalid"
        ))),
    }
}

/// Every push credential, by account id (names still empty: the caller fills them).
pub(super) fn all_credentials(
    conn: &Connection,
) -> Result<HashMap<String, PushCredential>, VaultError> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CREDENTIAL_COLUMNS} FROM push_credentials"
    ))?;
    let rows = stmt.query_map([], credential_from_row)?;
    let mut out = HashMap::new();
    for row in rows {
        let (id, mut credential, force) = row?;
        credential.app_force_unlock = parse_force(&id, force)?;
        out.insert(id, credential);
    }
    Ok(out)
}

pub(super) fn credential(
    conn: &Connection,
    id: &AccountId,
) -> Result<Option<PushCredential>, VaultError> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {CREDENTIAL_COLUMNS} FROM push_credentials WHERE account_id = ?1"
        ))?
        .query_row([id.as_str()], credential_from_row)
        .optional()?;
    match row {
        None => Ok(None),
        Some((id, mut credential, force)) => {
            credential.app_force_unlock = parse_force(&id, force)?;
            Ok(Some(credential))
        }
    }
}

/// Deletes the push token of `id` (if any) and the requests for it.
pub(super) fn delete_credential(tx: &Transaction<'_>, id: &AccountId) -> Result<(), VaultError> {
    let serial: Option<String> = tx
        .query_row(
            "SELECT serial FROM push_credentials WHERE account_id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(serial) = serial {
        tx.execute("DELETE FROM push_requests WHERE serial = ?1", [&serial])?;
        tx.execute(
            "DELETE FROM push_credentials WHERE account_id = ?1",
            [id.as_str()],
        )?;
    }
    Ok(())
}

impl Vault {
    /// Adds a push-only account (enrolled from a `pipush` QR code) at the end of the list. The
    /// id is the caller's, since a platform device key is created under it before this call.
    pub fn add_push_account(
        &mut self,
        id: AccountId,
        names: Names,
        credential: PushCredential,
        key: StoredDeviceKey,
        now: UnixTime,
    ) -> Result<Account, VaultError> {
        let names = names.validated()?;
        let tx = self.conn.transaction()?;
        let last: i64 = tx.query_row(
            "SELECT COALESCE(MAX(sort_order), -1) FROM accounts",
            [],
            |r| r.get(0),
        )?;
        let mut account = Account {
            id,
            issuer: names.issuer,
            label: names.label,
            otp: None,
            push: None,
            group: names.group,
            note: names.note,
            sort_order: last + 1,
            created_at: now,
            updated_at: now,
            extra_params: Vec::new(),
        };
        insert_account(&tx, &self.key, &account)?;
        insert_credential(&self.key, &tx, &account.id, &credential, &key)?;
        tx.commit()?;
        account.push = Some(credential);
        Ok(account)
    }

    /// Gives an existing account (normally an OTP one of the same user) a push token, so the
    /// code stays the fallback when a push does not arrive.
    pub fn attach_push(
        &mut self,
        id: &AccountId,
        credential: PushCredential,
        key: StoredDeviceKey,
        now: UnixTime,
    ) -> Result<Account, VaultError> {
        let tx = self.conn.transaction()?;
        let mut account = read_account(&tx, &self.key, id)?;
        if let Some(existing) = &account.push {
            return Err(VaultError::AlreadyHasPush {
                name: account.display_name(),
                serial: existing.serial.clone(),
            });
        }
        insert_credential(&self.key, &tx, id, &credential, &key)?;
        touch(&tx, id, now)?;
        tx.commit()?;
        account.push = Some(credential);
        account.updated_at = now;
        Ok(account)
    }
}

fn insert_credential(
    sealing: &SealingKey,
    tx: &Transaction<'_>,
    id: &AccountId,
    c: &PushCredential,
    key: &StoredDeviceKey,
) -> Result<(), VaultError> {
    let taken: Option<String> = tx
        .query_row(
            "SELECT account_id FROM push_credentials WHERE serial = ?1",
            [&c.serial],
            |r| r.get(0),
        )
        .optional()?;
    if let Some(other) = taken {
        return Err(VaultError::PushSerialTaken {
            serial: c.serial.clone(),
            id: other,
        });
    }
    let (kind, sealed) = match key {
        StoredDeviceKey::Software(pkcs8) => (
            "software",
            Some(
                sealing
                    .seal(pkcs8.expose(), &device_key_aad(id.as_str(), &c.serial))
                    .map_err(|_| VaultError::Random)?,
            ),
        ),
        StoredDeviceKey::Platform => ("platform", None),
    };
    tx.execute(
        "INSERT INTO push_credentials(account_id, serial, url, sslverify, server_public_key,
                 poll_only, fb_token, app_force_unlock, device_key_kind, device_key, enrolled_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            id.as_str(),
            c.serial,
            c.url,
            i64::from(c.sslverify),
            c.server_public_key_pkcs1,
            i64::from(c.poll_only),
            c.fb_token,
            c.app_force_unlock.map(AppForceUnlock::as_str),
            kind,
            sealed,
            c.enrolled_at.as_millis(),
        ],
    )?;
    Ok(())
}

impl Vault {
    /// The device key of `id`'s push token.
    pub fn push_device_key(&self, id: &AccountId) -> Result<StoredDeviceKey, VaultError> {
        let row: Option<(String, String, Option<Vec<u8>>)> = self
            .conn
            .query_row(
                "SELECT serial, device_key_kind, device_key FROM push_credentials
                 WHERE account_id = ?1",
                [id.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((serial, kind, sealed)) = row else {
            let account = self.get(id)?;
            return Err(VaultError::NoPush {
                name: account.display_name(),
            });
        };
        match (kind.as_str(), sealed) {
            ("platform", None) => Ok(StoredDeviceKey::Platform),
            ("software", Some(sealed)) => self
                .key
                .open(&sealed, &device_key_aad(id.as_str(), &serial))
                .map(StoredDeviceKey::Software)
                .map_err(|_| {
                    damaged(format!(
                        "the device key of account {id} does not decrypt (altered on disk?)"
                    ))
                }),
            _ => Err(damaged(format!(
                "account {id}: field device_key_kind is invalid"
            ))),
        }
    }

    /// Stores the server's current PUSH endpoint (from a verified request) and the push token.
    pub fn update_push_credential(
        &mut self,
        id: &AccountId,
        url: &str,
        sslverify: bool,
        fb_token: Option<&str>,
        now: UnixTime,
    ) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE push_credentials SET url = ?2, sslverify = ?3, fb_token = ?4
             WHERE account_id = ?1",
            params![id.as_str(), url, i64::from(sslverify), fb_token],
        )?;
        if n == 0 {
            return Err(VaultError::NotFound { id: id.to_string() });
        }
        touch(&tx, id, now)?;
        tx.commit()?;
        Ok(())
    }
}
