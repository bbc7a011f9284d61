//! Small JSON exports: Proton Authenticator (`entries[].content.uri`, notes), Steam Desktop
//! Authenticator maFiles (one account, or the `accounts` map of newer files; the base64
//! `shared_secret` is the Steam Guard key), and Duo (`otpGenerator.otpSecret`, a counter makes
//! it HOTP; no issuer), and LastPass Authenticator (`accounts[]` with `issuerName`, `userName`,
//! base32 `secret`, `timeStep`, `digits`, `algorithm`; `folderData.folderId` names one of
//! `folders[]`, 0 being "Other accounts", i.e. none; `isFavorite`). LastPass's own export is
//! version 3 and plain; other versions are read the same way, field by field.

use serde_json::Value;

use super::ImportError;
use super::entry::{Draft, SecretIn, Sink, UriExtra};
use crate::secret::Secret;

fn json(bytes: &[u8], sink: &Sink) -> Result<Value, ImportError> {
    serde_json::from_slice(bytes).map_err(|e| sink.damaged("JSON", e.to_string()))
}

pub(crate) fn read_proton(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let file = json(bytes, sink)?;
    let entries = file["entries"]
        .as_array()
        .ok_or_else(|| sink.damaged("entries", "missing"))?;
    for entry in entries {
        let content = &entry["content"];
        let name = content["name"].as_str().unwrap_or("");
        let uri = content["uri"].as_str().unwrap_or("");
        if uri.is_empty() {
            sink.skip("", name, "", "the entry has no URI");
            continue;
        }
        sink.add_uri(
            uri,
            UriExtra {
                label: name.to_owned(),
                note: entry["note"].as_str().map(str::to_owned),
                ..UriExtra::default()
            },
        );
    }
    Ok(())
}

pub(crate) fn read_steam(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let file = json(bytes, sink)?;
    let accounts: Vec<&Value> = match file["accounts"].as_object() {
        Some(map) => map.values().collect(),
        None => vec![&file],
    };
    for account in accounts {
        let name = account["account_name"].as_str().unwrap_or("");
        let secret = account["shared_secret"]
            .as_str()
            .and_then(|s| data_encoding::BASE64.decode(s.trim().as_bytes()).ok())
            .map_or(SecretIn::Missing, |b| SecretIn::Bytes(Secret::new(b)));
        sink.add(Draft {
            issuer: "Steam".into(),
            label: name.to_owned(),
            otp_type: "steam".into(),
            secret,
            ..Draft::default()
        });
    }
    Ok(())
}

pub(crate) fn read_duo(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let file = json(bytes, sink)?;
    let accounts = file
        .as_array()
        .ok_or_else(|| sink.damaged("accounts", "not a list"))?;
    for account in accounts {
        let generator = &account["otpGenerator"];
        let counter = generator["counter"].as_i64();
        if account.get("logoUri").is_some_and(|l| !l.is_null()) {
            sink.dropped.icons += 1;
        }
        sink.add(Draft {
            issuer: String::new(),
            label: account["name"].as_str().unwrap_or("").to_owned(),
            otp_type: if counter.is_some() { "hotp" } else { "totp" }.into(),
            counter,
            secret: generator["otpSecret"]
                .as_str()
                .map_or(SecretIn::Missing, SecretIn::base32),
            ..Draft::default()
        });
    }
    Ok(())
}

pub(crate) fn read_lastpass(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let file = json(bytes, sink)?;
    let accounts = file["accounts"]
        .as_array()
        .ok_or_else(|| sink.damaged("accounts", "missing or not a list"))?;
    let folders: Vec<(i64, &str)> = file["folders"]
        .as_array()
        .map(|f| {
            f.iter()
                .filter_map(|f| Some((f["id"].as_i64()?, f["name"].as_str()?)))
                .collect()
        })
        .unwrap_or_default();
    for account in accounts {
        let text = |k: &str| account[k].as_str().unwrap_or("").trim().to_owned();
        let (issuer, label) = (text("issuerName"), text("userName"));
        let favourite = account["isFavorite"].as_bool().unwrap_or(false);
        let secret = account["secret"].as_str().unwrap_or("");
        if secret.trim().is_empty() && account["pushNotification"].as_bool() == Some(true) {
            sink.skip(
                &issuer,
                &label,
                "",
                "a LastPass push sign-in holds no OTP secret",
            );
            continue;
        }
        // Folder 0 is LastPass's "Other accounts" (no folder); its "Favorites" folder holds
        // the favourites, which are a flag here, not a group.
        let group = account["folderData"]["folderId"]
            .as_i64()
            .filter(|id| *id != 0)
            .and_then(|id| folders.iter().find(|(f, _)| *f == id))
            .map(|(_, name)| (*name).to_owned())
            .filter(|name| !(favourite && name == "Favorites"));
        sink.add(Draft {
            issuer,
            label,
            otp_type: "totp".into(),
            algorithm: account["algorithm"].as_str().map(str::to_owned),
            digits: account["digits"].as_i64(),
            period: account["timeStep"].as_i64(),
            secret: SecretIn::base32(secret),
            group,
            favourite,
            ..Draft::default()
        });
    }
    Ok(())
}
