//! Spare device keys: made ahead so that enrolling a push token does not wait a second or more
//! for an RSA key after the QR code was scanned.
//!
//! After the vault is opened, a worker thread (`authcore-spare-keys`) keeps
//! `Config::spare_device_keys` keys ready in the vault (`spare_device_keys`, format 5): software
//! keys of the size the vault was opened with, sealed under the master key; or, when the
//! platform key store says it can make keys ahead
//! ([`crate::authenticator::PlatformDeviceKeys::prepare_ahead`]), keys
//! the platform made under aliases the core chose. An enrollment takes one (its row deleted in a
//! committed transaction before the key is used, so no key serves two tokens, whatever crashes)
//! and wakes the worker to make the next; with none ready it makes its key inline, as before.
//!
//! Closing never waits for a key being made: the worker's thread is left to finish the search
//! it is in (up to a couple of seconds of one core for RSA-4096; `rsa`'s generator cannot be
//! interrupted, and a hand-made stoppable prime search is not worth owning), then drops that key
//! unused and ends; a platform's `generate` call in progress likewise finishes and its key is
//! deleted. What closing waits for is a vault access of the worker in progress (counting the
//! spares, or sealing and storing one: milliseconds). After close returns the worker never
//! touches the vault.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::{Duration, Instant};

use super::keys::{PlatformKey, off_thread};
use super::push_error;
use crate::account::AccountId;
use crate::authenticator::{Authenticator, DeviceKeys, Result, State};
use crate::clock::Clock;
use crate::log::{Log, LogLevel};
use crate::push::{DeviceKey, PushError, SoftwareDeviceKey};
use crate::secret::Secret;
use crate::time::UnixTime;
use crate::vault::{SpareKind, StoredDeviceKey, VaultError};

/// Spare device keys kept ready when the app does not say.
pub const DEFAULT_SPARE_DEVICE_KEYS: usize = 1;
/// The most spares a vault may be asked to keep.
pub const MAX_SPARE_DEVICE_KEYS: usize = 8;
/// How long the worker waits after a failure before it tries again.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// A key made ahead, not yet in the vault.
enum Made {
    Software { bits: usize, pkcs8: Secret },
    Platform { alias: AccountId, spki: Vec<u8> },
}

/// What spares of `keys` are, if it has any: software keys of its size, or platform keys when
/// the platform makes them ahead.
pub(in crate::authenticator) fn spare_kind(keys: &DeviceKeys) -> Option<SpareKind> {
    match keys {
        DeviceKeys::Software { bits } => Some(SpareKind::Software { bits: *bits }),
        DeviceKeys::Platform(store) if store.prepare_ahead() => Some(SpareKind::Platform),
        DeviceKeys::Platform(_) => None,
    }
}

/// Makes one key for the pool; `Ok(None)` when `stop` was set first.
fn make(
    keys: &DeviceKeys,
    stop: &dyn Fn() -> bool,
) -> std::result::Result<Option<Made>, PushError> {
    match keys {
        // `rsa`'s own generator, which cannot be interrupted: a stop during the search is seen
        // when it returns, and the key is then dropped (zeroized) unused.
        DeviceKeys::Software { bits } => {
            if stop() {
                return Ok(None);
            }
            let key = SoftwareDeviceKey::generate(*bits)?;
            Ok((!stop()).then(|| Made::Software {
                bits: *bits,
                pkcs8: key.pkcs8().clone(),
            }))
        }
        DeviceKeys::Platform(store) => {
            let alias = AccountId::random();
            let spki = store.generate(alias.as_str())?;
            Ok(Some(Made::Platform { alias, spki }))
        }
    }
}

/// Stores `made` unless `keep` spares are there already; a platform key not kept is deleted.
fn store(
    state: &mut State,
    keys: &DeviceKeys,
    made: &Made,
    keep: usize,
    now: UnixTime,
) -> std::result::Result<bool, VaultError> {
    let kept = match made {
        Made::Software { bits, pkcs8 } => {
            state.vault.add_spare_software_key(*bits, pkcs8, keep, now)
        }
        Made::Platform { alias, spki } => {
            state.vault.add_spare_platform_key(alias, spki, keep, now)
        }
    };
    if !matches!(kept, Ok(true)) {
        discard(keys, made);
    }
    kept
}

/// A key made but not kept: a software key is zeroized when dropped; a platform key is deleted
/// from the platform's store.
fn discard(keys: &DeviceKeys, made: &Made) {
    if let (DeviceKeys::Platform(store), Made::Platform { alias, .. }) = (keys, made) {
        let _ = store.delete(alias.as_str());
    }
}

fn describe(kind: SpareKind) -> String {
    match kind {
        SpareKind::Software { bits } => format!("{bits}-bit software"),
        SpareKind::Platform => "platform".into(),
    }
}

/// What the facade and the worker share.
#[derive(Default)]
struct Signals {
    /// Set once, by close.
    stop: AtomicBool,
    /// Held whenever the worker uses the vault; close takes it after setting `stop`, so once
    /// close has it the worker never uses the vault again.
    vault_use: Mutex<()>,
    /// `true` when the worker should look at the pool again (a key was taken).
    woken: Mutex<bool>,
    wake: Condvar,
}

impl Signals {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    /// Waits until woken (`true`), `timeout` passed (`true`) or close (`false`).
    fn wait(&self, timeout: Option<Duration>) -> bool {
        let Ok(mut woken) = self.woken.lock() else {
            return false;
        };
        let deadline = timeout.map(|t| Instant::now() + t);
        while !*woken && !self.stopped() {
            woken = match deadline {
                None => match self.wake.wait(woken) {
                    Ok(w) => w,
                    Err(_) => return false,
                },
                Some(at) => {
                    let left = at.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        break;
                    }
                    match self.wake.wait_timeout(woken, left) {
                        Ok((w, _)) => w,
                        Err(_) => return false,
                    }
                }
            };
        }
        *woken = false;
        !self.stopped()
    }

    /// Runs `work` on the vault, unless the authenticator is closing or gone (`None`).
    fn with_vault<T>(
        &self,
        state: &Weak<Mutex<State>>,
        work: impl FnOnce(&mut State) -> T,
    ) -> Option<T> {
        let _using = self.vault_use.lock().ok()?;
        if self.stopped() {
            return None;
        }
        let state = state.upgrade()?;
        let mut guard = state.lock().ok()?;
        Some(work(&mut guard))
    }
}

/// The worker, when one runs (software keys, or a platform that makes keys ahead, and a pool
/// size above 0).
#[derive(Default)]
pub(in crate::authenticator) struct SpareKeys {
    signals: Arc<Signals>,
}

impl SpareKeys {
    /// Starts the worker for `keep` spares of `keys`' kind, if there is anything to keep.
    pub(in crate::authenticator) fn start(
        state: &Arc<Mutex<State>>,
        keys: &DeviceKeys,
        keep: usize,
        clock: Arc<dyn Clock>,
        log: Log,
    ) -> Self {
        let pool = SpareKeys::default();
        let Some(kind) = spare_kind(keys).filter(|_| keep > 0) else {
            return pool;
        };
        let worker = Worker {
            signals: pool.signals.clone(),
            state: Arc::downgrade(state),
            keys: keys.clone(),
            kind,
            keep,
            clock,
            log: log.clone(),
        };
        if let Err(e) = std::thread::Builder::new()
            .name("authcore-spare-keys".into())
            .spawn(move || worker.run())
        {
            log.write(LogLevel::Warn, "push", || {
                format!("no thread for spare device keys ({e}): enrollments make their key")
            });
        }
        pool
    }

    /// A spare was taken: the worker makes the next.
    pub(in crate::authenticator) fn wake(&self) {
        if let Ok(mut woken) = self.signals.woken.lock() {
            *woken = true;
            self.signals.wake.notify_all();
        }
    }

    /// The authenticator is closing: the worker stops at its next step. Returns once the worker
    /// no longer uses the vault (it may still be finishing a platform `generate` call, whose key
    /// it then deletes, or dropping a half-made software key).
    pub(in crate::authenticator) fn stop(&self) {
        if let Ok(_woken) = self.signals.woken.lock() {
            self.signals.stop.store(true, Ordering::SeqCst);
            self.signals.wake.notify_all();
        } else {
            self.signals.stop.store(true, Ordering::SeqCst);
        }
        let _wait_for_vault_use = self.signals.vault_use.lock();
    }
}

struct Worker {
    signals: Arc<Signals>,
    state: Weak<Mutex<State>>,
    keys: DeviceKeys,
    kind: SpareKind,
    keep: usize,
    clock: Arc<dyn Clock>,
    log: Log,
}

impl Worker {
    fn run(self) {
        let signals = self.signals.clone();
        let stop = move || signals.stopped();
        loop {
            let ready = self
                .signals
                .with_vault(&self.state, |s| s.vault.spare_device_keys(self.kind));
            match ready {
                None => return,
                Some(Ok(n)) if n >= self.keep => {
                    if !self.signals.wait(None) {
                        return;
                    }
                    continue;
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    self.failed(&format!("counting spare device keys failed: {e}"));
                    if !self.signals.wait(Some(RETRY_AFTER)) {
                        return;
                    }
                    continue;
                }
            }
            let started = Instant::now();
            let made = match make(&self.keys, &stop) {
                Ok(Some(made)) => made,
                Ok(None) => return,
                Err(e) => {
                    self.failed(&format!("making a spare device key failed: {e}"));
                    if !self.signals.wait(Some(RETRY_AFTER)) {
                        return;
                    }
                    continue;
                }
            };
            let took = started.elapsed();
            let now = self.clock.now();
            match self
                .signals
                .with_vault(&self.state, |s| store(s, &self.keys, &made, self.keep, now))
            {
                None => {
                    discard(&self.keys, &made);
                    return;
                }
                Some(Ok(kept)) => self.log.write(LogLevel::Info, "push", || {
                    format!(
                        "spare {} device key made in {} ms{}",
                        describe(self.kind),
                        took.as_millis(),
                        if kept {
                            ""
                        } else {
                            ", not kept (enough are ready)"
                        }
                    )
                }),
                Some(Err(e)) => {
                    self.failed(&format!("keeping a spare device key failed: {e}"));
                    if !self.signals.wait(Some(RETRY_AFTER)) {
                        return;
                    }
                }
            }
        }
    }

    fn failed(&self, message: &str) {
        self.log.write(LogLevel::Warn, "push", || {
            format!("{message}; retrying later")
        });
    }
}

impl Authenticator {
    /// The device key of an enrollment and the id of the account it is for: a spare when one
    /// is ready (taken out of the vault first, then used), else made now. A platform spare was
    /// made under an alias the core chose, which a new account takes as its id; an enrollment
    /// that attaches to an existing account (whose id is the platform alias) makes its key.
    pub(in crate::authenticator) async fn enrollment_key(
        &self,
        attach_to: Option<&AccountId>,
    ) -> Result<(AccountId, Arc<dyn DeviceKey>, StoredDeviceKey)> {
        match (&self.push.device_keys, attach_to) {
            (DeviceKeys::Software { bits }, _) => {
                let taken = self.state()?.vault.take_spare_software_key(*bits)?;
                if let Some(pkcs8) = taken {
                    self.spare_keys.wake();
                    let key = SoftwareDeviceKey::from_pkcs8(pkcs8).map_err(push_error)?;
                    self.log.write(LogLevel::Info, "push", || {
                        format!("enrolling with a spare {bits}-bit device key")
                    });
                    let stored = StoredDeviceKey::Software(key.pkcs8().clone());
                    let id = attach_to.cloned().unwrap_or_else(AccountId::random);
                    return Ok((id, Arc::new(key), stored));
                }
            }
            (DeviceKeys::Platform(keys), None) if keys.prepare_ahead() => {
                let taken = self.state()?.vault.take_spare_platform_key()?;
                if let Some((alias, spki)) = taken {
                    self.spare_keys.wake();
                    self.log.write(LogLevel::Info, "push", || {
                        "enrolling with a spare platform device key".to_owned()
                    });
                    let key = PlatformKey {
                        keys: keys.clone(),
                        alias: alias.to_string(),
                        spki: Some(spki),
                    };
                    return Ok((alias, Arc::new(key), StoredDeviceKey::Platform));
                }
            }
            (DeviceKeys::Platform(_), _) => {}
        }
        let id = attach_to.cloned().unwrap_or_else(AccountId::random);
        let (key, stored) = self.new_device_key(id.as_str()).await?;
        // An enrollment that found the pool empty: the worker is making one already, or was
        // waiting for a key to be taken (another process took the last).
        self.spare_keys.wake();
        Ok((id, key, stored))
    }

    /// How many spare device keys of the kind this vault was opened with are ready (0 for a
    /// platform key store that does not make keys ahead).
    pub fn spare_device_keys_ready(&self) -> Result<usize> {
        match spare_kind(&self.push.device_keys) {
            Some(kind) => Ok(self.state()?.vault.spare_device_keys(kind)?),
            None => Ok(0),
        }
    }

    /// Makes spare device keys now, off the caller's thread, until `count` are ready (at most
    /// [`MAX_SPARE_DEVICE_KEYS`]); returns how many are (0: only counts them). For a caller
    /// that does not stay open long enough for the background worker (the CLI: `authcore push
    /// prepare`). A platform key store that does not make keys ahead gets none.
    pub async fn prepare_device_keys(&self, count: usize) -> Result<usize> {
        if count > MAX_SPARE_DEVICE_KEYS {
            return Err(push_error(PushError::InvalidArgument {
                param: "count".into(),
                reason: format!("{count} is more than {MAX_SPARE_DEVICE_KEYS}"),
            }));
        }
        let Some(kind) = spare_kind(&self.push.device_keys) else {
            return Ok(0);
        };
        loop {
            let ready = self.state()?.vault.spare_device_keys(kind)?;
            if ready >= count {
                return Ok(ready);
            }
            let keys = self.push.device_keys.clone();
            let made = off_thread(move || make(&keys, &|| false))
                .await?
                .map_err(push_error)?
                .ok_or_else(|| push_error(PushError::device_key("key generation stopped")))?;
            let now = self.clock.now();
            let mut state = self.state()?;
            store(&mut state, &self.push.device_keys, &made, count, now)?;
        }
    }
}
