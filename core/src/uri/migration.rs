//! Google Authenticator's transfer QR: `otpauth-migration://offline?data=<base64 protobuf>`.
//!
//! The payload has no period (everything is 30 s) and only 6 or 8 digits, so an export leaves
//! out, and reports, what it cannot carry rather than produce a QR that gives wrong codes.

use zeroize::{Zeroize, Zeroizing};

use super::{UriError, query_pairs, scheme_of};
use crate::account::{NewAccount, OtpCredential};
use crate::otp::{Algorithm, DEFAULT_PERIOD, OtpKind, OtpParams};
use crate::secret::Secret;

#[derive(Clone, PartialEq, prost::Message)]
struct Payload {
    #[prost(message, repeated, tag = "1")]
    otp_parameters: Vec<Entry>,
    #[prost(int32, tag = "2")]
    version: i32,
    #[prost(int32, tag = "3")]
    batch_size: i32,
    #[prost(int32, tag = "4")]
    batch_index: i32,
    #[prost(int32, tag = "5")]
    batch_id: i32,
}

#[derive(Clone, PartialEq, prost::Message)]
struct Entry {
    #[prost(bytes = "vec", tag = "1")]
    secret: Vec<u8>,
    #[prost(string, tag = "2")]
    name: String,
    #[prost(string, tag = "3")]
    issuer: String,
    /// 0 unspecified (SHA1), 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5.
    #[prost(int32, tag = "4")]
    algorithm: i32,
    /// 0 unspecified (6), 1 six, 2 eight.
    #[prost(int32, tag = "5")]
    digits: i32,
    /// 0 unspecified (TOTP), 1 HOTP, 2 TOTP.
    #[prost(int32, tag = "6")]
    otp_type: i32,
    #[prost(int64, tag = "7")]
    counter: i64,
    #[prost(string, tag = "8")]
    unique_id: String,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.secret.zeroize();
    }
}

/// One QR's worth of a (possibly multi-QR) transfer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationBatch {
    pub accounts: Vec<NewAccount>,
    /// 0-based position of this QR among `batch_size`; all QRs of one export share `batch_id`.
    pub batch_index: i32,
    pub batch_size: i32,
    pub batch_id: i32,
}

/// Base64 as transfer QRs really carry it: standard or URL-safe alphabet, padding optional.
fn lenient_base64() -> data_encoding::Encoding {
    let mut spec = data_encoding::Specification::new();
    spec.symbols
        .push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/");
    spec.check_trailing_bits = false;
    spec.translate.from.push_str("-_");
    spec.translate.to.push_str("+/");
    spec.encoding()
        .unwrap_or_else(|_| data_encoding::BASE64_NOPAD.clone())
}

pub fn parse_migration(uri: &str) -> Result<MigrationBatch, UriError> {
    let uri = uri.trim();
    let scheme = scheme_of(uri)?;
    if scheme != "otpauth-migration" {
        return Err(UriError::Scheme { found: scheme });
    }
    let rest = &uri[scheme.len() + 3..];
    let query = rest.split_once('?').map_or("", |(_, q)| q);
    let mut data = None;
    for (name, value) in query_pairs(query, false)? {
        if name == "data" {
            if data.is_some() {
                return Err(UriError::invalid("data", "given more than once"));
            }
            data = Some(Zeroizing::new(value));
        }
    }
    let data = data.ok_or_else(|| UriError::invalid("data", "missing"))?;
    // A form decoder may have turned '+' into ' '; padding is optional.
    let cleaned = Zeroizing::new(
        data.trim()
            .trim_end_matches('=')
            .replace(' ', "+")
            .replace(['\n', '\r'], ""),
    );
    if let Some((index, ch)) = cleaned
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '-' | '_')))
    {
        return Err(UriError::invalid(
            "data",
            format!("'{ch}' is not base64 (character {})", index + 1),
        ));
    }
    let bytes = Zeroizing::new(
        lenient_base64()
            .decode(cleaned.as_bytes())
            .map_err(|_| UriError::invalid("data", "base64 of an impossible length"))?,
    );
    let mut payload = <Payload as prost::Message>::decode(bytes.as_slice())
        .map_err(|_| UriError::invalid("data", "not a Google Authenticator transfer payload"))?;
    let mut accounts = Vec::with_capacity(payload.otp_parameters.len());
    for (index, entry) in payload.otp_parameters.iter_mut().enumerate() {
        accounts.push(entry_to_account(entry, index + 1)?);
    }
    Ok(MigrationBatch {
        accounts,
        batch_index: payload.batch_index,
        batch_size: payload.batch_size,
        batch_id: payload.batch_id,
    })
}

fn entry_to_account(entry: &mut Entry, number: usize) -> Result<NewAccount, UriError> {
    let what = || format!("entry {number}");
    let algorithm = match entry.algorithm {
        0 | 1 => Algorithm::Sha1,
        2 => Algorithm::Sha256,
        3 => Algorithm::Sha512,
        4 => {
            return Err(UriError::invalid(
                what(),
                "uses MD5, which no server accepts for OTP",
            ));
        }
        n => return Err(UriError::invalid(what(), format!("unknown algorithm {n}"))),
    };
    let digits = match entry.digits {
        0 | 1 => 6,
        2 => 8,
        n => {
            return Err(UriError::invalid(
                what(),
                format!("unknown digit count {n}"),
            ));
        }
    };
    let params = match entry.otp_type {
        0 | 2 => OtpParams::totp(algorithm, digits, DEFAULT_PERIOD),
        1 => {
            let counter = u64::try_from(entry.counter)
                .map_err(|_| UriError::invalid(what(), "negative HOTP counter"))?;
            OtpParams::hotp(algorithm, digits, counter)
        }
        n => return Err(UriError::invalid(what(), format!("unknown OTP type {n}"))),
    };
    let secret = Secret::new(std::mem::take(&mut entry.secret));
    let otp =
        OtpCredential::new(params, secret).map_err(|e| UriError::invalid(what(), e.to_string()))?;
    let name = entry.name.trim();
    let issuer = entry.issuer.trim();
    let (issuer, label) = if issuer.is_empty() {
        match name.split_once(':') {
            Some((i, n)) => (i.trim(), n.trim()),
            None => ("", name),
        }
    } else {
        let label = name
            .strip_prefix(issuer)
            .and_then(|r| r.strip_prefix(':'))
            .unwrap_or(name);
        (issuer, label.trim())
    };
    NewAccount {
        issuer: issuer.to_owned(),
        label: label.to_owned(),
        otp,
        group: None,
        note: None,
        extra_params: Vec::new(),
    }
    .validated()
    .map_err(|e| UriError::invalid(what(), e.to_string()))
}

/// Accounts per QR: ten keeps each code at a size phone cameras read at arm's length.
pub const PER_QR: usize = 10;

/// Why an account cannot travel in a transfer QR (the payload has no period, 6 or 8 digits, a
/// signed 64-bit counter, and no Steam type). No secret in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotCarried {
    Period(u32),
    Steam,
    Digits(u8),
    CounterTooLarge,
}

impl std::fmt::Display for NotCarried {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotCarried::Period(p) => write!(
                f,
                "a {p} s period cannot be exported to Google Authenticator (30 s only)"
            ),
            NotCarried::Steam => {
                f.write_str("Steam codes cannot be exported to Google Authenticator")
            }
            NotCarried::Digits(d) => write!(
                f,
                "{d} digits cannot be exported to Google Authenticator (6 or 8 only)"
            ),
            NotCarried::CounterTooLarge => {
                f.write_str("HOTP counter too large for Google Authenticator")
            }
        }
    }
}

/// A transfer export: one URI per QR (all sharing one random batch id, `batch_index` 0.. in
/// order, at most [`PER_QR`] accounts each; none when nothing could be carried), and what was
/// left out as (index into the input, why). Holds secrets: zeroized on drop.
#[derive(Default)]
pub struct MigrationPayloads {
    pub payloads: Vec<Zeroizing<String>>,
    pub left_out: Vec<(usize, NotCarried)>,
}

impl std::fmt::Debug for MigrationPayloads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationPayloads")
            .field("payloads", &self.payloads.len())
            .field("left_out", &self.left_out)
            .finish()
    }
}

fn entry_for(issuer: &str, label: &str, otp: &OtpCredential) -> Result<Entry, NotCarried> {
    let p = &otp.params;
    let (otp_type, counter) = match p.kind {
        OtpKind::Totp { period: 30 } => (2, 0),
        OtpKind::Totp { period } => return Err(NotCarried::Period(period)),
        OtpKind::Hotp { counter } => (
            1,
            i64::try_from(counter).map_err(|_| NotCarried::CounterTooLarge)?,
        ),
        OtpKind::Steam { .. } => return Err(NotCarried::Steam),
    };
    let digits = match p.digits {
        6 => 1,
        8 => 2,
        d => return Err(NotCarried::Digits(d)),
    };
    Ok(Entry {
        secret: otp.secret.expose().to_vec(),
        name: if issuer.is_empty() {
            label.to_owned()
        } else {
            format!("{issuer}:{label}")
        },
        issuer: issuer.to_owned(),
        algorithm: match p.algorithm {
            Algorithm::Sha1 => 1,
            Algorithm::Sha256 => 2,
            Algorithm::Sha512 => 3,
        },
        digits,
        otp_type,
        counter,
        unique_id: String::new(),
    })
}

/// Writes the accounts as transfer URIs (one per QR), leaving out, and reporting, what the
/// format cannot carry; the others are still exported. Fails only without system randomness.
pub fn to_migration(
    accounts: &[(String, String, OtpCredential)],
) -> Result<MigrationPayloads, UriError> {
    let mut entries = Vec::with_capacity(accounts.len());
    let mut left_out = Vec::new();
    for (index, (issuer, label, otp)) in accounts.iter().enumerate() {
        match entry_for(issuer, label, otp) {
            Ok(entry) => entries.push(entry),
            Err(why) => left_out.push((index, why)),
        }
    }
    let batch_size = entries.len().div_ceil(PER_QR);
    let batch_id = random_batch_id()?;
    let mut payloads = Vec::with_capacity(batch_size);
    let mut rest = entries;
    let mut index = 0;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(PER_QR));
        let payload = Payload {
            otp_parameters: std::mem::replace(&mut rest, tail),
            version: 1,
            batch_size: i32::try_from(batch_size).unwrap_or(i32::MAX),
            batch_index: index,
            batch_id,
        };
        index += 1;
        let bytes = Zeroizing::new(prost::Message::encode_to_vec(&payload));
        let b64 = Zeroizing::new(data_encoding::BASE64.encode(&bytes));
        payloads.push(Zeroizing::new(format!(
            "otpauth-migration://offline?data={}",
            super::encode(&b64)
        )));
    }
    Ok(MigrationPayloads { payloads, left_out })
}

fn random_batch_id() -> Result<i32, UriError> {
    let r = Secret::random(4).map_err(|_| UriError::invalid("batch_id", "no system randomness"))?;
    let b = r.expose();
    Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decodes only the `data` parameter's base64 (for tests that inspect the raw payload).
#[cfg(test)]
pub(crate) fn decode_data_param(uri: &str) -> Vec<u8> {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    let data = query
        .split('&')
        .find_map(|p| p.strip_prefix("data="))
        .unwrap_or_default();
    let text = super::decode(data, false, "data").unwrap_or_default();
    lenient_base64()
        .decode(text.trim_end_matches('=').as_bytes())
        .unwrap_or_default()
}
