//! Authenticator Pro (now Stratum) backups (`doc/BACKUP_FORMAT.md`): plain JSON, strong
//! (`AUTHENTICATORPRO` | salt 16 | iv 12 | AES-256-GCM, Argon2id p=4 m=64 MiB t=3) and legacy
//! (`AuthenticatorPro` | salt 20 | iv 16 | AES-256-CBC, PBKDF2-SHA1 64 000). Categories become
//! groups; `Ranking` the order. Secrets are decoded as Stratum decodes them, a trailing partial
//! byte dropped (`SecretIn::base32_whole_bytes`).

use serde_json::Value;

use super::ImportError;
use super::crypto;
use super::entry::{Draft, SecretIn, Sink};

pub(crate) const STRONG_MAGIC: &[u8] = b"AUTHENTICATORPRO";
pub(crate) const LEGACY_MAGIC: &[u8] = b"AuthenticatorPro";

pub(crate) fn read(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let plain;
    let json: &[u8] = if let Some(rest) = bytes.strip_prefix(STRONG_MAGIC) {
        let password = password.ok_or_else(|| sink.password_needed())?;
        if rest.len() < 16 + 12 + 16 {
            return Err(sink.damaged("header", "too short"));
        }
        let key = crypto::argon2id(
            sink.format,
            password.as_bytes(),
            &rest[..16],
            64 * 1024,
            3,
            4,
            32,
        )?;
        plain = crypto::aes_gcm_open(&key, &rest[16..28], &[], &rest[28..])
            .ok_or_else(|| sink.wrong_password())?;
        &plain
    } else if let Some(rest) = bytes.strip_prefix(LEGACY_MAGIC) {
        let password = password.ok_or_else(|| sink.password_needed())?;
        if rest.len() < 20 + 16 + 16 {
            return Err(sink.damaged("header", "too short"));
        }
        let key = crypto::pbkdf2(
            sink.format,
            crypto::Hash::Sha1,
            password.as_bytes(),
            &rest[..20],
            64_000,
            32,
        )?;
        plain = crypto::aes_cbc_open(&key, &rest[20..36], &rest[36..])
            .ok_or_else(|| sink.wrong_password())?;
        &plain
    } else {
        bytes
    };
    let file: Value = serde_json::from_slice(json).map_err(|e| {
        if json.len() == bytes.len() {
            sink.damaged("JSON", e.to_string())
        } else {
            // CBC without a MAC: a wrong password can pass the padding check.
            sink.wrong_password()
        }
    })?;
    read_json(&file, sink)
}

fn read_json(file: &Value, sink: &mut Sink) -> Result<(), ImportError> {
    let authenticators = file["Authenticators"]
        .as_array()
        .ok_or_else(|| sink.damaged("Authenticators", "missing"))?;
    let categories: Vec<(String, String)> = file["Categories"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| {
                    Some((c["Id"].as_str()?.to_owned(), c["Name"].as_str()?.to_owned()))
                })
                .collect()
        })
        .unwrap_or_default();
    let links = file["AuthenticatorCategories"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for a in authenticators {
        let secret = a["Secret"].as_str().unwrap_or("");
        let groups: Vec<String> = links
            .iter()
            .filter(|l| l["AuthenticatorSecret"].as_str() == Some(secret))
            .filter_map(|l| {
                let id = l["CategoryId"].as_str()?;
                categories
                    .iter()
                    .find(|(c, _)| c == id)
                    .map(|(_, n)| n.clone())
            })
            .collect();
        sink.dropped.extra_groups += groups.len().saturating_sub(1);
        if a["Icon"].as_str().is_some_and(|i| !i.is_empty()) {
            sink.dropped.icons += 1;
        }
        if a["Pin"].as_str().is_some_and(|p| !p.is_empty()) {
            sink.dropped.pins += 1;
        }
        add(a, groups.into_iter().next(), sink);
    }
    Ok(())
}

/// One authenticator as the JSON and the database both describe it.
pub(crate) fn add(a: &Value, group: Option<String>, sink: &mut Sink) {
    let otp_type = match a["Type"].as_i64() {
        Some(1) => "hotp".to_owned(),
        Some(2) => "totp".to_owned(),
        Some(3) => "motp".to_owned(),
        Some(4) => "steam".to_owned(),
        Some(5) => "yandex".to_owned(),
        Some(n) => format!("type {n}"),
        None => "totp".to_owned(),
    };
    let algorithm = match a["Algorithm"].as_i64() {
        Some(0) | None => "SHA1".to_owned(),
        Some(1) => "SHA256".to_owned(),
        Some(2) => "SHA512".to_owned(),
        Some(n) => format!("number {n}"),
    };
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    sink.add(Draft {
        issuer: text(&a["Issuer"]),
        label: text(&a["Username"]),
        otp_type,
        algorithm: Some(algorithm),
        digits: a["Digits"].as_i64(),
        period: a["Period"].as_i64(),
        counter: a["Counter"].as_i64(),
        secret: a["Secret"]
            .as_str()
            .map_or(SecretIn::Missing, SecretIn::base32_whole_bytes),
        group,
        note: None,
        favourite: false,
        order: a["Ranking"].as_i64(),
    });
}
