//! `authcore container ...`: privacyIDEA smartphone containers from the desktop, on the same
//! core as the phone apps: register from the QR code, sync, move to a new device (the transfer
//! QR code), renew every secret, unregister, or forget one here.

use std::path::PathBuf;

use authcore::authenticator::{Authenticator, ContainerInfo, SyncReport};
use authcore::container::DeviceInfo;
use authcore::qr_render;
use authcore_http::block_on;
use clap::Subcommand;
use serde_json::json;

use crate::{CliError, input, render};

#[derive(Subcommand, Debug)]
pub enum ContainerCommand {
    /// Register a container from its QR code (pia://container/...), then sync it: every token
    /// it holds comes to this device.
    Register {
        qr: String,
        /// Read the registration's passphrase (the QR code asks for one) from the next line of
        /// standard input.
        #[arg(long)]
        passphrase_stdin: bool,
        /// The push (FCM/APNs) token for push tokens the container delivers.
        #[arg(long, value_name = "TOKEN")]
        push_token: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The containers registered here, with their tokens and the server's policies.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Sync one container, or every container: new tokens come in, removed ones go, HOTP
    /// counters catch up.
    Sync {
        serial: Option<String>,
        #[arg(long, value_name = "TOKEN")]
        push_token: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Move the container to a new device: prints the QR code for the new device to scan.
    /// Once it has registered, every token has new secrets and this device's codes stop
    /// working. For a lost device, the admin starts the same rollover on the server.
    Rollover {
        serial: String,
        /// Write the QR code as a PNG file instead of drawing it in the terminal.
        #[arg(long, value_name = "FILE")]
        png: Option<PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Renew every secret of the container on this device (a rollover onto itself).
    Renew {
        serial: String,
        #[arg(long)]
        passphrase_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// End this device's registration and forget the container here (its accounts stay).
    /// This does NOT make a lost device's codes invalid: use a rollover for that.
    Unregister { serial: String },
    /// Forget the container here without asking the server (it moved to another device);
    /// --delete-accounts removes the accounts holding its tokens too.
    Forget {
        serial: String,
        #[arg(long)]
        delete_accounts: bool,
    },
}

pub fn run(auth: &Authenticator, command: ContainerCommand) -> Result<(), CliError> {
    match command {
        ContainerCommand::Register {
            qr,
            passphrase_stdin,
            push_token,
            json,
        } => {
            let scanned = auth.scan_container(qr.trim())?;
            let passphrase = if passphrase_stdin {
                Some(input::stdin_line("the passphrase")?)
            } else {
                None
            };
            let device = DeviceInfo {
                brand: Some("authcore".to_owned()),
                model: Some(format!("CLI {}", env!("CARGO_PKG_VERSION"))),
            };
            let registered = block_on(auth.register_container(
                scanned,
                passphrase.as_deref().map(|p| p.as_str()),
                device,
                push_token.as_deref(),
            ))?;
            if json {
                render::print_json(&json!(registered));
            } else {
                println!(
                    "Registered container {} with {}",
                    registered.container.serial, registered.container.url
                );
                match (&registered.sync, &registered.sync_error) {
                    (Some(report), _) => print!("{}", sync_text(report)),
                    (None, Some(e)) => eprintln!(
                        "authcore: warning: the first sync failed ({e}); run `authcore container sync {}`",
                        registered.container.serial
                    ),
                    (None, None) => {}
                }
            }
        }
        ContainerCommand::List { json } => {
            let containers = auth.containers()?;
            if json {
                render::print_json(&json!(containers));
            } else if containers.is_empty() {
                println!("No containers.");
            } else {
                for c in &containers {
                    print!("{}", container_text(c));
                }
            }
        }
        ContainerCommand::Sync {
            serial,
            push_token,
            json,
        } => match serial {
            Some(serial) => {
                let report = block_on(auth.sync_container(serial.trim(), push_token.as_deref()))?;
                if json {
                    render::print_json(&json!(report));
                } else {
                    print!("{}", sync_text(&report));
                }
            }
            None => {
                let all = block_on(auth.sync_containers(push_token.as_deref()))?;
                let failed = all.iter().filter(|(_, r)| r.is_err()).count();
                if json {
                    render::print_json(&json!(
                        all.iter()
                            .map(|(serial, r)| match r {
                                Ok(report) => json!({"serial": serial, "report": report}),
                                Err(e) => json!({"serial": serial, "error": e}),
                            })
                            .collect::<Vec<_>>()
                    ));
                } else {
                    if all.is_empty() {
                        println!("No containers.");
                    }
                    for (serial, result) in &all {
                        match result {
                            Ok(report) => print!("{}", sync_text(report)),
                            Err(e) => eprintln!("authcore: {serial}: {e}"),
                        }
                    }
                }
                if failed > 0 {
                    return Err(CliError::Failed(format!(
                        "{failed} of {} container(s) did not sync",
                        all.len()
                    )));
                }
            }
        },
        ContainerCommand::Rollover { serial, png, json } => {
            let qr = block_on(auth.container_transfer_qr(serial.trim()))?;
            if json {
                render::print_json(&json!({"serial": serial.trim(), "qr": qr}));
            } else if let Some(path) = png {
                let bytes = qr_render::png(&qr).map_err(|e| CliError::Failed(e.to_string()))?;
                std::fs::write(&path, bytes)
                    .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
                println!(
                    "wrote {}: scan it with the new device within the server's time limit",
                    path.display()
                );
            } else {
                let drawn =
                    qr_render::terminal(&qr).map_err(|e| CliError::Failed(e.to_string()))?;
                print!("{}", drawn.as_str());
                println!("{qr}");
                println!(
                    "Scan it with the new device; this device's codes stop working once it has registered."
                );
            }
        }
        ContainerCommand::Renew {
            serial,
            passphrase_stdin,
            json,
        } => {
            let passphrase = if passphrase_stdin {
                Some(input::stdin_line("the passphrase")?)
            } else {
                None
            };
            let report = block_on(auth.renew_container(
                serial.trim(),
                passphrase.as_deref().map(|p| p.as_str()),
                None,
            ))?;
            if json {
                render::print_json(&json!(report));
            } else {
                print!("{}", sync_text(&report));
            }
        }
        ContainerCommand::Unregister { serial } => {
            let done = block_on(auth.unregister_container(serial.trim()))?;
            println!(
                "Unregistered container {}{}; {} account(s) kept here.",
                done.serial,
                if done.already_gone {
                    " (the server had already forgotten it)"
                } else {
                    ""
                },
                done.accounts_kept
            );
            println!(
                "Note: their codes still work at the server. To stop a lost device's codes, roll the container over (or have the tokens disabled)."
            );
        }
        ContainerCommand::Forget {
            serial,
            delete_accounts,
        } => {
            let n = auth.forget_container(serial.trim(), delete_accounts)?;
            println!(
                "Forgot container {}; {n} account(s) {}.",
                serial.trim(),
                if delete_accounts { "deleted" } else { "kept" }
            );
        }
    }
    Ok(())
}

fn sync_text(r: &SyncReport) -> String {
    let mut out = format!(
        "Synced {}: {} added, {} renewed, {} taken over, {} unchanged, {} removed\n",
        r.serial,
        r.added.len(),
        r.rekeyed.len(),
        r.taken_over.len(),
        r.unchanged,
        r.removed.len()
    );
    for a in &r.added {
        out.push_str(&format!(
            "  + {} ({})\n",
            render::name(&a.issuer, &a.label),
            a.id
        ));
    }
    for name in &r.removed {
        out.push_str(&format!("  - {name}\n"));
    }
    for p in &r.problems {
        out.push_str(&format!("  ! {p}\n"));
    }
    out
}

fn container_text(c: &ContainerInfo) -> String {
    let mut out = format!(
        "{}  {}  {}{}\n",
        c.serial,
        c.url,
        if c.registered {
            "registered"
        } else {
            "registering"
        },
        c.last_sync_at
            .map(|t| format!(", last sync {}", render::unix_time(t)))
            .unwrap_or_default()
    );
    if let Some(e) = &c.last_error {
        out.push_str(&format!("  last error: {e}\n"));
    }
    for t in &c.tokens {
        out.push_str(&format!(
            "  {:<14} {:<11} {} ({})\n",
            t.token_serial, t.token_type, t.name, t.account_id
        ));
    }
    out
}
