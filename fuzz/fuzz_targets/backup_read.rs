//! `authcore::backup`: a backup file handed to restore or verify. The input is read as a whole
//! file (header checks; decrypted with the password `fuzz` when its stated key derivation is
//! cheap enough to afford per execution: a file demanding gigabytes is refused by the header
//! bounds or skipped here), and as the decrypted payload, which is also encrypted under a fixed
//! cheap key and read back, so the JSON and every entry's checks are reached directly.
#![no_main]

use std::sync::OnceLock;

use authcore::backup::{BackupKey, Payload, decrypt, encrypt, kdf_params};
use authcore::vault::KdfParams;
use libfuzzer_sys::fuzz_target;

const CHEAP: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

fn key() -> &'static BackupKey {
    static KEY: OnceLock<BackupKey> = OnceLock::new();
    KEY.get_or_init(|| match BackupKey::derive("fuzz", CHEAP) {
        Ok(key) => key,
        Err(e) => panic!("the fixed backup key: {e}"),
    })
}

fn read_payload(json: &[u8]) {
    if let Ok(payload) = Payload::from_json(json) {
        let _ = payload.new_accounts();
        let _ = payload.to_json();
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(params) = kdf_params(data)
        && params.memory_kib <= 256
        && params.iterations <= 2
        && params.parallelism <= 2
        && let Ok(json) = decrypt(data, "fuzz")
    {
        read_payload(&json);
    }
    read_payload(data);
    if let Ok(file) = encrypt(key(), data) {
        match decrypt(&file, "fuzz") {
            Ok(json) => assert_eq!(&json[..], data, "a backup must decrypt to what was sealed"),
            Err(e) => panic!("a backup just written does not decrypt: {e}"),
        }
    }
});
