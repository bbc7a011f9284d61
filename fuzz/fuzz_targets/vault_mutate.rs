//! A valid vault (seeds/vault_open/full.sqlite: OTP and push accounts, a password slot,
//! settings, pending push requests) with bytes changed at offsets the fuzzer picks, then opened
//! and read like `vault_open`. Random files rarely get past SQLite's header and page checks;
//! a few changed bytes in a real vault reach the core's own handling of damage: a wrong
//! `user_version`, a flipped type byte in a record, a sealed secret or key slot cut short.
//!
//! Input: 4-byte records `[o0, o1, o2, v]`; byte `(o0 | o1 << 8 | o2 << 16) % len` of the file
//! becomes `v`. A trailing partial record is ignored; no records means the intact vault.
#![no_main]

use libfuzzer_sys::fuzz_target;

const BASE: &[u8] = include_bytes!("../seeds/vault_open/full.sqlite");

fuzz_target!(|data: &[u8]| {
    let mut file = BASE.to_vec();
    for record in data.chunks_exact(4) {
        let offset =
            usize::from(record[0]) | usize::from(record[1]) << 8 | usize::from(record[2]) << 16;
        let at = offset % file.len();
        file[at] = record[3];
    }
    authcore_fuzz::exercise_vault(&file);
});
