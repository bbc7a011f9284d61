//! The vault's settings: named values in the `settings` table, named by one enum so every stored
//! name is listed in one place (and in docs/vault.md) rather than scattered over the modules that
//! use them.

use rusqlite::{OptionalExtension, params};

use super::{Vault, VaultError};

/// Every setting the vault stores. The names are part of the file format: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// The user's clock correction for codes, in seconds (an integer as text).
    ClockOffset,
    /// The passwordless rule set (JSON, `PolicySet`) when one replaced the defaults.
    PasswordlessRules,
    /// Each push server's clock offset: a JSON object from origin to milliseconds.
    PushServerOffsets,
}

impl Setting {
    /// The name stored in `settings.name`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClockOffset => "clock.offset_seconds",
            Self::PasswordlessRules => "policy.rules",
            Self::PushServerOffsets => "push.server_offsets_ms",
        }
    }
}

impl Vault {
    pub fn setting(&self, setting: Setting) -> Result<Option<String>, VaultError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE name = ?1")?
            .query_row([setting.as_str()], |r| r.get(0))
            .optional()?)
    }

    pub fn set_setting(&mut self, setting: Setting, value: &str) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO settings(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![setting.as_str(), value],
        )?;
        tx.commit()?;
        Ok(())
    }
}
