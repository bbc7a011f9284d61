//! `AuthError`: why a facade call failed, gathering the modules' errors, and its
//! [`ErrorKind`], from which the CLI's exit status and the FFI's error cases are derived.

use crate::account::AccountError;
use crate::clock::ClockError;
use crate::error::{Echo, ErrorFacts, ErrorKind};
use crate::export::ExportError;
use crate::otp::OtpError;
use crate::policy::PolicyError;
use crate::push::PushError;
use crate::uri::UriError;
use crate::vault::VaultError;

/// Why a facade call failed. [`AuthError::kind`] says what kind of failure it is.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Vault(#[from] VaultError),
    #[error(transparent)]
    Uri(#[from] UriError),
    #[error("line {line}: {source}")]
    UriLine { line: usize, source: UriError },
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Otp(#[from] OtpError),
    #[error(transparent)]
    Clock(#[from] ClockError),
    #[error(transparent)]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Export(#[from] ExportError),
    #[error("transfer QR codes: {}", Echo(reason))]
    Transfer { reason: String },
    #[error("no account matches '{}'", Echo(query))]
    NoMatch { query: String },
    #[error("'{}' matches {count} accounts; give more of the id", Echo(query))]
    Ambiguous { query: String, count: usize },
    #[error("{name} is a HOTP account: use `next` to advance its counter")]
    NotTimeBased { name: String },
    #[error("{name} is not a HOTP account: its code changes with time")]
    NotCounterBased { name: String },
    #[error(transparent)]
    Push(#[from] PushError),
    #[error(transparent)]
    Backup(#[from] crate::backup::BackupError),
    #[error(transparent)]
    Container(#[from] crate::container::ContainerError),
    /// The server refused an answer to request `nonce` (a wrong number-matching choice, or a
    /// request no longer open there); the request stays open.
    #[error("{source}")]
    AnswerRefused {
        nonce: String,
        server_message: Option<String>,
        source: PushError,
    },
    /// An approval the passwordless rules (or the server's unlock demand) do not allow
    /// without `needs`; `serial` is the push token of the request.
    #[error("approval refused: {reason}")]
    PushGate {
        needs: ApprovalNeeds,
        serial: String,
        reason: String,
    },
    /// The server registered the token but this device could not keep it; the device key was
    /// deleted.
    #[error(
        "push token {serial} was registered with the server but could not be stored here ({reason}); the server may keep a stale token: ask for a new enrollment QR code"
    )]
    EnrollmentNotStored { serial: String, reason: String },
    #[error("the vault is in use by a call that failed mid-way; reopen it")]
    Poisoned,
}

/// What an approval refused by the passwordless gate needs before it is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ApprovalNeeds {
    /// The number-matching choice (for a request that has none: a server that asks for it).
    NumberMatching,
    /// The platform's confirmation that the user unlocked the device just now.
    DeviceUnlock,
}

impl AuthError {
    /// What kind of failure this is: the one classification the CLI and the FFI both map.
    pub fn kind(&self) -> ErrorKind {
        match self {
            AuthError::Vault(e) => e.kind(),
            AuthError::Policy(e) => e.kind(),
            AuthError::Push(e) => e.kind(),
            AuthError::Backup(e) => e.kind(),
            AuthError::Export(e) => e.kind(),
            AuthError::Container(e) => e.kind(),
            AuthError::Uri(_)
            | AuthError::UriLine { .. }
            | AuthError::Account(_)
            | AuthError::Otp(_)
            | AuthError::Clock(_)
            | AuthError::Transfer { .. }
            | AuthError::NotTimeBased { .. }
            | AuthError::NotCounterBased { .. } => ErrorKind::BadInput,
            AuthError::NoMatch { .. } => ErrorKind::NotFound,
            AuthError::Ambiguous { .. } => ErrorKind::Ambiguous,
            AuthError::AnswerRefused { .. } => ErrorKind::AnswerRefused,
            AuthError::PushGate { needs, .. } => match needs {
                ApprovalNeeds::NumberMatching => ErrorKind::NeedsNumberMatching,
                ApprovalNeeds::DeviceUnlock => ErrorKind::NeedsUnlock,
            },
            AuthError::EnrollmentNotStored { .. } => ErrorKind::Vault,
            AuthError::Poisoned => ErrorKind::Internal,
        }
    }

    /// What this error tells beyond its kind and text: the push token or request, how many
    /// accounts an id matches, the passwordless rule that refused (see [`ErrorFacts`]).
    pub fn facts(&self) -> ErrorFacts {
        match self {
            AuthError::Push(e) => e.facts(),
            AuthError::Policy(e) => e.facts(),
            AuthError::Container(e) => e.facts(),
            AuthError::Ambiguous { count, .. } => ErrorFacts {
                matches: Some(*count),
                ..ErrorFacts::default()
            },
            AuthError::AnswerRefused { nonce, .. } => ErrorFacts {
                nonce: Some(nonce.clone()),
                ..ErrorFacts::default()
            },
            AuthError::PushGate { serial, .. } | AuthError::EnrollmentNotStored { serial, .. } => {
                ErrorFacts {
                    serial: Some(serial.clone()),
                    ..ErrorFacts::default()
                }
            }
            _ => ErrorFacts::default(),
        }
    }
}

#[cfg(test)]
#[path = "error_tests.rs"]
mod tests;
