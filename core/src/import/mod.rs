//! `import`: other authenticator apps' export files and backups in, as accounts to add.
//!
//! Pure: bytes (and an optional password) in, a list of [`ImportEntry`]s out; nothing is stored
//! here (the facade's `preview_import` / `commit_import` do that in one vault transaction).
//! The format is recognised from the content (`detect.rs`), never from a file name; an explicit
//! [`Format`] overrides. Input is read within [`MAX_INPUT_BYTES`]; every key-derivation
//! parameter a file names is bounded before any work is done (`crypto.rs`).
//!
//! Files, one per format family, each owning its parser and its decryption:
//! `entry.rs` (building accounts and skips), `uris.rs` (otpauth lists, Google transfer lines,
//! Ente's plain text), `aegis.rs`, `twofas.rs`, `andotp.rs`, `bitwarden.rs`, `ente.rs`,
//! `stratum.rs` (Authenticator Pro), `freeotp.rs` (FreeOTP+ JSON, FreeOTP v1 XML and v2 backups),
//! `json_apps.rs` (Proton Authenticator, Steam maFiles, Duo, LastPass Authenticator), `prefs.rs` (Android
//! shared-preferences XML: Authy, Battle.net, TOTP Authenticator), `totp_authenticator.rs`
//! (its encrypted backup), `sqlite.rs` (Google and Microsoft Authenticator, Authenticator Pro
//! databases), `qr.rs` (QR codes in PNG and JPEG images; the decoder in `qr/decode.rs`,
//! feature `qr-image`), `archive.rs` (zip archives within bounds) for `winauth.rs` (WinAuth's
//! zip export) and `authenticator_plus.rs` (its zip export and its SQLCipher database,
//! decrypted by `sqlcipher.rs`).

mod aegis;
mod andotp;
mod archive;
mod authenticator_plus;
mod bitwarden;
mod crypto;
mod detect;
mod ente;
mod entry;
mod error;
mod freeotp;
mod json_apps;
mod prefs;
mod qr;
mod sqlcipher;
mod sqlite;
mod stratum;
mod totp_authenticator;
mod twofas;
mod uris;
mod winauth;

use std::fmt;

pub use self::crypto::{
    MAX_ARGON2_ITERATIONS, MAX_ARGON2_MEMORY_KIB, MAX_PBKDF2_ITERATIONS, MAX_SCRYPT_LOG_N,
};
pub use self::detect::detect;
pub use self::error::ImportError;
pub use self::qr::decode_qr_image;
pub(crate) use self::qr::in_contained_decoder;

use crate::account::NewAccount;

/// The largest file read: far above any real export (Aegis with icons for hundreds of accounts
/// is a few MiB; a phone photo of a QR code under 20 MiB), far below what hurts a phone.
pub const MAX_INPUT_BYTES: usize = 32 * 1024 * 1024;

/// Every format this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// otpauth:// URIs (and Google transfer URIs), one a line, `#` comments.
    UriList,
    Aegis,
    TwoFas,
    AndOtp,
    Bitwarden,
    BitwardenCsv,
    Ente,
    AuthenticatorPro,
    AuthenticatorProDb,
    FreeOtpPlus,
    FreeOtp,
    FreeOtpBackup,
    Proton,
    Steam,
    Duo,
    LastPass,
    /// WinAuth's zip export (ZipCrypto) of otpauth URIs.
    WinAuth,
    /// Authenticator Plus's zip export (ZipCrypto) holding `Accounts.txt`.
    AuthenticatorPlus,
    /// Authenticator Plus's SQLCipher 3 backup, `authplus.db`.
    AuthenticatorPlusDb,
    BattleNet,
    Authy,
    TotpAuthenticator,
    GoogleAuthenticatorDb,
    MicrosoftAuthenticatorDb,
    /// A PNG or JPEG image holding QR codes (otpauth or Google transfer).
    QrImage,
}

impl Format {
    pub const ALL: [Format; 25] = [
        Format::UriList,
        Format::Aegis,
        Format::TwoFas,
        Format::AndOtp,
        Format::Bitwarden,
        Format::BitwardenCsv,
        Format::Ente,
        Format::AuthenticatorPro,
        Format::AuthenticatorProDb,
        Format::FreeOtpPlus,
        Format::FreeOtp,
        Format::FreeOtpBackup,
        Format::Proton,
        Format::Steam,
        Format::Duo,
        Format::LastPass,
        Format::WinAuth,
        Format::AuthenticatorPlus,
        Format::AuthenticatorPlusDb,
        Format::BattleNet,
        Format::Authy,
        Format::TotpAuthenticator,
        Format::GoogleAuthenticatorDb,
        Format::MicrosoftAuthenticatorDb,
        Format::QrImage,
    ];

    /// The name the CLI's `--format` takes and reports print.
    pub fn id(self) -> &'static str {
        match self {
            Format::UriList => "otpauth",
            Format::Aegis => "aegis",
            Format::TwoFas => "2fas",
            Format::AndOtp => "andotp",
            Format::Bitwarden => "bitwarden",
            Format::BitwardenCsv => "bitwarden-csv",
            Format::Ente => "ente",
            Format::AuthenticatorPro => "authenticator-pro",
            Format::AuthenticatorProDb => "authenticator-pro-db",
            Format::FreeOtpPlus => "freeotp-plus",
            Format::FreeOtp => "freeotp",
            Format::FreeOtpBackup => "freeotp-backup",
            Format::Proton => "proton",
            Format::Steam => "steam",
            Format::Duo => "duo",
            Format::LastPass => "lastpass",
            Format::WinAuth => "winauth",
            Format::AuthenticatorPlus => "authenticator-plus",
            Format::AuthenticatorPlusDb => "authenticator-plus-db",
            Format::BattleNet => "battle-net",
            Format::Authy => "authy",
            Format::TotpAuthenticator => "totp-authenticator",
            Format::GoogleAuthenticatorDb => "google-authenticator-db",
            Format::MicrosoftAuthenticatorDb => "microsoft-authenticator-db",
            Format::QrImage => "qr-image",
        }
    }

    /// The app's name as people know it, for messages.
    pub fn display_name(self) -> &'static str {
        match self {
            Format::UriList => "otpauth URI list",
            Format::Aegis => "Aegis",
            Format::TwoFas => "2FAS",
            Format::AndOtp => "andOTP",
            Format::Bitwarden => "Bitwarden",
            Format::BitwardenCsv => "Bitwarden CSV",
            Format::Ente => "Ente Auth",
            Format::AuthenticatorPro => "Authenticator Pro",
            Format::AuthenticatorProDb => "Authenticator Pro database",
            Format::FreeOtpPlus => "FreeOTP+",
            Format::FreeOtp => "FreeOTP",
            Format::FreeOtpBackup => "FreeOTP backup",
            Format::Proton => "Proton Authenticator",
            Format::Steam => "Steam maFile",
            Format::Duo => "Duo",
            Format::LastPass => "LastPass Authenticator",
            Format::WinAuth => "WinAuth",
            Format::AuthenticatorPlus => "Authenticator Plus",
            Format::AuthenticatorPlusDb => "Authenticator Plus database",
            Format::BattleNet => "Battle.net",
            Format::Authy => "Authy",
            Format::TotpAuthenticator => "TOTP Authenticator",
            Format::GoogleAuthenticatorDb => "Google Authenticator database",
            Format::MicrosoftAuthenticatorDb => "Microsoft Authenticator database",
            Format::QrImage => "QR code image",
        }
    }

    /// Parses a `--format` name (any case; `_` and `-` alike).
    pub fn parse(name: &str) -> Result<Format, ImportError> {
        let wanted = name.trim().to_ascii_lowercase().replace('_', "-");
        Format::ALL
            .into_iter()
            .find(|f| f.id() == wanted)
            .ok_or_else(|| ImportError::UnknownFormatName {
                name: name.chars().take(40).collect(),
            })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.display_name())
    }
}

/// One entry of the file, in file order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportEntry {
    /// 1-based position in the file (line, array index or QR code, as the format has them).
    pub position: usize,
    pub issuer: String,
    pub label: String,
    /// `totp`, `hotp`, `steam`, or the unsupported type's name (`motp`, `yandex`, ...).
    pub otp_type: String,
    pub outcome: EntryOutcome,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryOutcome {
    /// An account ready to add. `favourite` and `order` are what the file said (the vault
    /// keeps the order as the adding order; it has no favourite flag).
    Account {
        account: Box<NewAccount>,
        favourite: bool,
        order: Option<i64>,
    },
    /// Cannot be imported, and why (no secret in the reason).
    Skipped { reason: String },
}

impl ImportEntry {
    pub fn account(&self) -> Option<&NewAccount> {
        match &self.outcome {
            EntryOutcome::Account { account, .. } => Some(account),
            EntryOutcome::Skipped { .. } => None,
        }
    }

    pub fn skip_reason(&self) -> Option<&str> {
        match &self.outcome {
            EntryOutcome::Skipped { reason } => Some(reason),
            EntryOutcome::Account { .. } => None,
        }
    }
}

/// What the file had that authcore does not keep, counted so nothing is lost silently.
/// `Serialize` is the `dropped` object of the CLI's `import --json`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Dropped {
    pub icons: usize,
    /// PINs of mOTP/Yandex/Stratum entries and app lock PINs.
    pub pins: usize,
    /// Favourite marks (the vault has no favourite flag; favourites are listed first instead).
    pub favourites: usize,
    /// Groups beyond an entry's first (an account is in at most one group here).
    pub extra_groups: usize,
}

impl Dropped {
    pub fn is_empty(&self) -> bool {
        *self == Dropped::default()
    }
}

/// A file read: its format, every entry, and what was dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub format: Format,
    pub entries: Vec<ImportEntry>,
    pub dropped: Dropped,
}

/// Reads `bytes` as `format` (recognised from the content when `None`), decrypting with
/// `password` when the file is encrypted.
pub fn read(
    bytes: &[u8],
    format: Option<Format>,
    password: Option<&str>,
) -> Result<Imported, ImportError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(ImportError::TooLarge {
            size: bytes.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    if bytes.is_empty() {
        return Err(ImportError::Empty);
    }
    let password = password.filter(|p| !p.is_empty());
    let Some(format) = format else {
        let format = detect(bytes).ok_or(ImportError::UnknownFormat)?;
        let read = read_as(bytes, format, password);
        // Neither an Authenticator Plus database nor an old andOTP backup has a header: a file
        // taken for the one that the password does not open may be the other.
        if format == Format::AuthenticatorPlusDb
            && matches!(read, Err(ImportError::WrongPassword { .. }))
            && let Ok(imported) = read_as(bytes, Format::AndOtp, password)
        {
            return Ok(imported);
        }
        return read;
    };
    read_as(bytes, format, password)
}

fn read_as(bytes: &[u8], format: Format, password: Option<&str>) -> Result<Imported, ImportError> {
    let mut out = entry::Sink::new(format);
    match format {
        Format::UriList => uris::read_list(bytes, &mut out)?,
        Format::Aegis => aegis::read(bytes, password, &mut out)?,
        Format::TwoFas => twofas::read(bytes, password, &mut out)?,
        Format::AndOtp => andotp::read(bytes, password, &mut out)?,
        Format::Bitwarden => bitwarden::read_json(bytes, password, &mut out)?,
        Format::BitwardenCsv => bitwarden::read_csv(bytes, &mut out)?,
        Format::Ente => ente::read(bytes, password, &mut out)?,
        Format::AuthenticatorPro => stratum::read(bytes, password, &mut out)?,
        Format::AuthenticatorProDb => sqlite::read_stratum(bytes, &mut out)?,
        Format::FreeOtpPlus => freeotp::read_plus(bytes, &mut out)?,
        Format::FreeOtp => freeotp::read_v1_xml(bytes, &mut out)?,
        Format::FreeOtpBackup => freeotp::read_backup(bytes, password, &mut out)?,
        Format::Proton => json_apps::read_proton(bytes, &mut out)?,
        Format::Steam => json_apps::read_steam(bytes, &mut out)?,
        Format::Duo => json_apps::read_duo(bytes, &mut out)?,
        Format::LastPass => json_apps::read_lastpass(bytes, &mut out)?,
        Format::WinAuth => winauth::read(bytes, password, &mut out)?,
        Format::AuthenticatorPlus => authenticator_plus::read_export(bytes, password, &mut out)?,
        Format::AuthenticatorPlusDb => authenticator_plus::read_db(bytes, password, &mut out)?,
        Format::BattleNet => prefs::read_battle_net(bytes, &mut out)?,
        Format::Authy => prefs::read_authy(bytes, password, &mut out)?,
        Format::TotpAuthenticator => totp_authenticator::read(bytes, password, &mut out)?,
        Format::GoogleAuthenticatorDb => sqlite::read_google(bytes, &mut out)?,
        Format::MicrosoftAuthenticatorDb => sqlite::read_microsoft(bytes, &mut out)?,
        Format::QrImage => qr::read_image(bytes, &mut out)?,
    }
    Ok(out.finish())
}
