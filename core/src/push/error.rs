//! `PushError`: every way a push operation can fail, worded for the person who has to act on it.
//!
//! Messages name the parameter or field at fault and never contain key material, signatures,
//! enrollment credentials or whole server responses (at most a short, sanitised server message).

use std::time::Duration;

use crate::error::{Echo, ErrorFacts, ErrorKind};

/// Why a push operation failed. Nothing was changed when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The enrollment QR code is malformed; `param` is the URI parameter (or `scheme`, `label`).
    #[error("enrollment QR code: {}: {}", Echo(param), Echo(reason))]
    EnrollUri { param: String, reason: String },
    /// The QR's `v` is not a protocol version we speak.
    #[error(
        "enrollment QR code: v={}: only version 1 of the PUSH protocol is supported",
        Echo(version)
    )]
    UnsupportedVersion { version: String },
    /// The QR's `ttl` ran out before the enrollment finished.
    #[error(
        "enrollment QR code expired: it was valid for {ttl_minutes} minute(s) after scanning; ask for a new one"
    )]
    EnrollmentExpired { ttl_minutes: u64 },
    /// A plain-http URL without the server's own `sslverify=0`, or a scheme that is not http(s).
    #[error("{}: {}", Echo(param), Echo(reason))]
    InsecureUrl { param: String, reason: String },

    /// The device key (software or platform key store) failed.
    #[error("device key: {reason}")]
    DeviceKey { reason: String },
    /// The server's public key is unusable.
    #[error("server public key: {reason}")]
    ServerKey { reason: String },

    /// A challenge (notification or poll entry) is malformed; `field` names the JSON field.
    #[error("push request: {}: {}", Echo(field), Echo(reason))]
    Challenge { field: String, reason: String },
    /// The challenge's signature does not verify with the server key stored for its serial.
    #[error(
        "push request for {}: the server signature does not verify; it was not sent by the enrolled server",
        Echo(serial)
    )]
    BadSignature { serial: String },
    /// No push credential with this serial is enrolled here.
    #[error(
        "push request for unknown serial {}: no push token with this serial is enrolled",
        Echo(serial)
    )]
    UnknownSerial { serial: String },
    /// The request names an enrolled serial but was not meant for that credential or device.
    #[error(
        "push request for {} does not belong to this account: {}",
        Echo(serial),
        Echo(reason)
    )]
    WrongAccount { serial: String, reason: String },
    /// The request's answer window is over.
    #[error(
        "push request {} expired (it could be answered for {} s)",
        Echo(nonce),
        validity.as_secs()
    )]
    Expired { nonce: String, validity: Duration },
    /// The request was already answered here; a second answer or a re-delivery is refused.
    #[error("push request {} was already answered", Echo(nonce))]
    Replayed { nonce: String },
    /// No pending request with this nonce.
    #[error("no pending push request {}", Echo(nonce))]
    NoSuchRequest { nonce: String },

    /// An argument from the app (not from the server or the QR) is unusable.
    #[error("{}: {}", Echo(param), Echo(reason))]
    InvalidArgument { param: String, reason: String },
    /// The answer is not possible for this request.
    #[error("answer: {}", Echo(reason))]
    InvalidAnswer { reason: String },

    /// The server refused the request (HTTP 200 with `result.value == false`, e.g. a wrong
    /// number-matching answer or a challenge that is no longer open).
    #[error(
        "the server refused the request{}",
        server_message_suffix(server_message)
    )]
    Rejected { server_message: Option<String> },
    /// The server answered with an error status or `result.status == false`.
    #[error(
        "server error (HTTP {status}){}",
        server_message_suffix(server_message)
    )]
    Server {
        status: u16,
        server_message: Option<String>,
    },
    /// The server's response is not what the protocol says; `reason` says what is missing.
    #[error("unexpected server response: {reason}")]
    Response { reason: String },
    /// The time given cannot be written as a protocol timestamp (before 1970 or after 9999).
    #[error("clock: {reason}")]
    Clock { reason: String },
    /// The network request failed (connection, DNS, TLS handshake, time-out).
    #[error("network: {reason}")]
    Network { reason: String },
}

fn server_message_suffix(message: &Option<String>) -> String {
    match message {
        Some(m) => format!(": {m}"),
        None => String::new(),
    }
}

impl PushError {
    /// What kind of failure this is (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            PushError::EnrollUri { .. }
            | PushError::UnsupportedVersion { .. }
            | PushError::InsecureUrl { .. }
            | PushError::Challenge { .. }
            | PushError::UnknownSerial { .. }
            | PushError::WrongAccount { .. }
            | PushError::NoSuchRequest { .. }
            | PushError::InvalidAnswer { .. } => ErrorKind::BadPush,
            PushError::InvalidArgument { .. } => ErrorKind::BadInput,
            PushError::EnrollmentExpired { .. } | PushError::Expired { .. } => ErrorKind::Expired,
            PushError::BadSignature { .. } => ErrorKind::Forged,
            PushError::Replayed { .. } => ErrorKind::Replayed,
            PushError::DeviceKey { .. } => ErrorKind::KeyStore,
            PushError::ServerKey { .. }
            | PushError::Rejected { .. }
            | PushError::Server { .. }
            | PushError::Response { .. } => ErrorKind::ServerRefused,
            PushError::Network { .. } => ErrorKind::Network,
            PushError::Clock { .. } => ErrorKind::Clock,
        }
    }

    /// The push token, request or HTTP status this error names (see [`ErrorFacts`]).
    pub fn facts(&self) -> ErrorFacts {
        match self {
            PushError::BadSignature { serial }
            | PushError::UnknownSerial { serial }
            | PushError::WrongAccount { serial, .. } => ErrorFacts {
                serial: Some(serial.clone()),
                ..ErrorFacts::default()
            },
            PushError::Expired { nonce, .. }
            | PushError::Replayed { nonce }
            | PushError::NoSuchRequest { nonce } => ErrorFacts {
                nonce: Some(nonce.clone()),
                ..ErrorFacts::default()
            },
            PushError::Server { status, .. } => ErrorFacts {
                http_status: Some(*status),
                ..ErrorFacts::default()
            },
            _ => ErrorFacts::default(),
        }
    }

    pub(crate) fn enroll(param: &str, reason: impl Into<String>) -> Self {
        PushError::EnrollUri {
            param: param.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn challenge(field: &str, reason: impl Into<String>) -> Self {
        PushError::Challenge {
            field: field.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn response(reason: impl Into<String>) -> Self {
        PushError::Response {
            reason: reason.into(),
        }
    }

    pub(crate) fn device_key(reason: impl Into<String>) -> Self {
        PushError::DeviceKey {
            reason: reason.into(),
        }
    }
}
