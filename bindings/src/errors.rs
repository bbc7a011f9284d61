//! The small public error vocabulary of the FFI. Messages are the core's user-readable texts:
//! they name what was wrong and never hold a secret or Rust debug output.

use authcore::authenticator::{AuthError, PushError};
use authcore::vault::VaultError;

/// Every failure an app sees. Kotlin: `AuthCoreException.InvalidInput` etc.; Swift: `AuthCoreError`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum AuthCoreError {
    /// Something the user or app supplied is wrong (a URI, a name, an offset); nothing changed.
    #[error("{0}")]
    InvalidInput(String),
    /// No account has that id (or the prefix matches several).
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    WrongPassword(String),
    /// The platform key store failed or holds a different key than the one this vault needs.
    #[error("{0}")]
    KeyStore(String),
    /// The vault file is missing, damaged, newer than this library, or the disk failed.
    #[error("{0}")]
    Vault(String),
    /// A push enrollment QR code, notification or answer cannot be used: malformed, forged (its
    /// signature does not verify), for an unknown token, expired, already answered, or no such
    /// request. Nothing changed.
    #[error("{0}")]
    Push(String),
    /// The push server could not be reached (connection, DNS, TLS, time-out). Try again later.
    #[error("{0}")]
    Network(String),
    /// The push server refused the request (e.g. a wrong number-matching answer; the request
    /// stays open) or answered with an error or something the protocol does not allow.
    #[error("{0}")]
    Server(String),
    /// The approval needs more than a tap: number matching and the device unlock (passwordless
    /// sign-in), or the unlock the server asked for. Ask the user to unlock, then approve again.
    #[error("{0}")]
    ApprovalRefused(String),
}

impl From<AuthError> for AuthCoreError {
    fn from(e: AuthError) -> Self {
        let text = e.to_string();
        match &e {
            AuthError::NoMatch { .. } | AuthError::Ambiguous { .. } => {
                AuthCoreError::NotFound(text)
            }
            AuthError::Vault(VaultError::NotFound { .. }) => AuthCoreError::NotFound(text),
            AuthError::Vault(VaultError::WrongPassword) => AuthCoreError::WrongPassword(text),
            AuthError::Vault(VaultError::KeyStore(_) | VaultError::WrongKey) => {
                AuthCoreError::KeyStore(text)
            }
            AuthError::PushGate { .. } => AuthCoreError::ApprovalRefused(text),
            AuthError::Push(p) => match p {
                PushError::Network { .. } => AuthCoreError::Network(text),
                PushError::Rejected { .. }
                | PushError::Server { .. }
                | PushError::Response { .. }
                | PushError::ServerKey { .. } => AuthCoreError::Server(text),
                PushError::DeviceKey { .. } => AuthCoreError::KeyStore(text),
                PushError::InvalidArgument { .. } => AuthCoreError::InvalidInput(text),
                _ => AuthCoreError::Push(text),
            },
            _ if e.is_bad_input() => AuthCoreError::InvalidInput(text),
            _ => AuthCoreError::Vault(text),
        }
    }
}

/// What a platform key store reports. Kotlin/Swift implementations throw these.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum KeyStoreError {
    /// The key cannot be used now (device locked, user authentication required, key invalidated).
    #[error("key store unavailable: {reason}")]
    Unavailable { reason: String },
    /// The stored key does not unwrap this blob (a different device or a reset key store).
    #[error("the key store holds a different key")]
    WrongKey,
    /// The implementation failed in a way it did not declare.
    #[error("key store failed: {reason}")]
    Unexpected { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyStoreError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyStoreError::Unexpected { reason: e.reason }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(e: PushError) -> AuthCoreError {
        AuthError::Push(e).into()
    }

    #[test]
    fn push_failures_map_to_readable_variants() {
        let forged = push(PushError::BadSignature {
            serial: "PIPU0001".into(),
        });
        assert!(
            matches!(&forged, AuthCoreError::Push(m) if m.contains("PIPU0001") && m.contains("does not verify")),
            "{forged:?}"
        );
        let replayed = push(PushError::Replayed { nonce: "N1".into() });
        assert!(
            matches!(&replayed, AuthCoreError::Push(m) if m == "push request N1 was already answered")
        );
        let offline = push(PushError::Network {
            reason: "connection refused".into(),
        });
        assert!(
            matches!(&offline, AuthCoreError::Network(m) if m == "network: connection refused")
        );
        let refused = push(PushError::Rejected {
            server_message: None,
        });
        assert!(
            matches!(&refused, AuthCoreError::Server(m) if m == "the server refused the request")
        );
        let status = push(PushError::Server {
            status: 500,
            server_message: Some("boom".into()),
        });
        assert!(
            matches!(&status, AuthCoreError::Server(m) if m == "server error (HTTP 500): boom")
        );
        let key = push(PushError::DeviceKey {
            reason: "key store unavailable: device locked".into(),
        });
        assert!(matches!(&key, AuthCoreError::KeyStore(m) if m.ends_with("device locked")));
        let bits = push(PushError::InvalidArgument {
            param: "key_bits".into(),
            reason: "1024 is not supported".into(),
        });
        assert!(matches!(&bits, AuthCoreError::InvalidInput(_)));
        let gate: AuthCoreError = AuthError::PushGate {
            reason: "confirm with the device unlock".into(),
        }
        .into();
        assert!(
            matches!(&gate, AuthCoreError::ApprovalRefused(m) if m == "approval refused: confirm with the device unlock")
        );
    }
}
