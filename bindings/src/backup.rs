//! Moving out and starting over, as Kotlin and Swift see it: authcore's own encrypted backup
//! (create, restore or merge, verify against the vault), automatic backups into a directory the
//! app names, and the list of what a new phone must enroll again. Translation only. Counts are
//! signed and times are `UnixTime` (Unix seconds, an `i64`), so Kotlin sees `Int`/`Long` as
//! generated.

use std::path::Path;

use authcore::authenticator::{
    BackupStatus as CoreStatus, ReenrollItem as CoreItem, RestoreReport as CoreRestore,
    VerifyReport as CoreVerify,
};
use authcore::backup::Reenroll as CoreReenroll;
use authcore::vault::KdfParams;
use zeroize::Zeroizing;

use crate::errors::AuthCoreError;
use crate::{Account, Authenticator, OtpType};
use authcore::time::UnixTime;

type Result<T> = std::result::Result<T, AuthCoreError>;

/// A push token a backup lists: bound to the old phone's device key, enrolled again on the new.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BackupReenroll {
    pub issuer: String,
    pub label: String,
    /// `Push`: the only kind bound to a phone so far.
    pub kind: OtpType,
    /// The push server, `scheme://host:port`.
    pub server: String,
    pub serial: String,
    /// The account's code was restored; only the push token must be enrolled again.
    pub has_code: bool,
}

/// An account the vault already held: not added twice.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountName {
    pub issuer: String,
    pub label: String,
}

/// What `restore_backup` did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RestoreReport {
    /// When the backup was made (Unix seconds).
    pub created_at: UnixTime,
    /// The accounts added, in the backup's order.
    pub added: Vec<Account>,
    pub duplicates: Vec<AccountName>,
    pub reenroll: Vec<BackupReenroll>,
}

/// One account that differs between a backup and the vault.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BackupDifference {
    pub name: String,
    /// `issuer`, `label`, `group`, `note`, `counter`, `parameters`, `order`.
    pub fields: Vec<String>,
}

/// How a backup compares with the vault ("does my backup work?"); verifying changes nothing.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerifyReport {
    /// The backup holds exactly what the vault holds.
    pub identical: bool,
    pub created_at: UnixTime,
    pub accounts: i32,
    pub matching: i32,
    pub only_in_backup: Vec<String>,
    pub only_in_vault: Vec<String>,
    pub different: Vec<BackupDifference>,
    pub reenroll: Vec<BackupReenroll>,
}

/// What automatic backups are set to and last did. A failure is kept after later successes:
/// compare `last_error_at` with `last_success_at`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct BackupStatus {
    pub enabled: bool,
    pub dir: Option<String>,
    pub keep: i32,
    /// Complete backups now in the directory.
    pub backups: i32,
    pub last_success_at: Option<UnixTime>,
    pub last_file: Option<String>,
    pub last_error_at: Option<UnixTime>,
    pub last_error: Option<String>,
}

/// An account whose credential cannot move to a new phone, with what to do. No secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ReenrollItem {
    pub account_id: String,
    /// The token, as a backup lists it.
    pub token: BackupReenroll,
    /// What to do, for the person.
    pub action: String,
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

impl From<&CoreReenroll> for BackupReenroll {
    fn from(r: &CoreReenroll) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let CoreReenroll {
            issuer,
            label,
            kind,
            server,
            serial,
            has_code,
        } = r;
        BackupReenroll {
            issuer: issuer.clone(),
            label: label.clone(),
            kind: (*kind).into(),
            server: server.clone(),
            serial: serial.clone(),
            has_code: *has_code,
        }
    }
}

impl From<CoreRestore> for RestoreReport {
    fn from(r: CoreRestore) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let CoreRestore {
            created_at,
            added,
            duplicates,
            reenroll,
        } = r;
        RestoreReport {
            created_at,
            added: added.iter().map(Into::into).collect(),
            duplicates: duplicates
                .into_iter()
                .map(|(issuer, label)| AccountName { issuer, label })
                .collect(),
            reenroll: reenroll.iter().map(Into::into).collect(),
        }
    }
}

impl From<CoreVerify> for VerifyReport {
    fn from(r: CoreVerify) -> Self {
        VerifyReport {
            identical: r.is_identical(),
            created_at: r.created_at,
            accounts: count(r.accounts),
            matching: count(r.matching),
            different: r
                .different
                .iter()
                .map(|d| BackupDifference {
                    name: d.name.clone(),
                    fields: d.fields.iter().map(|f| (*f).to_owned()).collect(),
                })
                .collect(),
            only_in_backup: r.only_in_backup,
            only_in_vault: r.only_in_vault,
            reenroll: r.reenroll.iter().map(Into::into).collect(),
        }
    }
}

impl From<CoreStatus> for BackupStatus {
    fn from(s: CoreStatus) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let CoreStatus {
            enabled,
            dir,
            keep,
            backups,
            last_success_at,
            last_file,
            last_error_at,
            last_error,
        } = s;
        let text = |p: Option<std::path::PathBuf>| p.map(|p| p.display().to_string());
        BackupStatus {
            enabled,
            dir: text(dir),
            keep: count(keep),
            backups: count(backups),
            last_success_at,
            last_file: text(last_file),
            last_error_at,
            last_error,
        }
    }
}

impl From<CoreItem> for ReenrollItem {
    fn from(r: CoreItem) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let CoreItem { id, token, action } = r;
        ReenrollItem {
            account_id: id.to_string(),
            token: (&token).into(),
            action,
        }
    }
}

#[uniffi::export]
impl Authenticator {
    /// An encrypted backup of every account under `password` (Argon2id, default cost): the
    /// file's bytes, for the app to write where the user chose (a document picker, SAF). Slow
    /// (the key derivation): call it off the main thread.
    pub fn create_backup(&self, password: String) -> Result<Vec<u8>> {
        let password = Zeroizing::new(password);
        Ok(self.inner.create_backup(&password, KdfParams::default())?)
    }

    /// Restores a backup file: into an empty vault, or with `merge` added to the accounts here
    /// (those already present are reported, not added twice). A wrong password is
    /// `WrongPassword`, a damaged file `InvalidInput`; either changes nothing.
    pub fn restore_backup(
        &self,
        file: Vec<u8>,
        password: String,
        merge: bool,
    ) -> Result<RestoreReport> {
        let password = Zeroizing::new(password);
        Ok(self.inner.restore_backup(&file, &password, merge)?.into())
    }

    /// Decrypts a backup and compares it with the vault, changing nothing.
    pub fn verify_backup(&self, file: Vec<u8>, password: String) -> Result<VerifyReport> {
        let password = Zeroizing::new(password);
        Ok(self.inner.verify_backup(&file, &password)?.into())
    }

    /// Switches automatic backups on: after every change (changes close together coalesce) a
    /// backup goes into `dir` (an existing directory, absolute: the app's files or a folder it
    /// may write, the iCloud container's path on iOS), the newest `keep` kept. The password is
    /// needed here, once (its key is kept sealed in the vault), and again only to restore. The
    /// first backup is written now.
    pub fn enable_auto_backup(
        &self,
        dir: String,
        keep: i32,
        password: String,
    ) -> Result<BackupStatus> {
        let password = Zeroizing::new(password);
        let keep = usize::try_from(keep).map_err(|_| AuthCoreError::InvalidInput {
            text: format!("keep={keep}: must not be negative"),
        })?;
        Ok(self
            .inner
            .enable_auto_backup(Path::new(&dir), keep, &password, KdfParams::default())?
            .into())
    }

    /// Switches automatic backups off; the backups written stay.
    pub fn disable_auto_backup(&self) -> Result<()> {
        Ok(self.inner.disable_auto_backup()?)
    }

    /// Writes the pending automatic backup now (call it when the app goes to the background):
    /// the new file's path, or `None` when the newest backup already holds every change.
    pub fn flush_backup(&self) -> Result<Option<String>> {
        Ok(self.inner.flush_backup()?.map(|p| p.display().to_string()))
    }

    pub fn backup_status(&self) -> Result<BackupStatus> {
        Ok(self.inner.backup_status()?.into())
    }

    /// What cannot move to a new phone (push tokens) and what to do about each; no secret.
    pub fn reenroll_list(&self) -> Result<Vec<ReenrollItem>> {
        Ok(self
            .inner
            .reenroll_list()?
            .into_iter()
            .map(Into::into)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use authcore::authenticator::{Authenticator as CoreAuthenticator, Config};
    use authcore::clock::SystemClock;
    use authcore::vault::FileKeyStore;

    use super::*;

    #[test]
    fn a_negative_keep_is_refused_naming_it_and_nothing_is_switched_on() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileKeyStore::create(&dir.path().join("key")).unwrap();
        let config = Config::offline(Arc::new(SystemClock));
        let inner =
            CoreAuthenticator::open_or_create(&dir.path().join("vault.sqlite"), &store, config);
        let auth = Authenticator {
            inner: inner.unwrap(),
        };
        let backups = dir.path().join("backups").display().to_string();
        let refused = auth.enable_auto_backup(backups, -1, "pw".into());
        assert!(
            matches!(&refused, Err(AuthCoreError::InvalidInput { text }) if text == "keep=-1: must not be negative"),
            "{refused:?}"
        );
        assert!(!auth.backup_status().unwrap().enabled);
    }
}
