//! Passwordless sign-in on the facade: the rules in force, and turning it on, off or over to
//! another account with the platform's limit checked inside the write transaction.

use super::{AccountInfo, AuthError, Authenticator, Result, State};
use crate::account::AccountId;
use crate::policy::{PasswordlessRule, Platform, PolicyError, PolicySet};
use crate::time::UnixTime;
use crate::vault::Setting;

impl State {
    /// Applies `changes` (the last one turning passwordless on) if `platform`'s rule allows
    /// it, checked inside the write transaction. `moving_from` must hold passwordless and
    /// gives it up in the same transaction.
    pub(in crate::authenticator) fn change_passwordless(
        &mut self,
        changes: &[(AccountId, bool)],
        platform: Platform,
        moving_from: Option<&AccountId>,
        now: UnixTime,
    ) -> Result<()> {
        let State {
            vault, accounts, ..
        } = self;
        let name = |id: &AccountId| {
            accounts
                .iter()
                .find(|l| l.account.id == *id)
                .map_or_else(|| id.to_string(), |l| l.account.display_name())
        };
        vault.set_passwordless_checked(changes, now, |holders, rules| {
            if let Some(from) = moving_from
                && !holders.contains(from)
            {
                return Err(AuthError::from(PolicyError::NotHolder { name: name(from) }));
            }
            let Some((target, _)) = changes.iter().rev().find(|(_, on)| *on) else {
                return Ok(());
            };
            if holders.contains(target) {
                return Ok(());
            }
            let others: Vec<String> = holders
                .iter()
                .filter(|h| Some(*h) != moving_from)
                .map(&name)
                .collect();
            let rules = match rules {
                Some(json) => PolicySet::from_json(json)?,
                None => PolicySet::default(),
            };
            rules
                .passwordless(platform)
                .check_enable(platform, &others)?;
            Ok(())
        })?;
        self.passwordless = self.vault.passwordless_ids()?;
        Ok(())
    }
}

impl Authenticator {
    /// The passwordless rule in force for `platform`: the stored rule set, or the default one.
    pub fn passwordless_rule(&self, platform: Platform) -> Result<PasswordlessRule> {
        Ok(self.state()?.policy()?.passwordless(platform))
    }

    /// Replaces the passwordless rules (JSON, as an issuer or a newer app supplies them), or
    /// returns to the defaults with `None`. Accounts that already hold passwordless keep it.
    pub fn set_passwordless_rules(&self, json: Option<&str>) -> Result<()> {
        let mut state = self.state()?;
        match json {
            Some(json) => {
                let rules = PolicySet::from_json(json)?;
                state
                    .vault
                    .set_setting(Setting::PasswordlessRules, &rules.to_json())?;
            }
            None => state
                .vault
                .set_setting(Setting::PasswordlessRules, &PolicySet::default().to_json())?,
        }
        Ok(())
    }

    /// Turns passwordless on for an account, if `platform`'s rule allows one more; the error
    /// names the accounts that already hold it. The limit is checked inside the write
    /// transaction, on the holders as they are then (another process may have changed them).
    pub fn enable_passwordless(
        &self,
        id_or_prefix: &str,
        platform: Platform,
    ) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let id = state.accounts[index].account.id.clone();
        state.change_passwordless(&[(id, true)], platform, None, self.clock.now())?;
        Ok(state.info(&state.accounts[index].account))
    }

    pub fn disable_passwordless(&self, id_or_prefix: &str) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let id = state.accounts[index].account.id.clone();
        state
            .vault
            .set_passwordless(&[(id, false)], self.clock.now())?;
        state.passwordless = state.vault.passwordless_ids()?;
        Ok(state.info(&state.accounts[index].account))
    }

    /// Moves passwordless from one account to another in one step (the way to change accounts on
    /// a platform that allows only one).
    pub fn move_passwordless(
        &self,
        from: &str,
        to: &str,
        platform: Platform,
    ) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let from = state.resolve(from)?;
        let to = state.resolve(to)?;
        let from_id = state.accounts[from].account.id.clone();
        let to_id = state.accounts[to].account.id.clone();
        state.change_passwordless(
            &[(from_id.clone(), false), (to_id, true)],
            platform,
            Some(&from_id),
            self.clock.now(),
        )?;
        Ok(state.info(&state.accounts[to].account))
    }
}
