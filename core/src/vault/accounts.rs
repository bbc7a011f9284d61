//! The accounts: adding, reading, editing names, ordering, deleting, and advancing a HOTP
//! counter, each one transaction.

use rusqlite::params;

use super::codec::{
    ACCOUNT_COLUMNS, StoredRow, check_has_credential, counter_to_sql, decode, insert_account,
    read_account,
};
use super::error::{damaged, explain};
use super::{Vault, VaultError, push};
use crate::account::{Account, AccountId, Names, NewAccount};
use crate::otp::OtpKind;
use crate::time::UnixTime;

impl Vault {
    /// Adds one account at the end of the list.
    pub fn add(&mut self, new: NewAccount, now: UnixTime) -> Result<Account, VaultError> {
        let mut added = self.add_many(vec![new], now)?;
        added
            .pop()
            .ok_or_else(|| damaged("the added account vanished"))
    }

    /// Adds accounts in one transaction: all of them, or (on any error) none.
    pub fn add_many(
        &mut self,
        new: Vec<NewAccount>,
        now: UnixTime,
    ) -> Result<Vec<Account>, VaultError> {
        let validated = new
            .into_iter()
            .map(NewAccount::validated)
            .collect::<Result<Vec<_>, _>>()?;
        let tx = self.conn.transaction()?;
        let last: i64 = tx.query_row(
            "SELECT COALESCE(MAX(sort_order), -1) FROM accounts",
            [],
            |r| r.get(0),
        )?;
        let mut out = Vec::with_capacity(validated.len());
        for (order, n) in (last + 1..).zip(validated) {
            let account = new_row(n, order, now);
            insert_account(&tx, &self.key, &account)?;
            out.push(account);
        }
        tx.commit()?;
        Ok(out)
    }

    /// Every account, decrypted, in the user's order.
    pub fn accounts(&self) -> Result<Vec<Account>, VaultError> {
        self.read_all().map_err(|e| explain(&self.conn, e))
    }

    fn read_all(&self) -> Result<Vec<Account>, VaultError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY sort_order, created_at, rowid"
        ))?;
        let rows = stmt.query_map([], StoredRow::from_row)?;
        let mut push = push::all_credentials(&self.conn)?;
        let mut out = Vec::new();
        for row in rows {
            let mut account = decode(&self.key, row?)?;
            account.push = push.remove(account.id.as_str());
            check_has_credential(&account)?;
            out.push(account);
        }
        Ok(out)
    }

    pub fn get(&self, id: &AccountId) -> Result<Account, VaultError> {
        read_account(&self.conn, &self.key, id).map_err(|e| explain(&self.conn, e))
    }

    /// Replaces the names; `None` keeps a name as it is. Validated like a new account.
    pub fn rename(
        &mut self,
        id: &AccountId,
        issuer: Option<String>,
        label: Option<String>,
        now: UnixTime,
    ) -> Result<Account, VaultError> {
        self.edit(id, now, |a| {
            if let Some(issuer) = issuer {
                a.issuer = issuer;
            }
            if let Some(label) = label {
                a.label = label;
            }
        })
    }

    pub fn set_group(
        &mut self,
        id: &AccountId,
        group: Option<String>,
        now: UnixTime,
    ) -> Result<Account, VaultError> {
        self.edit(id, now, |a| a.group = group)
    }

    pub fn set_note(
        &mut self,
        id: &AccountId,
        note: Option<String>,
        now: UnixTime,
    ) -> Result<Account, VaultError> {
        self.edit(id, now, |a| a.note = note)
    }

    /// Applies a change to the names, group or note, validates the result as a whole, and stores it.
    fn edit(
        &mut self,
        id: &AccountId,
        now: UnixTime,
        change: impl FnOnce(&mut Names),
    ) -> Result<Account, VaultError> {
        // Read inside the write transaction, so an edit from another handle is never undone.
        let tx = self.conn.transaction()?;
        let current = read_account(&tx, &self.key, id)?;
        let mut draft = Names {
            issuer: current.issuer.clone(),
            label: current.label.clone(),
            group: current.group.clone(),
            note: current.note.clone(),
        };
        change(&mut draft);
        let draft = draft.validated()?;
        tx.execute(
            "UPDATE accounts SET issuer = ?2, label = ?3, group_name = ?4, note = ?5, updated_at = ?6
             WHERE id = ?1",
            params![id.as_str(), draft.issuer, draft.label, draft.group, draft.note, now],
        )?;
        tx.commit()?;
        Ok(Account {
            issuer: draft.issuer,
            label: draft.label,
            group: draft.group,
            note: draft.note,
            updated_at: now,
            ..current
        })
    }

    /// Moves an account to `position` (0-based, clamped to the end) and renumbers the order.
    pub fn move_to(
        &mut self,
        id: &AccountId,
        position: usize,
        now: UnixTime,
    ) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        let mut ids: Vec<String> = {
            let mut stmt =
                tx.prepare("SELECT id FROM accounts ORDER BY sort_order, created_at, rowid")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let from = ids
            .iter()
            .position(|i| i == id.as_str())
            .ok_or_else(|| VaultError::NotFound { id: id.to_string() })?;
        let moved = ids.remove(from);
        ids.insert(position.min(ids.len()), moved);
        {
            let mut update = tx.prepare("UPDATE accounts SET sort_order = ?2 WHERE id = ?1")?;
            for (order, account) in ids.iter().enumerate() {
                update.execute(params![account, order as i64])?;
            }
            touch(&tx, id, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn delete(&mut self, id: &AccountId) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        push::delete_credential(&tx, id)?;
        tx.execute(
            "DELETE FROM container_tokens WHERE account_id = ?1",
            [id.as_str()],
        )?;
        let n = tx.execute("DELETE FROM accounts WHERE id = ?1", [id.as_str()])?;
        if n == 0 {
            return Err(VaultError::NotFound { id: id.to_string() });
        }
        tx.commit()?;
        Ok(())
    }

    /// Reserves the next HOTP counter value: the stored counter is incremented and committed
    /// before this returns, so a code is never produced twice even if the app dies right after.
    /// Returns the counter to generate the code with and the account as now stored.
    pub fn advance_hotp(
        &mut self,
        id: &AccountId,
        now: UnixTime,
    ) -> Result<(u64, Account), VaultError> {
        // The write lock is held from the read on, so no other handle can use the same value.
        let tx = self.conn.transaction()?;
        let account = read_account(&tx, &self.key, id)?;
        let Some(OtpKind::Hotp { counter }) = account.otp.as_ref().map(|o| o.params.kind) else {
            return Err(VaultError::NotHotp {
                name: account.display_name(),
            });
        };
        let next = counter
            .checked_add(1)
            .ok_or_else(|| VaultError::CounterExhausted {
                name: account.display_name(),
            })?;
        // The counter is not in the secret's associated data, so the sealed secret stays valid.
        tx.execute(
            "UPDATE accounts SET counter = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.as_str(), counter_to_sql(next), now],
        )?;
        tx.commit()?;
        let mut updated = account;
        if let Some(otp) = updated.otp.as_mut() {
            otp.params.kind = OtpKind::Hotp { counter: next };
        }
        updated.updated_at = now;
        Ok((counter, updated))
    }
}

/// Records `now` as the account's last change (inside the change's transaction).
pub(super) fn touch(
    tx: &rusqlite::Transaction<'_>,
    id: &AccountId,
    now: UnixTime,
) -> Result<(), VaultError> {
    tx.execute(
        "UPDATE accounts SET updated_at = ?2 WHERE id = ?1",
        params![id.as_str(), now],
    )?;
    Ok(())
}

/// The row of a validated new OTP account, with a fresh id, at `order`.
pub(super) fn new_row(n: NewAccount, order: i64, now: UnixTime) -> Account {
    Account {
        id: AccountId::random(),
        issuer: n.issuer,
        label: n.label,
        otp: Some(n.otp),
        push: None,
        group: n.group,
        note: n.note,
        sort_order: order,
        created_at: now,
        updated_at: now,
        extra_params: n.extra_params,
    }
}
