//! Writes to a vault in a loop until killed, printing each change only after it committed.
//! `vault_writer add VAULT KEYFILE RUN` adds accounts `RUN-0`, `RUN-1`, ...;
//! `vault_writer hotp VAULT KEYFILE ID` advances a HOTP counter and prints each value used.
use std::io::Write;
use std::path::Path;

use authcore::account::AccountId;
use authcore::vault::{FileKeyStore, Unlock, Vault};
use authcore_tests::account_for;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, mode, vault, key, arg] = args.as_slice() else {
        eprintln!("usage: vault_writer add|hotp VAULT KEYFILE RUN|ID");
        std::process::exit(2);
    };
    let store = FileKeyStore::open(Path::new(key)).unwrap_or_else(|e| fail(&e.to_string()));
    let mut v = Vault::open(Path::new(vault), Unlock::KeyStore(&store))
        .unwrap_or_else(|e| fail(&e.to_string()));
    let mut out = std::io::stdout().lock();
    match mode.as_str() {
        "add" => {
            for i in 0.. {
                let label = format!("{arg}-{i}");
                let a = v
                    .add(account_for(&label), i)
                    .unwrap_or_else(|e| fail(&e.to_string()));
                let _ = writeln!(out, "{} {label}", a.id);
                let _ = out.flush();
            }
        }
        "hotp" => {
            let id = AccountId::parse(arg).unwrap_or_else(|e| fail(&e.to_string()));
            loop {
                let (used, _) = v
                    .advance_hotp(&id, 0)
                    .unwrap_or_else(|e| fail(&e.to_string()));
                let _ = writeln!(out, "{used}");
                let _ = out.flush();
            }
        }
        other => fail(&format!("unknown mode {other}")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("vault_writer: {msg}");
    std::process::exit(1)
}
