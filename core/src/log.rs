//! Diagnostics for the app that embeds the core: what it did (a vault opened, a push server
//! answered, an import committed) and why something failed, through a [`Logger`] the app gives
//! at open (Logcat, os_log, a file for a bug report).
//!
//! What goes in is written here, at the call sites, from values that are never secret: ids,
//! serials, nonces, counts, URLs without their query, HTTP statuses, and the errors' own texts,
//! which hold no secret by design. No OTP secret, device or master key, password, enrollment
//! credential, signature or container key is ever formatted into a message
//! (`tests/tests/push_facade.rs`, `nothing_secret_reaches_the_logger`, runs a push user's day
//! against privacyIDEA and searches what was logged for every encoding of each secret).

use std::panic;
use std::sync::{Arc, Mutex, Once, PoisonError};

/// How much a message matters; an app may drop `Debug` in release builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// A failure the user will see (a refused request, a server error).
    Error,
    /// Something refused or retried that the user may not see (a forged push request, a
    /// poll retried on the server's clock).
    Warn,
    /// What the core did: a vault opened, a token enrolled, an import committed.
    Info,
    /// Each request to a server and its answer.
    Debug,
}

impl LogLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Error => "error",
            LogLevel::Warn => "warn",
            LogLevel::Info => "info",
            LogLevel::Debug => "debug",
        }
    }
}

/// Receives the core's diagnostics. Called on whatever thread the core runs on; keep it quick
/// (hand the line to the platform's logger). `target` names the part of the core: `vault`,
/// `push`, `import`.
pub trait Logger: Send + Sync {
    fn log(&self, level: LogLevel, target: &'static str, message: &str);
}

/// Drops everything: the default.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoLogger;

impl Logger for NoLogger {
    fn log(&self, _: LogLevel, _: &'static str, _: &str) {}
}

/// The logger the core's parts share, with the message built only when it is written.
#[derive(Clone)]
pub(crate) struct Log(Arc<dyn Logger>);

impl Log {
    pub(crate) fn new(logger: Arc<dyn Logger>) -> Self {
        Log(logger)
    }

    pub(crate) fn none() -> Self {
        Log(Arc::new(NoLogger))
    }

    pub(crate) fn write(
        &self,
        level: LogLevel,
        target: &'static str,
        message: impl FnOnce() -> String,
    ) {
        self.0.log(level, target, &message());
    }
}

impl std::fmt::Debug for Log {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Log")
    }
}

/// Sends every panic's place to `logger` as well, at `Error` with the target `panic`, before the
/// hook that was in place runs (std's prints to stderr, which an Android app never shows). The
/// phone libraries abort on panic (Cargo.toml, profile `mobile`), so this line in the app's log
/// is what tells its developers where the core failed, beside the crash report's backtrace.
/// The message is the file, line and column, and the panic's text only when it is a literal
/// (`panic!("...")` without arguments): a formatted text could carry a value from the input.
/// The last logger given wins; the hook is installed once. The QR-image decoder's contained
/// panics (import/qr/decode.rs) are not reported: they become errors.
pub fn report_panics_to(logger: Arc<dyn Logger>) {
    static HOOK: Once = Once::new();
    *PANIC_LOGGER.lock().unwrap_or_else(PoisonError::into_inner) = Some(logger);
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !crate::import::in_contained_decoder() {
                // try_lock: a panic while the slot is being replaced is not worth a deadlock.
                let logger = PANIC_LOGGER.try_lock().ok().and_then(|slot| slot.clone());
                if let Some(logger) = logger {
                    logger.log(LogLevel::Error, "panic", &panic_line(info));
                }
            }
            previous(info);
        }));
    });
}

static PANIC_LOGGER: Mutex<Option<Arc<dyn Logger>>> = Mutex::new(None);

fn panic_line(info: &panic::PanicHookInfo<'_>) -> String {
    let place = info
        .location()
        .map(|at| format!(" at {}:{}:{}", at.file(), at.line(), at.column()))
        .unwrap_or_default();
    match info.payload().downcast_ref::<&'static str>() {
        Some(text) => format!("the core panicked{place}: {text}"),
        None => format!("the core panicked{place}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Lines(Mutex<Vec<(LogLevel, &'static str, String)>>);

    impl Logger for Lines {
        fn log(&self, level: LogLevel, target: &'static str, message: &str) {
            self.0
                .lock()
                .unwrap()
                .push((level, target, message.to_owned()));
        }
    }

    #[test]
    fn a_panic_reaches_the_apps_logger_with_its_place_and_only_a_literal_text() {
        let lines = Arc::new(Lines::default());
        report_panics_to(lines.clone());
        let literal = line!() + 1;
        assert!(panic::catch_unwind(|| panic!("a literal text")).is_err());
        let formatted = line!() + 2;
        let secret = String::from("JBSWY3DPEHPK3PXP");
        assert!(panic::catch_unwind(|| panic!("formatted {secret}")).is_err());
        // Other tests of this binary may panic meanwhile: only this file's lines are read.
        let here = format!("the core panicked at {}:", file!());
        let got: Vec<_> = lines
            .0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, _, m)| m.starts_with(&here))
            .cloned()
            .collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(
            got.iter()
                .all(|(l, t, _)| *l == LogLevel::Error && *t == "panic")
        );
        assert!(got[0].2.starts_with(&format!("{here}{literal}:")));
        assert!(got[0].2.ends_with(": a literal text"), "{}", got[0].2);
        assert!(got[1].2.starts_with(&format!("{here}{formatted}:")));
        assert!(!got[1].2.contains("JBSWY3DPEHPK3PXP") && !got[1].2.contains("formatted"));
    }
}
