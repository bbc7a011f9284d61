//! andOTP backups: plain JSON, the new encrypted format (`iterations u32 BE | salt 12 | nonce 12
//! | ciphertext+tag`, PBKDF2-HMAC-SHA1, AES-256-GCM) and the old one (`nonce 12 |
//! ciphertext+tag` with SHA-256 of the password as key).

use serde_json::Value;

use super::ImportError;
use super::crypto;
use super::entry::{Draft, SecretIn, Sink};

pub(crate) fn read(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let trimmed = bytes.trim_ascii_start();
    if trimmed.first() == Some(&b'[') {
        let entries: Value =
            serde_json::from_slice(bytes).map_err(|e| sink.damaged("JSON", e.to_string()))?;
        return read_entries(&entries, false, sink);
    }
    let password = password.ok_or_else(|| sink.password_needed())?;
    if bytes.len() < 12 + 16 {
        return Err(sink.damaged("header", "too short for an encrypted andOTP backup"));
    }
    // The old format first: a single SHA-256, and its first bytes are a random nonce that would
    // read as a huge iteration count.
    let old_key = crypto::sha256(password.as_bytes());
    if let Some(plain) = crypto::aes_gcm_open(&old_key, &bytes[..12], &[], &bytes[12..]) {
        let entries: Value = serde_json::from_slice(&plain)
            .map_err(|e| sink.damaged("decrypted entries", e.to_string()))?;
        return read_entries(&entries, true, sink);
    }
    if bytes.len() < 4 + 12 + 12 + 16 {
        return Err(sink.wrong_password());
    }
    let iterations = u64::from(u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]));
    let salt = &bytes[4..16];
    let nonce = &bytes[16..28];
    let key = crypto::pbkdf2(
        sink.format,
        crypto::Hash::Sha1,
        password.as_bytes(),
        salt,
        iterations,
        32,
    )?;
    let plain = crypto::aes_gcm_open(&key, nonce, &[], &bytes[28..])
        .ok_or_else(|| sink.wrong_password())?;
    let entries: Value = serde_json::from_slice(&plain)
        .map_err(|e| sink.damaged("decrypted entries", e.to_string()))?;
    read_entries(&entries, false, sink)
}

fn read_entries(entries: &Value, old: bool, sink: &mut Sink) -> Result<(), ImportError> {
    let entries = entries
        .as_array()
        .ok_or_else(|| sink.damaged("entries", "not a list"))?;
    for entry in entries {
        let text = |v: &Value| v.as_str().unwrap_or("").trim().to_owned();
        let (mut issuer, mut label) = (text(&entry["issuer"]), text(&entry["label"]));
        if old {
            // The old format joins issuer and name in the label, as "Issuer - Issuer:name".
            if let Some((i, l)) = label.rsplit_once(':') {
                let i = match i.split_once(" - ") {
                    Some((a, b)) if a.trim() == b.trim() => a.trim(),
                    _ => i.trim(),
                };
                if issuer.is_empty() || issuer == i {
                    (issuer, label) = (i.to_owned(), l.trim().to_owned());
                }
            }
        }
        let tags: Vec<String> = entry["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        sink.dropped.extra_groups += tags.len().saturating_sub(1);
        if entry.get("pin").is_some_and(|p| !p.is_null()) {
            sink.dropped.pins += 1;
        }
        sink.add(Draft {
            issuer,
            label,
            otp_type: entry["type"].as_str().unwrap_or("TOTP").to_owned(),
            algorithm: entry["algorithm"].as_str().map(str::to_owned),
            digits: entry["digits"].as_i64(),
            period: entry["period"].as_i64(),
            counter: entry["counter"].as_i64(),
            secret: entry["secret"]
                .as_str()
                .map_or(SecretIn::Missing, SecretIn::base32),
            group: tags.into_iter().next(),
            note: None,
            favourite: false,
            order: None,
        });
    }
    Ok(())
}
