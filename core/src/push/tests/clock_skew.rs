use std::time::Duration;

use super::support::t;
use crate::push::ClockOffset;
use crate::push::PushError;
use crate::push::clock_skew::iso8601_utc;
use crate::time::UnixTime;

// 784111777 = Sun, 06 Nov 1994 08:49:37 GMT.
const DATE: &str = "Sun, 06 Nov 1994 08:49:37 GMT";

#[test]
fn the_offset_is_the_server_date_minus_the_middle_of_the_round_trip() {
    let sent = t(784_111_777 - 600);
    let offset = ClockOffset::from_date_header(DATE, sent, Duration::from_millis(200)).unwrap();
    // Server second + 0.5 s, minus (sent + 0.1 s).
    assert_eq!(offset.as_millis(), 600_400);
    assert_eq!(offset.to_string(), "+600.400 s");
    assert!(offset.exceeds(Duration::from_secs(600)));
    assert!(!offset.exceeds(Duration::from_secs(601)));

    let ahead = ClockOffset::from_date_header(DATE, t(784_111_777 + 5), Duration::ZERO).unwrap();
    assert_eq!(ahead.as_millis(), -4_500);
    assert_eq!(ahead.to_string(), "-4.500 s");
    assert_eq!(ahead.apply(t(1000)), t(995) + Duration::from_millis(500));
    assert_eq!(offset.apply(t(1000)), t(1600) + Duration::from_millis(400));
}

#[test]
fn a_bad_date_header_gives_no_offset() {
    for bad in ["", "yesterday", "Sun, 06 Nov 1994 08:49:37"] {
        assert_eq!(
            ClockOffset::from_date_header(bad, t(0), Duration::ZERO),
            None,
            "{bad}"
        );
    }
}

#[test]
fn applying_an_offset_never_panics_at_the_ends_of_time() {
    for millis in [i64::MIN, i64::MAX, 0] {
        let offset = ClockOffset::from_millis(millis);
        let _ = offset.apply(t(0));
        let _ = offset.apply(t(u64::from(u32::MAX)));
        assert!(!offset.to_string().is_empty());
        assert!(!offset.exceeds(Duration::MAX));
    }
}

#[test]
fn timestamps_are_iso8601_utc_with_microseconds() {
    // `UnixTime` holds milliseconds, so the last three digits are zero.
    assert_eq!(
        iso8601_utc(t(784_111_777) + Duration::from_micros(123_456)).unwrap(),
        "1994-11-06T08:49:37.123000Z"
    );
    assert!(matches!(
        iso8601_utc(UnixTime::from_secs(-1)),
        Err(PushError::Clock { .. })
    ));
    assert!(matches!(
        iso8601_utc(t(253_402_300_800)),
        Err(PushError::Clock { .. })
    ));
}
