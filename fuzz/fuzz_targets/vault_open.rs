//! Opening a vault from a file the fuzzer wrote: the bytes become `vault.sqlite` next to a
//! valid FileKeyStore key file, and `Vault::open` with `Unlock::KeyStore` runs on it, followed
//! by every read a launch does (`authcore_fuzz::exercise_vault`). Seeds are real vaults, so
//! mutations start from SQLite files that open; `vault_mutate` keeps the file whole and only
//! changes bytes, which gets further past SQLite's own checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    authcore_fuzz::exercise_vault(data);
});
