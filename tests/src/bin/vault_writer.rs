//! Writes to a vault in a loop until killed, printing each change only after it committed.
//! `vault_writer add VAULT KEYFILE RUN` adds accounts `RUN-0`, `RUN-1`, ...;
//! `vault_writer hotp VAULT KEYFILE ID` advances a HOTP counter and prints each value used;
//! `vault_writer create DIR RUN` creates key file `RUN-kN` and vault `RUN-vN` for N = 0, 1, ...;
//! `vault_writer backup VAULT KEYFILE RUN` adds accounts `RUN-0`, ... through the facade of a
//! vault with automatic backups on, writing the backup after each (`flush_backup`), and prints
//! the label once both the account and its backup are on disk;
//! `vault_writer edits VAULT KEYFILE RUN` cycles through the facade's other write paths (an
//! import of two accounts from an otpauth list, a rename, a move, passwordless moved between
//! accounts) and prints each edit once it committed: `import RUN-I`, `rename LABEL ISSUER`,
//! `move LABEL`, `passwordless LABEL`;
//! `vault_writer push VAULT KEYFILE RUN` keeps push requests `RUN-0`, ... and answers each,
//! printing `kept NONCE` and `answered NONCE` after each commit;
//! `vault_writer container VAULT KEYFILE RUN` registers container `SMPH-RUN` (printing
//! `registered SMPH-RUN`), then applies syncs that each bring token `RUN-I` and re-key the one
//! before, printing `synced RUN-I` after each sync's transaction.
use std::io::Write;
use std::path::Path;

use std::sync::Arc;

use authcore::account::AccountId;
use authcore::authenticator::{Authenticator, Config, ImportMode};
use authcore::clock::{Clock, SystemClock};
use authcore::policy::Platform;
use authcore::time::UnixTime;
use authcore::vault::{FileKeyStore, Unlock, Vault};
use authcore_tests::account_for;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut out = std::io::stdout().lock();
    match args.as_slice() {
        ["add", vault, key, run] => {
            let mut v = open(vault, key);
            for i in 0.. {
                let label = format!("{run}-{i}");
                let a = v
                    .add(account_for(&label), UnixTime::from_secs(i))
                    .unwrap_or_else(|e| fail(&e.to_string()));
                let _ = writeln!(out, "{} {label}", a.id);
                let _ = out.flush();
            }
        }
        ["hotp", vault, key, id] => {
            let mut v = open(vault, key);
            let id = AccountId::parse(id).unwrap_or_else(|e| fail(&e.to_string()));
            loop {
                let (used, _) = v
                    .advance_hotp(&id, UnixTime::from_secs(0))
                    .unwrap_or_else(|e| fail(&e.to_string()));
                let _ = writeln!(out, "{used}");
                let _ = out.flush();
            }
        }
        ["backup", vault, key, run] => {
            let store = FileKeyStore::open(Path::new(key)).unwrap_or_else(|e| fail(&e.to_string()));
            let auth = Authenticator::open(
                Path::new(vault),
                Unlock::KeyStore(&store),
                Config::offline(Arc::new(SystemClock)),
            )
            .unwrap_or_else(|e| fail(&e.to_string()));
            for i in 0.. {
                let label = format!("{run}-{i}");
                auth.add_accounts(vec![account_for(&label)])
                    .unwrap_or_else(|e| fail(&e.to_string()));
                auth.flush_backup().unwrap_or_else(|e| fail(&e.to_string()));
                let _ = writeln!(out, "{label}");
                let _ = out.flush();
            }
        }
        ["edits", vault, key, run] => {
            let store = FileKeyStore::open(Path::new(key)).unwrap_or_else(|e| fail(&e.to_string()));
            let auth = Authenticator::open(
                Path::new(vault),
                Unlock::KeyStore(&store),
                Config::offline(Arc::new(SystemClock)),
            )
            .unwrap_or_else(|e| fail(&e.to_string()));
            let base = |i: usize| format!("base-{}", (i / 4) % 5);
            let id_of = |label: &str| {
                auth.accounts()
                    .unwrap_or_else(|e| fail(&e.to_string()))
                    .into_iter()
                    .find(|a| a.label == label)
                    .map(|a| a.id.to_string())
                    .unwrap_or_else(|| fail(&format!("no account {label}")))
            };
            for i in 0usize.. {
                let line = match i % 4 {
                    0 => {
                        let text: String = ["a", "b"]
                            .iter()
                            .map(|half| {
                                let a = account_for(&format!("{run}-{i}-{half}"));
                                format!(
                                    "{}\n",
                                    authcore::uri::to_otpauth(
                                        &a.issuer,
                                        &a.label,
                                        &a.otp,
                                        &a.extra_params
                                    )
                                    .as_str()
                                )
                            })
                            .collect();
                        let preview = auth
                            .preview_import(text.as_bytes(), None, None)
                            .unwrap_or_else(|e| fail(&e.to_string()));
                        auth.commit_import(&preview, ImportMode::AllOrNothing)
                            .unwrap_or_else(|e| fail(&e.to_string()));
                        format!("import {run}-{i}")
                    }
                    1 => {
                        let issuer = format!("{run}-{i}");
                        auth.rename(&id_of(&base(i)), Some(issuer.clone()), None)
                            .unwrap_or_else(|e| fail(&e.to_string()));
                        format!("rename {} {issuer}", base(i))
                    }
                    2 => {
                        auth.move_to(&id_of(&base(i)), i % 7)
                            .unwrap_or_else(|e| fail(&e.to_string()));
                        format!("move {}", base(i))
                    }
                    _ => {
                        let to = id_of(&base(i));
                        let holder = auth
                            .accounts()
                            .unwrap_or_else(|e| fail(&e.to_string()))
                            .into_iter()
                            .find(|a| a.passwordless)
                            .map(|a| a.id.to_string());
                        match holder {
                            Some(from) if from != to => {
                                auth.move_passwordless(&from, &to, Platform::Desktop)
                            }
                            Some(_) => auth.disable_passwordless(&to),
                            None => auth.enable_passwordless(&to, Platform::Desktop),
                        }
                        .unwrap_or_else(|e| fail(&e.to_string()));
                        format!("passwordless {}", base(i))
                    }
                };
                let _ = writeln!(out, "{line}");
                let _ = out.flush();
            }
        }
        ["push", vault, key, run] => {
            let mut v = open(vault, key);
            for i in 0.. {
                let nonce = format!("{run}-{i}");
                let request = authcore_tests::push_request_for(&nonce);
                v.store_push_request(&request, request.received_at)
                    .unwrap_or_else(|e| fail(&e.to_string()));
                let _ = writeln!(out, "kept {nonce}");
                let _ = out.flush();
                v.mark_push_answered(&nonce, SystemClock.now())
                    .unwrap_or_else(|e| fail(&e.to_string()));
                let _ = writeln!(out, "answered {nonce}");
                let _ = out.flush();
            }
        }
        ["container", vault, key, run] => {
            use authcore::container::{ContainerKey, ContainerPolicies, TokenType};
            use authcore::vault::SyncChange;
            let mut v = open(vault, key);
            let serial = format!("SMPH-{run}");
            let key = ContainerKey::generate()
                .and_then(|k| k.to_pkcs8())
                .unwrap_or_else(|e| fail(&e));
            v.add_container(
                &serial,
                "privacyIDEA",
                "https://pi.example",
                true,
                &key,
                UnixTime::from_secs(0),
            )
            .unwrap_or_else(|e| fail(&e.to_string()));
            v.container_registered(&serial, &ContainerPolicies::default())
                .unwrap_or_else(|e| fail(&e.to_string()));
            let _ = writeln!(out, "registered {serial}");
            let _ = out.flush();
            let mut previous: Option<(AccountId, String)> = None;
            for i in 0.. {
                let label = format!("{run}-{i}");
                let mut changes = vec![SyncChange::Add {
                    new: account_for(&label),
                    token_serial: label.clone(),
                    token_type: TokenType::Totp,
                }];
                if let Some((id, token)) = previous.take() {
                    changes.push(SyncChange::Rekey {
                        id,
                        otp: account_for(&format!("{token}-rekeyed")).otp,
                        token_serial: token,
                        token_type: TokenType::Totp,
                    });
                }
                let added = v
                    .apply_container_sync(
                        &serial,
                        changes,
                        &ContainerPolicies::default(),
                        UnixTime::from_secs(i),
                    )
                    .unwrap_or_else(|e| fail(&e.to_string()));
                let _ = writeln!(out, "synced {label}");
                let _ = out.flush();
                previous = added.first().map(|a| (a.id.clone(), label));
            }
        }
        ["create", dir, run] => {
            for i in 0.. {
                let dir = Path::new(dir);
                let store = FileKeyStore::create(&dir.join(format!("{run}-k{i}")))
                    .unwrap_or_else(|e| fail(&e.to_string()));
                Vault::create(
                    &dir.join(format!("{run}-v{i}")),
                    &store,
                    None,
                    UnixTime::from_secs(i),
                )
                .unwrap_or_else(|e| fail(&e.to_string()));
                let _ = writeln!(out, "{i}");
                let _ = out.flush();
            }
        }
        _ => fail(
            "usage: vault_writer add VAULT KEYFILE RUN | hotp VAULT KEYFILE ID | create DIR RUN | backup VAULT KEYFILE RUN | edits VAULT KEYFILE RUN | push VAULT KEYFILE RUN | container VAULT KEYFILE RUN",
        ),
    }
}

fn open(vault: &str, key: &str) -> Vault {
    let store = FileKeyStore::open(Path::new(key)).unwrap_or_else(|e| fail(&e.to_string()));
    Vault::open(Path::new(vault), Unlock::KeyStore(&store)).unwrap_or_else(|e| fail(&e.to_string()))
}

fn fail(msg: &str) -> ! {
    eprintln!("vault_writer: {msg}");
    std::process::exit(1)
}
