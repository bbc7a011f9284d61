//! The verified path of a notification: parse it, then `verify` it against an enrolled token
//! whose server key is the fixed test key (keys/push-server.pkcs1.der), which signed the seeds.
//! So mutations of a correctly signed challenge reach what runs only after the signature
//! checks out: `sslverify`, the endpoint URL, the text limits, number-matching options and the
//! capabilities with their own JCS signature.
#![no_main]

use authcore::push::UnverifiedChallenge;
use authcore_fuzz::{credential, now, poll_only_credential};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(challenge) = UnverifiedChallenge::from_notification(text) else {
        return;
    };
    let validity = authcore::push::DEFAULT_CHALLENGE_VALIDITY;
    // The token with a push token, as a notification's target normally is...
    let _ = challenge.clone().verify(&credential(), now(), validity);
    // ...and the lookup by serial among several tokens, one of them poll-only (a gateway
    // message then has to name `no_firebase_token`).
    let _ = challenge.verify_with(&[poll_only_credential()], now(), validity);
});
