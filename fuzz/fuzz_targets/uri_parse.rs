//! `authcore::uri::parse`: what a scanned QR code hands the app, `otpauth://` (TOTP, HOTP,
//! Steam) and Google Authenticator's `otpauth-migration://` transfer payload (base64 protobuf).
//! Whatever parses is also written back (`to_otpauth`, `to_migration`) and made to produce
//! codes, since a parsed account goes straight on to both.
#![no_main]

use authcore::uri;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // A QR scanner hands the app text; bytes that are not UTF-8 never reach the parser.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(accounts) = uri::parse(text) else {
        return;
    };
    let mut for_migration = Vec::with_capacity(accounts.len());
    for account in accounts {
        let _ = uri::to_otpauth(
            &account.issuer,
            &account.label,
            &account.otp,
            &account.extra_params,
        );
        if let Ok(generator) = account.otp.generator() {
            let _ = generator.code_at(authcore_fuzz::now());
            let _ = generator.code_at(authcore::time::UnixTime::from_millis(i64::MAX));
            let _ = generator.code_for_counter(u64::MAX);
        }
        let validated = account.clone().validated();
        let _ = validated;
        for_migration.push((account.issuer, account.label, account.otp));
    }
    let _ = uri::to_migration(&for_migration);
});
