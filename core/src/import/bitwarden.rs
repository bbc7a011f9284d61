//! Bitwarden (and Bitwarden Authenticator) exports: JSON, CSV, and password-protected JSON
//! (PBKDF2-SHA256 or Argon2id, then HKDF-expanded into AES-256-CBC + HMAC-SHA256 keys for its
//! `2.iv|ct|mac` strings). An account-restricted export is sealed with the Bitwarden account's
//! own key, which no password opens: it is refused with what to do instead.
//!
//! Only items with `login.totp` are entries: an otpauth URI, `steam://SECRET`, or a bare
//! base32 secret (all three are what Bitwarden accepts in that field).

use serde_json::Value;

use super::ImportError;
use super::crypto;
use super::entry::{Draft, SecretIn, Sink, UriExtra};

pub(crate) fn read_json(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let file: Value =
        serde_json::from_slice(bytes).map_err(|e| sink.damaged("JSON", e.to_string()))?;
    if file["encrypted"].as_bool() != Some(true) {
        return read_items(&file, sink);
    }
    if file["passwordProtected"].as_bool() != Some(true) {
        return Err(ImportError::Refused {
            format: sink.format,
            reason: "it is an account-restricted export, sealed with your Bitwarden account's key, which no password opens; export again choosing \"Password protected\"".into(),
        });
    }
    let password = password.ok_or_else(|| sink.password_needed())?;
    let salt = file["salt"]
        .as_str()
        .ok_or_else(|| sink.damaged("salt", "missing"))?;
    let iterations = file["kdfIterations"]
        .as_u64()
        .ok_or_else(|| sink.damaged("kdfIterations", "missing"))?;
    let key = match file["kdfType"].as_u64() {
        Some(0) => crypto::pbkdf2(
            sink.format,
            crypto::Hash::Sha256,
            password.as_bytes(),
            salt.as_bytes(),
            iterations,
            32,
        )?,
        Some(1) => {
            let memory_mib = file["kdfMemory"]
                .as_u64()
                .ok_or_else(|| sink.damaged("kdfMemory", "missing"))?;
            let parallelism = file["kdfParallelism"]
                .as_u64()
                .ok_or_else(|| sink.damaged("kdfParallelism", "missing"))?;
            let salt = crypto::sha256(salt.as_bytes());
            crypto::argon2id(
                sink.format,
                password.as_bytes(),
                &salt,
                memory_mib.saturating_mul(1024),
                iterations,
                parallelism,
                32,
            )?
        }
        other => {
            return Err(sink.damaged(
                "kdfType",
                format!(
                    "{} is not 0 (PBKDF2) or 1 (Argon2id)",
                    other.map_or("missing".into(), |t| t.to_string())
                ),
            ));
        }
    };
    let enc = crypto::hkdf_expand_sha256(&key, b"enc", 32)
        .ok_or_else(|| sink.damaged("key", "cannot be stretched"))?;
    let mac = crypto::hkdf_expand_sha256(&key, b"mac", 32)
        .ok_or_else(|| sink.damaged("key", "cannot be stretched"))?;
    let validation = file["encKeyValidation_DO_NOT_EDIT"]
        .as_str()
        .ok_or_else(|| sink.damaged("encKeyValidation_DO_NOT_EDIT", "missing"))?;
    open(validation, "encKeyValidation_DO_NOT_EDIT", &enc, &mac, sink)?
        .ok_or_else(|| sink.wrong_password())?;
    let data = file["data"]
        .as_str()
        .ok_or_else(|| sink.damaged("data", "missing"))?;
    let plain = open(data, "data", &enc, &mac, sink)?
        .ok_or_else(|| sink.damaged("data", "does not authenticate"))?;
    let inner: Value = serde_json::from_slice(&plain)
        .map_err(|e| sink.damaged("decrypted data", e.to_string()))?;
    read_items(&inner, sink)
}

/// A `2.iv|ct|mac` string: `Ok(None)` when its MAC does not verify.
fn open(
    text: &str,
    part: &str,
    enc: &[u8],
    mac: &[u8],
    sink: &Sink,
) -> Result<Option<crypto::Key>, ImportError> {
    let body = text
        .strip_prefix("2.")
        .ok_or_else(|| sink.damaged(part, "not an AES-CBC-256 + HMAC-SHA256 (type 2) string"))?;
    let pieces: Vec<&str> = body.split('|').collect();
    if pieces.len() != 3 {
        return Err(sink.damaged(part, "not iv|ciphertext|mac"));
    }
    let b64 = |i: usize| {
        data_encoding::BASE64
            .decode(pieces[i].trim().as_bytes())
            .map_err(|_| sink.damaged(part, "not base64"))
    };
    let (iv, ct, tag) = (b64(0)?, b64(1)?, b64(2)?);
    if !crypto::hmac_sha256_verify(mac, &[&iv, &ct], &tag) {
        return Ok(None);
    }
    crypto::aes_cbc_open(enc, &iv, &ct)
        .map(Some)
        .ok_or_else(|| sink.damaged(part, "bad padding"))
}

fn read_items(file: &Value, sink: &mut Sink) -> Result<(), ImportError> {
    let items = file["items"]
        .as_array()
        .ok_or_else(|| sink.damaged("items", "missing"))?;
    let folders = super::entry::id_names(&file["folders"]);
    for item in items {
        let Some(totp) = item["login"]["totp"]
            .as_str()
            .filter(|t| !t.trim().is_empty())
        else {
            continue;
        };
        let group = item["folderId"].as_str().and_then(|id| {
            folders
                .iter()
                .find(|(f, _)| f == id)
                .map(|(_, n)| n.clone())
        });
        add_totp(
            totp,
            Extra {
                name: item["name"].as_str().unwrap_or(""),
                username: item["login"]["username"].as_str().unwrap_or(""),
                note: item["notes"].as_str(),
                group,
                favourite: item["favorite"].as_bool().unwrap_or(false),
            },
            sink,
        );
    }
    Ok(())
}

struct Extra<'a> {
    name: &'a str,
    username: &'a str,
    note: Option<&'a str>,
    group: Option<String>,
    favourite: bool,
}

fn add_totp(totp: &str, extra: Extra<'_>, sink: &mut Sink) {
    let totp = totp.trim();
    let lower = totp.get(..10).unwrap_or("").to_ascii_lowercase();
    if lower.starts_with("otpauth://") {
        sink.add_uri(
            totp,
            UriExtra {
                issuer: extra.name.to_owned(),
                label: extra.username.to_owned(),
                group: extra.group,
                note: extra.note.map(str::to_owned),
                favourite: extra.favourite,
                order: None,
            },
        );
        return;
    }
    let (otp_type, secret) = match totp.split_once("://") {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("steam") => ("steam", rest),
        Some((scheme, _)) => {
            let scheme = scheme.to_ascii_lowercase();
            sink.skip(
                extra.name,
                extra.username,
                &scheme,
                format!(
                    "'{}://' is not an OTP URI known here",
                    scheme.chars().take(16).collect::<String>()
                ),
            );
            return;
        }
        None => ("totp", totp),
    };
    sink.add(Draft {
        issuer: extra.name.to_owned(),
        label: extra.username.to_owned(),
        otp_type: otp_type.to_owned(),
        secret: SecretIn::base32(secret),
        group: extra.group,
        note: extra.note.map(str::to_owned),
        favourite: extra.favourite,
        ..Draft::default()
    });
}

pub(crate) fn read_csv(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| sink.damaged("CSV header", e.to_string()))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h.trim() == name);
    let totp_col =
        column("login_totp").ok_or_else(|| sink.damaged("CSV header", "no login_totp column"))?;
    let (name_col, user_col, notes_col, fav_col, folder_col) = (
        column("name"),
        column("login_username"),
        column("notes"),
        column("favorite"),
        column("folder"),
    );
    for (index, record) in reader.records().enumerate() {
        let record =
            record.map_err(|e| sink.damaged(format!("CSV row {}", index + 2), e.to_string()))?;
        let get = |c: Option<usize>| c.and_then(|c| record.get(c)).unwrap_or("");
        let totp = get(Some(totp_col));
        if totp.trim().is_empty() {
            continue;
        }
        let folder = get(folder_col).trim();
        add_totp(
            totp,
            Extra {
                name: get(name_col),
                username: get(user_col),
                note: Some(get(notes_col)).filter(|n| !n.is_empty()),
                group: (!folder.is_empty()).then(|| folder.to_owned()),
                favourite: get(fav_col).trim() == "1",
            },
            sink,
        );
    }
    Ok(())
}
