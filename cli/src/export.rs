//! `authcore export` and `authcore qr`: every secret leaving the vault, only when the caller
//! confirmed it (`--plaintext`) or gave a password to encrypt it with. Text on stdout, QR codes
//! as PNG files or drawn in the terminal, one warning line on stderr per account a format
//! cannot carry.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use authcore::authenticator::Authenticator;
use authcore::qr_render;
use clap::{Args, ValueEnum};
use zeroize::Zeroizing;

use crate::CliError;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportFormat {
    /// otpauth:// URIs, one per line.
    Otpauth,
    /// Google Authenticator transfer URIs (otpauth-migration://), one per QR of up to ten
    /// accounts; accounts it cannot carry are left out with a warning.
    Migration,
    /// An Aegis vault file (JSON), plain with --plaintext or encrypted with a password.
    Aegis,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    /// Confirms that you accept secrets written in the clear (text, QR codes, a plain Aegis file).
    #[arg(long)]
    pub plaintext: bool,
    /// Aegis only: encrypt the file with the password read from standard input. Without this
    /// flag, --password-stdin does the same (and the vault opens with its key file); with it,
    /// --password-stdin is the vault's password and this one the next line.
    #[arg(long)]
    pub file_password_stdin: bool,
    /// Migration only: write the QR codes as DIR/migration-1.png, migration-2.png, ...
    /// (DIR is created).
    #[arg(long, value_name = "DIR", conflicts_with = "terminal")]
    pub qr: Option<PathBuf>,
    /// Migration only: draw each QR code in the terminal, captioned 1/N, 2/N, ...
    #[arg(long)]
    pub terminal: bool,
}

#[derive(Args, Debug)]
pub struct QrArgs {
    /// Account id (or a unique prefix of it).
    pub id: String,
    /// Write the QR code to this PNG file instead of drawing it in the terminal.
    #[arg(long, value_name = "FILE")]
    pub png: Option<PathBuf>,
    /// Required: confirms that you accept the secret shown in the clear.
    #[arg(long)]
    pub plaintext: bool,
}

fn write_out(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::Failed(format!("cannot write standard output: {e}")))
}

fn render_error(e: qr_render::QrRenderError) -> CliError {
    if crate::is_callers_mistake(e.kind()) {
        CliError::BadInput(e.to_string())
    } else {
        CliError::Failed(e.to_string())
    }
}

/// A file only its owner can read: it holds secrets.
fn write_private(path: &Path, bytes: &[u8]) -> Result<(), CliError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
        .open(path)
        .and_then(|mut f| f.write_all(bytes))
        .map_err(|e| CliError::BadInput(format!("cannot write {}: {e}", path.display())))
}

pub fn export(auth: &Authenticator, args: ExportArgs) -> Result<(), CliError> {
    if args.format != ExportFormat::Migration && (args.qr.is_some() || args.terminal) {
        return Err(CliError::BadInput(
            "--qr and --terminal are for --format migration (one account: `authcore qr <ID>`)"
                .into(),
        ));
    }
    if args.format != ExportFormat::Aegis && args.file_password_stdin {
        return Err(CliError::BadInput(
            "--file-password-stdin is for --format aegis only".into(),
        ));
    }
    match args.format {
        ExportFormat::Aegis => aegis(auth, args.plaintext, args.file_password_stdin),
        _ if !args.plaintext => Err(CliError::BadInput(
            "export prints every secret in the clear: add --plaintext to confirm".into(),
        )),
        ExportFormat::Otpauth => {
            let mut text = Zeroizing::new(String::new());
            for line in auth.export_otpauth()? {
                text.push_str(&line);
                text.push('\n');
            }
            write_out(text.as_bytes())
        }
        ExportFormat::Migration => migration(auth, args.qr.as_deref(), args.terminal),
    }
}

fn aegis(auth: &Authenticator, plaintext: bool, password_stdin: bool) -> Result<(), CliError> {
    let password = match (plaintext, password_stdin) {
        (true, true) => {
            return Err(CliError::BadInput(
                "give --plaintext or --file-password-stdin, not both".into(),
            ));
        }
        (false, false) => {
            return Err(CliError::BadInput(
                "an Aegis export holds every secret: add --plaintext for a plain file, or --file-password-stdin to encrypt it".into(),
            ));
        }
        (true, false) => None,
        (false, true) => Some(crate::input::stdin_line(
            "the export password on standard input",
        )?),
    };
    let file = auth.export_aegis(password.as_deref().map(String::as_str))?;
    write_out(file.as_bytes())
}

fn migration(auth: &Authenticator, dir: Option<&Path>, terminal: bool) -> Result<(), CliError> {
    // A directory that cannot be made is bad input, said before any warning: one line.
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::BadInput(format!("cannot create {}: {e}", dir.display())))?;
    }
    let out = auth.export_migration_batch()?;
    for left in &out.left_out {
        eprintln!(
            "authcore: warning: left out {} ({}): {}",
            left.name, left.id, left.reason
        );
    }
    let total = out.payloads.len();
    if let Some(dir) = dir {
        for (i, payload) in out.payloads.iter().enumerate() {
            let path = dir.join(format!("migration-{}.png", i + 1));
            let png = qr_render::png(payload).map_err(render_error)?;
            write_private(&path, &png)?;
            println!("wrote {} ({}/{total})", path.display(), i + 1);
        }
        if total == 0 {
            println!("no account to export: nothing written");
        }
        return Ok(());
    }
    let mut text = Zeroizing::new(String::new());
    for (i, payload) in out.payloads.iter().enumerate() {
        if terminal {
            text.push_str(&qr_render::terminal(payload).map_err(render_error)?);
            text.push_str(&format!("{}/{total}\n\n", i + 1));
        } else {
            text.push_str(payload);
            text.push('\n');
        }
    }
    write_out(text.as_bytes())
}

pub fn qr(auth: &Authenticator, args: QrArgs) -> Result<(), CliError> {
    if !args.plaintext {
        return Err(CliError::BadInput(
            "a QR code shows the account's secret: add --plaintext to confirm".into(),
        ));
    }
    let uri = auth.export_otpauth_one(&args.id)?;
    match args.png {
        Some(path) => {
            let png = qr_render::png(&uri).map_err(render_error)?;
            write_private(&path, &png)?;
            println!("wrote {}", path.display());
            Ok(())
        }
        None => write_out(qr_render::terminal(&uri).map_err(render_error)?.as_bytes()),
    }
}
