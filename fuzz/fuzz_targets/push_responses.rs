//! The other server responses the push client reads: registration (enrollment step 2, whose
//! `detail.public_key` is the server's RSA key as base64 DER), answers (accept, number
//! matching, decline with a reason; code-to-phone details) and push-token updates. The first
//! byte picks the call; the rest is the response framing of `authcore_fuzz::canned_from`.
#![no_main]

use std::sync::Arc;
use std::time::Duration;

use authcore::push::{
    Capabilities, DeclineReason, PushAnswer, PushClient, PushClientConfig, PushEnrollment,
    PushRequest,
};
use authcore_fuzz::{CannedTransport, SERIAL, URL, ZeroSigner, canned_from, credential, now};
use libfuzzer_sys::fuzz_target;

/// A pending request of the test token, as a verified challenge would have made it.
fn request(require_presence: Option<Vec<String>>) -> PushRequest {
    PushRequest {
        nonce: "GQ4TKMZUGY3DGMBQHA2DMMRXG42TCOBV".to_owned(),
        serial: SERIAL.to_owned(),
        title: "Fuzz Org".to_owned(),
        question: "Sign in as robin?".to_owned(),
        url: URL.to_owned(),
        sslverify: true,
        require_presence,
        capabilities: Capabilities {
            decline_reason: true,
            verified: true,
        },
        received_at: now(),
        expires_at: now() + Duration::from_secs(120),
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&call, rest)) = data.split_first() else {
        return;
    };
    let transport = Arc::new(CannedTransport(canned_from(rest)));
    let client = PushClient::new(transport, PushClientConfig::default());
    let key = ZeroSigner;
    let credential = credential();
    match call % 5 {
        0 => {
            let uri = format!(
                "otpauth://pipush/robin?url={URL}&ttl=10&issuer=Fuzz%20Org\
                 &enrollment_credential=5f1c0ffee0ddba11&v=1&serial={SERIAL}\
                 &sslverify=1&poll_only=False"
            );
            let enrollment =
                PushEnrollment::parse(&uri, now(), now()).expect("the fixed enrollment URI parses");
            let _ = futures_executor::block_on(client.register(
                &enrollment,
                &key,
                Some(authcore_fuzz::FB_TOKEN),
                now(),
            ));
        }
        1 => {
            let _ = futures_executor::block_on(client.answer(
                &credential,
                &key,
                &request(None),
                &PushAnswer::Accept,
                now(),
            ));
        }
        2 => {
            let options = vec!["17".to_owned(), "42".to_owned(), "86".to_owned()];
            let _ = futures_executor::block_on(client.answer(
                &credential,
                &key,
                &request(Some(options)),
                &PushAnswer::AcceptWithPresence("42".to_owned()),
                now(),
            ));
        }
        3 => {
            let _ = futures_executor::block_on(client.answer(
                &credential,
                &key,
                &request(None),
                &PushAnswer::DeclineWithReason(DeclineReason::UnknownTrigger),
                now(),
            ));
        }
        _ => {
            let _ = futures_executor::block_on(client.update_push_token(
                &credential,
                &key,
                "fuzz-device-token-8",
                now(),
            ));
        }
    }
    let _ = client.clock_offsets();
});
