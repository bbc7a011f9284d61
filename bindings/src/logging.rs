//! The core's diagnostics handed to the app: `LogSink` is implemented in Kotlin (Logcat) or
//! Swift (os_log) and given in `OpenOptions`. No message holds a secret (see `authcore::log`).

use std::sync::Arc;

use authcore::log::{LogLevel as CoreLevel, Logger};

/// How much a message matters; an app may drop `Debug` in release builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum LogLevel {
    /// A failure the user will see (a refused request, a server error, a forged push request).
    Error,
    /// Something refused or retried that the user may not see.
    Warn,
    /// What the core did: a vault opened, a token enrolled, an import committed.
    Info,
    /// Each request to a push server and its answer (method, URL without query, status, time).
    Debug,
}

impl From<CoreLevel> for LogLevel {
    fn from(level: CoreLevel) -> Self {
        match level {
            CoreLevel::Error => LogLevel::Error,
            CoreLevel::Warn => LogLevel::Warn,
            CoreLevel::Info => LogLevel::Info,
            CoreLevel::Debug => LogLevel::Debug,
        }
    }
}

/// Receives the core's diagnostics, on whatever thread the core runs: hand each line to the
/// platform's logger and return. `target` names the part of the core (`vault`, `push`,
/// `import`).
#[uniffi::export(with_foreign)]
pub trait LogSink: Send + Sync {
    fn log(&self, level: LogLevel, target: String, message: String);
}

pub(crate) struct ForeignLogger(pub Arc<dyn LogSink>);

impl Logger for ForeignLogger {
    fn log(&self, level: CoreLevel, target: &'static str, message: &str) {
        self.0
            .log(level.into(), target.to_owned(), message.to_owned());
    }
}
