//! `ContainerError`: every way a container operation can fail, worded for the person who acts on
//! it. privacyIDEA's container error codes (3000, 3001, 3002, 601, 905, 303) each become their own
//! variant; messages hold no key, signature, passphrase or token secret.

use crate::error::{Echo, ErrorFacts, ErrorKind};
use crate::push::PushError;

/// Why a container operation failed. Nothing was changed in the vault when one of these is
/// returned (a sync applies what it received in one transaction, or nothing).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainerError {
    /// The registration QR code is malformed; `param` is the URI parameter (or `scheme`,
    /// `serial`).
    #[error("container QR code: {}: {}", Echo(param), Echo(reason))]
    Qr { param: String, reason: String },
    /// The registration QR code ran out (its `ttl`, counted from the scan).
    #[error(
        "container QR code expired: it was valid for {ttl_minutes} minute(s) after scanning; ask for a new one"
    )]
    QrExpired { ttl_minutes: u32 },
    /// An argument from the app is unusable (a missing passphrase, a device name with `|`).
    #[error("{}: {}", Echo(param), Echo(reason))]
    InvalidArgument { param: String, reason: String },
    /// No container with this serial is registered here.
    #[error("no container {} is registered on this device", Echo(serial))]
    Unknown { serial: String },
    /// A container with this serial is already registered here.
    #[error(
        "container {} is already registered on this device; sync it, or unregister it first",
        Echo(serial)
    )]
    AlreadyHere { serial: String },
    /// The server's policy, as it last reported it, forbids this on the phone.
    #[error(
        "container {}: the server's policy {policy} forbids this",
        Echo(serial)
    )]
    ForbiddenByPolicy { serial: String, policy: String },

    /// ERR3002: the server could not verify this phone's signature. After a transfer it means
    /// the container now belongs to another phone (its key replaced this one's).
    #[error(
        "container {}: the server does not accept this phone's signature (ERR3002): the container was moved to another phone (rollover), or the passphrase was wrong, or the challenge expired{}",
        Echo(serial),
        suffix(server_message)
    )]
    SignatureRejected {
        serial: String,
        server_message: Option<String>,
    },
    /// ERR3002 at registration: the server did not accept the registration's signature.
    #[error(
        "container {}: the server did not accept the registration (ERR3002): {}",
        Echo(serial),
        if *with_passphrase { "the passphrase is wrong, or the QR code expired or was replaced by a newer one" } else { "the QR code expired or was replaced by a newer one" }
    )]
    RegistrationRejected {
        serial: String,
        with_passphrase: bool,
    },
    /// ERR3001: the container is not registered on the server (unregistered there, or never
    /// finalized).
    #[error(
        "container {}: the server says it is not registered (ERR3001)",
        Echo(serial)
    )]
    NotRegistered { serial: String },
    /// ERR601: the server has no container with this serial (deleted).
    #[error(
        "container {}: the server has no such container (ERR601)",
        Echo(serial)
    )]
    NotOnServer { serial: String },
    /// ERR3000: the server refused the container operation (for example a second registration,
    /// or any failure when it hides its error messages).
    #[error(
        "container {}: the server refused (ERR3000){}",
        Echo(serial),
        suffix(server_message)
    )]
    Refused {
        serial: String,
        server_message: Option<String>,
    },
    /// ERR905: the server does not know the challenge's scope.
    #[error(
        "container {}: the server refused the scope (ERR905){}",
        Echo(serial),
        suffix(server_message)
    )]
    UnknownScope {
        serial: String,
        server_message: Option<String>,
    },
    /// ERR303: the server's policy does not allow this action.
    #[error(
        "container {}: the server's policy does not allow this (ERR303){}",
        Echo(serial),
        suffix(server_message)
    )]
    NotAllowed {
        serial: String,
        server_message: Option<String>,
    },
    /// The server sent what the protocol does not allow, or could not be reached: the push
    /// layer's error (network, HTTP status, malformed JSON).
    #[error("container {}: {source}", Echo(serial))]
    Transport { serial: String, source: PushError },
    /// The sync answer does not decrypt or is not what the protocol says.
    #[error(
        "container {}: the server's sync answer: {}",
        Echo(serial),
        Echo(reason)
    )]
    BadSyncAnswer { serial: String, reason: String },
    /// The container's signing key failed (generation, loading from the vault).
    #[error("container key: {reason}")]
    Key { reason: String },
}

fn suffix(message: &Option<String>) -> String {
    match message {
        Some(m) => format!(": {}", Echo(m)),
        None => String::new(),
    }
}

impl ContainerError {
    /// What kind of failure this is (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ContainerError::Qr { .. } => ErrorKind::BadPush,
            ContainerError::QrExpired { .. } => ErrorKind::Expired,
            ContainerError::InvalidArgument { .. }
            | ContainerError::AlreadyHere { .. }
            | ContainerError::ForbiddenByPolicy { .. } => ErrorKind::BadInput,
            ContainerError::Unknown { .. } => ErrorKind::NotFound,
            ContainerError::SignatureRejected { .. } => ErrorKind::ContainerMoved,
            ContainerError::RegistrationRejected {
                with_passphrase, ..
            } => {
                if *with_passphrase {
                    ErrorKind::WrongPassword
                } else {
                    ErrorKind::Expired
                }
            }
            ContainerError::NotRegistered { .. } | ContainerError::NotOnServer { .. } => {
                ErrorKind::ContainerGone
            }
            ContainerError::Refused { .. }
            | ContainerError::UnknownScope { .. }
            | ContainerError::NotAllowed { .. }
            | ContainerError::BadSyncAnswer { .. } => ErrorKind::ServerRefused,
            ContainerError::Transport { source, .. } => source.kind(),
            ContainerError::Key { .. } => ErrorKind::KeyStore,
        }
    }

    /// The container (its serial), the server's error code and HTTP status.
    pub fn facts(&self) -> ErrorFacts {
        let serial = match self {
            ContainerError::Unknown { serial }
            | ContainerError::AlreadyHere { serial }
            | ContainerError::ForbiddenByPolicy { serial, .. }
            | ContainerError::SignatureRejected { serial, .. }
            | ContainerError::RegistrationRejected { serial, .. }
            | ContainerError::NotRegistered { serial }
            | ContainerError::NotOnServer { serial }
            | ContainerError::Refused { serial, .. }
            | ContainerError::UnknownScope { serial, .. }
            | ContainerError::NotAllowed { serial, .. }
            | ContainerError::Transport { serial, .. }
            | ContainerError::BadSyncAnswer { serial, .. } => Some(serial.clone()),
            ContainerError::Qr { .. }
            | ContainerError::QrExpired { .. }
            | ContainerError::InvalidArgument { .. }
            | ContainerError::Key { .. } => None,
        };
        let server_code = match self {
            ContainerError::SignatureRejected { .. }
            | ContainerError::RegistrationRejected { .. } => Some(3002),
            ContainerError::NotRegistered { .. } => Some(3001),
            ContainerError::Refused { .. } => Some(3000),
            ContainerError::NotOnServer { .. } => Some(601),
            ContainerError::UnknownScope { .. } => Some(905),
            ContainerError::NotAllowed { .. } => Some(303),
            _ => None,
        };
        let mut facts = match self {
            ContainerError::Transport { source, .. } => source.facts(),
            _ => ErrorFacts::default(),
        };
        facts.serial = serial;
        facts.server_code = server_code;
        facts
    }

    /// The server's error, by its code, for container `serial`.
    pub(crate) fn from_server(
        serial: &str,
        http_status: u16,
        code: Option<i64>,
        server_message: Option<String>,
    ) -> Self {
        let serial = serial.to_owned();
        match code {
            Some(3002) => ContainerError::SignatureRejected {
                serial,
                server_message,
            },
            Some(3001) => ContainerError::NotRegistered { serial },
            Some(3000) => ContainerError::Refused {
                serial,
                server_message,
            },
            Some(601) => ContainerError::NotOnServer { serial },
            Some(905) => ContainerError::UnknownScope {
                serial,
                server_message,
            },
            Some(303) => ContainerError::NotAllowed {
                serial,
                server_message,
            },
            _ => ContainerError::Transport {
                serial,
                source: PushError::Server {
                    status: http_status,
                    server_message,
                },
            },
        }
    }

    pub(crate) fn qr(param: &str, reason: impl Into<String>) -> Self {
        ContainerError::Qr {
            param: param.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn answer(serial: &str, reason: impl Into<String>) -> Self {
        ContainerError::BadSyncAnswer {
            serial: serial.to_owned(),
            reason: reason.into(),
        }
    }
}
