//! Android shared-preferences XML (`<map><string name="...">...</string></map>`), as a rooted
//! phone gives up: Authy (plain, or with each secret encrypted by PBKDF2-SHA1 + AES-CBC under
//! the backup password), TOTP Authenticator's internal file, and FreeOTP's `tokens.xml`
//! (through `freeotp.rs`).

use serde_json::Value;

use super::crypto;
use super::entry::{Draft, SecretIn, Sink};
use super::{ImportError, totp_authenticator};

/// The `<string>` entries of a preferences file, in order.
pub(crate) fn parse(bytes: &[u8], sink: &Sink) -> Result<Vec<(String, String)>, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|_| sink.damaged("XML", "not UTF-8"))?;
    let doc = roxmltree::Document::parse(text).map_err(|e| sink.damaged("XML", e.to_string()))?;
    let root = doc.root_element();
    if root.tag_name().name() != "map" {
        return Err(sink.damaged("XML", "the root element is not <map>"));
    }
    Ok(root
        .children()
        .filter(|n| n.is_element() && n.tag_name().name() == "string")
        .map(|n| {
            (
                n.attribute("name").unwrap_or("").to_owned(),
                n.text().unwrap_or("").to_owned(),
            )
        })
        .collect())
}

const AUTHY_TOKENS: &str = "com.authy.storage.tokens.authenticator.key";
const AUTHY_ITERATIONS: u64 = 1000;

pub(crate) fn read_authy(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let map = parse(bytes, sink)?;
    let json = map
        .iter()
        .find(|(k, _)| k == AUTHY_TOKENS)
        .map(|(_, v)| v)
        .ok_or_else(|| sink.damaged(AUTHY_TOKENS, "missing"))?;
    let tokens: Value =
        serde_json::from_str(json).map_err(|e| sink.damaged(AUTHY_TOKENS, e.to_string()))?;
    let tokens = tokens
        .as_array()
        .ok_or_else(|| sink.damaged(AUTHY_TOKENS, "not a list"))?;
    let encrypted = tokens.iter().any(|t| t.get("encryptedSecret").is_some());
    let password = match (encrypted, password) {
        (true, None) => return Err(sink.password_needed()),
        (_, p) => p,
    };
    let mut opened_any = false;
    let mut results = Vec::with_capacity(tokens.len());
    for token in tokens {
        let secret = match (
            token["decryptedSecret"].as_str(),
            token["encryptedSecret"].as_str(),
        ) {
            (Some(plain), _) => Some(SecretIn::base32(plain)),
            (None, Some(sealed)) => {
                let opened = decrypt(
                    sealed,
                    token["salt"].as_str().unwrap_or(""),
                    password.unwrap_or(""),
                    sink,
                )?;
                opened_any |= opened.is_some();
                opened
            }
            (None, None) => Some(SecretIn::Missing),
        };
        results.push((token, secret));
    }
    if encrypted && !opened_any {
        return Err(sink.wrong_password());
    }
    for (token, secret) in results {
        let text = |v: &Value| v.as_str().unwrap_or("").trim().to_owned();
        let original = text(&token["originalName"]);
        let mut issuer = text(&token["originalIssuer"]);
        let label = match original.split_once(':') {
            Some((i, l)) => {
                if issuer.is_empty() {
                    issuer = i.trim().to_owned();
                }
                l.trim().to_owned()
            }
            None if !original.is_empty() => original.clone(),
            None => text(&token["name"]),
        };
        match secret {
            Some(secret) => sink.add(Draft {
                issuer,
                label,
                otp_type: "totp".into(),
                digits: token["digits"].as_i64(),
                secret,
                ..Draft::default()
            }),
            None => sink.skip(
                &issuer,
                &label,
                "totp",
                "secret: does not decrypt with this password",
            ),
        }
    }
    Ok(())
}

fn decrypt(
    sealed: &str,
    salt: &str,
    password: &str,
    sink: &Sink,
) -> Result<Option<SecretIn>, ImportError> {
    let Ok(ciphertext) = data_encoding::BASE64.decode(sealed.trim().as_bytes()) else {
        return Ok(None);
    };
    let key = crypto::pbkdf2(
        sink.format,
        crypto::Hash::Sha1,
        password.as_bytes(),
        salt.as_bytes(),
        AUTHY_ITERATIONS,
        32,
    )?;
    Ok(
        crypto::aes_cbc_open(&key, &[0u8; 16], &ciphertext).and_then(|plain| {
            let text = std::str::from_utf8(&plain).ok()?;
            // A wrong key that happens to pass the padding check gives no base32.
            crate::secret::Secret::from_base32(text).ok()?;
            Some(SecretIn::base32(text))
        }),
    )
}

pub(crate) const TOTP_AUTHENTICATOR_LIST: &str = "STATIC_TOTP_CODES_LIST";

/// TOTP Authenticator's internal preferences, or (by content) Battle.net's.
pub(crate) fn read_totp_authenticator_internal(
    bytes: &[u8],
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let map = parse(bytes, sink)?;
    let json = map
        .iter()
        .find(|(k, _)| k == TOTP_AUTHENTICATOR_LIST)
        .map(|(_, v)| v)
        .ok_or_else(|| sink.damaged(TOTP_AUTHENTICATOR_LIST, "missing"))?;
    totp_authenticator::read_entries(json, sink)
}

/// The fixed mask Battle.net XORs over the hex text of its device secret and over the serial
/// when `AUTHENTICATOR_CREDENTIALS_ENCRYPTION_TYPE` is `MASK` (a published constant of the app).
const BATTLE_NET_MASK: [u8; 57] = [
    57, 142, 39, 252, 80, 39, 106, 101, 96, 101, 176, 229, 37, 244, 192, 108, 4, 198, 16, 117, 40,
    107, 142, 122, 237, 165, 157, 169, 129, 59, 93, 214, 200, 13, 47, 179, 128, 104, 119, 63, 165,
    155, 164, 124, 23, 202, 108, 100, 121, 1, 92, 29, 91, 139, 143, 107, 154,
];
const BATTLE_NET: &str = "com.blizzard.messenger.";

fn unmask(hex: &str) -> Option<String> {
    let bytes = data_encoding::HEXLOWER_PERMISSIVE
        .decode(hex.trim().as_bytes())
        .ok()?;
    if bytes.len() > BATTLE_NET_MASK.len() {
        return None;
    }
    let plain: Vec<u8> = bytes
        .iter()
        .zip(BATTLE_NET_MASK)
        .map(|(b, m)| b ^ m)
        .collect();
    String::from_utf8(plain).ok()
}

/// Battle.net's preferences: one 8-digit SHA-1 TOTP named by the serial.
pub(crate) fn read_battle_net(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let map = parse(bytes, sink)?;
    let get = |key: &str| {
        map.iter()
            .find(|(k, _)| k.strip_prefix(BATTLE_NET) == Some(key))
            .map(|(_, v)| v.as_str())
    };
    let masked =
        !matches!(get("AUTHENTICATOR_CREDENTIALS_ENCRYPTION_TYPE"), Some(t) if t != "MASK");
    let secret = get("AUTHENTICATOR_DEVICE_SECRET")
        .ok_or_else(|| sink.damaged("AUTHENTICATOR_DEVICE_SECRET", "missing"))?;
    let serial = get("AUTHENTICATOR_SERIAL").unwrap_or("");
    let (secret, serial) = if masked {
        (
            zeroize::Zeroizing::new(unmask(secret).ok_or_else(|| {
                sink.damaged("AUTHENTICATOR_DEVICE_SECRET", "not a masked hex secret")
            })?),
            unmask(serial).unwrap_or_default(),
        )
    } else {
        (
            zeroize::Zeroizing::new(secret.to_owned()),
            serial.to_owned(),
        )
    };
    sink.add(Draft {
        issuer: "Battle.net".into(),
        label: serial,
        otp_type: "totp".into(),
        digits: Some(8),
        secret: SecretIn::hex(&secret),
        ..Draft::default()
    });
    Ok(())
}
