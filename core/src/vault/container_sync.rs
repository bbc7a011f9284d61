//! A container sync applied to the vault: every change a sync makes ([`SyncChange`]), the
//! server's policies and the sync's bookkeeping in one transaction, so a crash leaves the state
//! before the sync (which the next sync repairs), never half of one.

use rusqlite::{Transaction, params};

use super::accounts::{new_row, touch};
use super::codec::{counter_to_sql, insert_account, params_columns, read_account, secret_aad};
use super::containers::{delete_account, found, link};
use super::crypto::SealingKey;
use super::{Vault, VaultError, push};
use crate::account::{Account, AccountId, NewAccount, OtpCredential};
use crate::container::{ContainerPolicies, TokenType};
use crate::otp::OtpKind;
use crate::time::UnixTime;

/// One change a sync makes, applied with the others in one transaction.
pub enum SyncChange {
    /// A token new to this phone: a new account holding it.
    Add {
        new: NewAccount,
        token_serial: String,
        token_type: TokenType,
    },
    /// A token delivered again (the server re-keyed it): the account keeps its names, place
    /// and id, and takes the new secret and parameters.
    Rekey {
        id: AccountId,
        otp: OtpCredential,
        token_serial: String,
        token_type: TokenType,
    },
    /// An account already here now holds the container's token (the first sync's takeover).
    Link {
        id: AccountId,
        token_serial: String,
        token_type: TokenType,
    },
    /// The server's HOTP counter is ahead of this phone's.
    Counter { id: AccountId, counter: u64 },
    /// The server no longer lists the token: the account goes.
    Remove { id: AccountId },
    /// A push token delivered again: its old registration is dead, so the credential goes
    /// (and a push-only account with it) before it is enrolled anew.
    DetachPush { id: AccountId },
}

impl Vault {
    /// Applies one sync: every change, the policies, and the sync's bookkeeping, in one
    /// transaction. Returns the accounts added.
    pub fn apply_container_sync(
        &mut self,
        serial: &str,
        changes: Vec<SyncChange>,
        policies: &ContainerPolicies,
        now: UnixTime,
    ) -> Result<Vec<Account>, VaultError> {
        let tx = self.conn.transaction()?;
        let mut added = Vec::new();
        let mut order: i64 = tx.query_row(
            "SELECT COALESCE(MAX(sort_order), -1) FROM accounts",
            [],
            |r| r.get(0),
        )?;
        for change in changes {
            match change {
                SyncChange::Add {
                    new,
                    token_serial,
                    token_type,
                } => {
                    order += 1;
                    let account = new_row(new.validated()?, order, now);
                    insert_account(&tx, &self.key, &account)?;
                    link(&tx, &account.id, serial, &token_serial, token_type)?;
                    added.push(account);
                }
                SyncChange::Rekey {
                    id,
                    otp,
                    token_serial,
                    token_type,
                } => {
                    replace_otp(&tx, &self.key, &id, &otp)?;
                    link(&tx, &id, serial, &token_serial, token_type)?;
                    touch(&tx, &id, now)?;
                }
                SyncChange::Link {
                    id,
                    token_serial,
                    token_type,
                } => {
                    link(&tx, &id, serial, &token_serial, token_type)?;
                    touch(&tx, &id, now)?;
                }
                SyncChange::Counter { id, counter } => {
                    tx.execute(
                        "UPDATE accounts SET counter = ?2 WHERE id = ?1 AND otp_type = 'hotp'",
                        params![id.as_str(), counter_to_sql(counter)],
                    )?;
                    touch(&tx, &id, now)?;
                }
                SyncChange::Remove { id } => delete_account(&tx, &id)?,
                SyncChange::DetachPush { id } => {
                    let account = read_account(&tx, &self.key, &id)?;
                    push::delete_credential(&tx, &id)?;
                    if account.otp.is_none() {
                        delete_account(&tx, &id)?;
                    } else {
                        tx.execute(
                            "DELETE FROM container_tokens WHERE account_id = ?1",
                            [id.as_str()],
                        )?;
                    }
                }
            }
        }
        let n = tx.execute(
            "UPDATE containers SET policies = ?2, synced_once = 1, rekey_pending = 0,
                 state = 'registered', last_sync_at = ?3, last_error = NULL WHERE serial = ?1",
            params![serial, policies.to_json(), now],
        )?;
        found(n, serial)?;
        tx.commit()?;
        Ok(added)
    }

    /// Records that account `id` holds the container's token (a push token enrolled after the
    /// sync's transaction, since its registration is a network call).
    pub fn link_container_token(
        &mut self,
        id: &AccountId,
        serial: &str,
        token_serial: &str,
        token_type: TokenType,
    ) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        link(&tx, id, serial, token_serial, token_type)?;
        tx.commit()?;
        Ok(())
    }
}

/// Gives account `id` a new OTP secret and parameters (a re-keyed token).
fn replace_otp(
    tx: &Transaction<'_>,
    key: &SealingKey,
    id: &AccountId,
    otp: &OtpCredential,
) -> Result<(), VaultError> {
    let sealed = key
        .seal(otp.secret.expose(), &secret_aad(id.as_str(), &otp.params))
        .map_err(|_| VaultError::Random)?;
    let (otp_type, algorithm, digits, period, counter) = params_columns(Some(&otp.params));
    let counter = match otp.params.kind {
        OtpKind::Hotp { .. } => counter,
        _ => None,
    };
    let n = tx.execute(
        "UPDATE accounts SET otp_type = ?2, algorithm = ?3, digits = ?4, period = ?5,
             counter = ?6, secret = ?7 WHERE id = ?1",
        params![
            id.as_str(),
            otp_type,
            algorithm,
            digits,
            period,
            counter,
            sealed
        ],
    )?;
    if n == 0 {
        return Err(VaultError::NotFound { id: id.to_string() });
    }
    Ok(())
}
