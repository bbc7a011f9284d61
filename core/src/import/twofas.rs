//! 2FAS `.2fas` backups, schemas 1 to 4, plain or encrypted (PBKDF2-SHA256, 10 000 iterations,
//! AES-256-GCM; `<b64 ct+tag>:<b64 salt>:<b64 iv>`). A wrong password is detected on the
//! `reference` field before the services are touched, as 2FAS itself does.

use serde_json::Value;

use super::ImportError;
use super::crypto;
use super::entry::{Draft, SecretIn, Sink};

const ITERATIONS: u64 = 10_000;

pub(crate) fn read(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let file: Value =
        serde_json::from_slice(bytes).map_err(|e| sink.damaged("JSON", e.to_string()))?;
    let schema = file["schemaVersion"].as_u64().unwrap_or(1);
    if schema > 4 {
        return Err(ImportError::Refused {
            format: sink.format,
            reason: format!("schema version {schema} is newer than 4, the newest known"),
        });
    }
    let encrypted = file["servicesEncrypted"]
        .as_str()
        .filter(|s| !s.trim().is_empty());
    let services: Value = match encrypted {
        None => file["services"].clone(),
        Some(sealed) => {
            let password = password.ok_or_else(|| sink.password_needed())?;
            if let Some(reference) = file["reference"].as_str().filter(|s| !s.trim().is_empty()) {
                open(reference, "reference", password, sink)?
                    .ok_or_else(|| sink.wrong_password())?;
            }
            let plain = open(sealed, "servicesEncrypted", password, sink)?.ok_or_else(|| {
                if file["reference"].is_string() {
                    sink.damaged("servicesEncrypted", "does not authenticate")
                } else {
                    sink.wrong_password()
                }
            })?;
            serde_json::from_slice(&plain)
                .map_err(|e| sink.damaged("decrypted services", e.to_string()))?
        }
    };
    let services = services
        .as_array()
        .ok_or_else(|| sink.damaged("services", "missing"))?;
    let groups = super::entry::id_names(&file["groups"]);
    for service in services {
        let otp = &service["otp"];
        let text = |v: &Value| v.as_str().unwrap_or("").trim().to_owned();
        let mut issuer = text(&service["name"]);
        if issuer.is_empty() {
            issuer = text(&otp["issuer"]);
        }
        let mut label = text(&otp["account"]);
        if label.is_empty() {
            label = text(&otp["label"]);
        }
        let group = service["groupId"]
            .as_str()
            .and_then(|id| groups.iter().find(|(g, _)| g == id).map(|(_, n)| n.clone()));
        if service.get("icon").is_some_and(|i| !i.is_null()) {
            sink.dropped.icons += 1;
        }
        sink.add(Draft {
            issuer,
            label,
            otp_type: otp["tokenType"].as_str().unwrap_or("TOTP").to_owned(),
            algorithm: otp["algorithm"].as_str().map(str::to_owned),
            digits: otp["digits"].as_i64(),
            period: otp["period"].as_i64(),
            counter: otp["counter"].as_i64(),
            secret: service["secret"]
                .as_str()
                .map_or(SecretIn::Missing, SecretIn::base32),
            group,
            note: None,
            favourite: false,
            order: service["order"]["position"].as_i64(),
        });
    }
    Ok(())
}

/// `Ok(None)` when the tag does not verify (wrong password, or damage).
fn open(
    field: &str,
    part: &str,
    password: &str,
    sink: &Sink,
) -> Result<Option<crypto::Key>, ImportError> {
    let pieces: Vec<&str> = field.split(':').collect();
    if pieces.len() < 3 {
        return Err(sink.damaged(part, "not ciphertext:salt:iv"));
    }
    let b64 = |i: usize, what: &str| {
        data_encoding::BASE64
            .decode(pieces[i].trim().as_bytes())
            .map_err(|_| sink.damaged(format!("{part} ({what})"), "not base64"))
    };
    let sealed = b64(0, "ciphertext")?;
    let salt = b64(1, "salt")?;
    let iv = b64(2, "iv")?;
    let key = crypto::pbkdf2(
        sink.format,
        crypto::Hash::Sha256,
        password.as_bytes(),
        &salt,
        ITERATIONS,
        32,
    )?;
    Ok(crypto::aes_gcm_open(&key, &iv, &[], &sealed))
}
