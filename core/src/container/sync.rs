//! What a sync says, both ways.
//!
//! Out (`container_dict_client`, signed as sent): `{"container_serial": …, "type":
//! "smartphone", "tokens": [...]}` where each token is `{"serial": …, "tokentype": …}` for a
//! token the phone holds, or, on the first sync when the server's policy lets it take over
//! tokens the phone already had, `{"tokentype": "hotp"|"totp", "otp": [two codes]}` for one
//! the phone knows no serial of. The list matters: **every container token the phone does
//! not list is re-keyed by the server and delivered again**, so the list is always every token
//! the vault links to the container (an empty list only when it holds none).
//!
//! Back (the decrypted `container_dict_server`): `{"container": {...}, "tokens": {"add":
//! [enrollment URIs], "update": [{"serial", "tokentype", "counter", "offline"[, "otp"]}]}}`.
//! `add` holds `otpauth://totp|hotp|daypassword/…` URIs with new secrets, and push enrollment
//! URIs (`otpauth://pipush/…`) that need the push registration; `update` lists the tokens the
//! phone keeps, with the server's counter (HOTP: the next counter it expects), and echoes the
//! `otp` values of a token it matched by them.

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{ContainerError, TokenType};

/// At most this many tokens in one answer (privacyIDEA has no limit; a phone holds dozens).
pub const MAX_TOKENS: usize = 1000;
const MAX_URI_CHARS: usize = 4096;

/// One token in the phone's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientToken {
    /// A token the phone holds under its serial.
    Listed {
        serial: String,
        token_type: TokenType,
    },
    /// A token the phone holds without a serial, offered for takeover by two codes.
    ByCodes {
        token_type: TokenType,
        codes: [String; 2],
    },
}

#[derive(Serialize)]
struct ClientDict<'a> {
    container_serial: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    tokens: Vec<ClientEntry<'a>>,
}

#[derive(Serialize)]
struct ClientEntry<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    serial: Option<&'a str>,
    tokentype: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    otp: Option<&'a [String; 2]>,
}

/// `container_dict_client` for `tokens`.
pub fn client_dict(serial: &str, tokens: &[ClientToken]) -> String {
    let dict = ClientDict {
        container_serial: serial,
        kind: "smartphone",
        tokens: tokens
            .iter()
            .map(|t| match t {
                ClientToken::Listed { serial, token_type } => ClientEntry {
                    serial: Some(serial),
                    tokentype: token_type.as_str(),
                    otp: None,
                },
                ClientToken::ByCodes { token_type, codes } => ClientEntry {
                    serial: None,
                    tokentype: token_type.as_str(),
                    otp: Some(codes),
                },
            })
            .collect(),
    };
    // Plain strings and arrays: serializing cannot fail.
    serde_json::to_string(&dict).unwrap_or_default()
}

/// The decrypted answer.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Enrollment URIs, with their secrets (zeroized when dropped).
    pub add: Vec<Zeroizing<String>>,
    pub update: Vec<TokenUpdate>,
}

/// A token the phone keeps, as the server sees it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TokenUpdate {
    pub serial: String,
    pub tokentype: String,
    /// The server's counter: HOTP's next expected counter, TOTP's last used time step.
    #[serde(default)]
    pub counter: Option<u64>,
    #[serde(default)]
    pub offline: Option<bool>,
    /// The codes the phone sent for a token it knew no serial of.
    #[serde(default)]
    pub otp: Option<Vec<String>>,
}

#[derive(Deserialize)]
struct ServerDict {
    tokens: ServerTokens,
}

#[derive(Deserialize)]
struct ServerTokens {
    #[serde(default)]
    add: Vec<Zeroizing<String>>,
    #[serde(default)]
    update: Vec<TokenUpdate>,
}

/// Reads the decrypted `container_dict_server` of container `serial`.
pub fn parse_delivery(serial: &str, plaintext: &[u8]) -> Result<Delivery, ContainerError> {
    let dict: ServerDict = serde_json::from_slice(plaintext).map_err(|e| {
        ContainerError::answer(
            serial,
            format!(
                "the decrypted token list is not what the protocol says (line {}, column {})",
                e.line(),
                e.column()
            ),
        )
    })?;
    let tokens = dict.tokens;
    if tokens.add.len() > MAX_TOKENS || tokens.update.len() > MAX_TOKENS {
        return Err(ContainerError::answer(
            serial,
            format!("more than {MAX_TOKENS} tokens"),
        ));
    }
    for (n, uri) in tokens.add.iter().enumerate() {
        if uri.chars().count() > MAX_URI_CHARS {
            return Err(ContainerError::answer(
                serial,
                format!("tokens.add[{n}] is longer than {MAX_URI_CHARS} characters"),
            ));
        }
    }
    for (n, update) in tokens.update.iter().enumerate() {
        if update.serial.is_empty() || update.serial.chars().count() > 256 {
            return Err(ContainerError::answer(
                serial,
                format!("tokens.update[{n}].serial is empty or too long"),
            ));
        }
    }
    Ok(Delivery {
        add: tokens.add,
        update: tokens.update,
    })
}
