//! The vault's settings: named values in the `settings` table, named by one enum so every stored
//! name is listed in one place (and in docs/vault.md) rather than scattered over the modules that
//! use them.

use rusqlite::{OptionalExtension, params};

use super::{Vault, VaultError};
use crate::secret::Secret;

/// Every setting the vault stores. The names are part of the file format: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Setting {
    /// The user's clock correction for codes, in seconds (an integer as text).
    ClockOffset,
    /// The passwordless rule set (JSON, `PolicySet`) when one replaced the defaults.
    PasswordlessRules,
    /// Each push server's clock offset: a JSON object from origin to milliseconds.
    PushServerOffsets,
    /// Automatic backups, when switched on: a JSON object with the directory, how many to keep,
    /// and the backup key's Argon2id salt and parameters (docs/backup.md). No secret.
    AutoBackup,
    /// The automatic backups' key (derived once from the backup password), sealed under the
    /// master key like an OTP secret: base64 of the sealed value.
    AutoBackupKey,
    /// What the automatic backups last did: a JSON object with the last success and the last
    /// error, and a keyed digest of what the newest backup holds.
    AutoBackupStatus,
}

impl Setting {
    /// The name stored in `settings.name`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ClockOffset => "clock.offset_seconds",
            Self::PasswordlessRules => "policy.rules",
            Self::PushServerOffsets => "push.server_offsets_ms",
            Self::AutoBackup => "backup.auto",
            Self::AutoBackupKey => "backup.auto_key",
            Self::AutoBackupStatus => "backup.status",
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
        self.set_settings(&[(setting, Some(value))])
    }

    /// Writes (`Some`) or removes (`None`) several settings in one transaction.
    pub fn set_settings(&mut self, values: &[(Setting, Option<&str>)]) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        for (setting, value) in values {
            match value {
                Some(value) => tx.execute(
                    "INSERT INTO settings(name, value) VALUES (?1, ?2)
                     ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                    params![setting.as_str(), value],
                )?,
                None => tx.execute("DELETE FROM settings WHERE name = ?1", [setting.as_str()])?,
            };
        }
        tx.commit()?;
        Ok(())
    }

    /// Seals `secret` under the master key for storing in setting `setting` (base64 text):
    /// the associated data names the setting, so the value cannot be moved to another.
    pub fn seal_setting_value(
        &self,
        setting: Setting,
        secret: &Secret,
    ) -> Result<String, VaultError> {
        let sealed = self
            .key
            .seal(secret.expose(), sealed_setting_aad(setting).as_bytes())
            .map_err(|_| VaultError::Random)?;
        Ok(data_encoding::BASE64.encode(&sealed))
    }

    /// Opens a value [`Vault::seal_setting_value`] made for `setting`.
    pub fn open_setting_value(&self, setting: Setting, text: &str) -> Result<Secret, VaultError> {
        let sealed = data_encoding::BASE64
            .decode(text.as_bytes())
            .map_err(|_| damaged(setting))?;
        self.key
            .open(&sealed, sealed_setting_aad(setting).as_bytes())
            .map_err(|_| damaged(setting))
    }
}

fn damaged(setting: Setting) -> VaultError {
    VaultError::Damaged {
        what: format!("setting {} does not open", setting.as_str()),
    }
}

fn sealed_setting_aad(setting: Setting) -> String {
    format!("authcore/setting/{}/v1", setting.as_str())
}
