//! The registration QR code of a privacyIDEA smartphone container:
//! `pia://container/<serial>?issuer=&ttl=&nonce=&time=&url=&serial=&key_algorithm=secp384r1&hash_algorithm=SHA256&ssl_verify=True|False&passphrase=&send_passphrase=True|False[&extra...]`.
//!
//! The server writes the values with Python's `urllib.parse.quote`, so they are
//! percent-decoded only (a `+` stays a `+`). `time` is the server's challenge time and is kept
//! as the exact text received: the signature covers it byte for byte, and a re-printed time (a
//! `Z` for `+00:00`, three fraction digits for six) is refused by the server. `passphrase` is the
//! prompt to show, not the passphrase; `send_passphrase=True` means the passphrase is the user's
//! password at the user store and is sent as well as signed. `ttl` is in minutes, counted here
//! from the scan. Unknown parameters (the server's `extra_data`) are kept.

use std::time::Duration;

use percent_encoding::percent_decode_str;

use super::ContainerError;
use crate::push::enroll_uri::check_endpoint_url;
use crate::time::UnixTime;

const MAX_URI_CHARS: usize = 4096;
const MAX_FIELD_CHARS: usize = 512;

/// A scanned container registration QR code.
#[derive(Clone, PartialEq, Eq)]
pub struct ContainerRegistration {
    /// The container's serial (`SMPH…`).
    pub serial: String,
    pub issuer: String,
    /// How long the QR code may be used after the scan.
    pub ttl_minutes: u32,
    /// The server's registration challenge.
    pub nonce: String,
    /// The challenge's time, exactly as the server wrote it.
    pub time: String,
    /// The server's base URL (its `privacyIDEA_server_url` policy); every endpoint is
    /// `<url>/container/<operation>`.
    pub url: String,
    /// Whether TLS certificates are checked (the server's `container_ssl_verify`).
    pub ssl_verify: bool,
    /// The prompt to show when the registration needs a passphrase.
    pub passphrase_prompt: Option<String>,
    /// The passphrase is the user's password at the user store, and is sent to the server.
    pub send_passphrase: bool,
    /// Parameters this version does not know, in order.
    pub extra: Vec<(String, String)>,
    pub scanned_at: UnixTime,
}

impl std::fmt::Debug for ContainerRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The nonce is a one-time registration secret: whoever answers it first owns the
        // container.
        f.debug_struct("ContainerRegistration")
            .field("serial", &self.serial)
            .field("issuer", &self.issuer)
            .field("url", &self.url)
            .field("ssl_verify", &self.ssl_verify)
            .field("ttl_minutes", &self.ttl_minutes)
            .field("needs_passphrase", &self.passphrase_prompt.is_some())
            .field("send_passphrase", &self.send_passphrase)
            .finish_non_exhaustive()
    }
}

/// privacyIDEA's `container_registration_ttl` default.
pub const DEFAULT_TTL_MINUTES: u32 = 10;

impl ContainerRegistration {
    /// Parses a scanned `pia://container/` URI; `scanned_at` starts its `ttl`.
    pub fn parse(uri: &str, scanned_at: UnixTime) -> Result<Self, ContainerError> {
        let uri = uri.trim();
        if uri.chars().count() > MAX_URI_CHARS {
            return Err(ContainerError::qr("uri", "is longer than 4096 characters"));
        }
        let Some(rest) = strip_prefix_ignore_case(uri, "pia://container/") else {
            return Err(ContainerError::qr(
                "scheme",
                "a container QR code starts with pia://container/",
            ));
        };
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut params: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let name = decode("parameter name", name)?;
            let value = decode(&name, value)?;
            if params.iter().any(|(n, _)| *n == name) {
                return Err(ContainerError::qr(&name, "is given twice"));
            }
            params.push((name, value));
        }
        let mut take = |name: &str| -> Option<String> {
            let at = params.iter().position(|(n, _)| n == name)?;
            Some(params.remove(at).1)
        };
        let path_serial = decode("serial", path)?;
        let serial = match take("serial") {
            Some(s) if !path_serial.is_empty() && s != path_serial => {
                return Err(ContainerError::qr(
                    "serial",
                    "differs from the serial in the path",
                ));
            }
            Some(s) => s,
            None => path_serial,
        };
        check_text("serial", &serial)?;
        let nonce = take("nonce").ok_or_else(|| ContainerError::qr("nonce", "is missing"))?;
        check_text("nonce", &nonce)?;
        let time = take("time").ok_or_else(|| ContainerError::qr("time", "is missing"))?;
        check_text("time", &time)?;
        let url = take("url").ok_or_else(|| ContainerError::qr("url", "is missing"))?;
        let ssl_verify = match take("ssl_verify") {
            None => true,
            Some(v) => parse_bool("ssl_verify", &v)?,
        };
        check_endpoint_url("url", &url, ssl_verify)
            .map_err(|e| ContainerError::qr("url", e.to_string()))?;
        if url.contains('|') {
            return Err(ContainerError::qr("url", "contains '|'"));
        }
        match take("key_algorithm") {
            Some(a) if a.eq_ignore_ascii_case("secp384r1") => {}
            Some(a) => {
                return Err(ContainerError::qr(
                    "key_algorithm",
                    format!("'{}' is not supported (only secp384r1)", short(&a)),
                ));
            }
            None => return Err(ContainerError::qr("key_algorithm", "is missing")),
        }
        match take("hash_algorithm") {
            Some(a) if a.eq_ignore_ascii_case("SHA256") => {}
            Some(a) => {
                return Err(ContainerError::qr(
                    "hash_algorithm",
                    format!("'{}' is not supported (only SHA256)", short(&a)),
                ));
            }
            None => return Err(ContainerError::qr("hash_algorithm", "is missing")),
        }
        let ttl_minutes = match take("ttl") {
            None => DEFAULT_TTL_MINUTES,
            Some(t) => t
                .parse::<u32>()
                .ok()
                .filter(|m| (1..=10_080).contains(m))
                .ok_or_else(|| {
                    ContainerError::qr("ttl", format!("'{}' is not 1 to 10080 minutes", short(&t)))
                })?,
        };
        let issuer = take("issuer").unwrap_or_else(|| "privacyIDEA".to_owned());
        check_length("issuer", &issuer)?;
        let passphrase_prompt = take("passphrase").filter(|p| !p.is_empty());
        if let Some(p) = &passphrase_prompt {
            check_length("passphrase", p)?;
        }
        let send_passphrase = match take("send_passphrase") {
            None => false,
            Some(v) => parse_bool("send_passphrase", &v)?,
        };
        for (name, value) in &params {
            check_length(name, value)?;
        }
        Ok(ContainerRegistration {
            serial,
            issuer,
            ttl_minutes,
            nonce,
            time,
            url,
            ssl_verify,
            passphrase_prompt,
            send_passphrase,
            extra: params,
            scanned_at,
        })
    }

    /// When the QR code stops being usable.
    pub fn expires_at(&self) -> UnixTime {
        self.scanned_at + Duration::from_secs(u64::from(self.ttl_minutes) * 60)
    }

    /// Whether the registration asks for a passphrase (a fixed one, or the user's password).
    pub fn needs_passphrase(&self) -> bool {
        self.passphrase_prompt.is_some() || self.send_passphrase
    }

    pub(crate) fn check_not_expired(&self, now: UnixTime) -> Result<(), ContainerError> {
        if now > self.expires_at() {
            return Err(ContainerError::QrExpired {
                ttl_minutes: self.ttl_minutes,
            });
        }
        Ok(())
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

fn decode(param: &str, raw: &str) -> Result<String, ContainerError> {
    percent_decode_str(raw)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ContainerError::qr(param, "is not UTF-8 once percent-decoded"))
}

/// Fields that go into a `|`-joined signed message: one `|` would change what is signed.
fn check_text(param: &str, value: &str) -> Result<(), ContainerError> {
    if value.is_empty() {
        return Err(ContainerError::qr(param, "is empty"));
    }
    if value.contains('|') {
        return Err(ContainerError::qr(param, "contains '|'"));
    }
    if value.chars().any(char::is_control) {
        return Err(ContainerError::qr(param, "contains a control character"));
    }
    check_length(param, value)
}

fn check_length(param: &str, value: &str) -> Result<(), ContainerError> {
    if value.chars().count() > MAX_FIELD_CHARS {
        return Err(ContainerError::qr(param, "is longer than 512 characters"));
    }
    Ok(())
}

fn parse_bool(param: &str, value: &str) -> Result<bool, ContainerError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(ContainerError::qr(
            param,
            format!("'{}' is not True/False or 1/0", short(value)),
        )),
    }
}

fn short(text: &str) -> String {
    let mut out: String = text.chars().take(40).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}
