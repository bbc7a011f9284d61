//! `uri`: the enrollment URIs that QR codes carry: `otpauth://` (Google's Key URI format, as real
//! issuers write it) and Google Authenticator's `otpauth-migration://` transfer QR. Parsing and
//! writing, both pure.
//!
//! Lenient where real QR codes are sloppy (case, spaces and padding in base32, `algorithm=sha256`
//! or `SHA-256`, an encoded or spaced label colon, parameter names in any case), strict where a
//! value would make a wrong code (digits, period, counter, algorithm, secret). Parameters we do
//! not interpret are kept in order and written back.

mod migration;
mod otpauth;

pub use migration::{
    MigrationBatch, MigrationPayloads, NotCarried, PER_QR, parse_migration, to_migration,
};
pub use otpauth::{parse_otpauth, to_otpauth};

use crate::account::NewAccount;
use crate::error::Echo;

/// Why a URI was refused. The text always names the part at fault (scheme, type, label, or the
/// parameter with its value) and why; it never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UriError {
    #[error("scheme: '{}' is not otpauth:// or otpauth-migration://", Echo(found))]
    Scheme { found: String },
    #[error("type: '{}' is not totp, hotp or steam", Echo(found))]
    Type { found: String },
    /// `what` is the parameter, with its value when the value is not secret (`digits=11`).
    #[error("{}: {}", Echo(what), Echo(reason))]
    Invalid { what: String, reason: String },
}

impl UriError {
    pub(crate) fn invalid(what: impl Into<String>, reason: impl Into<String>) -> Self {
        UriError::Invalid {
            what: what.into(),
            reason: reason.into(),
        }
    }
}

/// Parses any enrollment URI this module knows: one account from `otpauth://`, the batch's
/// accounts from `otpauth-migration://`.
pub fn parse(uri: &str) -> Result<Vec<NewAccount>, UriError> {
    let trimmed = uri.trim();
    match scheme_of(trimmed)?.as_str() {
        "otpauth" => Ok(vec![parse_otpauth(trimmed)?]),
        "otpauth-migration" => Ok(parse_migration(trimmed)?.accounts),
        other => Err(UriError::Scheme {
            found: other.to_owned(),
        }),
    }
}

/// The scheme in lower case; a URI without `://` has none.
pub(crate) fn scheme_of(uri: &str) -> Result<String, UriError> {
    match uri.split_once("://") {
        Some((scheme, _)) if !scheme.is_empty() && scheme.len() <= 32 => {
            Ok(scheme.to_ascii_lowercase())
        }
        _ => Err(UriError::Scheme {
            found: uri.chars().take(24).collect(),
        }),
    }
}

/// Splits `a=b&c=d` into decoded pairs. `plus_is_space` applies HTML form decoding of `+`, which
/// many QR generators use for spaces in issuer names.
pub(crate) fn query_pairs(
    query: &str,
    plus_is_space: bool,
) -> Result<Vec<(String, String)>, UriError> {
    let mut out = Vec::new();
    for part in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        let name = decode(name, false, "parameter name")?;
        let what = name.clone();
        let value = decode(value, plus_is_space, &what)?;
        out.push((name, value));
    }
    Ok(out)
}

pub(crate) fn decode(text: &str, plus_is_space: bool, what: &str) -> Result<String, UriError> {
    let spaced;
    let text = if plus_is_space && text.contains('+') {
        spaced = text.replace('+', " ");
        spaced.as_str()
    } else {
        text
    };
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| UriError::invalid(what, "is not UTF-8 once percent-decoded"))
}

/// Everything but RFC 3986's unreserved characters (and `@`, common in labels and harmless) is
/// percent-encoded, so `:`, `&`, `?`, `#`, `+`, `%` and spaces survive a round trip.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'@');

pub(crate) fn encode(text: &str) -> percent_encoding::PercentEncode<'_> {
    percent_encoding::utf8_percent_encode(text, COMPONENT)
}

#[cfg(test)]
mod tests;
