//! The facade's backups (docs/backup.md): create one under a password, restore it into an empty
//! vault or merge it into this one (duplicates recognised), verify one against the vault without
//! changing anything, and list what a new phone must enroll again. Automatic backups are in
//! `auto_backup.rs`.

use zeroize::Zeroizing;

use super::accounts::same_credential;
use super::{AccountInfo, Added, Authenticator, Result};
use crate::account::{Account, AccountId};
use crate::backup::{self, BackupError, BackupKey, Payload, Reenroll};
use crate::log::LogLevel;
use crate::time::UnixTime;
use crate::vault::KdfParams;

/// What restoring a backup did. `Serialize` is the CLI's `backup restore --json` (see
/// `records.rs`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RestoreReport {
    pub created_at: UnixTime,
    /// The accounts added, in the backup's order.
    pub added: Vec<AccountInfo>,
    /// Accounts of the backup already here (issuer, label): not added twice.
    #[serde(serialize_with = "super::records::names_json")]
    pub duplicates: Vec<(String, String)>,
    /// What the backup lists to enroll again (push tokens bound to the old phone).
    pub reenroll: Vec<Reenroll>,
}

/// How a backup compares with the vault. Verifying changes nothing. `Serialize` is the CLI's
/// `backup verify --json` with `identical` added.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    pub created_at: UnixTime,
    /// OTP accounts in the backup.
    pub accounts: usize,
    /// Accounts the backup holds exactly as the vault does.
    pub matching: usize,
    /// Accounts only the backup has (deleted here since), by name.
    pub only_in_backup: Vec<String>,
    /// Accounts with a code only the vault has (added since), by name.
    pub only_in_vault: Vec<String>,
    /// Accounts in both whose names, group, note, counter or place differ.
    pub different: Vec<Difference>,
    pub reenroll: Vec<Reenroll>,
}

impl VerifyReport {
    /// The backup holds exactly what the vault holds.
    pub fn is_identical(&self) -> bool {
        self.only_in_backup.is_empty() && self.only_in_vault.is_empty() && self.different.is_empty()
    }
}

/// One account that differs between a backup and the vault.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Difference {
    pub name: String,
    /// Which fields differ: `issuer`, `label`, `group`, `note`, `counter`, `parameters`, `order`.
    pub fields: Vec<&'static str>,
}

/// An account whose credential cannot move to a new phone, with what to do. No secret.
/// `Serialize` is the CLI's `reenroll --json`: the token's fields, the id and the action.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReenrollItem {
    pub id: AccountId,
    /// The token, as a backup lists it.
    #[serde(flatten)]
    pub token: Reenroll,
    /// What to do, for the person.
    pub action: String,
}

impl Authenticator {
    /// A backup of every account under `password` (Argon2id with `params`): the file's bytes.
    pub fn create_backup(&self, password: &str, params: KdfParams) -> Result<Vec<u8>> {
        let key = BackupKey::derive(password, params)?;
        let payload = {
            let state = self.state()?;
            Payload::of_accounts(state.accounts.iter().map(|l| &l.account), self.clock.now())
                .to_json()?
        };
        let file = backup::encrypt(&key, &payload)?;
        self.log.write(LogLevel::Info, "backup", || {
            format!("backup created: {} bytes", file.len())
        });
        Ok(file)
    }

    /// Restores a backup: into an empty vault, or (`merge`) added to the accounts here, an
    /// account already present being reported rather than added twice. One transaction; a
    /// wrong password or a damaged file changes nothing.
    pub fn restore_backup(
        &self,
        file: &[u8],
        password: &str,
        merge: bool,
    ) -> Result<RestoreReport> {
        let payload = read(file, password)?;
        let accounts = payload.new_accounts()?;
        if !merge {
            let count = self.state()?.accounts.len();
            if count > 0 {
                return Err(BackupError::VaultNotEmpty { count }.into());
            }
        }
        let mut report = RestoreReport {
            created_at: payload.created_at,
            added: Vec::new(),
            duplicates: Vec::new(),
            reenroll: payload.reenroll.clone(),
        };
        for result in self.add_accounts(accounts)? {
            match result {
                Added::New(info) => report.added.push(info),
                Added::AlreadyPresent(info) => report.duplicates.push((info.issuer, info.label)),
            }
        }
        self.log.write(LogLevel::Info, "backup", || {
            format!(
                "backup restored: {} added, {} already present, {} to enroll again",
                report.added.len(),
                report.duplicates.len(),
                report.reenroll.len()
            )
        });
        Ok(report)
    }

    /// Decrypts a backup and compares it with the vault ("does my backup work?").
    pub fn verify_backup(&self, file: &[u8], password: &str) -> Result<VerifyReport> {
        let payload = read(file, password)?;
        let restored = payload.new_accounts()?;
        let state = self.state()?;
        let here: Vec<&Account> = state
            .accounts
            .iter()
            .map(|l| &l.account)
            .filter(|a| a.otp.is_some())
            .collect();
        let mut taken = vec![false; here.len()];
        let mut report = VerifyReport {
            created_at: payload.created_at,
            accounts: restored.len(),
            matching: 0,
            only_in_backup: Vec::new(),
            only_in_vault: Vec::new(),
            different: Vec::new(),
            reenroll: payload.reenroll.clone(),
        };
        for (position, (new, entry)) in restored.iter().zip(&payload.accounts).enumerate() {
            let found = here.iter().enumerate().position(|(i, a)| {
                !taken[i] && a.otp.as_ref().is_some_and(|o| same_credential(o, &new.otp))
            });
            let Some(i) = found else {
                report.only_in_backup.push(entry.name());
                continue;
            };
            taken[i] = true;
            let a = here[i];
            let mut fields = Vec::new();
            for (name, differs) in [
                ("issuer", a.issuer != new.issuer),
                ("label", a.label != new.label),
                ("group", a.group != new.group),
                ("note", a.note != new.note),
                (
                    "counter",
                    a.otp.as_ref().map(|o| o.params.kind) != Some(new.otp.params.kind),
                ),
                ("parameters", a.extra_params != new.extra_params),
                ("order", i != position),
            ] {
                if differs {
                    fields.push(name);
                }
            }
            if fields.is_empty() {
                report.matching += 1;
            } else {
                report.different.push(Difference {
                    name: entry.name(),
                    fields,
                });
            }
        }
        for (i, a) in here.iter().enumerate() {
            if !taken[i] {
                report
                    .only_in_vault
                    .push(crate::error::Echo(&a.display_name()).to_string());
            }
        }
        Ok(report)
    }

    /// The accounts whose credential cannot move to a new phone (push tokens, bound to this
    /// phone's device key), with what to do. Holds no secret: safe to keep anywhere.
    pub fn reenroll_list(&self) -> Result<Vec<ReenrollItem>> {
        let state = self.state()?;
        Ok(state
            .accounts
            .iter()
            .filter_map(|l| {
                let token = Reenroll::of(&l.account)?;
                let action = format!(
                    "at {}, remove the lost phone's sign-in method (push token {}) and add the new phone's: scan a new enrollment QR code there",
                    token.server, token.serial
                );
                Some(ReenrollItem {
                    id: l.account.id.clone(),
                    token,
                    action,
                })
            })
            .collect())
    }
}

fn read(file: &[u8], password: &str) -> Result<Payload> {
    let json: Zeroizing<Vec<u8>> = backup::decrypt(file, password)?;
    Ok(Payload::from_json(&json)?)
}
