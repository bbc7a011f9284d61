//! privacyIDEA smartphone containers as the vault stores them (format 4): `containers`, one row
//! per container registered on this phone, with its P-384 key's PKCS#8 sealed like an OTP
//! secret (bound to the container's serial), and `container_tokens`, which account holds which
//! of the container's tokens. Applying a sync is `container_sync.rs`.

use rusqlite::{OptionalExtension, Transaction, params};

use super::crypto::SealingKey;
use super::error::damaged;
use super::{Vault, VaultError, push};
use crate::account::AccountId;
use crate::container::{ContainerPolicies, TokenType};
use crate::secret::Secret;
use crate::time::UnixTime;

fn key_aad(serial: &str, slot: &str) -> Vec<u8> {
    format!("authcore/container-key/v1|{serial}|{slot}").into_bytes()
}

/// A container as stored, without its keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredContainer {
    pub serial: String,
    pub issuer: String,
    pub url: String,
    pub ssl_verify: bool,
    /// False between storing the key and the server's confirmation of the registration.
    pub registered: bool,
    pub policies: ContainerPolicies,
    pub synced_once: bool,
    pub rekey_pending: bool,
    pub has_next_key: bool,
    pub registered_at: UnixTime,
    pub last_sync_at: Option<UnixTime>,
    pub last_error: Option<String>,
    /// The accounts holding its tokens, in the user's order.
    pub tokens: Vec<ContainerToken>,
}

/// One token of a container, and the account holding it here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerToken {
    pub account_id: AccountId,
    pub token_serial: String,
    pub token_type: TokenType,
}

impl Vault {
    /// Stores a container about to be registered with `key` (state `registering`), so a crash
    /// after the server accepted the key does not lose it.
    pub fn add_container(
        &mut self,
        serial: &str,
        issuer: &str,
        url: &str,
        ssl_verify: bool,
        key: &Secret,
        now: UnixTime,
    ) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        let exists: Option<String> = tx
            .query_row(
                "SELECT state FROM containers WHERE serial = ?1",
                [serial],
                |r| r.get(0),
            )
            .optional()?;
        if exists.is_some() {
            return Err(VaultError::ContainerExists {
                serial: serial.to_owned(),
            });
        }
        let sealed = seal(&self.key, serial, "key", key)?;
        tx.execute(
            "INSERT INTO containers(serial, issuer, url, ssl_verify, signing_key, next_key, state,
                 policies, synced_once, rekey_pending, registered_at)
             VALUES (?1, ?2, ?3, ?4, ?5, NULL, 'registering', ?6, 0, 0, ?7)",
            params![
                serial,
                issuer,
                url,
                i64::from(ssl_verify),
                sealed,
                ContainerPolicies::default().to_json(),
                now
            ],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The server accepted the registration: store its policies.
    pub fn container_registered(
        &mut self,
        serial: &str,
        policies: &ContainerPolicies,
    ) -> Result<(), VaultError> {
        let n = self.conn.execute(
            "UPDATE containers SET state = 'registered', policies = ?2, last_error = NULL
             WHERE serial = ?1",
            params![serial, policies.to_json()],
        )?;
        found(n, serial)
    }

    /// Every container, with the accounts holding its tokens.
    pub fn containers(&self) -> Result<Vec<StoredContainer>, VaultError> {
        self.read_containers(None)
    }

    /// The container `serial`, if it is registered here.
    pub fn container(&self, serial: &str) -> Result<Option<StoredContainer>, VaultError> {
        Ok(self.read_containers(Some(serial))?.pop())
    }

    /// Every container, or only `serial`.
    fn read_containers(&self, serial: Option<&str>) -> Result<Vec<StoredContainer>, VaultError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT serial, issuer, url, ssl_verify, state, policies, synced_once, rekey_pending,
                    next_key IS NOT NULL, registered_at, last_sync_at, last_error
             FROM containers WHERE ?1 IS NULL OR serial = ?1 ORDER BY registered_at, serial",
        )?;
        let rows = stmt.query_map([serial], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, bool>(8)?,
                r.get::<_, UnixTime>(9)?,
                r.get::<_, Option<UnixTime>>(10)?,
                r.get::<_, Option<String>>(11)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (serial, issuer, url, ssl, state, policies, once, rekey, next, at, last, error) =
                row?;
            let policies = ContainerPolicies::from_json(&policies)
                .ok_or_else(|| damaged(format!("container {serial}: field policies is invalid")))?;
            let tokens = self.container_tokens(&serial)?;
            out.push(StoredContainer {
                registered: state == "registered",
                serial,
                issuer,
                url,
                ssl_verify: ssl != 0,
                policies,
                synced_once: once != 0,
                rekey_pending: rekey != 0,
                has_next_key: next,
                registered_at: at,
                last_sync_at: last,
                last_error: error,
                tokens,
            });
        }
        Ok(out)
    }

    fn container_tokens(&self, serial: &str) -> Result<Vec<ContainerToken>, VaultError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.account_id, t.token_serial, t.token_type FROM container_tokens t
             JOIN accounts a ON a.id = t.account_id
             WHERE t.container_serial = ?1 ORDER BY a.sort_order, a.created_at",
        )?;
        let rows = stmt.query_map([serial], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (id, token_serial, kind) = row?;
            let bad = || damaged(format!("container {serial}: a token row is invalid"));
            out.push(ContainerToken {
                account_id: AccountId::parse(&id).map_err(|_| bad())?,
                token_serial,
                token_type: TokenType::parse(&kind).ok_or_else(bad)?,
            });
        }
        Ok(out)
    }

    /// The container's current key (PKCS#8), and the one being registered, if any.
    pub fn container_keys(&self, serial: &str) -> Result<(Secret, Option<Secret>), VaultError> {
        let row: Option<(Vec<u8>, Option<Vec<u8>>)> = self
            .conn
            .query_row(
                "SELECT signing_key, next_key FROM containers WHERE serial = ?1",
                [serial],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let Some((key, next)) = row else {
            return Err(VaultError::NoContainer {
                serial: serial.to_owned(),
            });
        };
        let open = |sealed: &[u8], slot: &str| {
            self.key.open(sealed, &key_aad(serial, slot)).map_err(|_| {
                damaged(format!(
                    "the key of container {serial} does not decrypt (altered on disk?)"
                ))
            })
        };
        let key = open(&key, "key")?;
        let next = match next {
            Some(sealed) => Some(open(&sealed, "next")?),
            None => None,
        };
        Ok((key, next))
    }

    /// Keeps `key` as the key being registered (before the server is told).
    pub fn set_container_next_key(&mut self, serial: &str, key: &Secret) -> Result<(), VaultError> {
        let sealed = seal(&self.key, serial, "next", key)?;
        let n = self.conn.execute(
            "UPDATE containers SET next_key = ?2 WHERE serial = ?1",
            params![serial, sealed],
        )?;
        found(n, serial)
    }

    /// The server now knows the key being registered: it becomes the container's key, and
    /// the next sync lists no token (the server re-keys them all).
    pub fn promote_container_next_key(&mut self, serial: &str) -> Result<(), VaultError> {
        let (_, next) = self.container_keys(serial)?;
        let Some(next) = next else {
            return Err(damaged(format!(
                "container {serial} has no key being registered"
            )));
        };
        let sealed = seal(&self.key, serial, "key", &next)?;
        let n = self.conn.execute(
            "UPDATE containers SET signing_key = ?2, next_key = NULL, rekey_pending = 1,
                 state = 'registered' WHERE serial = ?1",
            params![serial, sealed],
        )?;
        found(n, serial)
    }

    /// Forgets the key being registered (the server refused it).
    pub fn drop_container_next_key(&mut self, serial: &str) -> Result<(), VaultError> {
        let n = self.conn.execute(
            "UPDATE containers SET next_key = NULL WHERE serial = ?1",
            [serial],
        )?;
        found(n, serial)
    }

    /// Records how the last operation with the server ended (`None`: it succeeded).
    pub fn set_container_error(
        &mut self,
        serial: &str,
        error: Option<&str>,
    ) -> Result<(), VaultError> {
        let n = self.conn.execute(
            "UPDATE containers SET last_error = ?2 WHERE serial = ?1",
            params![serial, error],
        )?;
        found(n, serial)
    }

    /// Removes the container. With `delete_accounts`, the accounts holding its tokens go too
    /// (their secrets are dead: the container moved to another phone); otherwise they stay as
    /// plain accounts.
    pub fn remove_container(
        &mut self,
        serial: &str,
        delete_accounts: bool,
    ) -> Result<usize, VaultError> {
        let tx = self.conn.transaction()?;
        let ids: Vec<String> = {
            let mut stmt =
                tx.prepare("SELECT account_id FROM container_tokens WHERE container_serial = ?1")?;
            stmt.query_map([serial], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?
        };
        if delete_accounts {
            for id in &ids {
                let id = AccountId::parse(id)
                    .map_err(|_| damaged(format!("container {serial}: a token row is invalid")))?;
                delete_account(&tx, &id)?;
            }
        }
        tx.execute(
            "DELETE FROM container_tokens WHERE container_serial = ?1",
            [serial],
        )?;
        let n = tx.execute("DELETE FROM containers WHERE serial = ?1", [serial])?;
        found(n, serial)?;
        tx.commit()?;
        Ok(ids.len())
    }

    /// The container (its serial) holding the token of account `id`, if any.
    pub fn container_of(&self, id: &AccountId) -> Result<Option<String>, VaultError> {
        Ok(self
            .conn
            .query_row(
                "SELECT container_serial FROM container_tokens WHERE account_id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()?)
    }
}

pub(super) fn found(n: usize, serial: &str) -> Result<(), VaultError> {
    if n == 0 {
        return Err(VaultError::NoContainer {
            serial: serial.to_owned(),
        });
    }
    Ok(())
}

fn seal(
    key: &SealingKey,
    serial: &str,
    slot: &str,
    secret: &Secret,
) -> Result<Vec<u8>, VaultError> {
    key.seal(secret.expose(), &key_aad(serial, slot))
        .map_err(|_| VaultError::Random)
}

pub(super) fn link(
    tx: &Transaction<'_>,
    id: &AccountId,
    serial: &str,
    token_serial: &str,
    token_type: TokenType,
) -> Result<(), VaultError> {
    tx.execute(
        "DELETE FROM container_tokens WHERE container_serial = ?1 AND token_serial = ?2",
        params![serial, token_serial],
    )?;
    tx.execute(
        "INSERT OR REPLACE INTO container_tokens(account_id, container_serial, token_serial, token_type)
         VALUES (?1, ?2, ?3, ?4)",
        params![id.as_str(), serial, token_serial, token_type.as_str()],
    )?;
    Ok(())
}

/// Deletes an account with its push token and container link, inside `tx`.
pub(super) fn delete_account(tx: &Transaction<'_>, id: &AccountId) -> Result<(), VaultError> {
    push::delete_credential(tx, id)?;
    tx.execute(
        "DELETE FROM container_tokens WHERE account_id = ?1",
        [id.as_str()],
    )?;
    tx.execute("DELETE FROM accounts WHERE id = ?1", [id.as_str()])?;
    Ok(())
}
