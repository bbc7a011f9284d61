//! The PUSH enrollment QR code: `otpauth://pipush/<label>?...` (or `pia://pipush/...` when the
//! server's `push_use_pia_scheme` policy is set), and eduMFA's `edupush` token as
//! `edumfa-push://edumfa/<label>?...`. The scheme and the type (the URI's host) go together:
//! `otpauth`/`pia` with `pipush`, `edumfa-push` with `edumfa`; anything else is refused, naming
//! the `scheme` or the `type`.
//!
//! Parameters: `url` (where the phone registers, answers and polls), `ttl` (minutes the QR may
//! be used, counted from the scan: the server does not check it, the app must), `issuer`,
//! `enrollment_credential` (one-time secret for the registration), `v` (protocol version; only
//! `1` exists), `serial`, `sslverify` (`0`/`1`), `poll_only` (`True`/`False`), and optionally
//! `image`, `pin` and `app_force_unlock`. Servers 3.0 to 3.7 also sent Firebase project fields;
//! they are ignored, as is any parameter we do not know.
//!
//! eduMFA (2.x, a privacyIDEA fork) writes the same parameters but never `poll_only`, so its
//! tokens read as `poll_only: false` (the app polls on demand either way), and its `url` is the
//! `/ttype/edupush` endpoint; everything after the scan (registration, polls, answers) is the
//! same protocol ([`super::client`]), sent to that `url`. Its legacy `push` token writes `otpauth://pipush/` like
//! privacyIDEA.

use std::time::Duration;

use url::Url;

use super::PushError;
use crate::secret::Secret;
use crate::time::UnixTime;

/// The `ttl` privacyIDEA puts in the QR when its policy sets none.
pub const DEFAULT_TTL_MINUTES: u64 = 10;

const MAX_FIELD_CHARS: usize = 256;
const MAX_URL_CHARS: usize = 2048;

/// How the app must be unlocked before this token's requests can be answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppForceUnlock {
    /// Any device unlock (PIN, pattern or biometric).
    Any,
    Biometric,
    Pin,
}

impl AppForceUnlock {
    pub fn as_str(self) -> &'static str {
        match self {
            AppForceUnlock::Any => "any",
            AppForceUnlock::Biometric => "biometric",
            AppForceUnlock::Pin => "pin",
        }
    }
}

/// A scanned, checked enrollment QR code. `Debug` redacts the enrollment credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushEnrollment {
    /// The account label (the URI path); the serial when the path is empty.
    pub label: String,
    pub issuer: String,
    pub serial: String,
    /// The server's PUSH endpoint (`https://HOST/ttype/push`; eduMFA's
    /// `https://HOST/ttype/edupush`).
    pub url: String,
    /// `false` only when the server itself said `sslverify=0`.
    pub sslverify: bool,
    /// The server has no push channel for this token: the app must poll. eduMFA never says
    /// (`false`).
    pub poll_only: bool,
    pub ttl: Duration,
    /// When the QR code was scanned; `ttl` runs from here.
    pub scanned_at: UnixTime,
    /// One-time proof for the registration; never shown or logged.
    pub enrollment_credential: Secret,
    pub image: Option<String>,
    /// The server wants an app PIN for this token.
    pub pin: bool,
    pub app_force_unlock: Option<AppForceUnlock>,
}

impl PushEnrollment {
    /// Parses and checks an enrollment URI scanned at `scanned_at`; refuses it if its `ttl` has
    /// already run out at `now`.
    pub fn parse(uri: &str, scanned_at: UnixTime, now: UnixTime) -> Result<Self, PushError> {
        let enrollment = parse_uri(uri, scanned_at)?;
        enrollment.check_not_expired(now)?;
        Ok(enrollment)
    }

    /// The last instant at which the registration may still be sent.
    pub fn expires_at(&self) -> UnixTime {
        self.scanned_at + self.ttl
    }

    pub fn check_not_expired(&self, now: UnixTime) -> Result<(), PushError> {
        if now > self.expires_at() {
            Err(PushError::EnrollmentExpired {
                ttl_minutes: self.ttl.as_secs() / 60,
            })
        } else {
            Ok(())
        }
    }
}

fn parse_uri(uri: &str, scanned_at: UnixTime) -> Result<PushEnrollment, PushError> {
    let trimmed = uri.trim();
    if trimmed.len() > 8 * 1024 {
        return Err(PushError::enroll("uri", "is longer than 8 KiB"));
    }
    let parsed = Url::parse(trimmed).map_err(|e| PushError::enroll("uri", e.to_string()))?;
    let scheme = parsed.scheme();
    // The type each scheme carries: privacyIDEA's PUSH token, or eduMFA's edupush token.
    let expected_type = match scheme {
        "otpauth" | "pia" => "pipush",
        "edumfa-push" => "edumfa",
        _ => {
            return Err(PushError::enroll(
                "scheme",
                format!(
                    "'{}' is not otpauth://, pia:// or edumfa-push://",
                    truncate(scheme)
                ),
            ));
        }
    };
    match parsed.host_str() {
        Some(host) if host.eq_ignore_ascii_case(expected_type) => {}
        Some(host) => {
            return Err(PushError::enroll(
                "type",
                format!(
                    "'{}' is not a PUSH token (expected {scheme}://{expected_type}/...)",
                    truncate(host)
                ),
            ));
        }
        None => {
            return Err(PushError::enroll(
                "type",
                format!("missing (expected {expected_type})"),
            ));
        }
    }

    let params = Params::collect(&parsed)?;

    let version = params.required("v")?;
    if version != "1" {
        return Err(PushError::UnsupportedVersion {
            version: truncate(version),
        });
    }

    let serial = checked_text("serial", params.required("serial")?)?;
    if serial.is_empty() {
        return Err(PushError::enroll("serial", "is empty"));
    }
    let label = percent_encoding::percent_decode_str(parsed.path().trim_start_matches('/'))
        .decode_utf8()
        .map_err(|_| PushError::enroll("label", "is not UTF-8 after percent-decoding"))?;
    let label = checked_text("label", &label)?;
    let label = if label.is_empty() {
        serial.clone()
    } else {
        label
    };
    let issuer = checked_text("issuer", params.optional("issuer").unwrap_or(""))?;

    let sslverify = match params.optional("sslverify") {
        None => true,
        Some(v) => parse_bool("sslverify", v)?,
    };
    let url = params.required("url")?;
    check_endpoint_url("url", url, sslverify)?;

    let ttl_minutes = match params.optional("ttl") {
        None => DEFAULT_TTL_MINUTES,
        Some(v) => match v.trim().parse::<u64>() {
            Ok(0) => return Err(PushError::enroll("ttl", "must be at least 1 minute")),
            // A week is far beyond any real policy; bigger numbers only risk overflow.
            Ok(m) if m <= 7 * 24 * 60 => m,
            Ok(_) => return Err(PushError::enroll("ttl", "is longer than a week")),
            Err(_) => {
                return Err(PushError::enroll(
                    "ttl",
                    format!("'{}' is not a whole number of minutes", truncate(v)),
                ));
            }
        },
    };

    let credential = params.required("enrollment_credential")?;
    if credential.is_empty() || credential.len() > MAX_FIELD_CHARS {
        return Err(PushError::enroll(
            "enrollment_credential",
            "must be 1 to 256 characters",
        ));
    }
    if credential.chars().any(char::is_control) {
        return Err(PushError::enroll(
            "enrollment_credential",
            "contains a control character",
        ));
    }

    let poll_only = match params.optional("poll_only") {
        None => false,
        Some(v) => parse_bool("poll_only", v)?,
    };
    let pin = match params.optional("pin") {
        None => false,
        Some(v) => parse_bool("pin", v)?,
    };
    let app_force_unlock = match params.optional("app_force_unlock") {
        None => None,
        Some(v) => Some(match v.to_ascii_lowercase().as_str() {
            "any" => AppForceUnlock::Any,
            "biometric" => AppForceUnlock::Biometric,
            "pin" => AppForceUnlock::Pin,
            _ => {
                return Err(PushError::enroll(
                    "app_force_unlock",
                    format!("'{}' is not any, biometric or pin", truncate(v)),
                ));
            }
        }),
    };
    let image = match params.optional("image") {
        None | Some("") => None,
        Some(v) if v.len() > MAX_URL_CHARS => {
            return Err(PushError::enroll("image", "is longer than 2048 characters"));
        }
        Some(v) => Some(v.to_owned()),
    };

    Ok(PushEnrollment {
        label,
        issuer,
        serial,
        url: url.to_owned(),
        sslverify,
        poll_only,
        ttl: Duration::from_secs(ttl_minutes * 60),
        scanned_at,
        enrollment_credential: Secret::from_slice(credential.as_bytes()),
        image,
        pin,
        app_force_unlock,
    })
}

/// The query parameters, each at most once.
struct Params(Vec<(String, String)>);

impl Params {
    fn collect(url: &Url) -> Result<Self, PushError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (key, value) in url.query_pairs() {
            if pairs.iter().any(|(k, _)| *k == key) {
                return Err(PushError::enroll(&truncate(&key), "appears more than once"));
            }
            pairs.push((key.into_owned(), value.into_owned()));
        }
        Ok(Params(pairs))
    }

    fn optional(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn required(&self, name: &str) -> Result<&str, PushError> {
        self.optional(name)
            .ok_or_else(|| PushError::enroll(name, "is missing"))
    }
}

/// Refuses what would send the device's answers anywhere but a TLS-verified server, unless the
/// server itself opted out of verification (`sslverify=0`, e.g. a test server on plain http).
pub(crate) fn check_endpoint_url(
    param: &str,
    url: &str,
    sslverify: bool,
) -> Result<Url, PushError> {
    if url.len() > MAX_URL_CHARS {
        return Err(PushError::enroll(param, "is longer than 2048 characters"));
    }
    let parsed = Url::parse(url).map_err(|e| PushError::InsecureUrl {
        param: param.to_owned(),
        reason: format!("is not a valid URL ({e})"),
    })?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(PushError::InsecureUrl {
            param: param.to_owned(),
            reason: "has no host".to_owned(),
        });
    }
    match parsed.scheme() {
        "https" => Ok(parsed),
        "http" if !sslverify => Ok(parsed),
        "http" => Err(PushError::InsecureUrl {
            param: param.to_owned(),
            reason: "plain http:// is refused unless the server itself sets sslverify=0".to_owned(),
        }),
        other => Err(PushError::InsecureUrl {
            param: param.to_owned(),
            reason: format!("scheme '{}' is not https", truncate(other)),
        }),
    }
}

fn parse_bool(param: &str, value: &str) -> Result<bool, PushError> {
    // privacyIDEA writes Python booleans (`True`) for some flags and `0`/`1` for others.
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(PushError::enroll(
            param,
            format!("'{}' is not 0/1 or True/False", truncate(value)),
        )),
    }
}

fn checked_text(param: &str, value: &str) -> Result<String, PushError> {
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(PushError::enroll(param, "is longer than 256 characters"));
    }
    if value.chars().any(char::is_control) {
        return Err(PushError::enroll(param, "contains a control character"));
    }
    Ok(value.to_owned())
}

/// Keeps echoed input short in error messages.
fn truncate(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let mut s: String = value.chars().take(MAX).collect();
        s.push('…');
        s
    }
}
