//! `authcore::container`: what a container QR code and a container server hand the phone. The
//! input is read as a registration QR code (`ContainerRegistration::parse`), as a server's
//! envelope (`client::parse_envelope`, every error code), as a decrypted sync answer
//! (`sync::parse_delivery`, then each delivered URI through the otpauth and push enrollment
//! parsers, as a sync applies them), and as the three encrypted fields of a sync answer (IV, tag,
//! ciphertext, one per line) opened with a fixed key.
#![no_main]

use authcore::container::ContainerRegistration;
use authcore::container::client::parse_envelope;
use authcore::container::crypto::{EncryptedAnswer, decrypt};
use authcore::container::sync::parse_delivery;
use authcore::push::PushEnrollment;
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [7; 32];

fuzz_target!(|data: &[u8]| {
    let at = authcore::time::UnixTime::from_secs(1_796_000_000);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(r) = ContainerRegistration::parse(text, at) {
            let _ = (r.expires_at(), r.needs_passphrase(), format!("{r:?}"));
        }
        let mut lines = text.lines();
        if let (Some(iv), Some(tag), Some(ciphertext)) = (lines.next(), lines.next(), lines.next())
        {
            let answer = EncryptedAnswer {
                server_public_key: "",
                init_vector: iv,
                tag,
                ciphertext,
            };
            if let Ok(plain) = decrypt(&KEY, &answer) {
                let _ = parse_delivery("SMPH0001", &plain);
            }
        }
    }
    for status in [200, 400] {
        if let Err(e) = parse_envelope("SMPH0001", status, data) {
            let _ = (e.to_string(), e.kind(), e.facts());
        }
    }
    if let Ok(delivery) = parse_delivery("SMPH0001", data) {
        for uri in &delivery.add {
            let _ = authcore::uri::parse_otpauth(uri);
            let _ = PushEnrollment::parse(uri, at, at);
        }
    }
});
