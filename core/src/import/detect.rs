//! Recognising a file's format from its content: magic bytes for binary formats, the shape of
//! the JSON or XML for text ones, URI lines for lists. File names are never consulted.

use serde_json::Value;

use super::{
    Format, MAX_PBKDF2_ITERATIONS, archive, authenticator_plus, freeotp, qr, sqlcipher, sqlite,
    stratum,
};

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The format of `bytes`, or `None` when nothing matches.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    if qr::is_image(bytes) {
        return Some(Format::QrImage);
    }
    if bytes.starts_with(sqlite::SQLITE_MAGIC) {
        let head = &bytes[..bytes.len().min(64 * 1024)];
        return if contains(head, b"oath_secret_key") {
            Some(Format::MicrosoftAuthenticatorDb)
        } else if contains(head, b"authenticatorcategory") {
            Some(Format::AuthenticatorProDb)
        } else if contains(head, b"original_name")
            || contains(head, b"accounts (_id INTEGER PRIMARY KEY, email")
        {
            Some(Format::GoogleAuthenticatorDb)
        } else {
            None
        };
    }
    if bytes.starts_with(stratum::STRONG_MAGIC) || bytes.starts_with(stratum::LEGACY_MAGIC) {
        return Some(Format::AuthenticatorPro);
    }
    if bytes.starts_with(freeotp::JAVA_MAGIC) {
        return Some(Format::FreeOtpBackup);
    }
    if archive::is_zip(bytes) {
        // The two zip formats are told apart by the name of the file inside (names are not
        // encrypted); any other zip, empty or unreadable, is taken for WinAuth's, whose
        // reader then says what is wrong with it.
        let names = archive::names(bytes).unwrap_or_default();
        return Some(
            if names
                .iter()
                .any(|n| authenticator_plus::is_accounts_file(n))
            {
                Format::AuthenticatorPlus
            } else {
                Format::WinAuth
            },
        );
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        // The encrypted formats without a header: an andOTP backup (new format: an iteration
        // count first; old: a random nonce) or a SQLCipher database (a random salt first, then
        // whole 1024-byte pages). A file of whole pages whose first word is no plausible
        // iteration count is taken for the database; `read` tries andOTP after it when the
        // password does not open it.
        let first = bytes
            .get(..4)
            .map_or(0, |b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let plausible_iterations = (1..=MAX_PBKDF2_ITERATIONS).contains(&u64::from(first));
        if sqlcipher::may_be(bytes) && !plausible_iterations {
            return Some(Format::AuthenticatorPlusDb);
        }
        return (bytes.len() >= 4 + 12 + 12 + 16).then_some(Format::AndOtp);
    };
    let text = text.trim_start_matches('\u{feff}').trim_start();
    match text.as_bytes().first() {
        Some(b'{') | Some(b'[') => serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|v| json(&v)),
        Some(b'<') => xml(text),
        _ => plain_text(text),
    }
}

fn json(v: &Value) -> Option<Format> {
    if let Some(items) = v.as_array() {
        let first = items.first()?;
        return if first.get("otpGenerator").is_some() {
            Some(Format::Duo)
        } else if first.get("secret").is_some() && first.get("type").is_some() {
            Some(Format::AndOtp)
        } else {
            None
        };
    }
    let has = |k: &str| v.get(k).is_some();
    if has("header") && has("db") {
        Some(Format::Aegis)
    } else if has("schemaVersion") || v["services"].is_array() {
        Some(Format::TwoFas)
    } else if has("Authenticators") {
        Some(Format::AuthenticatorPro)
    } else if has("encKeyValidation_DO_NOT_EDIT") || (has("items") && has("encrypted")) {
        Some(Format::Bitwarden)
    } else if has("kdfParams") && has("encryptedData") {
        Some(Format::Ente)
    } else if has("tokens") && (has("tokenOrder") || v["tokens"].is_array()) {
        Some(Format::FreeOtpPlus)
    } else if v["entries"]
        .as_array()
        .is_some_and(|e| e.iter().all(|e| e.get("content").is_some()))
    {
        Some(Format::Proton)
    } else if v["accounts"].as_array().is_some_and(|a| {
        a.iter()
            .any(|x| x.get("issuerName").is_some() && x.get("secret").is_some())
    }) {
        Some(Format::LastPass)
    } else if has("shared_secret")
        || v["accounts"]
            .as_object()
            .is_some_and(|a| a.values().any(|x| x.get("shared_secret").is_some()))
    {
        Some(Format::Steam)
    } else {
        None
    }
}

fn xml(text: &str) -> Option<Format> {
    if text.contains("com.authy.storage.tokens") {
        Some(Format::Authy)
    } else if text.contains("com.blizzard.messenger.AUTHENTICATOR") {
        Some(Format::BattleNet)
    } else if text.contains("STATIC_TOTP_CODES_LIST") {
        Some(Format::TotpAuthenticator)
    } else if text.contains("<map") && (text.contains("issuerExt") || text.contains("tokenOrder")) {
        Some(Format::FreeOtp)
    } else {
        None
    }
}

fn plain_text(text: &str) -> Option<Format> {
    let first = text.lines().next().unwrap_or("");
    if first.contains("login_totp") {
        return Some(Format::BitwardenCsv);
    }
    let lower = text.to_ascii_lowercase();
    if lower.contains("otpauth://") || lower.contains("otpauth-migration://") {
        return Some(if lower.contains("codedisplay=") {
            Format::Ente
        } else {
            Format::UriList
        });
    }
    let compact: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.len() >= 24
        && compact
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
    {
        return Some(Format::TotpAuthenticator);
    }
    None
}
