//! `authcore::push::PushEnrollment::parse`: the privacyIDEA PUSH enrollment QR code
//! (`otpauth://pipush/...` or `pia://pipush/...`, or eduMFA's `edumfa-push://edumfa/...`), scanned
//! now and checked against its `ttl`.
#![no_main]

use std::time::Duration;

use authcore::push::PushEnrollment;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let now = authcore_fuzz::now();
    let Ok(enrollment) = PushEnrollment::parse(text, now, now) else {
        return;
    };
    // What the app does next with a scan: show when it expires, and check it again at
    // enrollment time (far in the future here, where the ttl arithmetic is at its edge).
    let _ = enrollment.expires_at();
    let _ = enrollment.check_not_expired(now + Duration::from_secs(u32::MAX.into()));
    let _ = format!("{enrollment:?}");
});
