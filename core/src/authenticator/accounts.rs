//! The facade's accounts: adding them from URIs (a multi-QR transfer only when complete) or
//! built, listing, searching, editing, ordering and deleting.

use super::{AccountInfo, Added, AuthError, Authenticator, DeviceKeys, Result};
use crate::account::{Account, AccountId, NewAccount, OtpCredential};
use crate::otp::OtpKind;
use crate::time::UnixTime;
use crate::uri;
use crate::vault::{Vault, VaultError};

impl Authenticator {
    /// Adds the accounts one URI carries (an `otpauth://` URI, or a Google Authenticator
    /// transfer QR with several). Accounts identical to stored ones are reported, not duplicated.
    pub fn add_uri(&self, uri: &str) -> Result<Vec<Added>> {
        let mut batches = Batches::default();
        let accounts = batches.parse(uri)?;
        batches.check_complete()?;
        self.add_accounts(accounts)
    }

    /// Adds every URI of a list (one per line: blank lines and `#` comments are skipped) in one
    /// transaction: either all are added or, on the first bad line, none.
    pub fn add_uri_lines(&self, text: &str) -> Result<Vec<Added>> {
        let mut accounts = Vec::new();
        let mut batches = Batches::default();
        for (index, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let parsed = batches.parse(line).map_err(|e| match e {
                AuthError::Uri(source) => AuthError::UriLine {
                    line: index + 1,
                    source,
                },
                other => other,
            })?;
            accounts.extend(parsed);
        }
        batches.check_complete()?;
        self.add_accounts(accounts)
    }

    /// Adds already-built accounts (from an importer, or an app's manual-entry form).
    pub fn add_accounts(&self, accounts: Vec<NewAccount>) -> Result<Vec<Added>> {
        let mut state = self.state()?;
        let now = self.clock.now();
        let mut results: Vec<Option<Added>> = Vec::with_capacity(accounts.len());
        let mut fresh = Vec::new();
        for new in accounts {
            let new = new.validated()?;
            let existing = state
                .accounts
                .iter()
                .map(|l| &l.account)
                .find(|a| same_account(a, &new));
            match existing {
                Some(a) => results.push(Some(Added::AlreadyPresent(state.info(a)))),
                // The same account twice in one batch is stored (and reported) once.
                None if fresh.contains(&new) => {}
                None => {
                    fresh.push(new);
                    results.push(None);
                }
            }
        }
        let stored = state.vault.add_many(fresh, now)?;
        state.reload()?;
        self.changed(&mut state);
        let mut stored = stored.into_iter();
        Ok(results
            .into_iter()
            .filter_map(|r| match r {
                Some(known) => Some(known),
                None => stored.next().map(|a| Added::New((&a).into())),
            })
            .collect())
    }

    /// Every account in the user's order.
    pub fn accounts(&self) -> Result<Vec<AccountInfo>> {
        let state = self.state()?;
        Ok(state
            .accounts
            .iter()
            .map(|l| state.info(&l.account))
            .collect())
    }

    /// The accounts whose issuer or label contains `query` (case-insensitive) or whose id starts
    /// with it.
    pub fn search(&self, query: &str) -> Result<Vec<AccountInfo>> {
        let state = self.state()?;
        Ok(state
            .accounts
            .iter()
            .filter(|l| l.account.matches(query))
            .map(|l| state.info(&l.account))
            .collect())
    }

    pub fn account(&self, id_or_prefix: &str) -> Result<AccountInfo> {
        let state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        Ok(state.info(&state.accounts[index].account))
    }

    /// Renames an account; `None` keeps that part.
    pub fn rename(
        &self,
        id_or_prefix: &str,
        issuer: Option<String>,
        label: Option<String>,
    ) -> Result<AccountInfo> {
        self.change(id_or_prefix, |vault, id, now| {
            vault.rename(id, issuer, label, now)
        })
    }

    pub fn set_group(&self, id_or_prefix: &str, group: Option<String>) -> Result<AccountInfo> {
        self.change(id_or_prefix, |vault, id, now| {
            vault.set_group(id, group, now)
        })
    }

    pub fn set_note(&self, id_or_prefix: &str, note: Option<String>) -> Result<AccountInfo> {
        self.change(id_or_prefix, |vault, id, now| vault.set_note(id, note, now))
    }

    /// Moves an account to `position` (0-based) in the user's order.
    pub fn move_to(&self, id_or_prefix: &str, position: usize) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let id = state.accounts[index].account.id.clone();
        state.vault.move_to(&id, position, self.clock.now())?;
        state.reload()?;
        self.changed(&mut state);
        let index = state.resolve(id.as_str())?;
        Ok(state.info(&state.accounts[index].account))
    }

    pub fn delete(&self, id_or_prefix: &str) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let info = state.info(&state.accounts[index].account);
        if let Some(serial) = state.vault.container_of(&info.id)?
            && state
                .vault
                .container(&serial)?
                .is_some_and(|c| c.policies.disable_token_deletion)
        {
            return Err(crate::container::ContainerError::ForbiddenByPolicy {
                serial,
                policy: "disable_client_token_deletion".to_owned(),
            }
            .into());
        }
        state.vault.delete(&info.id)?;
        state.accounts.remove(index);
        state.passwordless.retain(|id| *id != info.id);
        state.push_keys.remove(&info.id);
        self.changed(&mut state);
        if info.push_serial.is_some()
            && let DeviceKeys::Platform(keys) = &self.push.device_keys
        {
            // The account is gone either way; a key left behind in the platform store holds
            // nothing that works without the server's registration.
            let _ = keys.delete(info.id.as_str());
        }
        Ok(info)
    }

    pub(in crate::authenticator) fn change(
        &self,
        id_or_prefix: &str,
        apply: impl FnOnce(&mut Vault, &AccountId, UnixTime) -> std::result::Result<Account, VaultError>,
    ) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let id = state.accounts[index].account.id.clone();
        let updated = apply(&mut state.vault, &id, self.clock.now())?;
        let info = state.info(&updated);
        state.accounts[index].account = updated;
        self.changed(&mut state);
        Ok(info)
    }
}

/// The transfer QRs seen in one call, by batch id: a multi-QR Google Authenticator export is
/// imported only when every one of its QRs is there, so a missed scan cannot silently drop
/// accounts.
#[derive(Default)]
struct Batches(std::collections::BTreeMap<i32, (i32, std::collections::BTreeSet<i32>)>);

impl Batches {
    fn parse(&mut self, text: &str) -> Result<Vec<NewAccount>> {
        if uri::scheme_of(text.trim())? != "otpauth-migration" {
            return Ok(uri::parse(text)?);
        }
        let batch = uri::parse_migration(text)?;
        let size = batch.batch_size.max(1);
        let entry = self
            .0
            .entry(batch.batch_id)
            .or_insert((size, Default::default()));
        if entry.0 != size || !(0..size).contains(&batch.batch_index) {
            return Err(AuthError::Transfer {
                reason: format!(
                    "QR {} of {size} does not belong with the others of its transfer",
                    batch.batch_index + 1
                ),
            });
        }
        entry.1.insert(batch.batch_index);
        Ok(batch.accounts)
    }

    fn check_complete(&self) -> Result<()> {
        for (size, seen) in self.0.values() {
            if let Some(missing) = (0..*size).find(|i| !seen.contains(i)) {
                return Err(AuthError::Transfer {
                    reason: format!(
                        "this transfer has {size} QR codes and QR {} is missing: add them all together",
                        missing + 1
                    ),
                });
            }
        }
        Ok(())
    }
}

/// The same account: names, secret and parameters. A HOTP counter moves with every code, so an
/// account used since its QR code or export was made is still the same account (re-adding or
/// re-importing it must not make a second one with the old counter).
pub(super) fn same_account(a: &Account, n: &NewAccount) -> bool {
    a.issuer == n.issuer
        && a.label == n.label
        && a.otp.as_ref().is_some_and(|o| same_credential(o, &n.otp))
}

/// The same secret and code parameters, a HOTP counter aside (it moves with use).
pub(super) fn same_credential(a: &OtpCredential, b: &OtpCredential) -> bool {
    let kind = |k: OtpKind| match k {
        OtpKind::Hotp { .. } => OtpKind::Hotp { counter: 0 },
        other => other,
    };
    a.secret == b.secret
        && a.params.algorithm == b.params.algorithm
        && a.params.digits == b.params.digits
        && kind(a.params.kind) == kind(b.params.kind)
}
