//! The server's clock as seen from here, and the timestamps polls and token updates are signed
//! with.
//!
//! privacyIDEA refuses a poll whose timestamp is more than a minute off its own clock (a push
//! token update: five minutes), and a device clock that is off is also the most common cause of
//! wrong TOTP codes. Every response's `Date` header gives the server's time to the second; the
//! offset is that minus the local time at the middle of the round trip. The facade shows it,
//! warns when it is large, and may feed it to the TOTP clock.

use std::fmt;
use std::time::Duration;

use super::PushError;
use crate::time::UnixTime;

/// Server time minus local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClockOffset {
    millis: i64,
}

impl ClockOffset {
    pub const ZERO: ClockOffset = ClockOffset { millis: 0 };

    pub fn from_millis(millis: i64) -> Self {
        ClockOffset { millis }
    }

    pub fn as_millis(self) -> i64 {
        self.millis
    }

    /// The offset from a `Date` header value, for a request sent at local time `sent_at` whose
    /// response arrived `round_trip` later. `None` if the header is not an HTTP date.
    pub fn from_date_header(date: &str, sent_at: UnixTime, round_trip: Duration) -> Option<Self> {
        let server = httpdate::parse_http_date(date.trim()).ok()?;
        // The header truncates to the second: the server's clock read somewhere in the second
        // after it, so its middle is the unbiased guess.
        let server_ms = UnixTime::from_system(server).as_millis().checked_add(500)?;
        let local_ms = sent_at
            .as_millis()
            .checked_add(i64::try_from(round_trip.as_millis() / 2).ok()?)?;
        Some(ClockOffset {
            millis: server_ms.checked_sub(local_ms)?,
        })
    }

    /// `local` moved onto the server's clock.
    pub fn apply(self, local: UnixTime) -> UnixTime {
        local.add_millis(self.millis)
    }

    /// Whether this offset is larger than `limit` either way.
    pub fn exceeds(self, limit: Duration) -> bool {
        u128::from(self.millis.unsigned_abs()) > limit.as_millis()
    }
}

impl fmt::Display for ClockOffset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.millis < 0 { "-" } else { "+" };
        let abs = self.millis.unsigned_abs();
        write!(f, "{sign}{}.{:03} s", abs / 1000, abs % 1000)
    }
}

/// `t` as ISO 8601 UTC with microseconds (`2026-01-02T03:04:05.123000Z`: a `UnixTime` holds
/// milliseconds), which privacyIDEA parses with dateutil's `isoparse`.
pub(crate) fn iso8601_utc(t: UnixTime) -> Result<String, PushError> {
    use std::fmt::Write;
    let out_of_range = || PushError::Clock {
        reason: "the time is outside what can be sent to the server (1970 to 9999)".to_owned(),
    };
    // humantime panics before 1970 and returns fmt::Error past its range (9999, or 2038 on
    // 32-bit targets); `write!` turns the latter into an error instead of a panic.
    if t < UnixTime::EPOCH {
        return Err(out_of_range());
    }
    let mut text = String::with_capacity(32);
    write!(text, "{}", humantime::format_rfc3339_micros(t.to_system()))
        .map_err(|_| out_of_range())?;
    Ok(text)
}
