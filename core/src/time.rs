//! `UnixTime`: the one representation of a moment in the core.
//!
//! Every time the core keeps, compares, signs or shows (an account's creation, a push request's
//! expiry, a container's last sync, a backup's date, "now" from a [`crate::clock::Clock`]) is a
//! `UnixTime`: milliseconds since 1970-01-01 UTC as an `i64`, so a clock set before 1970 is a
//! negative value rather than a panic and the push tables' millisecond columns round-trip
//! exactly. `std::time::SystemTime` appears only where the operating system or a formatting
//! crate speaks it ([`UnixTime::from_system`], [`UnixTime::to_system`]); the FFI, the CLI's JSON
//! and the vault's second columns carry whole seconds ([`UnixTime::as_secs`]).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A moment as milliseconds since the Unix epoch (UTC); negative before 1970.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnixTime {
    millis: i64,
}

impl UnixTime {
    /// 1970-01-01T00:00:00Z.
    pub const EPOCH: UnixTime = UnixTime { millis: 0 };

    /// The moment `secs` whole seconds after the epoch (saturating far outside ±292 million
    /// years).
    pub const fn from_secs(secs: i64) -> Self {
        UnixTime {
            millis: secs.saturating_mul(1000),
        }
    }

    pub const fn from_millis(millis: i64) -> Self {
        UnixTime { millis }
    }

    /// Whole seconds since the epoch, rounded down (so `-0.5 s` is `-1`).
    pub const fn as_secs(self) -> i64 {
        self.millis.div_euclid(1000)
    }

    pub const fn as_millis(self) -> i64 {
        self.millis
    }

    /// The seconds an OTP code counts from (RFC 6238's T): clamped at the epoch, since no
    /// code exists before it.
    pub const fn otp_secs(self) -> u64 {
        if self.millis < 0 {
            0
        } else {
            (self.millis / 1000) as u64
        }
    }

    /// The operating system's time, to the millisecond (saturating past ±292 million years).
    pub fn from_system(t: SystemTime) -> Self {
        let millis = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
            Err(e) => i64::try_from(e.duration().as_millis()).map_or(i64::MIN, |m| -m),
        };
        UnixTime { millis }
    }

    /// This moment for a crate that takes `SystemTime` (HTTP dates, RFC 3339 text).
    pub fn to_system(self) -> SystemTime {
        let magnitude = Duration::from_millis(self.millis.unsigned_abs());
        let moved = if self.millis >= 0 {
            UNIX_EPOCH.checked_add(magnitude)
        } else {
            UNIX_EPOCH.checked_sub(magnitude)
        };
        moved.unwrap_or(UNIX_EPOCH)
    }

    /// RFC 3339 UTC to the second (`2026-12-01T14:40:36Z`); a moment before 1970, which
    /// humantime cannot write, as 1970's first second.
    pub fn rfc3339_seconds(self) -> String {
        humantime::format_rfc3339_seconds(self.max(UnixTime::EPOCH).to_system()).to_string()
    }

    /// `self + d`, saturating.
    pub fn saturating_add(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        UnixTime {
            millis: self.millis.saturating_add(ms),
        }
    }

    /// `self - d`, saturating.
    pub fn saturating_sub(self, d: Duration) -> Self {
        let ms = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        UnixTime {
            millis: self.millis.saturating_sub(ms),
        }
    }

    /// `self` moved by a signed number of milliseconds, saturating.
    pub const fn add_millis(self, millis: i64) -> Self {
        UnixTime {
            millis: self.millis.saturating_add(millis),
        }
    }

    /// How long after `earlier` this is; zero when it is not after.
    pub fn since(self, earlier: UnixTime) -> Duration {
        let ms = self.millis.saturating_sub(earlier.millis);
        Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }
}

/// `t + d`, saturating, as for `SystemTime`.
impl std::ops::Add<Duration> for UnixTime {
    type Output = UnixTime;
    fn add(self, d: Duration) -> UnixTime {
        self.saturating_add(d)
    }
}

impl From<SystemTime> for UnixTime {
    fn from(t: SystemTime) -> Self {
        UnixTime::from_system(t)
    }
}

/// Whole Unix seconds: the CLI's JSON shows times as integers.
impl serde::Serialize for UnixTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i64(self.as_secs())
    }
}

/// Whole Unix seconds, as the CLI's JSON, backup payloads and vault settings write them.
impl<'de> serde::Deserialize<'de> for UnixTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        i64::deserialize(d).map(UnixTime::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_round_down_and_clamp_for_codes() {
        assert_eq!(UnixTime::from_millis(1_999).as_secs(), 1);
        assert_eq!(UnixTime::from_millis(-1).as_secs(), -1);
        assert_eq!(UnixTime::from_millis(-1).otp_secs(), 0);
        assert_eq!(UnixTime::from_secs(59).otp_secs(), 59);
        assert_eq!(UnixTime::from_secs(i64::MAX).as_millis(), i64::MAX);
    }

    #[test]
    fn system_time_round_trips_both_sides_of_the_epoch() {
        for ms in [0, 1, 1_767_225_600_123, -86_400_000, -1] {
            let t = UnixTime::from_millis(ms);
            assert_eq!(UnixTime::from_system(t.to_system()), t, "{ms}");
        }
    }

    #[test]
    fn arithmetic_saturates_and_since_never_goes_negative() {
        let t = UnixTime::from_secs(100);
        assert_eq!(
            t.saturating_add(Duration::from_millis(1_500)).as_millis(),
            101_500
        );
        assert_eq!(t.saturating_sub(Duration::from_secs(200)).as_secs(), -100);
        assert_eq!(
            UnixTime::from_millis(i64::MAX).add_millis(1).as_millis(),
            i64::MAX
        );
        assert_eq!(t.since(UnixTime::from_secs(40)), Duration::from_secs(60));
        assert_eq!(UnixTime::from_secs(40).since(t), Duration::ZERO);
    }

    #[test]
    fn serialized_as_whole_seconds() {
        assert_eq!(
            serde_json::to_string(&UnixTime::from_millis(1_999)).ok(),
            Some("1".to_owned())
        );
        assert_eq!(
            serde_json::from_str::<UnixTime>("-3").ok(),
            Some(UnixTime::from_secs(-3))
        );
    }
}
