//! `authcore`: the desktop command-line face of the core, and its stable scripting interface.
//!
//! Exit status: 0 on success, 2 when the caller can fix it (a URI, an id, an argument, the
//! password, a push request refused here), 1 when something else failed (the vault, the disk,
//! the key store, the network, the server), decided by the core's `ErrorKind`. Errors are one
//! line on stderr.

mod backup;
mod commands;
mod container;
mod export;
mod home;
mod import;
mod input;
mod log;
mod push;
mod render;

use std::path::PathBuf;

/// Every freed block zeroed, so no secret the core or its dependencies used outlives its use
/// (core/src/allocator.rs).
#[global_allocator]
static ALLOCATOR: authcore::allocator::Zeroizing = authcore::allocator::ZEROIZING;
use std::process::ExitCode;

use authcore::authenticator::ErrorKind;
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "authcore",
    version,
    about = "Two-factor codes from an encrypted local vault.",
    long_about = "Two-factor codes (TOTP, HOTP, Steam) from an encrypted local vault.\n\n\
        The first call creates the vault in your data directory, unlocked by a key file that only \
        you can read. Use --home or AUTHCORE_HOME to keep it elsewhere."
)]
pub struct Cli {
    /// Directory holding the vault and its key file.
    #[arg(long, global = true, env = "AUTHCORE_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Unlock with the vault password read from the first line of standard input, instead of the
    /// key file (for a copied vault, or when the key file is lost).
    #[arg(long, global = true)]
    pub password_stdin: bool,

    /// Print the core's diagnostics of at least this level on standard error (never a secret).
    #[arg(long, global = true, env = "AUTHCORE_LOG", value_name = "LEVEL",
          value_parser = ["error", "warn", "info", "debug"])]
    pub log: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Add accounts from an otpauth:// URI or a Google Authenticator transfer URI
    /// (otpauth-migration://). `-` reads URIs from standard input, one per line.
    Add {
        /// The URI, or `-` for standard input.
        #[arg(required_unless_present = "qr")]
        uri: Option<String>,
        /// Add what the QR codes in this PNG or JPEG image carry instead.
        #[arg(long, value_name = "IMAGE", conflicts_with = "uri")]
        qr: Option<PathBuf>,
        /// Print the added accounts as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Import another app's export or backup (Aegis, 2FAS, andOTP, Bitwarden, Ente, Authenticator
    /// Pro, FreeOTP, Proton, Steam, Duo, Authy, TOTP Authenticator, LastPass, WinAuth,
    /// Authenticator Plus, Google/Microsoft Authenticator databases, Google transfer QR text or
    /// images, otpauth lists). The format is recognised from the content.
    Import {
        /// The file, or `-` for standard input.
        file: String,
        /// The format, overriding recognition (e.g. aegis, 2fas, andotp, bitwarden, ente).
        #[arg(long, value_name = "FORMAT")]
        format: Option<String>,
        /// Read the file's password from standard input (the line after the vault's password
        /// when --password-stdin is also given).
        #[arg(long)]
        file_password_stdin: bool,
        /// Show what would be imported; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Import nothing unless every entry can be imported.
        #[arg(long)]
        all_or_nothing: bool,
        #[arg(long)]
        json: bool,
    },
    /// List accounts in the vault's order.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show current codes of time-based accounts, with seconds left and the next code.
    Codes {
        /// Only accounts whose issuer or label contains this (any case), or whose id starts with it.
        query: Option<String>,
        /// Compute codes at this Unix time instead of now (no clock offset applied).
        #[arg(long, value_name = "UNIX_SECONDS", allow_negative_numbers = true)]
        at: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Advance a HOTP account's counter and print the code.
    Next {
        /// Account id (or a unique prefix of it).
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Rename an account.
    Rename {
        /// Account id (or a unique prefix of it).
        id: String,
        #[arg(long)]
        issuer: Option<String>,
        #[arg(long)]
        label: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Put an account in a group, or take it out (no NAME).
    Group { id: String, name: Option<String> },
    /// Set an account's note, or clear it (no TEXT).
    Note { id: String, text: Option<String> },
    /// Move an account to a position in the list (0 is the top).
    Move { id: String, position: usize },
    /// Delete an account. Its secret is gone for good: export first if unsure.
    Rm {
        id: String,
        #[arg(long)]
        json: bool,
    },
    /// Export every account with its secret, for another app or a backup: otpauth URIs,
    /// Google Authenticator transfer QRs (text, PNG files or the terminal), or an Aegis vault
    /// file (plain, or encrypted with a password).
    Export(export::ExportArgs),
    /// Show one account as an otpauth QR code (in the terminal, or a PNG file), to move it alone.
    Qr(export::QrArgs),
    /// A live view of all codes with a countdown, refreshed every second (Ctrl-C ends it).
    Watch {
        query: Option<String>,
        /// Stop after this many refreshes (for scripts and tests).
        #[arg(long, hide = true)]
        frames: Option<u32>,
    },
    /// Show or correct the clock the codes use.
    Time {
        #[command(subcommand)]
        command: TimeCommand,
    },
    /// Manage the vault's optional password slot.
    Password {
        #[command(subcommand)]
        command: PasswordCommand,
    },
    /// Show and change passwordless (phone sign-in) under a platform's rule.
    Passwordless {
        #[command(subcommand)]
        command: PasswordlessCommand,
    },
    /// Push approvals (privacyIDEA PUSH): enroll, check for requests, approve or deny.
    Push {
        #[command(subcommand)]
        command: push::PushCommand,
    },
    /// Encrypted backups of authcore's own: create, restore (on a new phone, or merged), verify,
    /// and automatic backups after every change. Here --password-stdin gives the backup's
    /// password (the first line of standard input); the vault opens with its key file.
    Backup {
        #[command(subcommand)]
        command: backup::BackupCommand,
    },
    /// privacyIDEA smartphone containers: register from the QR code, sync, move to a new
    /// device, renew every secret, unregister.
    Container {
        #[command(subcommand)]
        command: container::ContainerCommand,
    },
    /// What cannot move to a new phone (push tokens, bound to this phone's device key) and what
    /// to do about each. Holds no secret.
    Reenroll {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum PasswordlessCommand {
    /// The rule for a platform and the accounts that have passwordless on.
    Show {
        #[arg(long, default_value = "desktop")]
        platform: String,
        #[arg(long)]
        json: bool,
    },
    /// Turn passwordless on for an account, if the platform's rule allows one more.
    Enable {
        id: String,
        #[arg(long, default_value = "desktop")]
        platform: String,
    },
    /// Turn passwordless off for an account.
    Disable { id: String },
    /// Move passwordless from one account to another in one step.
    Move {
        from: String,
        to: String,
        #[arg(long, default_value = "desktop")]
        platform: String,
    },
    /// Replace the rules with a JSON rule set (as an issuer supplies it), or --reset to defaults.
    /// Example: '{"passwordless":{"ios":{"max_accounts":null},"android":{"max_accounts":1}}}'
    Rules {
        #[arg(conflicts_with = "reset", required_unless_present = "reset")]
        json: Option<String>,
        #[arg(long)]
        reset: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum TimeCommand {
    /// Print the system time, the stored offset and the corrected time.
    Show {
        #[arg(long)]
        json: bool,
    },
    /// Store an offset in seconds added to the system clock (e.g. -12 or 30; 0 clears it).
    SetOffset {
        #[arg(allow_hyphen_values = true)]
        seconds: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum PasswordCommand {
    /// Add or change the password (read from the first line of standard input).
    Set,
    /// Remove the password slot; the key file alone will unlock the vault.
    Remove,
    /// Say whether a password slot exists.
    Status,
}

/// A failure with the exit status it deserves.
#[derive(Debug)]
pub enum CliError {
    BadInput(String),
    Failed(String),
}

impl From<authcore::backup::BackupError> for CliError {
    fn from(e: authcore::backup::BackupError) -> Self {
        authcore::authenticator::AuthError::from(e).into()
    }
}

impl From<authcore::authenticator::AuthError> for CliError {
    fn from(e: authcore::authenticator::AuthError) -> Self {
        if is_callers_mistake(e.kind()) {
            CliError::BadInput(e.to_string())
        } else {
            CliError::Failed(e.to_string())
        }
    }
}

/// Exit status 2 (the caller can fix it by asking differently: other input, another id, the
/// right password, a fresh QR code) against 1 (the device, the disk, the network or the server
/// failed), decided by the core's classification alone.
pub(crate) fn is_callers_mistake(kind: ErrorKind) -> bool {
    match kind {
        ErrorKind::BadInput
        | ErrorKind::NotFound
        | ErrorKind::Ambiguous
        | ErrorKind::WrongPassword
        | ErrorKind::BadPush
        | ErrorKind::Forged
        | ErrorKind::Replayed
        | ErrorKind::Expired
        | ErrorKind::PasswordlessLimit
        | ErrorKind::NeedsNumberMatching
        | ErrorKind::NeedsUnlock => true,
        ErrorKind::KeyStore
        | ErrorKind::Vault
        | ErrorKind::AnswerRefused
        | ErrorKind::ServerRefused
        | ErrorKind::Network
        | ErrorKind::Clock
        | ErrorKind::Internal
        | ErrorKind::ContainerMoved
        | ErrorKind::ContainerGone => false,
    }
}

/// A usage error as one line (clap's own spans several: the error, possible values, a hint).
fn usage_error_line(error: &clap::Error) -> String {
    let rendered = error.render().to_string();
    let text = rendered
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("For more information")
                && !line.starts_with("Usage:")
        })
        .collect::<Vec<_>>()
        .join(" ");
    text.strip_prefix("error: ").unwrap_or(&text).to_owned()
}

/// An error as one line, whatever a message quotes (the core escapes what it echoes; this also
/// covers the CLI's own messages, which may name a path).
fn one_line(message: &str) -> String {
    message
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                // --help and --version print to stdout and succeed; a command given without
                // its subcommand shows that command's help (on stderr, as bad input).
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    ExitCode::from(2)
                }
                _ => {
                    eprintln!("authcore: {}", usage_error_line(&e));
                    ExitCode::from(2)
                }
            };
        }
    };
    match commands::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(CliError::BadInput(msg)) => {
            eprintln!("authcore: {}", one_line(&msg));
            ExitCode::from(2)
        }
        Err(CliError::Failed(msg)) => {
            eprintln!("authcore: {}", one_line(&msg));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_status_follows_the_kind() {
        let twos: Vec<ErrorKind> = ErrorKind::ALL
            .into_iter()
            .filter(|k| is_callers_mistake(*k))
            .collect();
        assert_eq!(
            twos,
            [
                ErrorKind::BadInput,
                ErrorKind::NotFound,
                ErrorKind::Ambiguous,
                ErrorKind::WrongPassword,
                ErrorKind::BadPush,
                ErrorKind::Forged,
                ErrorKind::Replayed,
                ErrorKind::Expired,
                ErrorKind::PasswordlessLimit,
                ErrorKind::NeedsNumberMatching,
                ErrorKind::NeedsUnlock,
            ]
        );
    }
}
