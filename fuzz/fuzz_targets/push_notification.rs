//! `authcore::push::UnverifiedChallenge::from_notification`: a push notification's payload, the
//! FCM/APNs data map or privacyIDEA's HTTP gateway wrapper `{"device_token", "data"}` (with
//! `data` an object or a JSON string). Parsing only; `push_verify` goes on to the signature.
#![no_main]

use authcore::push::UnverifiedChallenge;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The platform hands notification data over as a string.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(challenge) = UnverifiedChallenge::from_notification(text) {
        let _ = (
            challenge.serial(),
            challenge.nonce(),
            challenge.device_token(),
        );
    }
});
