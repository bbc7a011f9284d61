//! Which accounts hold passwordless sign-in, and changing that in one transaction with the
//! limit checked inside it.

use rusqlite::{OptionalExtension, params};

use super::error::damaged;
use super::{Vault, VaultError};
use crate::account::AccountId;
use crate::time::UnixTime;

impl Vault {
    /// The accounts with passwordless sign-in on, in the user's order.
    pub fn passwordless_ids(&self) -> Result<Vec<AccountId>, VaultError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM accounts WHERE passwordless = 1 ORDER BY sort_order, created_at, rowid",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        ids.iter()
            .map(|id| AccountId::parse(id).map_err(|_| damaged("an account id is malformed")))
            .collect()
    }

    /// Like [`Vault::set_passwordless`], with `check` run inside the write transaction on the
    /// accounts holding passwordless and the stored rule set (JSON) as they are then: the
    /// transaction takes the write lock first, so two processes cannot both pass a limit.
    pub fn set_passwordless_checked<E: From<VaultError>>(
        &mut self,
        changes: &[(AccountId, bool)],
        now: UnixTime,
        check: impl FnOnce(&[AccountId], Option<&str>) -> Result<(), E>,
    ) -> Result<(), E> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(VaultError::from)?;
        let holders = {
            let mut stmt = tx
                .prepare_cached("SELECT id FROM accounts WHERE passwordless = 1")
                .map_err(VaultError::from)?;
            let ids = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(VaultError::from)?;
            ids.iter()
                .map(|id| AccountId::parse(id).map_err(|_| damaged("an account id is malformed")))
                .collect::<Result<Vec<_>, _>>()?
        };
        let rules: Option<String> = tx
            .query_row(
                "SELECT value FROM settings WHERE name = ?1",
                [super::Setting::PasswordlessRules.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(VaultError::from)?;
        check(&holders, rules.as_deref())?;
        for (id, on) in changes {
            let n = tx
                .execute(
                    "UPDATE accounts SET passwordless = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id.as_str(), i64::from(*on), now],
                )
                .map_err(VaultError::from)?;
            if n == 0 {
                return Err(VaultError::NotFound { id: id.to_string() }.into());
            }
        }
        tx.commit().map_err(VaultError::from)?;
        Ok(())
    }

    /// Turns passwordless on or off for several accounts in one transaction (so moving it from
    /// one account to another never leaves both, or neither, holding it).
    pub fn set_passwordless(
        &mut self,
        changes: &[(AccountId, bool)],
        now: UnixTime,
    ) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        for (id, on) in changes {
            let n = tx.execute(
                "UPDATE accounts SET passwordless = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.as_str(), i64::from(*on), now],
            )?;
            if n == 0 {
                return Err(VaultError::NotFound { id: id.to_string() });
            }
        }
        tx.commit()?;
        Ok(())
    }
}
