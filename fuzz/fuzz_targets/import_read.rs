//! `authcore::import::read`: other apps' export files and backups (Aegis, 2FAS, andOTP,
//! Bitwarden JSON and CSV, Ente, Authenticator Pro, FreeOTP, Proton, Steam, Duo, Authy,
//! Battle.net, TOTP Authenticator, Google and Microsoft Authenticator databases, URI lists, QR
//! images). The first byte picks the format: 0 (and anything past the last format) lets the
//! importer recognise it from the content, as `authcore import FILE` does; `b` from 1 forces
//! `Format::ALL[b - 1]`, as `--format` does (formats added later are covered the same way).
//! The rest is the file.
//!
//! No password is given: an encrypted file then stops at "password needed" after its header
//! is parsed. With a password every input would pay for a key derivation (bounded up to
//! seconds by design, which a 10 s time-out would report as a hang), and a mutated ciphertext
//! never authenticates, so the fuzzer could not get past the AEAD into the decrypted content.
//! The import tests cover the KDF bounds and decryption.
#![no_main]

use authcore::import::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, file)) = data.split_first() else {
        return;
    };
    let format = usize::from(selector)
        .checked_sub(1)
        .and_then(|i| Format::ALL.get(i).copied());
    let Ok(imported) = import::read(file, format, None) else {
        return;
    };
    for entry in &imported.entries {
        if let Some(account) = entry.account()
            && let Ok(generator) = account.otp.generator()
        {
            let _ = generator.code_at(authcore_fuzz::now());
        }
        let _ = entry.skip_reason();
    }
    let _ = imported.dropped.is_empty();
});
