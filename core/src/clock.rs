//! `clock`: where "now" comes from, and the user's persisted correction for a phone whose clock
//! is off (the most common cause of "wrong code").
//!
//! The core never reads the system time directly: everything that needs "now" takes a [`Clock`],
//! so tests and the CLI's `--at` are deterministic and apps can inject their own.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::Echo;

/// A source of Unix time in whole seconds.
pub trait Clock: Send + Sync {
    fn now_unix_seconds(&self) -> i64;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_unix_seconds(&self) -> i64 {
        match SystemTime::now().duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
            // A clock set before 1970 is far off; report it as negative rather than panic.
            Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
        }
    }
}

/// A clock that stands still until moved: for tests and `--at`.
#[derive(Debug, Default)]
pub struct FixedClock(AtomicI64);

impl FixedClock {
    pub fn new(unix_seconds: i64) -> Self {
        FixedClock(AtomicI64::new(unix_seconds))
    }

    pub fn set(&self, unix_seconds: i64) {
        self.0.store(unix_seconds, Ordering::SeqCst);
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for FixedClock {
    fn now_unix_seconds(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Offsets beyond a day are not drift but a wrong date; refuse them rather than hide it.
pub const MAX_OFFSET_SECONDS: i64 = 86_400;

/// Above this many seconds of measured drift the user is warned: codes near the end of their
/// period start being refused by servers with a one-step window.
pub const WARN_OFFSET_SECONDS: i64 = 5;

/// Validates an offset the user or a server measurement supplies.
pub fn check_offset(offset: i64) -> Result<i64, ClockError> {
    if offset.abs() > MAX_OFFSET_SECONDS {
        Err(ClockError::OffsetTooLarge { offset })
    } else {
        Ok(offset)
    }
}

/// Parses a stored or typed offset such as `-42` or `+7`.
pub fn parse_offset(text: &str) -> Result<i64, ClockError> {
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let offset = digits.parse::<i64>().map_err(|_| ClockError::NotANumber {
        text: trimmed.chars().take(32).collect(),
    })?;
    check_offset(offset)
}

/// `now + offset`, clamped at the epoch for code generation (which counts from 1970).
pub fn corrected_unix(now: i64, offset: i64) -> u64 {
    u64::try_from(now.saturating_add(offset)).unwrap_or(0)
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error(
        "offset={offset}: more than a day ({MAX_OFFSET_SECONDS} s); set the device's date instead"
    )]
    OffsetTooLarge { offset: i64 },
    #[error("offset '{}': not a whole number of seconds", Echo(text))]
    NotANumber { text: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_and_are_bounded() {
        assert_eq!(parse_offset("-42").unwrap(), -42);
        assert_eq!(parse_offset(" +7 ").unwrap(), 7);
        assert_eq!(
            parse_offset("ten").unwrap_err().to_string(),
            "offset 'ten': not a whole number of seconds"
        );
        assert!(matches!(
            parse_offset("90000"),
            Err(ClockError::OffsetTooLarge { offset: 90000 })
        ));
    }

    #[test]
    fn corrected_time_never_goes_before_the_epoch() {
        assert_eq!(corrected_unix(100, -30), 70);
        assert_eq!(corrected_unix(10, -30), 0);
        assert_eq!(corrected_unix(i64::MAX, 5), i64::MAX as u64);
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let c = FixedClock::new(1000);
        assert_eq!(c.now_unix_seconds(), 1000);
        c.advance(30);
        assert_eq!(c.now_unix_seconds(), 1030);
        c.set(5);
        assert_eq!(c.now_unix_seconds(), 5);
        assert!(SystemClock.now_unix_seconds() > 1_700_000_000);
    }
}
