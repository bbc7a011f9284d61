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

use std::sync::Arc;

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
