//! Turning one entry of a file into an account or a skip with its reason. Every format fills a
//! [`Draft`] with what it read (strings and numbers as the file has them) and hands it to the
//! [`Sink`], so the checks (type, algorithm, digits, period, counter, secret, names) and their
//! wording are the same for every app.

use zeroize::Zeroizing;

use super::{Dropped, EntryOutcome, Format, ImportEntry, ImportError, Imported};
use crate::account::{NewAccount, OtpCredential};
use crate::otp::{Algorithm, DEFAULT_PERIOD, OtpParams};
use crate::secret::{Base32Error, Secret};
use crate::uri::{self, UriError};

#[derive(Default)]
pub(crate) enum SecretIn {
    #[default]
    Missing,
    Base32(Zeroizing<String>),
    /// Base32 from an app that decodes whole bytes and drops a trailing partial one (see
    /// [`SecretIn::base32_whole_bytes`]).
    Base32WholeBytes(Zeroizing<String>),
    Bytes(Secret),
}

impl SecretIn {
    pub fn base32(text: &str) -> Self {
        SecretIn::Base32(Zeroizing::new(text.to_owned()))
    }

    /// Base32 as Authenticator Pro / Stratum reads it: its decoder (SimpleBase's RFC 4648)
    /// emits a byte for every 8 bits and drops the rest, so it accepts lengths no whole number
    /// of bytes gives (14 or 17 characters), and makes codes from the bytes it kept. Reading
    /// them the same way gives the codes Stratum showed. Only this importer path is lenient;
    /// [`Secret::from_base32`], which everything else uses, still refuses such lengths.
    pub fn base32_whole_bytes(text: &str) -> Self {
        SecretIn::Base32WholeBytes(Zeroizing::new(text.to_owned()))
    }

    /// Hex, as Battle.net and TOTP Authenticator store keys.
    pub fn hex(text: &str) -> Self {
        match data_encoding::HEXLOWER_PERMISSIVE.decode(text.trim().as_bytes()) {
            Ok(bytes) => SecretIn::Bytes(Secret::new(bytes)),
            Err(_) => SecretIn::Missing,
        }
    }
}

/// One entry as a file describes it. Unset numbers take the type's defaults.
#[derive(Default)]
pub(crate) struct Draft {
    pub issuer: String,
    pub label: String,
    /// `totp`, `hotp`, `steam`, or what the file calls an unsupported type (`motp`, `yandex`).
    pub otp_type: String,
    pub algorithm: Option<String>,
    pub digits: Option<i64>,
    pub period: Option<i64>,
    pub counter: Option<i64>,
    pub secret: SecretIn,
    pub group: Option<String>,
    pub note: Option<String>,
    pub favourite: bool,
    pub order: Option<i64>,
}

/// Collects a file's entries in order, with what was dropped.
pub(crate) struct Sink {
    pub format: Format,
    entries: Vec<ImportEntry>,
    pub dropped: Dropped,
}

impl Sink {
    pub fn new(format: Format) -> Self {
        Sink {
            format,
            entries: Vec::new(),
            dropped: Dropped::default(),
        }
    }

    pub fn finish(self) -> Imported {
        let mut entries = self.entries;
        // Where the file gives an order, it wins over the file order (stable for ties).
        entries.sort_by_key(|e| match &e.outcome {
            EntryOutcome::Account { order, .. } => *order,
            EntryOutcome::Skipped { .. } => None,
        });
        let mut dropped = self.dropped;
        dropped.favourites = entries
            .iter()
            .filter(|e| {
                matches!(
                    e.outcome,
                    EntryOutcome::Account {
                        favourite: true,
                        ..
                    }
                )
            })
            .count();
        Imported {
            format: self.format,
            entries,
            dropped,
        }
    }

    pub fn damaged(&self, part: impl Into<String>, reason: impl Into<String>) -> ImportError {
        ImportError::damaged(self.format, part, reason)
    }

    pub fn wrong_password(&self) -> ImportError {
        ImportError::WrongPassword {
            format: self.format,
        }
    }

    pub fn password_needed(&self) -> ImportError {
        ImportError::PasswordNeeded {
            format: self.format,
        }
    }

    fn position(&self) -> usize {
        self.entries.len() + 1
    }

    /// A finished account as the next entry.
    fn push_account(&mut self, account: NewAccount, favourite: bool, order: Option<i64>) {
        let position = self.position();
        self.entries.push(ImportEntry {
            position,
            issuer: account.issuer.clone(),
            label: account.label.clone(),
            otp_type: account.otp.params.kind.type_name().to_owned(),
            outcome: EntryOutcome::Account {
                account: Box::new(account),
                favourite,
                order,
            },
        });
    }

    pub fn skip(&mut self, issuer: &str, label: &str, otp_type: &str, reason: impl Into<String>) {
        let position = self.position();
        self.entries.push(ImportEntry {
            position,
            issuer: clip(issuer),
            label: clip(label),
            otp_type: otp_type.to_ascii_lowercase(),
            outcome: EntryOutcome::Skipped {
                reason: reason.into(),
            },
        });
    }

    pub fn add(&mut self, draft: Draft) {
        let otp_type = draft.otp_type.trim().to_ascii_lowercase();
        let (issuer, label) = (draft.issuer.clone(), draft.label.clone());
        match build(draft, &otp_type) {
            Ok((account, favourite, order)) => {
                self.push_account(account, favourite, order);
            }
            Err(reason) => self.skip(&issuer, &label, &otp_type, reason),
        }
    }

    /// An otpauth:// URI as the entry, with names, group and note from the file where the
    /// URI lacks them.
    pub fn add_uri(&mut self, text: &str, extra: UriExtra) {
        let (fallback_issuer, fallback_label) = (extra.issuer.clone(), extra.label.clone());
        match uri::parse_otpauth(text) {
            Ok(mut account) => {
                if account.issuer.is_empty() && !extra.issuer.is_empty() {
                    account.issuer = extra.issuer;
                }
                if account.label.is_empty() && !extra.label.is_empty() {
                    account.label = extra.label;
                }
                account.group = extra.group;
                account.note = extra.note;
                match account.validated() {
                    Ok(account) => {
                        self.push_account(account, extra.favourite, extra.order);
                    }
                    Err(e) => self.skip(&fallback_issuer, &fallback_label, "", e.to_string()),
                }
            }
            Err(e) => {
                let (issuer, label) = names_of_uri(text);
                let issuer = if issuer.is_empty() {
                    extra.issuer
                } else {
                    issuer
                };
                let label = if label.is_empty() { extra.label } else { label };
                let (otp_type, reason) = uri_reason(text, &e);
                self.skip(&issuer, &label, &otp_type, reason);
            }
        }
    }

    /// Accounts already built (by the transfer-QR parser).
    pub fn add_built(&mut self, account: NewAccount) {
        self.push_account(account, false, None);
    }

    /// Turns the last entry into a skip (keeping its names), e.g. an entry in the app's trash.
    pub fn mark_last_skipped(&mut self, reason: &str) {
        if let Some(last) = self.entries.last_mut() {
            last.outcome = EntryOutcome::Skipped {
                reason: reason.to_owned(),
            };
        }
    }
}

/// What a file says about a URI entry besides the URI.
#[derive(Default)]
pub(crate) struct UriExtra {
    pub issuer: String,
    pub label: String,
    pub group: Option<String>,
    pub note: Option<String>,
    pub favourite: bool,
    pub order: Option<i64>,
}

fn clip(name: &str) -> String {
    name.trim()
        .chars()
        .take(crate::account::MAX_NAME_CHARS)
        .collect()
}

/// The reason a URI was refused, naming unsupported types as such.
fn uri_reason(text: &str, e: &UriError) -> (String, String) {
    if let UriError::Type { found } = e {
        let lower = found.to_ascii_lowercase();
        if let Some(name) = unsupported_type(&lower) {
            return (lower, format!("{name} is not supported"));
        }
        return (lower, e.to_string());
    }
    let scheme = text.split_once("://").map(|(s, _)| s.to_ascii_lowercase());
    match scheme.as_deref() {
        Some("motp") => ("motp".into(), "mOTP is not supported".into()),
        Some("yaotp") => ("yandex".into(), "Yandex OTP is not supported".into()),
        _ => (String::new(), e.to_string()),
    }
}

/// The readable name of a type we know of but cannot make codes for.
fn unsupported_type(lower: &str) -> Option<&'static str> {
    match lower {
        "motp" => Some("mOTP"),
        "yandex" | "yaotp" => Some("Yandex OTP"),
        "mobileotp" => Some("mOTP"),
        _ => None,
    }
}

/// Issuer and label of a URI we could not parse, for the skip report.
fn names_of_uri(text: &str) -> (String, String) {
    let Some((_, rest)) = text.trim().split_once("://") else {
        return (String::new(), String::new());
    };
    let path = rest.split_once('/').map_or("", |(_, p)| p);
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    let decoded = percent_encoding::percent_decode_str(path).decode_utf8_lossy();
    match decoded.split_once(':') {
        Some((i, l)) => (clip(i), clip(l)),
        None => (String::new(), clip(&decoded)),
    }
}

pub(crate) fn algorithm(name: Option<&str>) -> Result<Algorithm, String> {
    let Some(name) = name else {
        return Ok(Algorithm::Sha1);
    };
    let norm: String = name
        .trim()
        .to_ascii_uppercase()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    let norm = norm.strip_prefix("HMAC").unwrap_or(&norm);
    match norm {
        "" | "SHA1" => Ok(Algorithm::Sha1),
        "SHA256" => Ok(Algorithm::Sha256),
        "SHA512" => Ok(Algorithm::Sha512),
        "MD5" => Err("algorithm MD5 is not supported".into()),
        _ => Err(format!(
            "unknown algorithm '{}'",
            name.chars().take(24).collect::<String>()
        )),
    }
}

/// Base32 whose last character only carries bits of a partial byte: a length of 8k+1, 8k+3 or
/// 8k+6 characters holds exactly the bytes of one character fewer (5 * 1 < 8, 5 * 3 - 8 < 8,
/// 5 * 6 - 24 < 8), so that character is dropped and the rest decoded as usual.
fn base32_whole_bytes(text: &str) -> Result<Secret, Base32Error> {
    match Secret::from_base32(text) {
        Err(Base32Error::BadLength { .. }) => {
            let trimmed = text.trim_end_matches(['=', ' ', '-', '\t']);
            let mut shorter = Zeroizing::new(trimmed.to_owned());
            shorter.pop();
            Secret::from_base32(&shorter)
        }
        other => other,
    }
}

fn build(draft: Draft, otp_type: &str) -> Result<(NewAccount, bool, Option<i64>), String> {
    if let Some(name) = unsupported_type(otp_type) {
        return Err(format!("{name} is not supported"));
    }
    let algorithm = algorithm(draft.algorithm.as_deref())?;
    let digits = |default: u8| -> Result<u8, String> {
        match draft.digits {
            None => Ok(default),
            Some(d) => u8::try_from(d).map_err(|_| format!("digits={d}: must be between 6 and 10")),
        }
    };
    let params = match otp_type {
        "totp" | "" => {
            let period = match draft.period {
                None | Some(0) => DEFAULT_PERIOD,
                Some(p) => u32::try_from(p).map_err(|_| format!("period={p}: out of range"))?,
            };
            OtpParams::totp(algorithm, digits(6)?, period)
        }
        "hotp" => {
            let counter = draft.counter.unwrap_or(0);
            let counter = u64::try_from(counter)
                .map_err(|_| format!("counter={counter}: a HOTP counter cannot be negative"))?;
            OtpParams::hotp(algorithm, digits(6)?, counter)
        }
        "steam" => OtpParams::steam(),
        other => {
            return Err(format!(
                "unknown type '{}'",
                other.chars().take(24).collect::<String>()
            ));
        }
    };
    params.validate().map_err(|e| e.to_string())?;
    let secret = match draft.secret {
        SecretIn::Missing => return Err("secret: missing or not readable".into()),
        SecretIn::Base32(text) => Secret::from_base32(&text).map_err(|e| format!("secret: {e}"))?,
        SecretIn::Base32WholeBytes(text) => {
            base32_whole_bytes(&text).map_err(|e| format!("secret: {e}"))?
        }
        SecretIn::Bytes(secret) => secret,
    };
    if secret.is_empty() {
        return Err("secret: is empty".into());
    }
    let otp = OtpCredential::new(params, secret).map_err(|e| e.to_string())?;
    let account = NewAccount {
        issuer: draft.issuer,
        label: draft.label,
        otp,
        group: draft.group.filter(|g| !g.trim().is_empty()),
        note: draft.note.filter(|n| !n.trim().is_empty()),
        extra_params: Vec::new(),
    }
    .validated()
    .map_err(|e| e.to_string())?;
    Ok((account, draft.favourite, draft.order))
}

/// A JSON list of `{"id", "name"}` objects (Bitwarden's folders, 2FAS's groups) as pairs;
/// entries without both are left out, a missing list is empty.
pub fn id_names(list: &serde_json::Value) -> Vec<(String, String)> {
    list.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|i| {
                    Some((i["id"].as_str()?.to_owned(), i["name"].as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_bytes_base32_drops_only_a_partial_trailing_byte() {
        // 14 and 17 characters, as in Stratum's own test backup: 70 and 85 bits, 8 and 10 bytes.
        for (text, len) in [("POAKSPDOASKDOS", 8), ("OIDJAOSIJDOASIJDS", 10), ("AB3", 1)] {
            assert!(Secret::from_base32(text).is_err(), "{text}");
            let lenient = base32_whole_bytes(text).unwrap();
            assert_eq!(lenient.len(), len, "{text}");
            let shorter = &text[..text.len() - 1];
            assert_eq!(lenient, Secret::from_base32(shorter).unwrap(), "{text}");
        }
        // Lengths that are whole bytes already decode exactly as before.
        assert_eq!(
            base32_whole_bytes("JBSWY3DPEHPK3PXP").unwrap(),
            Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap()
        );
        // Bad characters and a lone character are still refused.
        assert!(base32_whole_bytes("A").is_err());
        assert!(base32_whole_bytes("AB1CDEFGH").is_err());
    }
}
