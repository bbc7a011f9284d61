//! Aegis vault files (`docs/vault.md` of Aegis): plain, or encrypted with a master key that each
//! password slot wraps (scrypt + AES-256-GCM; biometric slots are useless off the phone and are
//! not tried). Content v1 (entries only), v2 (an entry's `group` name) and v3 (`groups` with
//! UUIDs), with notes and favourites.

use serde_json::Value;

use super::ImportError;
use super::crypto;
use super::entry::{Draft, SecretIn, Sink};

pub(crate) fn read(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let file: Value =
        serde_json::from_slice(bytes).map_err(|e| sink.damaged("JSON", e.to_string()))?;
    let content = match &file["db"] {
        Value::Object(_) => file["db"].clone(),
        Value::String(sealed) => {
            let password = password.ok_or_else(|| sink.password_needed())?;
            let plain = decrypt(&file["header"], sealed, password, sink)?;
            serde_json::from_slice(&plain)
                .map_err(|e| sink.damaged("decrypted db", e.to_string()))?
        }
        _ => return Err(sink.damaged("db", "neither an object nor an encrypted string")),
    };
    read_content(&content, sink)
}

fn hex(value: &Value, part: &str, sink: &Sink) -> Result<Vec<u8>, ImportError> {
    let text = value
        .as_str()
        .ok_or_else(|| sink.damaged(part, "missing"))?;
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(text.as_bytes())
        .map_err(|_| sink.damaged(part, "not hex"))
}

fn number(value: &Value, part: &str, sink: &Sink) -> Result<u64, ImportError> {
    value
        .as_u64()
        .ok_or_else(|| sink.damaged(part, "missing or not a number"))
}

fn decrypt(
    header: &Value,
    sealed: &str,
    password: &str,
    sink: &Sink,
) -> Result<crypto::Key, ImportError> {
    let slots = header["slots"]
        .as_array()
        .ok_or_else(|| sink.damaged("header.slots", "missing"))?;
    let mut master = None;
    let mut tried = 0;
    for (index, slot) in slots.iter().enumerate() {
        if slot["type"].as_u64() != Some(1) {
            continue;
        }
        tried += 1;
        let part = |p: &str| format!("header.slots[{index}].{p}");
        let salt = hex(&slot["salt"], &part("salt"), sink)?;
        let n = number(&slot["n"], &part("n"), sink)?;
        let r = number(&slot["r"], &part("r"), sink)?;
        let p = number(&slot["p"], &part("p"), sink)?;
        let mut wrapped = hex(&slot["key"], &part("key"), sink)?;
        let nonce = hex(
            &slot["key_params"]["nonce"],
            &part("key_params.nonce"),
            sink,
        )?;
        wrapped.extend(hex(
            &slot["key_params"]["tag"],
            &part("key_params.tag"),
            sink,
        )?);
        let key = crypto::scrypt(sink.format, password.as_bytes(), &salt, n, r, p, 32)?;
        if let Some(found) = crypto::aes_gcm_open(&key, &nonce, &[], &wrapped) {
            master = Some(found);
            break;
        }
    }
    if tried == 0 {
        return Err(ImportError::Refused {
            format: sink.format,
            reason: "it has no password slot (only a biometric one, which works only on the phone that made it)".into(),
        });
    }
    let master = master.ok_or_else(|| sink.wrong_password())?;
    let nonce = hex(&header["params"]["nonce"], "header.params.nonce", sink)?;
    let tag = hex(&header["params"]["tag"], "header.params.tag", sink)?;
    let mut ciphertext = data_encoding::BASE64
        .decode(sealed.trim().as_bytes())
        .map_err(|_| sink.damaged("db", "not base64"))?;
    ciphertext.extend(tag);
    let plain = crypto::aes_gcm_open(&master, &nonce, &[], &ciphertext)
        .ok_or_else(|| sink.damaged("db", "the encrypted content does not authenticate"))?;
    ciphertext.iter_mut().for_each(|b| *b = 0);
    Ok(plain)
}

fn read_content(content: &Value, sink: &mut Sink) -> Result<(), ImportError> {
    let version = content["version"].as_u64().unwrap_or(1);
    if version > 3 {
        return Err(ImportError::Refused {
            format: sink.format,
            reason: format!("its content version {version} is newer than 3, the newest known"),
        });
    }
    let groups: Vec<(String, String)> = content["groups"]
        .as_array()
        .map(|g| {
            g.iter()
                .filter_map(|g| {
                    Some((
                        g["uuid"].as_str()?.to_owned(),
                        g["name"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let entries = content["entries"]
        .as_array()
        .ok_or_else(|| sink.damaged("db.entries", "missing"))?;
    for entry in entries {
        let info = &entry["info"];
        let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
        let mut names: Vec<String> = entry["groups"]
            .as_array()
            .map(|ids| {
                ids.iter()
                    .filter_map(|id| {
                        let id = id.as_str()?;
                        groups.iter().find(|(u, _)| u == id).map(|(_, n)| n.clone())
                    })
                    .collect()
            })
            .unwrap_or_default();
        if let Some(old) = entry["group"].as_str() {
            names.insert(0, old.to_owned());
        }
        names.dedup();
        sink.dropped.extra_groups += names.len().saturating_sub(1);
        if !entry["icon"].is_null() && entry.get("icon").is_some() {
            sink.dropped.icons += 1;
        }
        if info.get("pin").is_some_and(|p| !p.is_null()) {
            sink.dropped.pins += 1;
        }
        sink.add(Draft {
            issuer: text(&entry["issuer"]),
            label: text(&entry["name"]),
            otp_type: text(&entry["type"]),
            algorithm: info["algo"].as_str().map(str::to_owned),
            digits: info["digits"].as_i64(),
            period: info["period"].as_i64(),
            counter: info["counter"].as_i64(),
            secret: info["secret"]
                .as_str()
                .map_or(SecretIn::Missing, SecretIn::base32),
            group: names.into_iter().next(),
            note: entry["note"].as_str().map(str::to_owned),
            favourite: entry["favorite"].as_bool().unwrap_or(false),
            order: None,
        });
    }
    Ok(())
}
