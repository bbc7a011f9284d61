//! `authcore-ffi`: the UniFFI facade that Kotlin and Swift see. Translation only: every exported
//! call converts its arguments, calls `authcore`, and converts the result. No logic lives here.
//!
//! Secrets cross only inward (an enrollment URI, a password) and outward only through the
//! explicit `export_*` calls. The platform supplies, at open (`options.rs`), the key store that
//! wraps the vault's master key, the time source, the store of push device keys (or the explicit
//! choice of software keys) and the HTTP transport (`transport.rs`); all are foreign traits.
//! Push approvals (`push.rs`) are async where the core talks to a server; their futures are
//! polled by Kotlin's and Swift's own executors (no Rust runtime).

mod backup;
mod code_list;
mod container;
mod convert;
mod errors;
mod export;
mod import;
mod list_watch;
mod logging;
mod options;
mod platform;
mod push;
mod transport;

use std::sync::Arc;

/// Every freed block of the library's Rust code zeroed, so no secret the core or its
/// dependencies used outlives its use in the app's process (core/src/allocator.rs).
#[global_allocator]
static ALLOCATOR: authcore::allocator::Zeroizing = authcore::allocator::ZEROIZING;

use authcore::authenticator::Authenticator as CoreAuthenticator;
use authcore::time::UnixTime;
use authcore::vault::Unlock;

pub use backup::{
    AccountName, BackupDifference, BackupReenroll, BackupStatus, ReenrollItem, RestoreReport,
    VerifyReport,
};
pub use code_list::{CodeListRow, CodeListRows, CodeTicks};
pub use container::{
    Container, ContainerPolicies, ContainerPreview, ContainerRegistered, ContainerScan,
    ContainerSyncOutcome, ContainerSyncReport, ContainerToken, ContainerUnregistered,
};
pub use convert::{
    Account, AccountCode, AddedAccount, HashAlgorithm, HotpCode, OtpType, PasswordlessRule,
    Platform,
};
pub use errors::{AuthCoreError, KeyStoreError};
pub use export::{LeftOutAccount, MigrationExport, qr_code_png};
pub use import::{
    DroppedCounts, ImportAction, ImportEntry, ImportPreview, ImportReport, SkippedEntry,
};
pub use list_watch::{ListObserver, ListWatch};
pub use logging::{LogLevel, LogSink};
pub use options::{DeviceKeys, OpenOptions};
pub use platform::{TimeSource, VaultKeyStore, system_time_source};
pub use push::{
    ApproveOutcome, CheckOutcome, DeclineReason, DeviceKeyStore, PushEnrollmentPreview,
    PushEnrollmentScan, PushRequest, PushTokenUpdate, ServerClock,
};
pub use transport::{
    HttpHeader, HttpMethod, HttpRequest, HttpResponse, HttpTransport, TransportError,
};

uniffi::setup_scaffolding!();

/// The app's handle on one vault: open it once, share it, call it from any thread.
#[derive(uniffi::Object)]
pub struct Authenticator {
    inner: CoreAuthenticator,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Authenticator")
    }
}

type Result<T> = std::result::Result<T, AuthCoreError>;

#[uniffi::export]
impl Authenticator {
    /// Opens the vault at `path`, creating it (and a master key that `key_store` wraps) on first
    /// use, with what stays fixed while it is open (`options`: platform, device keys, transport,
    /// time source).
    #[uniffi::constructor]
    pub fn open_or_create(
        path: String,
        key_store: Arc<dyn VaultKeyStore>,
        options: OpenOptions,
    ) -> Result<Arc<Self>> {
        let store = platform::ForeignKeyStore(key_store);
        let inner = CoreAuthenticator::open_or_create(path.as_ref(), &store, options.try_into()?)?;
        Ok(Arc::new(Authenticator { inner }))
    }

    /// Opens an existing vault with its password slot (a restored backup, a new phone).
    #[uniffi::constructor]
    pub fn open_with_password(
        path: String,
        password: String,
        options: OpenOptions,
    ) -> Result<Arc<Self>> {
        let password = zeroize::Zeroizing::new(password);
        let inner = CoreAuthenticator::open(
            path.as_ref(),
            Unlock::Password(&password),
            options.try_into()?,
        )?;
        Ok(Arc::new(Authenticator { inner }))
    }

    /// Adds the accounts of an `otpauth://` or `otpauth-migration://` URI (a scanned QR code).
    pub fn add_uri(&self, uri: String) -> Result<Vec<AddedAccount>> {
        let uri = zeroize::Zeroizing::new(uri);
        Ok(self.inner.add_uri(&uri)?.iter().map(Into::into).collect())
    }

    /// Adds every URI of a text (one per line), all or none.
    pub fn add_uri_lines(&self, text: String) -> Result<Vec<AddedAccount>> {
        let text = zeroize::Zeroizing::new(text);
        Ok(self
            .inner
            .add_uri_lines(&text)?
            .iter()
            .map(Into::into)
            .collect())
    }

    pub fn accounts(&self) -> Result<Vec<Account>> {
        Ok(self.inner.accounts()?.iter().map(Into::into).collect())
    }

    /// Accounts whose issuer or label contains `query` (any case) or whose id starts with it.
    pub fn search(&self, query: String) -> Result<Vec<Account>> {
        Ok(self.inner.search(&query)?.iter().map(Into::into).collect())
    }

    /// Current and next codes of the time-based accounts (all, or those matching `query`), at the
    /// time source's time plus the stored offset.
    pub fn codes(&self, query: Option<String>) -> Result<Vec<AccountCode>> {
        Ok(self
            .inner
            .codes(query.as_deref(), None)?
            .iter()
            .map(Into::into)
            .collect())
    }

    /// The same at an explicit Unix time (no offset applied).
    pub fn codes_at(
        &self,
        unix_seconds: UnixTime,
        query: Option<String>,
    ) -> Result<Vec<AccountCode>> {
        Ok(self
            .inner
            .codes(query.as_deref(), Some(unix_seconds))?
            .iter()
            .map(Into::into)
            .collect())
    }

    /// Advances a HOTP account's counter (saved first) and returns the code.
    pub fn next_hotp(&self, id: String) -> Result<HotpCode> {
        Ok((&self.inner.next_hotp(&id)?).into())
    }

    pub fn rename(
        &self,
        id: String,
        issuer: Option<String>,
        label: Option<String>,
    ) -> Result<Account> {
        Ok((&self.inner.rename(&id, issuer, label)?).into())
    }

    pub fn set_group(&self, id: String, group: Option<String>) -> Result<Account> {
        Ok((&self.inner.set_group(&id, group)?).into())
    }

    pub fn set_note(&self, id: String, note: Option<String>) -> Result<Account> {
        Ok((&self.inner.set_note(&id, note)?).into())
    }

    /// Moves an account to `position` (0 is the top) in the user's order.
    pub fn move_account(&self, id: String, position: u32) -> Result<Account> {
        Ok((&self.inner.move_to(&id, position as usize)?).into())
    }

    /// Deletes an account and returns what it was.
    pub fn delete(&self, id: String) -> Result<Account> {
        Ok((&self.inner.delete(&id)?).into())
    }

    pub fn clock_offset(&self) -> Result<i64> {
        Ok(self.inner.clock_offset()?)
    }

    /// Seconds added to the device clock for every code (at most a day either way).
    pub fn set_clock_offset(&self, seconds: i64) -> Result<()> {
        Ok(self.inner.set_clock_offset(seconds)?)
    }

    pub fn has_password(&self) -> Result<bool> {
        Ok(self.inner.has_password()?)
    }

    /// Adds or replaces the password that can also unlock this vault (Argon2id, default cost).
    pub fn set_password(&self, password: String) -> Result<()> {
        let password = zeroize::Zeroizing::new(password);
        Ok(self
            .inner
            .set_password(&password, authcore::vault::KdfParams::default())?)
    }

    pub fn remove_password(&self) -> Result<()> {
        Ok(self.inner.remove_password()?)
    }

    /// The passwordless rule in force for `platform`.
    pub fn passwordless_rule(&self, platform: Platform) -> Result<PasswordlessRule> {
        Ok(self.inner.passwordless_rule(platform.into())?.into())
    }

    /// Replaces the passwordless rules with a JSON rule set, or restores the defaults (`None`).
    pub fn set_passwordless_rules(&self, json: Option<String>) -> Result<()> {
        Ok(self.inner.set_passwordless_rules(json.as_deref())?)
    }

    /// Turns passwordless on if `platform`'s rule allows one more account; the error names the
    /// accounts that already hold it.
    pub fn enable_passwordless(&self, id: String, platform: Platform) -> Result<Account> {
        Ok((&self.inner.enable_passwordless(&id, platform.into())?).into())
    }

    pub fn disable_passwordless(&self, id: String) -> Result<Account> {
        Ok((&self.inner.disable_passwordless(&id)?).into())
    }

    /// Moves passwordless from one account to another in one step.
    pub fn move_passwordless(
        &self,
        from: String,
        to: String,
        platform: Platform,
    ) -> Result<Account> {
        Ok((&self.inner.move_passwordless(&from, &to, platform.into())?).into())
    }
}

/// What a scanned QR code would add, without adding it: for a confirmation screen.
#[uniffi::export]
pub fn preview_uri(uri: String) -> Result<Vec<Account>> {
    let uri = zeroize::Zeroizing::new(uri);
    let accounts = authcore::uri::parse(&uri).map_err(authcore::authenticator::AuthError::from)?;
    Ok(accounts.iter().map(convert::preview).collect())
}
