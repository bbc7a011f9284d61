//! The facade's cache of the vault: every account with its keyed generator, the passwordless
//! holders, the clock offsets and loaded device keys, reloaded when another connection commits.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;

use super::{AccountInfo, AuthError, CodeClock, Result};
use crate::account::{Account, AccountId};
use crate::clock::{self};
use crate::otp::{Code, Generator};
use crate::policy::PolicySet;
use crate::vault::{Setting, Vault};

pub(in crate::authenticator) struct Loaded {
    pub(in crate::authenticator) account: Account,
    /// `None` for a push-only account.
    pub(in crate::authenticator) generator: Option<Generator>,
    /// The origin of the push server of an account with both a code and a push token: that
    /// server checks the code too, so its clock offset corrects the code.
    pub(in crate::authenticator) code_server: Option<String>,
    /// The last time step whose current and next code `code_ticks` made, kept so the per-second
    /// refresh makes codes only when a step rolls over. A pure function of the generator (which
    /// a `Loaded` keeps for its life) and the step, so it never goes stale.
    pub(in crate::authenticator) step_codes: Cell<Option<(u64, Code, Code)>>,
}

pub(in crate::authenticator) struct State {
    pub(in crate::authenticator) vault: Vault,
    /// Every account in display order with its keyed generator, reloaded after each change.
    pub(in crate::authenticator) accounts: Vec<Loaded>,
    /// Ids of the accounts with passwordless on.
    pub(in crate::authenticator) passwordless: Vec<AccountId>,
    /// The user's own correction of the device clock (seconds), for codes.
    pub(in crate::authenticator) offset: i64,
    /// Each push server's clock minus the device's (milliseconds), by origin.
    pub(in crate::authenticator) server_offsets: HashMap<String, i64>,
    /// Device keys of push accounts, loaded (unsealed and parsed) once.
    pub(in crate::authenticator) push_keys: HashMap<AccountId, Arc<dyn crate::push::DeviceKey>>,
    /// SQLite's `data_version` when this state was loaded: it changes when another connection
    /// commits.
    pub(in crate::authenticator) data_version: i64,
    /// Automatic backups are on (`backup.auto` is set).
    pub(in crate::authenticator) auto_backup_on: bool,
    /// Bumped by everything that may change what the code list shows (`touch`): its rows, their
    /// order, names and clock corrections. `code_list` and `code_ticks` report it, so a shell
    /// fetches the list's names again only when it moved.
    pub(in crate::authenticator) list_version: u64,
}

impl State {
    pub(in crate::authenticator) fn load(vault: Vault) -> Result<Self> {
        let mut state = State {
            vault,
            accounts: Vec::new(),
            passwordless: Vec::new(),
            offset: 0,
            server_offsets: HashMap::new(),
            push_keys: HashMap::new(),
            data_version: 0,
            auto_backup_on: false,
            list_version: 0,
        };
        state.reload_all()?;
        Ok(state)
    }

    /// Everything this state caches, from the vault.
    pub(in crate::authenticator) fn reload_all(&mut self) -> Result<()> {
        self.data_version = self.vault.data_version()?;
        self.offset = match self.vault.setting(Setting::ClockOffset)? {
            Some(text) => clock::parse_offset(&text)?,
            None => 0,
        };
        self.server_offsets = super::push::load_server_offsets(&self.vault)?;
        self.auto_backup_on = self.vault.setting(Setting::AutoBackup)?.is_some();
        // A key of an account another process deleted or re-enrolled must not linger.
        self.push_keys.clear();
        self.reload()
    }

    pub(in crate::authenticator) fn refresh_if_changed(&mut self) -> Result<()> {
        if self.vault.data_version()? != self.data_version {
            self.reload_all()?;
        }
        Ok(())
    }

    pub(in crate::authenticator) fn reload(&mut self) -> Result<()> {
        let accounts = self.vault.accounts()?;
        let loaded = Self::key_all(accounts);
        // Every keying left its padded key at the same place below this frame: one scrub,
        // whether or not one of them failed.
        crate::secret::scrub_stack();
        self.accounts = loaded?;
        self.passwordless = self.vault.passwordless_ids()?;
        self.touch();
        Ok(())
    }

    /// Every account with its generator, keyed without a scrub each (the caller scrubs once).
    #[inline(never)]
    fn key_all(accounts: Vec<Account>) -> Result<Vec<Loaded>> {
        let mut loaded = Vec::with_capacity(accounts.len());
        for account in accounts {
            let generator = account
                .otp
                .as_ref()
                .map(|o| o.generator_unscrubbed())
                .transpose()?;
            let code_server = match (&account.otp, &account.push) {
                (Some(_), Some(push)) => Some(crate::push::server_origin(&push.url)),
                _ => None,
            };
            loaded.push(Loaded {
                account,
                generator,
                code_server,
                step_codes: Cell::new(None),
            });
        }
        Ok(loaded)
    }

    /// Records that what the code list shows may have changed. Every reload calls it (changes
    /// made here, another connection's commit), as do `Authenticator::changed` (the edits that
    /// patch the cache in place), both clock offsets' setters and anything else that changes
    /// an account or a correction.
    pub(in crate::authenticator) fn touch(&mut self) {
        self.list_version = self.list_version.wrapping_add(1);
    }

    /// The correction for `l`'s codes: its push server's offset where that server checks them,
    /// else the user's.
    pub(in crate::authenticator) fn code_offset(&self, l: &Loaded) -> CodeClock {
        l.code_server
            .as_ref()
            .and_then(|origin| self.server_offsets.get(origin))
            .and_then(|ms| clock::check_offset((*ms as f64 / 1000.0).round() as i64).ok())
            .map_or(CodeClock::User(self.offset), CodeClock::Server)
    }

    pub(in crate::authenticator) fn info(&self, account: &Account) -> AccountInfo {
        let mut info = AccountInfo::from(account);
        info.passwordless = self.passwordless.contains(&account.id);
        info
    }

    pub(in crate::authenticator) fn policy(&self) -> Result<PolicySet> {
        Ok(match self.vault.setting(Setting::PasswordlessRules)? {
            Some(json) => PolicySet::from_json(&json)?,
            None => PolicySet::default(),
        })
    }

    /// An exact id, or a unique id prefix (what users type from `list`).
    pub(in crate::authenticator) fn resolve(&self, id_or_prefix: &str) -> Result<usize> {
        let wanted = id_or_prefix.trim().to_lowercase();
        if wanted.is_empty() {
            return Err(AuthError::NoMatch {
                query: id_or_prefix.to_owned(),
            });
        }
        let mut hits = self
            .accounts
            .iter()
            .enumerate()
            .filter(|(_, l)| l.account.id.as_str().starts_with(&wanted));
        match (hits.next(), hits.count()) {
            (Some((index, _)), 0) => Ok(index),
            (None, _) => Err(AuthError::NoMatch {
                query: id_or_prefix.to_owned(),
            }),
            (Some(_), more) => Err(AuthError::Ambiguous {
                query: id_or_prefix.to_owned(),
                count: more + 1,
            }),
        }
    }
}
