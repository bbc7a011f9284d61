//! Automatic backups (docs/backup.md, "Automatic backups"): switched on once with a password,
//! whose Argon2id key is kept sealed in the vault so no backup prompts for it. After a change,
//! a worker thread waits until changes stop for [`AUTO_BACKUP_DELAY`] (at most
//! [`AUTO_BACKUP_MAX_DELAY`]) and writes one backup into the directory; closing the
//! authenticator writes what is pending. A backup is written only when what it holds differs
//! from the newest one (a digest keyed by the backup key says so), and every outcome, success
//! or failure, is kept in the vault for `backup_status`.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use hmac::{Hmac, KeyInit, Mac};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{AuthError, Authenticator, Result, State};
use crate::backup::{self, BackupDir, BackupError, BackupKey, Payload, WrittenBackup};
use crate::clock::Clock;
use crate::log::{Log, LogLevel};
use crate::time::UnixTime;
use crate::vault::{KdfParams, Setting};

/// Quiet time after a change before the backup is written (changes closer together coalesce).
pub const AUTO_BACKUP_DELAY: Duration = Duration::from_secs(2);
/// Longest a change waits for its backup while changes keep coming.
pub const AUTO_BACKUP_MAX_DELAY: Duration = Duration::from_secs(20);
/// Backups kept when the app does not say.
pub const DEFAULT_KEEP: usize = 10;
const MAX_KEEP: usize = 1000;

/// What the automatic backups are set to and last did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BackupStatus {
    pub enabled: bool,
    pub dir: Option<PathBuf>,
    pub keep: usize,
    /// When the newest backup was written (Unix seconds), and its file.
    pub last_success_at: Option<UnixTime>,
    pub last_file: Option<PathBuf>,
    /// The last failure (Unix seconds, and what went wrong); kept after later successes, so
    /// compare the times.
    pub last_error_at: Option<UnixTime>,
    pub last_error: Option<String>,
    /// Complete backups now in the directory.
    pub backups: usize,
}

/// `backup.auto` in the vault: no secret.
#[derive(Serialize, Deserialize)]
struct AutoSetting {
    dir: String,
    keep: usize,
    /// Base64.
    salt: String,
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

/// `backup.status` in the vault.
#[derive(Serialize, Deserialize, Default)]
struct StatusSetting {
    last_success: Option<(UnixTime, String)>,
    last_error: Option<(UnixTime, String)>,
    /// HMAC-SHA256 under the backup key of what the newest backup holds (hex).
    digest: Option<String>,
}

/// What the worker thread shares with the facade.
#[derive(Clone)]
pub(in crate::authenticator) struct Shared {
    pub(in crate::authenticator) state: Arc<Mutex<State>>,
    pub(in crate::authenticator) clock: Arc<dyn Clock>,
    pub(in crate::authenticator) log: Log,
    /// One backup is written at a time (the worker, a flush).
    pub(in crate::authenticator) writing: Arc<Mutex<()>>,
}

/// The worker thread, started at the first change while automatic backups are on.
#[derive(Default)]
pub(in crate::authenticator) struct AutoBackup {
    worker: Mutex<Option<(Sender<()>, JoinHandle<()>)>>,
}

impl AutoBackup {
    pub(in crate::authenticator) fn changed(&self, shared: &Shared) {
        let Ok(mut worker) = self.worker.lock() else {
            return;
        };
        if let Some((tx, _)) = worker.as_ref()
            && tx.send(()).is_ok()
        {
            return;
        }
        let (tx, rx) = mpsc::channel::<()>();
        let worker_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("authcore-backup".into())
            .spawn(move || {
                let shared = worker_shared;
                while rx.recv().is_ok() {
                    let start = Instant::now();
                    loop {
                        let left = AUTO_BACKUP_MAX_DELAY.saturating_sub(start.elapsed());
                        if left.is_zero() {
                            break;
                        }
                        match rx.recv_timeout(AUTO_BACKUP_DELAY.min(left)) {
                            Ok(()) => {}
                            Err(RecvTimeoutError::Timeout) => break,
                            Err(RecvTimeoutError::Disconnected) => {
                                let _ = write_if_changed(&shared);
                                return;
                            }
                        }
                    }
                    let _ = write_if_changed(&shared);
                }
            });
        match spawned {
            Ok(handle) => {
                let _ = tx.send(());
                *worker = Some((tx, handle));
            }
            // No thread: the backup is written when the authenticator closes, or on flush.
            Err(e) => shared.log.write(LogLevel::Error, "backup", || {
                format!("automatic backup thread not started: {e}")
            }),
        }
    }

    /// Writes what is pending and stops the worker (the authenticator is closing).
    pub(in crate::authenticator) fn stop(&self) {
        let taken = self.worker.lock().ok().and_then(|mut w| w.take());
        if let Some((tx, handle)) = taken {
            drop(tx);
            let _ = handle.join();
        }
    }
}

impl Drop for Authenticator {
    fn drop(&mut self) {
        // First, so no key search runs while the pending backup is written.
        self.spare_keys.stop();
        self.auto_backup.stop();
    }
}

fn lock(shared: &Shared) -> Result<std::sync::MutexGuard<'_, State>> {
    let mut state = shared.state.lock().map_err(|_| AuthError::Poisoned)?;
    state.refresh_if_changed()?;
    Ok(state)
}

fn damaged(what: &str) -> BackupError {
    BackupError::BadSetting {
        reason: format!("the stored setting is damaged ({what})"),
    }
}

/// `backup.auto`, when automatic backups are on.
fn read_auto_setting(state: &State) -> Result<Option<AutoSetting>> {
    let Some(text) = state.vault.setting(Setting::AutoBackup)? else {
        return Ok(None);
    };
    Ok(Some(
        serde_json::from_str(&text).map_err(|_| damaged("backup.auto"))?,
    ))
}

/// `backup.auto` and the key it names, when automatic backups are on.
fn read_setting(state: &State) -> Result<Option<(AutoSetting, BackupKey)>> {
    let Some(setting) = read_auto_setting(state)? else {
        return Ok(None);
    };
    let salt = data_encoding::BASE64
        .decode(setting.salt.as_bytes())
        .map_err(|_| damaged("salt"))?;
    let sealed = state
        .vault
        .setting(Setting::AutoBackupKey)?
        .ok_or_else(|| damaged("no key"))?;
    let key = state
        .vault
        .open_setting_value(Setting::AutoBackupKey, &sealed)?;
    let params = KdfParams {
        memory_kib: setting.memory_kib,
        iterations: setting.iterations,
        parallelism: setting.parallelism,
    };
    let key = BackupKey::from_parts(key, &salt, params)?;
    Ok(Some((setting, key)))
}

fn read_status(state: &State) -> Result<StatusSetting> {
    Ok(match state.vault.setting(Setting::AutoBackupStatus)? {
        Some(text) => serde_json::from_str(&text).unwrap_or_default(),
        None => StatusSetting::default(),
    })
}

fn write_status(state: &mut State, status: &StatusSetting) -> Result<()> {
    let text = serde_json::to_string(status).map_err(|e| BackupError::BadContent {
        reason: e.to_string(),
    })?;
    state.vault.set_setting(Setting::AutoBackupStatus, &text)?;
    Ok(())
}

/// The backup's payload of the accounts now, without its time, and the digest of what it
/// holds (keyed by the backup key). The caller sets the time and serializes it only when the
/// digest says the newest backup does not hold it already.
fn snapshot(state: &State, key: &BackupKey) -> Result<(Payload, String)> {
    let payload = Payload::of_accounts(state.accounts.iter().map(|l| &l.account), UnixTime::EPOCH);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.key().expose())
        .map_err(|_| BackupError::Random)?;
    mac.update(&payload.to_json()?);
    let digest = data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes());
    Ok((payload, digest))
}

/// The payload's JSON as a backup made at `now` holds it.
fn made_at(mut payload: Payload, now: UnixTime) -> Result<Zeroizing<Vec<u8>>> {
    payload.created_at = now;
    Ok(payload.to_json()?)
}

/// Writes a backup when automatic backups are on and the accounts differ from the newest
/// backup's; records the outcome. `Ok(None)`: nothing to do.
pub(in crate::authenticator) fn write_if_changed(shared: &Shared) -> Result<Option<WrittenBackup>> {
    let _writing = shared.writing.lock().map_err(|_| AuthError::Poisoned)?;
    let now = shared.clock.now();
    let (setting, key, payload, digest) = {
        let state = lock(shared)?;
        let Some((setting, key)) = read_setting(&state)? else {
            return Ok(None);
        };
        let (payload, digest) = snapshot(&state, &key)?;
        if read_status(&state)?.digest.as_deref() == Some(digest.as_str()) {
            return Ok(None);
        }
        (setting, key, made_at(payload, now)?, digest)
    };
    let written = BackupDir::new(Path::new(&setting.dir))
        .and_then(|dir| dir.write(&backup::encrypt(&key, &payload)?, now, setting.keep));
    drop(payload);
    let mut state = lock(shared)?;
    let mut status = read_status(&state)?;
    match &written {
        Ok(w) => {
            status.last_success = Some((now, w.path.display().to_string()));
            status.digest = Some(digest);
            shared.log.write(LogLevel::Info, "backup", || {
                format!(
                    "automatic backup written: {} ({} older removed)",
                    w.path.display(),
                    w.removed.len()
                )
            });
        }
        Err(e) => {
            status.last_error = Some((now, e.to_string()));
            shared.log.write(LogLevel::Error, "backup", || {
                format!("automatic backup failed: {e}")
            });
        }
    }
    // The backup's own failure is the one to report; a status that cannot be kept (a full disk
    // fails both) comes second.
    let kept = write_status(&mut state, &status);
    let written = written?;
    kept?;
    Ok(Some(written))
}

impl Authenticator {
    pub(in crate::authenticator) fn shared(&self) -> Shared {
        Shared {
            state: self.state.clone(),
            clock: self.clock.clone(),
            log: self.log.clone(),
            writing: self.backup_writing.clone(),
        }
    }

    /// Tells the automatic backups and the code list's version that the accounts changed
    /// (called with the state locked, after each change).
    pub(in crate::authenticator) fn changed(&self, state: &mut State) {
        state.touch();
        if state.auto_backup_on {
            self.auto_backup.changed(&self.shared());
        }
    }

    /// Switches automatic backups on: into `dir` (an existing directory, absolute), keeping the
    /// newest `keep`, under `password` (derived once with `params`). Writes the first backup
    /// now, so a directory that cannot be written is an error here.
    pub fn enable_auto_backup(
        &self,
        dir: &Path,
        keep: usize,
        password: &str,
        params: KdfParams,
    ) -> Result<BackupStatus> {
        BackupDir::new(dir)?;
        if !(1..=MAX_KEEP).contains(&keep) {
            return Err(BackupError::BadSetting {
                reason: format!("keep={keep}: must be between 1 and {MAX_KEEP}"),
            }
            .into());
        }
        let dir_text = dir.to_str().ok_or_else(|| BackupError::BadSetting {
            reason: format!("dir {} is not valid UTF-8", dir.display()),
        })?;
        let key = BackupKey::derive(password, params)?;
        let setting = AutoSetting {
            dir: dir_text.to_owned(),
            keep,
            salt: data_encoding::BASE64.encode(key.salt()),
            memory_kib: params.memory_kib,
            iterations: params.iterations,
            parallelism: params.parallelism,
        };
        let json = serde_json::to_string(&setting).map_err(|e| BackupError::BadContent {
            reason: e.to_string(),
        })?;
        // The first backup is written before anything is stored: a directory or disk that
        // cannot take it leaves automatic backups off and the vault unchanged.
        let _writing = self
            .backup_writing
            .lock()
            .map_err(|_| AuthError::Poisoned)?;
        let now = self.clock.now();
        let mut state = self.state()?;
        let (payload, digest) = snapshot(&state, &key)?;
        let payload = made_at(payload, now)?;
        let written = BackupDir::new(dir)?.write(&backup::encrypt(&key, &payload)?, now, keep)?;
        drop(payload);
        let status = serde_json::to_string(&StatusSetting {
            last_success: Some((now, written.path.display().to_string())),
            last_error: None,
            digest: Some(digest),
        })
        .map_err(|e| BackupError::BadContent {
            reason: e.to_string(),
        })?;
        let sealed = state
            .vault
            .seal_setting_value(Setting::AutoBackupKey, key.key())?;
        state.vault.set_settings(&[
            (Setting::AutoBackup, Some(&json)),
            (Setting::AutoBackupKey, Some(&sealed)),
            (Setting::AutoBackupStatus, Some(&status)),
        ])?;
        state.auto_backup_on = true;
        drop(state);
        drop(_writing);
        self.backup_status()
    }

    /// Switches automatic backups off and forgets their key; the backups written stay.
    pub fn disable_auto_backup(&self) -> Result<()> {
        self.auto_backup.stop();
        let mut state = self.state()?;
        state.vault.set_settings(&[
            (Setting::AutoBackup, None),
            (Setting::AutoBackupKey, None),
            (Setting::AutoBackupStatus, None),
        ])?;
        state.auto_backup_on = false;
        Ok(())
    }

    /// Writes the pending automatic backup now (an app going to the background): the new
    /// file, or `None` when the newest backup already holds every change. An error is also
    /// kept for `backup_status`.
    pub fn flush_backup(&self) -> Result<Option<PathBuf>> {
        if !self.state()?.auto_backup_on {
            return Err(BackupError::AutoOff.into());
        }
        Ok(write_if_changed(&self.shared())?.map(|w| w.path))
    }

    pub fn backup_status(&self) -> Result<BackupStatus> {
        let state = self.state()?;
        let Some(setting) = read_auto_setting(&state)? else {
            return Ok(BackupStatus::default());
        };
        let status = read_status(&state)?;
        let dir = PathBuf::from(&setting.dir);
        let backups = BackupDir::new(&dir)
            .and_then(|d| d.backups())
            .map(|b| b.len())
            .unwrap_or(0);
        Ok(BackupStatus {
            enabled: true,
            dir: Some(dir),
            keep: setting.keep,
            last_success_at: status.last_success.as_ref().map(|s| s.0),
            last_file: status.last_success.map(|s| PathBuf::from(s.1)),
            last_error_at: status.last_error.as_ref().map(|e| e.0),
            last_error: status.last_error.map(|e| e.1),
            backups,
        })
    }
}
