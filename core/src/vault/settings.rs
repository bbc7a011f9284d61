//! The vault's settings: named values in the `settings` table.

use rusqlite::{OptionalExtension, params};

use super::{Vault, VaultError};

impl Vault {
    pub fn setting(&self, name: &str) -> Result<Option<String>, VaultError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    pub fn set_setting(&mut self, name: &str, value: &str) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO settings(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        tx.commit()?;
        Ok(())
    }
}
