//! `authenticator`: the one object an app (or the CLI) opens and calls from any thread.
//!
//! It ties the vault, URI parsing, the clock and code generation together and keeps every
//! account's keyed generator in memory, so listing codes never touches the disk or re-keys an
//! HMAC. Everything it returns is free of secrets except the explicit `export_*` calls.

#[cfg(test)]
mod config_tests;
mod error;
mod push;
#[cfg(test)]
mod push_tests;

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

pub use self::error::{ApprovalNeeds, AuthError};
pub use self::push::{
    CLOCK_WARN_SECONDS, CheckOutcome, Decision, PlatformDeviceKeys, PushRequestInfo,
    SERVER_OFFSETS_SETTING, ServerClock, UserPresence,
};
pub use crate::error::ErrorKind;
pub use crate::push::{AnswerOutcome, DeclineReason, HttpTransport, PushEnrollment, PushError};

use zeroize::Zeroizing;

use crate::account::{Account, AccountId, NewAccount};
use crate::clock::{self, Clock};
use crate::otp::{Algorithm, Generator, OtpKind};
use crate::policy::{self, PasswordlessRule, Platform, PolicyError, PolicySet};
use crate::uri;
use crate::vault::{KdfParams, KeyStore, Unlock, Vault, VaultError};

/// What an app shows in an account list: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountInfo {
    pub id: AccountId,
    pub issuer: String,
    pub label: String,
    /// `totp`, `hotp` or `steam`; `push` for an account with a push token and no code.
    #[serde(rename = "type")]
    pub otp_type: &'static str,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u8>,
    pub period: Option<u32>,
    pub counter: Option<u64>,
    /// The push token's serial when the account has one (the code, if any, is its fallback).
    pub push_serial: Option<String>,
    pub group: Option<String>,
    pub note: Option<String>,
    pub sort_order: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// Passwordless (phone sign-in) is on for this account.
    pub passwordless: bool,
}

impl From<&Account> for AccountInfo {
    fn from(a: &Account) -> Self {
        let params = a.otp.as_ref().map(|o| o.params);
        let kind = params.map(|p| p.kind);
        AccountInfo {
            id: a.id.clone(),
            issuer: a.issuer.clone(),
            label: a.label.clone(),
            otp_type: kind.map_or("push", |k| k.type_name()),
            algorithm: params.map(|p| p.algorithm),
            digits: params.map(|p| p.digits),
            period: kind.and_then(|k| k.period()),
            counter: kind.and_then(|k| k.counter()),
            push_serial: a.push.as_ref().map(|p| p.serial.clone()),
            group: a.group.clone(),
            note: a.note.clone(),
            sort_order: a.sort_order,
            created_at: a.created_at,
            updated_at: a.updated_at,
            passwordless: false,
        }
    }
}

/// A time-based account's current code, as a list row shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CodeInfo {
    pub id: AccountId,
    pub issuer: String,
    pub label: String,
    #[serde(rename = "type")]
    pub otp_type: &'static str,
    pub code: String,
    /// Seconds until `code` expires.
    pub valid_for: u32,
    pub next_code: String,
    pub period: u32,
    /// The clock correction this code was made with.
    pub clock_offset: CodeClock,
}

/// The correction of the device clock a code was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "source", content = "seconds", rename_all = "snake_case")]
pub enum CodeClock {
    /// The user's own offset (`set_clock_offset`; 0 unless set), or none for an explicit time.
    User(i64),
    /// The clock offset of the account's push server, which also checks its codes.
    Server(i64),
}

impl CodeClock {
    pub fn seconds(self) -> i64 {
        match self {
            CodeClock::User(s) | CodeClock::Server(s) => s,
        }
    }
}

/// A HOTP code produced by advancing the counter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HotpCode {
    pub id: AccountId,
    pub code: String,
    /// The counter value this code was made with; the stored counter is now one more.
    pub counter: u64,
}

/// The outcome of adding one account from a URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    New(AccountInfo),
    /// The vault already held an account with the same names, parameters and secret.
    AlreadyPresent(AccountInfo),
}

impl Added {
    pub fn info(&self) -> &AccountInfo {
        match self {
            Added::New(i) | Added::AlreadyPresent(i) => i,
        }
    }
}

pub type Result<T> = std::result::Result<T, AuthError>;

struct Loaded {
    account: Account,
    /// `None` for a push-only account.
    generator: Option<Generator>,
    /// The origin of the push server of an account with both a code and a push token: that
    /// server checks the code too, so its clock offset corrects the code.
    code_server: Option<String>,
}

struct State {
    vault: Vault,
    /// Every account in display order with its keyed generator, reloaded after each change.
    accounts: Vec<Loaded>,
    /// Ids of the accounts with passwordless on.
    passwordless: Vec<AccountId>,
    /// The user's own correction of the device clock (seconds), for codes.
    offset: i64,
    /// Each push server's clock minus the device's (milliseconds), by origin.
    server_offsets: HashMap<String, i64>,
    /// Device keys of push accounts, loaded (unsealed and parsed) once.
    push_keys: HashMap<AccountId, Arc<dyn crate::push::DeviceKey>>,
    /// SQLite's `data_version` when this state was loaded: it changes when another connection
    /// commits.
    data_version: i64,
}

impl State {
    fn load(vault: Vault) -> Result<Self> {
        let mut state = State {
            vault,
            accounts: Vec::new(),
            passwordless: Vec::new(),
            offset: 0,
            server_offsets: HashMap::new(),
            push_keys: HashMap::new(),
            data_version: 0,
        };
        state.reload_all()?;
        Ok(state)
    }

    /// Everything this state caches, from the vault.
    fn reload_all(&mut self) -> Result<()> {
        self.data_version = self.vault.data_version()?;
        self.offset = match self.vault.setting(clock::OFFSET_SETTING)? {
            Some(text) => clock::parse_offset(&text)?,
            None => 0,
        };
        self.server_offsets = push::load_server_offsets(&self.vault)?;
        // A key of an account another process deleted or re-enrolled must not linger.
        self.push_keys.clear();
        self.reload()
    }

    fn refresh_if_changed(&mut self) -> Result<()> {
        if self.vault.data_version()? != self.data_version {
            self.reload_all()?;
        }
        Ok(())
    }

    fn reload(&mut self) -> Result<()> {
        let accounts = self.vault.accounts()?;
        let mut loaded = Vec::with_capacity(accounts.len());
        for account in accounts {
            let generator = account.otp.as_ref().map(|o| o.generator()).transpose()?;
            let code_server = match (&account.otp, &account.push) {
                (Some(_), Some(push)) => Some(crate::push::server_origin(&push.url)),
                _ => None,
            };
            loaded.push(Loaded {
                account,
                generator,
                code_server,
            });
        }
        self.accounts = loaded;
        self.passwordless = self.vault.passwordless_ids()?;
        Ok(())
    }

    /// The correction for `l`'s codes: its push server's offset where that server checks them,
    /// else the user's.
    fn code_offset(&self, l: &Loaded) -> CodeClock {
        l.code_server
            .as_ref()
            .and_then(|origin| self.server_offsets.get(origin))
            .and_then(|ms| clock::check_offset((*ms as f64 / 1000.0).round() as i64).ok())
            .map_or(CodeClock::User(self.offset), CodeClock::Server)
    }

    fn info(&self, account: &Account) -> AccountInfo {
        let mut info = AccountInfo::from(account);
        info.passwordless = self.passwordless.contains(&account.id);
        info
    }

    /// Applies `changes` (the last one turning passwordless on) if `platform`'s rule allows
    /// it, checked inside the write transaction. `moving_from` must hold passwordless and
    /// gives it up in the same transaction.
    fn change_passwordless(
        &mut self,
        changes: &[(AccountId, bool)],
        platform: Platform,
        moving_from: Option<&AccountId>,
        now: i64,
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

    fn policy(&self) -> Result<PolicySet> {
        Ok(match self.vault.setting(policy::POLICY_SETTING)? {
            Some(json) => PolicySet::from_json(&json)?,
            None => PolicySet::default(),
        })
    }

    /// An exact id, or a unique id prefix (what users type from `list`).
    fn resolve(&self, id_or_prefix: &str) -> Result<usize> {
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

/// The app's handle on one vault. Cheap to share (`Arc<Authenticator>`); calls serialize on an
/// internal lock, each vault change being one transaction.
pub struct Authenticator {
    state: Mutex<State>,
    clock: Arc<dyn Clock>,
    push: PushRuntime,
}

/// Where new push tokens keep their RSA device key. There is no default: a software key on a
/// phone must be a choice, not what happens when the platform store was forgotten.
#[derive(Clone)]
pub enum DeviceKeys {
    /// The platform key store (Android Keystore, iOS Keychain): the private key never leaves it.
    Platform(Arc<dyn PlatformDeviceKeys>),
    /// Software keys of `bits` (2048, 3072 or 4096), sealed in the vault like OTP secrets.
    Software { bits: usize },
}

impl DeviceKeys {
    /// Software RSA-4096 keys, as privacyIDEA's own app makes them.
    pub fn software() -> Self {
        DeviceKeys::Software {
            bits: crate::push::SoftwareDeviceKey::DEFAULT_BITS,
        }
    }
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceKeys::Platform(_) => f.write_str("DeviceKeys::Platform"),
            DeviceKeys::Software { bits } => write!(f, "DeviceKeys::Software({bits})"),
        }
    }
}

/// What is set once, when a vault is opened, and never changes while it is open.
#[derive(Clone)]
pub struct Config {
    /// The time source of codes and push timestamps.
    pub clock: Arc<dyn Clock>,
    /// Whose passwordless rule gates approvals.
    pub platform: Platform,
    pub device_keys: DeviceKeys,
    /// Carries every push request: the platform's HTTP stack on a phone.
    pub transport: Arc<dyn HttpTransport>,
}

impl Config {
    /// The desktop's set-up: the desktop rule, software device keys, the given transport.
    pub fn desktop(clock: Arc<dyn Clock>, transport: Arc<dyn HttpTransport>) -> Self {
        Config {
            clock,
            platform: Platform::Desktop,
            device_keys: DeviceKeys::software(),
            transport,
        }
    }

    /// A desktop set-up without network (push calls fail saying so): for code-only use.
    pub fn offline(clock: Arc<dyn Clock>) -> Self {
        Self::desktop(clock, Arc::new(crate::push::NoNetwork))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("platform", &self.platform)
            .field("device_keys", &self.device_keys)
            .finish_non_exhaustive()
    }
}

/// What push calls share apart from the vault, fixed at open.
struct PushRuntime {
    client: Arc<crate::push::PushClient>,
    device_keys: DeviceKeys,
    platform: Platform,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Opens an existing vault.
    pub fn open(path: &Path, unlock: Unlock<'_>, config: Config) -> Result<Self> {
        let vault = Vault::open(path, unlock)?;
        Self::with_vault(vault, config)
    }

    /// Creates a new vault whose master key `key_store` wraps, with an optional password slot.
    pub fn create(
        path: &Path,
        key_store: &dyn KeyStore,
        password: Option<(&str, KdfParams)>,
        config: Config,
    ) -> Result<Self> {
        let vault = Vault::create(path, key_store, password, config.clock.now_unix_seconds())?;
        Self::with_vault(vault, config)
    }

    /// Opens the vault at `path` with `key_store`, creating it first if there is none: the
    /// no-set-up path of the CLI and of an app's first launch.
    pub fn open_or_create(path: &Path, key_store: &dyn KeyStore, config: Config) -> Result<Self> {
        if Vault::exists(path) {
            Self::open(path, Unlock::KeyStore(key_store), config)
        } else {
            Self::create(path, key_store, None, config)
        }
    }

    fn with_vault(vault: Vault, config: Config) -> Result<Self> {
        if let DeviceKeys::Software { bits } = config.device_keys
            && !crate::push::SoftwareDeviceKey::SUPPORTED_BITS.contains(&bits)
        {
            return Err(AuthError::Push(PushError::InvalidArgument {
                param: "software_key_bits".into(),
                reason: format!("{bits} is not supported (use 2048, 3072 or 4096)"),
            }));
        }
        let client = crate::push::PushClient::new(
            config.transport,
            crate::push::PushClientConfig::default(),
        );
        Ok(Authenticator {
            state: Mutex::new(State::load(vault)?),
            clock: config.clock,
            push: PushRuntime {
                client: Arc::new(client),
                device_keys: config.device_keys,
                platform: config.platform,
            },
        })
    }

    /// The platform whose passwordless rule gates approvals, as given at open.
    pub fn platform(&self) -> Platform {
        self.push.platform
    }

    /// The state, brought up to date first if another connection (the CLI beside an app, a
    /// second app process) committed a change since this one last looked.
    fn state(&self) -> Result<MutexGuard<'_, State>> {
        let mut state = self.state.lock().map_err(|_| AuthError::Poisoned)?;
        state.refresh_if_changed()?;
        Ok(state)
    }

    /// Unix time as codes see it: the clock plus the user's stored offset.
    pub fn now(&self) -> Result<u64> {
        let offset = self.state()?.offset;
        Ok(clock::corrected_unix(self.clock.now_unix_seconds(), offset))
    }

    pub fn clock_offset(&self) -> Result<i64> {
        Ok(self.state()?.offset)
    }

    /// Stores the correction (seconds added to the device clock) used for every code.
    pub fn set_clock_offset(&self, offset: i64) -> Result<()> {
        let offset = clock::check_offset(offset)?;
        let mut state = self.state()?;
        state
            .vault
            .set_setting(clock::OFFSET_SETTING, &offset.to_string())?;
        state.offset = offset;
        Ok(())
    }

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
        let now = self.clock.now_unix_seconds();
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

    /// Current codes of the time-based accounts matching `query` (all when `None`), at the
    /// corrected time or at `at` (Unix seconds, no offset applied) when given.
    pub fn codes(&self, query: Option<&str>, at: Option<u64>) -> Result<Vec<CodeInfo>> {
        let state = self.state()?;
        let device_now = self.clock.now_unix_seconds();
        let mut out = Vec::with_capacity(state.accounts.len());
        for l in &state.accounts {
            if query.is_some_and(|q| !l.account.matches(q)) {
                continue;
            }
            let (Some(otp), Some(generator)) = (&l.account.otp, &l.generator) else {
                continue;
            };
            let Some(period) = otp.params.kind.period() else {
                continue;
            };
            let clock_offset = match at {
                Some(_) => CodeClock::User(0),
                None => state.code_offset(l),
            };
            let t = at.unwrap_or_else(|| clock::corrected_unix(device_now, clock_offset.seconds()));
            let code = generator.totp(t)?;
            out.push(CodeInfo {
                id: l.account.id.clone(),
                issuer: l.account.issuer.clone(),
                label: l.account.label.clone(),
                otp_type: otp.params.kind.type_name(),
                code: code.code.to_string(),
                valid_for: code.valid_for,
                next_code: code.next_code.to_string(),
                period,
                clock_offset,
            });
        }
        Ok(out)
    }

    /// Advances a HOTP account's counter (persisted first, so a crash never reuses a code) and
    /// returns the code for the counter value it had.
    pub fn next_hotp(&self, id_or_prefix: &str) -> Result<HotpCode> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let loaded = &state.accounts[index];
        let (Some(OtpKind::Hotp { .. }), Some(generator)) = (
            loaded.account.otp.as_ref().map(|o| o.params.kind),
            loaded.generator.clone(),
        ) else {
            return Err(AuthError::NotCounterBased {
                name: loaded.account.display_name(),
            });
        };
        let id = loaded.account.id.clone();
        let now = self.clock.now_unix_seconds();
        let (counter, updated) = state.vault.advance_hotp(&id, now)?;
        let code = generator.code_for_counter(counter);
        state.accounts[index].account = updated;
        Ok(HotpCode {
            id,
            code: code.to_string(),
            counter,
        })
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
        state
            .vault
            .move_to(&id, position, self.clock.now_unix_seconds())?;
        state.reload()?;
        let index = state.resolve(id.as_str())?;
        Ok(state.info(&state.accounts[index].account))
    }

    pub fn delete(&self, id_or_prefix: &str) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let info = state.info(&state.accounts[index].account);
        state.vault.delete(&info.id)?;
        state.accounts.remove(index);
        state.passwordless.retain(|id| *id != info.id);
        state.push_keys.remove(&info.id);
        if info.push_serial.is_some()
            && let DeviceKeys::Platform(keys) = &self.push.device_keys
        {
            // The account is gone either way; a key left behind in the platform store holds
            // nothing that works without the server's registration.
            let _ = keys.delete(info.id.as_str());
        }
        Ok(info)
    }

    fn change(
        &self,
        id_or_prefix: &str,
        apply: impl FnOnce(&mut Vault, &AccountId, i64) -> std::result::Result<Account, VaultError>,
    ) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let id = state.accounts[index].account.id.clone();
        let updated = apply(&mut state.vault, &id, self.clock.now_unix_seconds())?;
        let info = state.info(&updated);
        state.accounts[index].account = updated;
        Ok(info)
    }

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
                    .set_setting(policy::POLICY_SETTING, &rules.to_json())?;
            }
            None => state
                .vault
                .set_setting(policy::POLICY_SETTING, &PolicySet::default().to_json())?,
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
        state.change_passwordless(&[(id, true)], platform, None, self.clock.now_unix_seconds())?;
        Ok(state.info(&state.accounts[index].account))
    }

    pub fn disable_passwordless(&self, id_or_prefix: &str) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let index = state.resolve(id_or_prefix)?;
        let id = state.accounts[index].account.id.clone();
        state
            .vault
            .set_passwordless(&[(id, false)], self.clock.now_unix_seconds())?;
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
            self.clock.now_unix_seconds(),
        )?;
        Ok(state.info(&state.accounts[to].account))
    }

    /// Every account with a code as an otpauth URI, in the user's order. Plaintext secrets:
    /// the caller must have the user's explicit consent. Push tokens are not exported: their
    /// device keys are bound to this device, and a new phone enrolls afresh.
    pub fn export_otpauth(&self) -> Result<Vec<Zeroizing<String>>> {
        Ok(self
            .state()?
            .accounts
            .iter()
            .filter_map(|l| {
                let a = &l.account;
                a.otp
                    .as_ref()
                    .map(|otp| uri::to_otpauth(&a.issuer, &a.label, otp, &a.extra_params))
            })
            .collect())
    }

    /// Every account as Google Authenticator transfer QR payloads (refused, naming the account,
    /// when one cannot be carried by that format).
    pub fn export_migration(&self) -> Result<Vec<Zeroizing<String>>> {
        let state = self.state()?;
        let entries: Vec<_> = state
            .accounts
            .iter()
            .filter_map(|l| {
                l.account.otp.as_ref().map(|otp| {
                    (
                        l.account.issuer.clone(),
                        l.account.label.clone(),
                        otp.clone(),
                    )
                })
            })
            .collect();
        Ok(uri::to_migration(&entries)?)
    }

    pub fn has_password(&self) -> Result<bool> {
        Ok(self.state()?.vault.has_password()?)
    }

    /// Adds or replaces the password slot.
    pub fn set_password(&self, password: &str, params: KdfParams) -> Result<()> {
        Ok(self.state()?.vault.set_password(password, params)?)
    }

    pub fn remove_password(&self) -> Result<()> {
        Ok(self.state()?.vault.remove_password()?)
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

fn same_account(a: &Account, n: &NewAccount) -> bool {
    a.issuer == n.issuer && a.label == n.label && a.otp.as_ref() == Some(&n.otp)
}
