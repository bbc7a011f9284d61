//! The small public error vocabulary of the FFI. Messages are the core's user-readable texts:
//! they name what was wrong and never hold a secret or Rust debug output.

use authcore::authenticator::{AuthError, ErrorKind};

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
        AuthCoreError::of_kind(e.kind(), e.to_string())
    }
}

impl AuthCoreError {
    /// The case of an error of `kind` with its readable `text`: from the core's classification
    /// only, which the CLI's exit status follows too.
    pub(crate) fn of_kind(kind: ErrorKind, text: String) -> Self {
        match kind {
            ErrorKind::BadInput | ErrorKind::PasswordlessLimit => AuthCoreError::InvalidInput(text),
            ErrorKind::NotFound | ErrorKind::Ambiguous => AuthCoreError::NotFound(text),
            ErrorKind::WrongPassword => AuthCoreError::WrongPassword(text),
            ErrorKind::KeyStore => AuthCoreError::KeyStore(text),
            ErrorKind::Vault | ErrorKind::Internal => AuthCoreError::Vault(text),
            ErrorKind::BadPush
            | ErrorKind::Forged
            | ErrorKind::Replayed
            | ErrorKind::Expired
            | ErrorKind::Clock => AuthCoreError::Push(text),
            ErrorKind::Network => AuthCoreError::Network(text),
            ErrorKind::AnswerRefused | ErrorKind::ServerRefused => AuthCoreError::Server(text),
            ErrorKind::NeedsNumberMatching | ErrorKind::NeedsUnlock => {
                AuthCoreError::ApprovalRefused(text)
            }
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
    use authcore::authenticator::{ApprovalNeeds, PushError};
    use authcore::vault::VaultError;

    #[test]
    fn errors_of_one_kind_land_in_one_case() {
        // Where the CLI and the FFI once disagreed: an ambiguous id, the device clock, a
        // poisoned lock.
        let ambiguous: AuthCoreError = AuthError::Ambiguous {
            query: "a".into(),
            count: 2,
        }
        .into();
        assert!(
            matches!(&ambiguous, AuthCoreError::NotFound(m) if m == "'a' matches 2 accounts; give more of the id")
        );
        let clock = push(PushError::Clock {
            reason: "before 1970".into(),
        });
        assert!(matches!(&clock, AuthCoreError::Push(m) if m == "clock: before 1970"));
        let poisoned: AuthCoreError = AuthError::Poisoned.into();
        assert!(matches!(poisoned, AuthCoreError::Vault(_)));
        let limit: AuthCoreError = AuthError::Policy(authcore::policy::PolicyError::LimitReached {
            platform: authcore::policy::Platform::Android,
            max: 1,
            holders: vec!["GitHub (alice)".into()],
        })
        .into();
        assert!(matches!(limit, AuthCoreError::InvalidInput(_)));
        let missing: AuthCoreError =
            AuthError::Vault(VaultError::NotFound { id: "x".into() }).into();
        assert!(matches!(missing, AuthCoreError::NotFound(_)));
    }

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
            needs: ApprovalNeeds::DeviceUnlock,
            serial: "PIPU0001".into(),
            reason: "confirm with the device unlock".into(),
        }
        .into();
        assert!(
            matches!(&gate, AuthCoreError::ApprovalRefused(m) if m == "approval refused: confirm with the device unlock")
        );
    }
}
