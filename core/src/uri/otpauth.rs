//! `otpauth://TYPE/LABEL?secret=...` parsing and writing.

use std::fmt::Write as _;

use zeroize::Zeroizing;

use super::{UriError, decode, encode, query_pairs, scheme_of};
use crate::account::{AccountError, NewAccount, OtpCredential};
use crate::otp::{
    Algorithm, DEFAULT_PERIOD, MAX_DIGITS, MIN_DIGITS, OtpKind, OtpParams, STEAM_DIGITS,
};
use crate::secret::Secret;

/// Parameters with a meaning here; any other is kept verbatim in `extra_params`.
const KNOWN: [&str; 6] = [
    "secret",
    "issuer",
    "algorithm",
    "digits",
    "period",
    "counter",
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Type {
    Totp,
    Hotp,
    Steam,
    DayPassword,
}

/// privacyIDEA's DayPassword step when the URI gives none: one day.
pub const DAY_PASSWORD_PERIOD: u32 = 86_400;

/// Parses one `otpauth://` URI into a validated account (no group, no note).
pub fn parse_otpauth(uri: &str) -> Result<NewAccount, UriError> {
    let uri = uri.trim();
    let scheme = scheme_of(uri)?;
    if scheme != "otpauth" {
        return Err(UriError::Scheme { found: scheme });
    }
    let rest = &uri[scheme.len() + 3..];
    let (type_text, after_type) = rest.split_once('/').unwrap_or((rest, ""));
    let kind = match type_text.to_ascii_lowercase().as_str() {
        "totp" => Type::Totp,
        "hotp" => Type::Hotp,
        "steam" => Type::Steam,
        // privacyIDEA's DayPassword: TOTP with a long step (a day unless `period` says
        // otherwise), which privacyIDEA containers deliver; a TOTP account here.
        "daypassword" => Type::DayPassword,
        _ => {
            return Err(UriError::Type {
                found: type_text.chars().take(24).collect(),
            });
        }
    };
    let (raw_label, query) = after_type.split_once('?').unwrap_or((after_type, ""));
    let label_text = decode(raw_label, false, "label")?;

    let mut known: [Option<String>; 6] = Default::default();
    let mut extra_params = Vec::new();
    for (name, value) in query_pairs(query, true)? {
        let lower = name.to_ascii_lowercase();
        match KNOWN.iter().position(|k| *k == lower) {
            Some(slot) => {
                if known[slot].is_some() {
                    return Err(UriError::invalid(lower, "given more than once"));
                }
                known[slot] = Some(value);
            }
            None => extra_params.push((name, value)),
        }
    }
    let [secret, issuer_param, algorithm, digits, period, counter] = known;

    // Base32 never contains '+'; a form decoder turned any into spaces, which base32 skips.
    let secret = match secret {
        Some(s) => Zeroizing::new(s),
        None => return Err(UriError::invalid("secret", "missing")),
    };
    let secret =
        Secret::from_base32(&secret).map_err(|e| UriError::invalid("secret", e.to_string()))?;

    let (issuer, label) = split_label(&label_text, issuer_param.as_deref());
    let algorithm = match algorithm {
        Some(text) => parse_algorithm(&text)?,
        None => Algorithm::Sha1,
    };
    let digits = digits.map(|d| parse_digits(&d)).transpose()?;
    let period = match period {
        Some(p) => parse_period(&p)?,
        None if kind == Type::DayPassword => DAY_PASSWORD_PERIOD,
        None => DEFAULT_PERIOD,
    };

    // Several apps treat a TOTP URI whose issuer is "Steam" as a Steam Guard code; do the same
    // unless the URI explicitly asks for a digit count other than Steam's five.
    let steam_by_issuer = kind == Type::Totp
        && issuer.eq_ignore_ascii_case("steam")
        && digits.is_none_or(|d| d == STEAM_DIGITS);
    let params = if kind == Type::Steam || steam_by_issuer {
        if let Some(d) = digits.filter(|d| *d != STEAM_DIGITS) {
            return Err(UriError::invalid(
                format!("digits={d}"),
                "Steam codes have exactly 5 characters",
            ));
        }
        if algorithm != Algorithm::Sha1 {
            return Err(UriError::invalid(
                format!("algorithm={algorithm}"),
                "Steam codes use SHA1",
            ));
        }
        OtpParams {
            kind: OtpKind::Steam { period },
            algorithm,
            digits: STEAM_DIGITS,
        }
    } else {
        let digits = digits.unwrap_or(6);
        if !(MIN_DIGITS..=MAX_DIGITS).contains(&digits) {
            return Err(UriError::invalid(
                format!("digits={digits}"),
                format!("must be between {MIN_DIGITS} and {MAX_DIGITS}"),
            ));
        }
        match kind {
            Type::Hotp => {
                let counter =
                    counter.ok_or_else(|| UriError::invalid("counter", "required for hotp"))?;
                OtpParams::hotp(algorithm, digits, parse_counter(&counter)?)
            }
            _ => OtpParams::totp(algorithm, digits, period),
        }
    };

    let otp = OtpCredential::new(params, secret)
        .map_err(|e| UriError::invalid("secret", e.to_string()))?;
    NewAccount {
        issuer,
        label,
        otp,
        group: None,
        note: None,
        extra_params,
    }
    .validated()
    .map_err(|e| {
        // A name's error starts with the field it is in (the issuer or the label): that field
        // is what the URI got wrong, so it is not wrapped in a second name.
        let field = match &e {
            AccountError::ControlCharacter { field, .. } | AccountError::TooLong { field, .. } => {
                field
            }
            _ => "label",
        };
        let text = e.to_string();
        let reason = text
            .strip_prefix(field)
            .and_then(|rest| rest.strip_prefix(": "))
            .unwrap_or(&text);
        UriError::invalid(field, reason)
    })
}

/// Resolves issuer and account name from the label and the `issuer` parameter. The parameter wins
/// when both exist; a label prefix equal to it is stripped whatever else the name holds.
fn split_label(label: &str, issuer_param: Option<&str>) -> (String, String) {
    match issuer_param.map(str::trim).filter(|i| !i.is_empty()) {
        Some(issuer) => {
            let name = match label.strip_prefix(issuer).and_then(|r| r.strip_prefix(':')) {
                Some(rest) => rest,
                None => label.split_once(':').map_or(label, |(_, rest)| rest),
            };
            (issuer.to_owned(), name.trim().to_owned())
        }
        None => match label.split_once(':') {
            Some((issuer, name)) => (issuer.trim().to_owned(), name.trim().to_owned()),
            None => (String::new(), label.trim().to_owned()),
        },
    }
}

fn parse_algorithm(text: &str) -> Result<Algorithm, UriError> {
    let lower = text.trim().to_ascii_lowercase();
    let bare = lower
        .strip_prefix("algorithm.")
        .unwrap_or(&lower)
        .replace(['-', '_'], "");
    match bare.as_str() {
        "sha1" => Ok(Algorithm::Sha1),
        "sha256" => Ok(Algorithm::Sha256),
        "sha512" => Ok(Algorithm::Sha512),
        _ => Err(UriError::invalid(
            format!("algorithm={}", shorten(text)),
            "must be SHA1, SHA256 or SHA512",
        )),
    }
}

fn parse_digits(text: &str) -> Result<u8, UriError> {
    let what = || format!("digits={}", shorten(text));
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| UriError::invalid(what(), "not a number"))?;
    u8::try_from(n).map_err(|_| {
        UriError::invalid(
            what(),
            format!("must be between {MIN_DIGITS} and {MAX_DIGITS}"),
        )
    })
}

fn parse_period(text: &str) -> Result<u32, UriError> {
    let what = || format!("period={}", shorten(text));
    let n: u64 = text
        .trim()
        .parse()
        .map_err(|_| UriError::invalid(what(), "not a whole number of seconds"))?;
    match u32::try_from(n) {
        Ok(0) => Err(UriError::invalid(what(), "must be at least 1 second")),
        Ok(p) => Ok(p),
        Err(_) => Err(UriError::invalid(
            what(),
            "too long (at most 4294967295 seconds)",
        )),
    }
}

fn parse_counter(text: &str) -> Result<u64, UriError> {
    text.trim().parse().map_err(|_| {
        UriError::invalid(
            format!("counter={}", shorten(text)),
            "must be a whole number from 0 to 18446744073709551615",
        )
    })
}

fn shorten(text: &str) -> String {
    let mut s: String = text.chars().take(24).collect();
    if text.chars().count() > 24 {
        s.push('…');
    }
    s
}

/// Writes the account as an `otpauth://` URI that this module (and other apps) read back to the
/// same account. Steam accounts use `otpauth://steam/`, as Aegis writes them. Holds the secret,
/// so it is zeroized when dropped.
pub fn to_otpauth(
    issuer: &str,
    label: &str,
    otp: &OtpCredential,
    extra_params: &[(String, String)],
) -> Zeroizing<String> {
    let p = &otp.params;
    let mut out = Zeroizing::new(String::with_capacity(128));
    let _ = write!(out, "otpauth://{}/", p.kind.type_name());
    // An issuer-less name with a colon gets an empty prefix, so the colon is not read as one.
    if !issuer.is_empty() || label.contains(':') {
        let _ = write!(out, "{}:", encode(issuer));
    }
    let _ = write!(
        out,
        "{}?secret={}",
        encode(label),
        otp.secret.to_base32().as_str()
    );
    if !issuer.is_empty() {
        let _ = write!(out, "&issuer={}", encode(issuer));
    }
    let _ = write!(out, "&algorithm={}&digits={}", p.algorithm, p.digits);
    match p.kind {
        OtpKind::Totp { period } | OtpKind::Steam { period } => {
            let _ = write!(out, "&period={period}");
        }
        OtpKind::Hotp { counter } => {
            let _ = write!(out, "&counter={counter}");
        }
    }
    for (name, value) in extra_params {
        let _ = write!(out, "&{}={}", encode(name), encode(value));
    }
    out
}
