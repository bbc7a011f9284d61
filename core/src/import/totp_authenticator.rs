//! TOTP Authenticator (BinaryBoxes): the encrypted backup (base64 of AES-256-CBC with a zero IV
//! under SHA-256 of the password; inside, a JSON object whose first key is the JSON list of
//! accounts) and, through `prefs.rs`, the app's internal preferences. Keys are hex (`base` 16)
//! or base32 (`base` 32); names are stored lower-cased by the app.

use serde_json::Value;

use super::crypto;
use super::entry::{Draft, SecretIn, Sink};
use super::{ImportError, prefs};

pub(crate) fn read(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    if bytes.trim_ascii_start().starts_with(b"<") {
        return prefs::read_totp_authenticator_internal(bytes, sink);
    }
    let text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let ciphertext = data_encoding::BASE64
        .decode(&text)
        .map_err(|_| sink.damaged("backup", "not base64"))?;
    let password = password.ok_or_else(|| sink.password_needed())?;
    let key = crypto::sha256(password.as_bytes());
    let plain =
        crypto::aes_cbc_open(&key, &[0u8; 16], &ciphertext).ok_or_else(|| sink.wrong_password())?;
    let outer: Value = serde_json::from_slice(&plain).map_err(|_| sink.wrong_password())?;
    let list = outer
        .as_object()
        .and_then(|o| o.keys().next().cloned())
        .ok_or_else(|| sink.damaged("decrypted backup", "no account list"))?;
    read_entries(&list, sink)
}

pub(crate) fn read_entries(json: &str, sink: &mut Sink) -> Result<(), ImportError> {
    let entries: Value =
        serde_json::from_str(json).map_err(|e| sink.damaged("account list", e.to_string()))?;
    let entries = entries
        .as_array()
        .ok_or_else(|| sink.damaged("account list", "not a list"))?;
    for e in entries {
        let text = |v: &Value| v.as_str().unwrap_or("").trim().to_owned();
        let number = |v: &Value| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
        };
        let key = text(&e["key"]);
        let secret = match e["base"].as_i64() {
            Some(16) => SecretIn::hex(&key),
            _ => SecretIn::base32(&key),
        };
        if !text(&e["iconPath"]).is_empty() || !text(&e["fileName"]).is_empty() {
            sink.dropped.icons += 1;
        }
        sink.add(Draft {
            issuer: text(&e["issuer"]),
            label: text(&e["name"]),
            otp_type: "totp".into(),
            digits: number(&e["digits"]),
            period: number(&e["period"]),
            secret,
            group: Some(text(&e["accountHeaderLabel"])).filter(|g| !g.is_empty()),
            favourite: e["isFavorite"].as_bool().unwrap_or(false),
            ..Draft::default()
        });
    }
    Ok(())
}
