//! A watch on the code list's version, checked in Rust, so that a shell counting down its code
//! list makes no FFI call in a second in which nothing changed.
//!
//! Why: one call from Kotlin through JNA costs about 24 µs here however little it does (the
//! generated code allocates a call-status structure and clones the object's handle around
//! every call), against under 3 µs from Swift and about 1 µs of work in the core
//! (docs/benchmarks.md). A code list that asked `list_version()` every second paid that for a
//! number that almost never moves. With a watch, a thread of ours asks the core every
//! `interval_ms` (a lock and SQLite's `data_version`, which sees another process's commits) and
//! calls the app's `ListObserver` only when the version moved; the shell keeps the last
//! version it was told and asks the core itself only after a change it made (it knows of those)
//! or when the codes rolled over.

use std::sync::{Arc, Condvar, Mutex, PoisonError, Weak};
use std::thread;
use std::time::Duration;

use crate::Authenticator;
use crate::errors::AuthCoreError;

/// Told the code list's version, on the watch's own thread: once when the watch starts, then
/// each time it moved. Return quickly (store it, wake the UI's loop); do not block on the
/// authenticator's lock from here.
#[uniffi::export(with_foreign)]
pub trait ListObserver: Send + Sync {
    fn list_changed(&self, version: u64);
}

/// A running watch (`Authenticator::watch_list`). It ends when cancelled, when dropped (the
/// shells' `close()`), or when the authenticator is gone.
#[derive(uniffi::Object)]
pub struct ListWatch {
    stop: Arc<(Mutex<bool>, Condvar)>,
}

impl std::fmt::Debug for ListWatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ListWatch")
    }
}

#[uniffi::export]
impl ListWatch {
    /// Ends the watch: no call to the observer begins after this returns (one already under
    /// way on the watch's thread may still finish). Safe to call more than once, and from the
    /// observer itself.
    pub fn cancel(&self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
    }
}

impl Drop for ListWatch {
    fn drop(&mut self) {
        self.cancel();
    }
}

#[uniffi::export]
impl Authenticator {
    /// Starts a watch on the code list's version: `observer` is told it at once, then each
    /// time it moves (a change through this authenticator, or another process's commit),
    /// checked every `interval_ms` milliseconds (1..=60000) on a thread of the core's. Keep
    /// the returned watch while the list is on screen; cancel or drop it after.
    pub fn watch_list(
        self: Arc<Self>,
        observer: Arc<dyn ListObserver>,
        interval_ms: u32,
    ) -> Result<Arc<ListWatch>, AuthCoreError> {
        if !(1..=60_000).contains(&interval_ms) {
            return Err(AuthCoreError::invalid(format!(
                "interval_ms: {interval_ms} is not between 1 and 60000"
            )));
        }
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let weak = Arc::downgrade(&self);
        let watched = stop.clone();
        thread::Builder::new()
            .name("authcore-list-watch".into())
            .spawn(move || {
                watch(
                    &weak,
                    &*observer,
                    &watched,
                    Duration::from_millis(interval_ms.into()),
                )
            })
            .map_err(|e| AuthCoreError::Internal {
                text: format!("the list watch's thread could not start: {e}"),
            })?;
        Ok(Arc::new(ListWatch { stop }))
    }
}

/// The watch's loop: ask, tell when it moved, sleep until the next check or a cancel. A
/// failing read (a poisoned lock) is tried again at the next check.
fn watch(
    authenticator: &Weak<Authenticator>,
    observer: &dyn ListObserver,
    stop: &(Mutex<bool>, Condvar),
    interval: Duration,
) {
    let (stopped, wake) = stop;
    let mut told = None;
    loop {
        let Some(version) = authenticator.upgrade().map(|a| a.inner.list_version()) else {
            return; // the authenticator was closed
        };
        let stopped_now = stopped.lock().unwrap_or_else(PoisonError::into_inner);
        if *stopped_now {
            return;
        }
        drop(stopped_now);
        if let Ok(version) = version
            && told != Some(version)
        {
            told = Some(version);
            observer.list_changed(version);
        }
        let guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (guard, _) = wake
            .wait_timeout_while(guard, interval, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        if *guard {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::mpsc;

    use authcore::authenticator::{Authenticator as CoreAuthenticator, Config};
    use authcore::clock::SystemClock;
    use authcore::vault::FileKeyStore;

    use super::*;

    fn open(dir: &Path) -> Arc<Authenticator> {
        let store = FileKeyStore::create(&dir.join("key")).unwrap();
        let config = Config::offline(Arc::new(SystemClock));
        let inner = CoreAuthenticator::open_or_create(&dir.join("vault.sqlite"), &store, config);
        Arc::new(Authenticator {
            inner: inner.unwrap(),
        })
    }

    struct Sender(Mutex<mpsc::Sender<u64>>);

    impl ListObserver for Sender {
        fn list_changed(&self, version: u64) {
            let _ = self.0.lock().unwrap().send(version);
        }
    }

    #[test]
    fn tells_the_version_at_once_then_each_move_and_nothing_after_cancel() {
        let dir = tempfile::tempdir().unwrap();
        let auth = open(dir.path());
        let (tx, rx) = mpsc::channel();
        let watch = auth
            .clone()
            .watch_list(Arc::new(Sender(Mutex::new(tx))), 5)
            .unwrap();
        let wait = Duration::from_secs(10);
        let first = rx.recv_timeout(wait).unwrap();
        assert_eq!(first, auth.list_version().unwrap());
        // Nothing moved: nothing told, however many checks pass.
        assert!(rx.recv_timeout(Duration::from_millis(100)).is_err());
        auth.add_uri("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP".into())
            .unwrap();
        let moved = rx.recv_timeout(wait).unwrap();
        assert_eq!(moved, auth.list_version().unwrap());
        assert_ne!(moved, first);
        watch.cancel();
        watch.cancel();
        // At most a call already begun; then the channel closes as the thread ends.
        auth.add_uri("otpauth://totp/B:b?secret=JBSWY3DPEHPK3PXP".into())
            .unwrap();
        let late: Vec<u64> = rx.iter().collect();
        assert!(late.len() <= 1, "{late:?}");
    }

    #[test]
    fn ends_when_the_authenticator_is_gone_and_refuses_a_bad_interval() {
        let dir = tempfile::tempdir().unwrap();
        let auth = open(dir.path());
        let (tx, rx) = mpsc::channel();
        let observer = Arc::new(Sender(Mutex::new(tx)));
        for bad in [0, 60_001] {
            let e = auth.clone().watch_list(observer.clone(), bad).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("interval_ms: {bad} is not between 1 and 60000")
            );
        }
        let _watch = auth.clone().watch_list(observer.clone(), 5).unwrap();
        drop(observer);
        assert!(rx.recv_timeout(Duration::from_secs(10)).is_ok());
        drop(auth);
        // The thread held the last sender: it ends, so the channel closes.
        assert!(rx.iter().next().is_none());
    }
}
