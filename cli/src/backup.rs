//! `authcore backup ...` (create, restore, verify, automatic backups and their status) and
//! `authcore reenroll` (what a new phone must enroll again). Under `backup`, `--password-stdin`
//! gives the backup's password; the vault opens with its key file.

use std::path::{Path, PathBuf};

use authcore::authenticator::{Authenticator, BackupStatus};
use authcore::backup::MAX_FILE_BYTES;
use authcore::vault::KdfParams;
use serde_json::{Value, json};

use clap::Subcommand;

use crate::{CliError, render};

#[derive(Subcommand, Debug)]
pub enum BackupCommand {
    /// Write an encrypted backup of every account to FILE (replaced atomically if it exists).
    Create {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup into this vault: it must be empty unless --merge (accounts already here
    /// are not added twice). A wrong password or a damaged file changes nothing.
    Restore {
        file: PathBuf,
        #[arg(long)]
        merge: bool,
        #[arg(long)]
        json: bool,
    },
    /// Decrypt a backup and compare it with the vault, changing nothing ("does my backup
    /// work?"). Exit 0 when it holds exactly what the vault holds, 1 when it differs.
    Verify {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Switch automatic backups on (a backup into DIR after every change, the newest N kept;
    /// the password is asked once, here) or off.
    Auto {
        #[arg(long, value_name = "DIR", conflicts_with = "off")]
        dir: Option<PathBuf>,
        #[arg(long, default_value_t = authcore::authenticator::DEFAULT_KEEP, value_name = "N")]
        keep: usize,
        #[arg(long)]
        off: bool,
    },
    /// What the automatic backups are set to and last did (last success, last error).
    Status {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(
    auth: &Authenticator,
    command: BackupCommand,
    password_stdin: bool,
) -> Result<(), CliError> {
    let password = || {
        if !password_stdin {
            return Err(CliError::BadInput(
                "the backup's password: give it on standard input with --password-stdin".into(),
            ));
        }
        crate::input::stdin_line("the backup password on standard input")
    };
    match command {
        BackupCommand::Create { file, json } => {
            let password = password()?;
            let bytes = auth.create_backup(&password, KdfParams::default())?;
            authcore::backup::write_atomically(&file, &bytes)?;
            let accounts = auth.accounts()?;
            let with_code = accounts.iter().filter(|a| a.algorithm.is_some()).count();
            let reenroll = auth.reenroll_list()?.len();
            if json {
                render::print_json(&json!({
                    "file": file.display().to_string(),
                    "accounts": with_code,
                    "reenroll": reenroll,
                }));
            } else {
                println!(
                    "Backup of {with_code} account(s) written to {}{}",
                    file.display(),
                    reenroll_hint(reenroll)
                );
            }
            Ok(())
        }
        BackupCommand::Restore { file, merge, json } => {
            let bytes = read_file(&file)?;
            let password = password()?;
            let report = auth.restore_backup(&bytes, &password, merge)?;
            if json {
                render::print_json(&render::record_json(&report));
            } else {
                println!(
                    "Restored {} account(s) from a backup made {}{}",
                    report.added.len(),
                    render::unix_time(report.created_at),
                    if report.duplicates.is_empty() {
                        String::new()
                    } else {
                        format!("; {} already here", report.duplicates.len())
                    }
                );
                for r in &report.reenroll {
                    println!(
                        "  enroll again: {} (push token {} at {})",
                        render::name(&r.issuer, &r.label),
                        r.serial,
                        r.server
                    );
                }
            }
            Ok(())
        }
        BackupCommand::Verify { file, json } => {
            let bytes = read_file(&file)?;
            let password = password()?;
            let report = auth.verify_backup(&bytes, &password)?;
            if json {
                let mut shown = render::record_json(&report);
                shown["identical"] = Value::from(report.is_identical());
                render::print_json(&shown);
            } else {
                println!(
                    "The backup decrypts: {} account(s), made {}.",
                    report.accounts,
                    render::unix_time(report.created_at)
                );
                for name in &report.only_in_backup {
                    println!("  only in the backup: {name}");
                }
                for name in &report.only_in_vault {
                    println!("  only in the vault: {name}");
                }
                for d in &report.different {
                    println!("  differs: {} ({})", d.name, d.fields.join(", "));
                }
            }
            if report.is_identical() {
                if !json {
                    println!("It holds exactly what the vault holds.");
                }
                Ok(())
            } else {
                Err(CliError::Failed(format!(
                    "the backup restores, but differs from the vault: {} only in the backup, {} only in the vault, {} different",
                    report.only_in_backup.len(),
                    report.only_in_vault.len(),
                    report.different.len()
                )))
            }
        }
        BackupCommand::Auto { dir, keep, off } => {
            if off {
                let before = auth.backup_status()?;
                auth.disable_auto_backup()?;
                match before.dir {
                    Some(dir) => println!(
                        "Automatic backups off (the backups in {} stay)",
                        dir.display()
                    ),
                    None => println!("Automatic backups were already off"),
                }
                return Ok(());
            }
            let Some(dir) = dir else {
                return Err(CliError::BadInput(
                    "backup auto: give --dir DIR to switch automatic backups on, or --off".into(),
                ));
            };
            let dir = std::fs::canonicalize(&dir)
                .map_err(|e| CliError::BadInput(format!("--dir {}: {e}", dir.display())))?;
            let password = password()?;
            let status = auth.enable_auto_backup(&dir, keep, &password, KdfParams::default())?;
            println!(
                "Automatic backups on: into {}, the newest {} kept; first backup: {}",
                dir.display(),
                status.keep,
                status
                    .last_file
                    .map(|f| f.display().to_string())
                    .unwrap_or_default()
            );
            Ok(())
        }
        BackupCommand::Status { json } => {
            let status = auth.backup_status()?;
            if json {
                render::print_json(&status_json(&status));
            } else {
                print!("{}", status_text(&status));
            }
            Ok(())
        }
    }
}

pub fn reenroll(auth: &Authenticator, json: bool) -> Result<(), CliError> {
    let items = auth.reenroll_list()?;
    if json {
        render::print_json(&render::record_json(&items));
        return Ok(());
    }
    if items.is_empty() {
        println!("Nothing to enroll again: every account moves with a backup or an export.");
    }
    for item in &items {
        let t = &item.token;
        println!(
            "{}: push token {} at {}{}\n  {}",
            render::name(&t.issuer, &t.label),
            t.serial,
            t.server,
            if t.has_code {
                " (its code moves with a backup)"
            } else {
                ""
            },
            item.action
        );
    }
    Ok(())
}

fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_FILE_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| CliError::BadInput(format!("backup file {}: {e}", path.display())))?;
    Ok(bytes)
}

fn reenroll_hint(count: usize) -> String {
    if count == 0 {
        String::new()
    } else {
        format!(
            "; {count} push token(s) must be enrolled again on a new phone: see `authcore reenroll`"
        )
    }
}

fn status_json(s: &BackupStatus) -> Value {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    json!({
        "enabled": s.enabled,
        "dir": path(&s.dir),
        "keep": s.enabled.then_some(s.keep),
        "backups": s.backups,
        "last_success_at": s.last_success_at,
        "last_file": path(&s.last_file),
        "last_error_at": s.last_error_at,
        "last_error": s.last_error,
    })
}

fn status_text(s: &BackupStatus) -> String {
    let Some(dir) = &s.dir else {
        return "Automatic backups are off\n".into();
    };
    let mut out = format!(
        "Automatic backups on: {} ({} kept, {} there now)\n",
        dir.display(),
        s.keep,
        s.backups
    );
    match (&s.last_file, s.last_success_at) {
        (Some(file), Some(at)) => {
            out += &format!(
                "last backup: {} ({})\n",
                render::unix_time(at),
                file.display()
            )
        }
        _ => out += "last backup: none yet\n",
    }
    if let (Some(error), Some(at)) = (&s.last_error, s.last_error_at) {
        out += &format!("last error: {} ({error})\n", render::unix_time(at));
    }
    out
}
