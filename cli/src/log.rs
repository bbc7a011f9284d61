//! `--log LEVEL` (or `AUTHCORE_LOG`): the core's diagnostics on standard error, one line each,
//! so they never mix with the JSON or codes on standard output.

use std::sync::Arc;

use authcore::log::{LogLevel, Logger, NoLogger};

struct Stderr(LogLevel);

impl Logger for Stderr {
    fn log(&self, level: LogLevel, target: &'static str, message: &str) {
        if level <= self.0 {
            eprintln!("authcore: {} {target}: {message}", level.as_str());
        }
    }
}

/// The logger for `--log`'s value (clap allows only the four names); none without it.
pub(crate) fn stderr(level: Option<&str>) -> Arc<dyn Logger> {
    let level = match level {
        Some("error") => LogLevel::Error,
        Some("warn") => LogLevel::Warn,
        Some("info") => LogLevel::Info,
        Some("debug") => LogLevel::Debug,
        _ => return Arc::new(NoLogger),
    };
    Arc::new(Stderr(level))
}
