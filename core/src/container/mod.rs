//! `container`: privacyIDEA's smartphone containers, the phone's side (privacyIDEA 3.11 and
//! later; checked against 3.14). A container holds every token a user has; the phone registers
//! it from a QR code ([`qr`]), then each sync ([`sync`]) delivers the tokens the server wants the
//! phone to hold, and a rollover moves them all to a new phone, re-keying every token so the old
//! phone's codes stop working.
//!
//! The protocol, byte for byte: the QR code in [`qr`], the keys, signatures and the encrypted
//! sync answer in [`crypto`], the five endpoints in [`client`], what a sync sends and receives
//! in [`sync`]. The facade's side (what is stored, what a sync changes) is
//! `authenticator/container`.
//!
//! What an app must tell its user: unregistering or deleting a container does **not** make the
//! lost phone's codes invalid (the tokens stay active at the server with the same secrets); a
//! rollover does.

pub mod client;
pub mod crypto;
mod error;
pub mod qr;
pub mod sync;

pub use client::{ContainerServer, DeviceInfo, endpoint_url};
pub use crypto::ContainerKey;
pub use error::ContainerError;
pub use qr::ContainerRegistration;

use serde_json::Value;

/// The server's container policies as it last reported them (finalize and every sync).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ContainerPolicies {
    /// `container_client_rollover`: the phone may start a transfer to a new phone.
    pub client_rollover: bool,
    /// `initially_add_tokens_to_container`: the first sync may take over tokens the phone
    /// already holds.
    pub initially_add_tokens: bool,
    /// `disable_client_token_deletion`: the phone must not delete the container's tokens.
    pub disable_token_deletion: bool,
    /// `disable_client_container_unregister`: the phone must not unregister.
    pub disable_unregister: bool,
}

impl ContainerPolicies {
    pub(crate) fn from_answer(value: Option<&Value>) -> Self {
        let flag = |name: &str| {
            value
                .and_then(|v| v.get(name))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        ContainerPolicies {
            client_rollover: flag("container_client_rollover"),
            initially_add_tokens: flag("initially_add_tokens_to_container"),
            disable_token_deletion: flag("disable_client_token_deletion"),
            disable_unregister: flag("disable_client_container_unregister"),
        }
    }

    /// As the vault keeps them: the server's own names.
    pub fn to_json(&self) -> String {
        serde_json::json!({
            "container_client_rollover": self.client_rollover,
            "initially_add_tokens_to_container": self.initially_add_tokens,
            "disable_client_token_deletion": self.disable_token_deletion,
            "disable_client_container_unregister": self.disable_unregister,
        })
        .to_string()
    }

    pub fn from_json(text: &str) -> Option<Self> {
        let value: Value = serde_json::from_str(text).ok()?;
        value
            .is_object()
            .then(|| ContainerPolicies::from_answer(Some(&value)))
    }
}

/// The token types a smartphone container delivers (privacyIDEA also puts SMS tokens in
/// containers, but never sends them to the phone).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TokenType {
    Totp,
    Hotp,
    /// privacyIDEA's long-step TOTP (24 h by default), usable more than once in its step.
    DayPassword,
    Push,
}

impl TokenType {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenType::Totp => "totp",
            TokenType::Hotp => "hotp",
            TokenType::DayPassword => "daypassword",
            TokenType::Push => "push",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_lowercase().as_str() {
            "totp" => Some(TokenType::Totp),
            "hotp" => Some(TokenType::Hotp),
            "daypassword" => Some(TokenType::DayPassword),
            "push" => Some(TokenType::Push),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
