//! Push challenges: parsing what arrives (a notification's data or a poll's result list) and
//! verifying it against the enrolled server key before anything is kept or shown.
//!
//! A challenge carries `nonce`, `serial`, `question`, `title`, `url`, `sslverify` and
//! `signature`, the server's signature of `{nonce}|{url}|{serial}|{question}|{title}|{sslverify}`
//! (plus `|{require_presence}` when number matching asks the user to pick one of those options).
//! privacyIDEA 3.14 adds `capabilities` (a JSON object as a string) with its own
//! `capabilities_signature` over the RFC 8785 (JCS) form of
//! `{"capabilities": <that object>, "nonce": "<nonce>"}`; a capability is honoured only when that
//! signature verifies.
//!
//! Notifications come as the FCM/APNs data map (a JSON object of strings) or wrapped by
//! privacyIDEA's HTTP gateway as `{"device_token": "...", "data": {...}}`.

use std::time::Duration;

use serde_json::{Map, Value};

use super::PushError;
use super::credential::PushCredential;
use super::enroll_uri::check_endpoint_url;
use super::keys::{decode_signature, server_signature_valid};
use crate::time::UnixTime;

/// What a token signed as `fbtoken` at registration when it had no push token.
pub(crate) const NO_PUSH_TOKEN: &str = "no_firebase_token";

const MAX_TEXT_CHARS: usize = 4096;
const MAX_NOTIFICATION_BYTES: usize = 64 * 1024;

/// Optional features the server advertised for one challenge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// The server understands a reason with a decline (`unknown_trigger` or `cancelled`).
    pub decline_reason: bool,
    /// `capabilities_signature` verified; when false every capability above is false.
    pub verified: bool,
}

/// A verified challenge waiting for the user's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushRequest {
    pub nonce: String,
    pub serial: String,
    pub title: String,
    pub question: String,
    /// Where to answer: the server's current PUSH endpoint (the app updates its stored one).
    pub url: String,
    pub sslverify: bool,
    /// Number matching: the user must pick the option the login page shows.
    pub require_presence: Option<Vec<String>>,
    pub capabilities: Capabilities,
    pub received_at: UnixTime,
    pub expires_at: UnixTime,
}

impl PushRequest {
    pub fn is_expired(&self, now: UnixTime) -> bool {
        now >= self.expires_at
    }
}

/// A challenge as received: nothing in it is trusted until [`UnverifiedChallenge::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedChallenge {
    nonce: String,
    serial: String,
    title: String,
    question: String,
    url: String,
    sslverify: String,
    require_presence: Option<String>,
    signature: Vec<u8>,
    capabilities: Option<String>,
    capabilities_signature: Option<Vec<u8>>,
    device_token: Option<String>,
}

impl UnverifiedChallenge {
    /// Parses a notification payload: the data map as a JSON object, or privacyIDEA's HTTP
    /// gateway message `{"device_token": ..., "data": {...}}`.
    pub fn from_notification(json: &str) -> Result<Self, PushError> {
        if json.len() > MAX_NOTIFICATION_BYTES {
            return Err(PushError::challenge(
                "notification",
                "is larger than 64 KiB",
            ));
        }
        let value: Value = serde_json::from_str(json)
            .map_err(|e| PushError::challenge("notification", format!("is not JSON ({e})")))?;
        let Value::Object(object) = value else {
            return Err(PushError::challenge("notification", "is not a JSON object"));
        };
        if object.contains_key("nonce") {
            return Self::from_object(&object, None);
        }
        let device_token = match object.get("device_token") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(PushError::challenge("device_token", "is not a string")),
        };
        match object.get("data") {
            Some(Value::Object(data)) => Self::from_object(data, device_token),
            // Some gateways forward the data as a JSON string.
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(Value::Object(data)) => Self::from_object(&data, device_token),
                _ => Err(PushError::challenge("data", "is not a JSON object")),
            },
            Some(_) => Err(PushError::challenge("data", "is not a JSON object")),
            None => Err(PushError::challenge("nonce", "is missing")),
        }
    }

    /// Parses one challenge object (a notification's data map or one entry of a poll result).
    pub(crate) fn from_object(
        map: &Map<String, Value>,
        device_token: Option<String>,
    ) -> Result<Self, PushError> {
        let nonce = text(map, "nonce")?;
        if nonce.is_empty() || nonce.len() > 256 {
            return Err(PushError::challenge("nonce", "must be 1 to 256 characters"));
        }
        let serial = text(map, "serial")?;
        if serial.is_empty() {
            return Err(PushError::challenge("serial", "is empty"));
        }
        let signature = decode_signature("signature", &text(map, "signature")?)?;
        let capabilities_signature = match optional_text(map, "capabilities_signature")? {
            None => None,
            // A broken capabilities signature only costs the capabilities, not the challenge.
            Some(s) => decode_signature("capabilities_signature", &s).ok(),
        };
        Ok(UnverifiedChallenge {
            nonce,
            serial,
            title: text(map, "title")?,
            question: text(map, "question")?,
            url: text(map, "url")?,
            sslverify: text(map, "sslverify")?,
            require_presence: optional_text(map, "require_presence")?,
            signature,
            capabilities: optional_text(map, "capabilities")?,
            capabilities_signature,
            device_token,
        })
    }

    pub fn serial(&self) -> &str {
        &self.serial
    }

    pub fn nonce(&self) -> &str {
        &self.nonce
    }

    /// The push token the gateway addressed, when the payload says.
    pub fn device_token(&self) -> Option<&str> {
        self.device_token.as_deref()
    }

    /// Finds the enrolled credential this challenge names and verifies it against that.
    pub fn verify_with(
        self,
        credentials: &[PushCredential],
        received_at: UnixTime,
        validity: Duration,
    ) -> Result<PushRequest, PushError> {
        match credentials.iter().find(|c| c.serial == self.serial) {
            Some(credential) => self.verify(credential, received_at, validity),
            None => Err(PushError::UnknownSerial {
                serial: self.serial,
            }),
        }
    }

    /// Checks that this challenge is for `credential` and signed by its server, and returns it
    /// as a request answerable for `validity` from `received_at`.
    pub fn verify(
        self,
        credential: &PushCredential,
        received_at: UnixTime,
        validity: Duration,
    ) -> Result<PushRequest, PushError> {
        if self.serial != credential.serial {
            return Err(PushError::WrongAccount {
                serial: self.serial,
                reason: format!("it was checked against the token {}", credential.serial),
            });
        }
        if let Some(addressed) = &self.device_token {
            let ours = credential.fb_token.as_deref().unwrap_or(NO_PUSH_TOKEN);
            if addressed != ours {
                return Err(PushError::WrongAccount {
                    serial: self.serial,
                    reason: "it was addressed to a different push token".to_owned(),
                });
            }
        }

        let mut signed = format!(
            "{}|{}|{}|{}|{}|{}",
            self.nonce, self.url, self.serial, self.question, self.title, self.sslverify
        );
        if let Some(options) = &self.require_presence {
            signed.push('|');
            signed.push_str(options);
        }
        if !server_signature_valid(
            &credential.server_public_key_pkcs1,
            signed.as_bytes(),
            &self.signature,
        ) {
            return Err(PushError::BadSignature {
                serial: self.serial,
            });
        }

        // Signed, so these are the server's own values; still refuse nonsense.
        let sslverify = match self.sslverify.as_str() {
            "1" => true,
            "0" => false,
            _ => return Err(PushError::challenge("sslverify", "is not 0 or 1")),
        };
        check_endpoint_url("url", &self.url, sslverify)?;
        for (field, value) in [("title", &self.title), ("question", &self.question)] {
            if value.chars().count() > MAX_TEXT_CHARS {
                return Err(PushError::challenge(
                    field,
                    "is longer than 4096 characters",
                ));
            }
        }
        let require_presence = match &self.require_presence {
            None => None,
            Some(options) => {
                let list: Vec<String> = options.split(',').map(str::to_owned).collect();
                if list.iter().any(String::is_empty) {
                    return Err(PushError::challenge(
                        "require_presence",
                        "has an empty option",
                    ));
                }
                Some(list)
            }
        };
        let capabilities = self.verified_capabilities(credential);

        Ok(PushRequest {
            nonce: self.nonce,
            serial: self.serial,
            title: self.title,
            question: self.question,
            url: self.url,
            sslverify,
            require_presence,
            capabilities,
            received_at,
            expires_at: received_at + validity,
        })
    }

    fn verified_capabilities(&self, credential: &PushCredential) -> Capabilities {
        let (Some(raw), Some(signature)) = (&self.capabilities, &self.capabilities_signature)
        else {
            return Capabilities::default();
        };
        let Ok(Value::Object(parsed)) = serde_json::from_str::<Value>(raw) else {
            return Capabilities::default();
        };
        let mut signed = Map::new();
        signed.insert("capabilities".to_owned(), Value::Object(parsed.clone()));
        signed.insert("nonce".to_owned(), Value::String(self.nonce.clone()));
        let Ok(canonical) = serde_json_canonicalizer::to_vec(&Value::Object(signed)) else {
            return Capabilities::default();
        };
        if !server_signature_valid(&credential.server_public_key_pkcs1, &canonical, signature) {
            return Capabilities::default();
        }
        Capabilities {
            decline_reason: parsed.get("decline_reason") == Some(&Value::Bool(true)),
            verified: true,
        }
    }
}

/// Parses a poll's `result.value`: one entry per open challenge. Entries that cannot be parsed
/// are returned as errors beside the good ones, so one bad entry hides nothing else.
pub(crate) fn parse_poll_value(
    value: &Value,
) -> Result<Vec<Result<UnverifiedChallenge, PushError>>, PushError> {
    let Value::Array(entries) = value else {
        return Err(PushError::response("the poll result is not a list"));
    };
    Ok(entries
        .iter()
        .map(|entry| match entry {
            Value::Object(map) => UnverifiedChallenge::from_object(map, None),
            _ => Err(PushError::challenge("poll entry", "is not a JSON object")),
        })
        .collect())
}

fn optional_text(map: &Map<String, Value>, field: &str) -> Result<Option<String>, PushError> {
    match map.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            if s.chars().count() > MAX_TEXT_CHARS * 2 {
                return Err(PushError::challenge(field, "is too long"));
            }
            Ok(Some(s.clone()))
        }
        Some(_) => Err(PushError::challenge(field, "is not a string")),
    }
}

fn text(map: &Map<String, Value>, field: &str) -> Result<String, PushError> {
    optional_text(map, field)?.ok_or_else(|| PushError::challenge(field, "is missing"))
}
