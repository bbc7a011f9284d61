//! `authenticator`: the one object an app (or the CLI) opens and calls from any thread.
//!
//! It ties the vault, URI parsing, the clock and code generation together and keeps every
//! account's keyed generator in memory, so listing codes never touches the disk or re-keys an
//! HMAC. Everything it returns is free of secrets except the explicit `export_*` calls.
//!
//! This file holds the handle; `config` what is fixed at open, `state` the cache of the vault,
//! `records` what calls return, `error` their errors, `accounts`, `codes`, `code_list` (the
//! list split into stable rows and per-second ticks), `passwordless`,
//! `export` (and the password slot), `backup` and `auto_backup`, and `push` the calls.

mod accounts;
mod auto_backup;
mod backup;
#[cfg(test)]
mod backup_tests;
mod code_list;
#[cfg(test)]
mod code_list_tests;
mod codes;
mod config;
#[cfg(test)]
mod config_tests;
mod container;
mod error;
mod export;
mod import;
mod notification_data;
mod passwordless;
mod push;
#[cfg(test)]
mod push_tests;
mod records;
#[cfg(test)]
mod spare_tests;
mod state;

use std::sync::{Arc, Mutex, MutexGuard};

use self::auto_backup::AutoBackup;

pub use self::auto_backup::{AUTO_BACKUP_DELAY, AUTO_BACKUP_MAX_DELAY, BackupStatus, DEFAULT_KEEP};
pub use self::backup::{Difference, ReenrollItem, RestoreReport, VerifyReport};
pub use self::code_list::{CodeList, CodeListRow, CodeTick};
use self::config::PushRuntime;
pub use self::config::{Config, DeviceKeys};
pub use self::container::{
    ContainerInfo, ContainerTokenInfo, PoliciesInfo, Registered, SyncReport, Unregistered,
};
pub use self::error::{ApprovalNeeds, AuthError};
pub use self::export::{LeftOut, MigrationExport};
pub use self::import::{
    ImportAction, ImportFailure, ImportMode, ImportOutcome, ImportPreview, ImportPreviewEntry,
    SkippedEntry,
};
use self::push::SpareKeys;
pub use self::push::{
    CLOCK_WARN_SECONDS, CheckOutcome, DEFAULT_SPARE_DEVICE_KEYS, Decision, MAX_SPARE_DEVICE_KEYS,
    PlatformDeviceKeys, PushRequestInfo, ServerClock, UserPresence,
};
pub use self::records::{AccountInfo, Added, CodeClock, CodeInfo, HotpCode};
use self::state::State;
pub use crate::error::ErrorKind;
pub use crate::push::{AnswerOutcome, DeclineReason, HttpTransport, PushEnrollment, PushError};

use crate::clock::Clock;

pub type Result<T> = std::result::Result<T, AuthError>;

/// The app's handle on one vault. Cheap to share (`Arc<Authenticator>`); calls serialize on an
/// internal lock, each vault change being one transaction.
pub struct Authenticator {
    /// Shared with the automatic backups' worker thread.
    state: Arc<Mutex<State>>,
    auto_backup: AutoBackup,
    backup_writing: Arc<Mutex<()>>,
    /// Diagnostics for the app (never a secret).
    log: crate::log::Log,
    clock: Arc<dyn Clock>,
    push: PushRuntime,
    /// The worker keeping spare device keys ready (push/spare.rs).
    spare_keys: SpareKeys,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// The state, brought up to date first if another connection (the CLI beside an app, a
    /// second app process) committed a change since this one last looked.
    pub(in crate::authenticator) fn state(&self) -> Result<MutexGuard<'_, State>> {
        let mut state = self.state.lock().map_err(|_| AuthError::Poisoned)?;
        state.refresh_if_changed()?;
        Ok(state)
    }
}
