//! `clock`: where "now" comes from, and the user's persisted correction for a phone whose clock
//! is off (the most common cause of "wrong code").
//!
//! The core never reads the system time directly: everything that needs "now" takes a [`Clock`],
//! so tests and the CLI's `--at` are deterministic and apps can inject their own.

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::SystemTime;

use crate::error::Echo;
use crate::time::UnixTime;

/// A source of "now".
pub trait Clock: Send + Sync {
    fn now(&self) -> UnixTime;
}

/// The operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixTime {
        UnixTime::from_system(SystemTime::now())
    }
}

/// A clock that stands still until moved: for tests and `--at`. It counts whole seconds.
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
    fn now(&self) -> UnixTime {
        UnixTime::from_secs(self.0.load(Ordering::SeqCst))
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

/// `now` moved by the user's correction of `offset` seconds.
pub fn corrected(now: UnixTime, offset: i64) -> UnixTime {
    now.add_millis(offset.saturating_mul(1000))
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClockError {
    #[error(
        "offset={offset}: more than a day ({MAX_OFFSET_SECONDS} s); set the device's date instead"
    )]
    OffsetTooLarge { offset: i64 },
    #[error("offset '{}': not a whole number of seconds", Echo(text))]
    NotANumber { text: String },
    #[error("at={seconds}: before 1970, where codes begin")]
    BeforeEpoch { seconds: i64 },
}

/// An explicit time a caller asks codes for: refused before 1970 (no code exists there)
/// rather than silently taken as 1970.
pub fn check_code_time(at: UnixTime) -> Result<UnixTime, ClockError> {
    if at < UnixTime::EPOCH {
        Err(ClockError::BeforeEpoch {
            seconds: at.as_secs(),
        })
    } else {
        Ok(at)
    }
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
    fn corrected_codes_never_count_before_the_epoch() {
        let at = |secs| UnixTime::from_secs(secs);
        assert_eq!(corrected(at(100), -30).otp_secs(), 70);
        assert_eq!(corrected(at(10), -30).otp_secs(), 0);
        assert_eq!(corrected(at(10), -30).as_secs(), -20);
        assert_eq!(
            corrected(UnixTime::from_millis(i64::MAX), 5).as_millis(),
            i64::MAX
        );
    }

    #[test]
    fn codes_are_not_asked_for_before_1970() {
        assert_eq!(check_code_time(UnixTime::EPOCH), Ok(UnixTime::EPOCH));
        assert_eq!(
            check_code_time(UnixTime::from_millis(-1))
                .unwrap_err()
                .to_string(),
            "at=-1: before 1970, where codes begin"
        );
    }

    #[test]
    fn fixed_clock_moves_only_when_told() {
        let c = FixedClock::new(1000);
        assert_eq!(c.now(), UnixTime::from_secs(1000));
        c.advance(30);
        assert_eq!(c.now(), UnixTime::from_secs(1030));
        c.set(5);
        assert_eq!(c.now(), UnixTime::from_secs(5));
        assert!(SystemClock.now().as_secs() > 1_700_000_000);
    }
}
