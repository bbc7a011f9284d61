//! The small public error vocabulary of the FFI. Messages are the core's user-readable texts:
//! they name what was wrong and never hold a secret or Rust debug output.

use authcore::authenticator::{AuthError, ErrorKind};
use authcore::error::ErrorFacts;

use crate::convert::Platform;

/// Every failure an app sees: one case per thing an app may do differently, each with the
/// facts it needs as fields and `text`, the core's readable message (the Rust `Display`).
///
/// Kotlin: the generated class is renamed `FfiAuthCoreException` (android/uniffi-kotlin.toml) and
/// the `AuthCore` layer rethrows it as its own sealed `AuthCoreException`, whose `message` is
/// `text` (the generated one would read "text=..., serial=..."). Swift: the enum
/// `AuthCoreError` with associated values; the package's `LocalizedError` conformance gives
/// `text` as `errorDescription`.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum AuthCoreError {
    /// Something the user or app supplied is wrong (a URI, a name, an offset); nothing changed.
    #[error("{text}")]
    InvalidInput { text: String },
    /// No account has that id.
    #[error("{text}")]
    NotFound { text: String },
    /// The id prefix matches `matches` accounts: ask for more of it.
    #[error("{text}")]
    Ambiguous { text: String, matches: u32 },
    /// The password does not open the vault or the file.
    #[error("{text}")]
    WrongPassword { text: String },
    /// The platform key store failed or holds a different key than the one this vault needs.
    #[error("{text}")]
    KeyStore { text: String },
    /// The vault file is missing, damaged, newer than this library, or the disk failed.
    #[error("{text}")]
    Vault { text: String },
    /// A push enrollment QR code, notification or answer that cannot be used: malformed,
    /// unsupported, for a token not enrolled here (`serial`), no such request (`nonce`).
    #[error("{text}")]
    BadPush {
        text: String,
        serial: Option<String>,
        nonce: Option<String>,
    },
    /// A SECURITY EVENT: a push request for token `serial` whose server signature does not
    /// verify, so the enrolled server did not send it. Nothing was kept.
    #[error("{text}")]
    Forged { text: String, serial: String },
    /// Push request `nonce` was already answered here: a second delivery or answer.
    #[error("{text}")]
    Replayed { text: String, nonce: String },
    /// A push request (`nonce`) or an enrollment QR code (no nonce) whose time ran out.
    #[error("{text}")]
    Expired { text: String, nonce: Option<String> },
    /// The server refused the answer to request `nonce` (a wrong number-matching choice, a
    /// request no longer open there); the request stays open for another try.
    #[error("{text}")]
    AnswerRefused { text: String, nonce: String },
    /// The push or container server refused a request or answered with an error
    /// (`http_status` when it sent one; `server_code`, privacyIDEA's error code, for a
    /// container: 3000, 905, 303) or with something the protocol does not allow.
    #[error("{text}")]
    ServerRefused {
        text: String,
        http_status: Option<u16>,
        server_code: Option<i64>,
    },
    /// The push server could not be reached (connection, DNS, TLS, time-out). Try again later.
    #[error("{text}")]
    Network { text: String },
    /// `platform` allows passwordless for `limit` accounts and `holders` ("issuer (label)")
    /// already hold it: turn it off there, or move it.
    #[error("{text}")]
    PasswordlessLimit {
        text: String,
        platform: Platform,
        limit: u32,
        holders: Vec<String>,
    },
    /// The approval (of token `serial`'s request) needs the number-matching answer.
    #[error("{text}")]
    NeedsNumberMatching {
        text: String,
        serial: Option<String>,
    },
    /// The approval (of token `serial`'s request) needs the platform's confirmation that the
    /// user unlocked the device just now: ask for it, then approve again.
    #[error("{text}")]
    NeedsUnlock {
        text: String,
        serial: Option<String>,
    },
    /// The device clock is outside what the push protocol can express.
    #[error("{text}")]
    Clock { text: String },
    /// An earlier call failed mid-way inside the library; close and reopen the vault.
    #[error("{text}")]
    Internal { text: String },
    /// Container `serial` was moved to another phone (the server no longer accepts this
    /// phone's key, ERR3002): this phone's copies of its tokens no longer work. Offer to remove
    /// them (`forget_container`).
    #[error("{text}")]
    ContainerMoved { text: String, serial: String },
    /// The server says container `serial` is not registered (`server_code` 3001) or does not
    /// exist (601): offer to forget it here; its accounts can stay.
    #[error("{text}")]
    ContainerGone {
        text: String,
        serial: String,
        server_code: Option<i64>,
    },
}

impl From<AuthError> for AuthCoreError {
    fn from(e: AuthError) -> Self {
        AuthCoreError::of_kind(e.kind(), e.to_string(), e.facts())
    }
}

impl AuthCoreError {
    /// The case of an error of `kind` with its readable `text` and its `facts`: from the
    /// core's classification only, which the CLI's exit status follows too.
    pub(crate) fn of_kind(kind: ErrorKind, text: String, facts: ErrorFacts) -> Self {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        match kind {
            ErrorKind::BadInput => AuthCoreError::InvalidInput { text },
            ErrorKind::NotFound => AuthCoreError::NotFound { text },
            ErrorKind::Ambiguous => AuthCoreError::Ambiguous {
                text,
                matches: facts.matches.map_or(0, count),
            },
            ErrorKind::WrongPassword => AuthCoreError::WrongPassword { text },
            ErrorKind::KeyStore => AuthCoreError::KeyStore { text },
            ErrorKind::Vault => AuthCoreError::Vault { text },
            ErrorKind::BadPush => AuthCoreError::BadPush {
                text,
                serial: facts.serial,
                nonce: facts.nonce,
            },
            ErrorKind::Forged => AuthCoreError::Forged {
                text,
                serial: facts.serial.unwrap_or_default(),
            },
            ErrorKind::Replayed => AuthCoreError::Replayed {
                text,
                nonce: facts.nonce.unwrap_or_default(),
            },
            ErrorKind::Expired => AuthCoreError::Expired {
                text,
                nonce: facts.nonce,
            },
            ErrorKind::AnswerRefused => AuthCoreError::AnswerRefused {
                text,
                nonce: facts.nonce.unwrap_or_default(),
            },
            ErrorKind::ServerRefused => AuthCoreError::ServerRefused {
                text,
                http_status: facts.http_status,
                server_code: facts.server_code,
            },
            ErrorKind::Network => AuthCoreError::Network { text },
            ErrorKind::PasswordlessLimit => match facts.limit {
                Some(limit) => AuthCoreError::PasswordlessLimit {
                    text,
                    platform: limit.platform.into(),
                    limit: limit.max,
                    holders: limit.holders,
                },
                // Every error of this kind carries its rule; without one it is a plain refusal.
                None => AuthCoreError::InvalidInput { text },
            },
            ErrorKind::NeedsNumberMatching => AuthCoreError::NeedsNumberMatching {
                text,
                serial: facts.serial,
            },
            ErrorKind::NeedsUnlock => AuthCoreError::NeedsUnlock {
                text,
                serial: facts.serial,
            },
            ErrorKind::Clock => AuthCoreError::Clock { text },
            ErrorKind::Internal => AuthCoreError::Internal { text },
            ErrorKind::ContainerMoved => AuthCoreError::ContainerMoved {
                text,
                serial: facts.serial.unwrap_or_default(),
            },
            ErrorKind::ContainerGone => AuthCoreError::ContainerGone {
                text,
                serial: facts.serial.unwrap_or_default(),
                server_code: facts.server_code,
            },
        }
    }

    /// An argument of the app's the core refused before calling in.
    pub(crate) fn invalid(text: impl Into<String>) -> Self {
        AuthCoreError::InvalidInput { text: text.into() }
    }
}

/// What a platform key store reports. Kotlin/Swift implementations throw these.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
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
    use authcore::policy::PolicyError;
    use authcore::vault::VaultError;

    fn ffi(e: impl Into<AuthError>) -> AuthCoreError {
        e.into().into()
    }

    #[test]
    fn errors_of_one_kind_land_in_one_case() {
        // Where the CLI and the FFI once disagreed: an ambiguous id, the device clock, a
        // poisoned lock.
        let ambiguous = ffi(AuthError::Ambiguous {
            query: "a".into(),
            count: 2,
        });
        assert!(
            matches!(&ambiguous, AuthCoreError::Ambiguous { text, matches: 2 } if text == "'a' matches 2 accounts; give more of the id"),
            "{ambiguous:?}"
        );
        let clock = ffi(PushError::Clock {
            reason: "before 1970".into(),
        });
        assert!(matches!(&clock, AuthCoreError::Clock { text } if text == "clock: before 1970"));
        let poisoned = ffi(AuthError::Poisoned);
        assert!(matches!(poisoned, AuthCoreError::Internal { .. }));
        let missing = ffi(VaultError::NotFound { id: "x".into() });
        assert!(matches!(missing, AuthCoreError::NotFound { .. }));
    }

    #[test]
    fn the_passwordless_limit_names_its_rule_and_holders() {
        let limit = ffi(PolicyError::LimitReached {
            platform: authcore::policy::Platform::Android,
            max: 1,
            holders: vec!["GitHub (alice)".into()],
        });
        match limit {
            AuthCoreError::PasswordlessLimit {
                text,
                platform,
                limit,
                holders,
            } => {
                assert_eq!(
                    text,
                    "android allows passwordless for 1 account; GitHub (alice) already has it: turn it off there first, or move it"
                );
                assert_eq!(platform, Platform::Android);
                assert_eq!(limit, 1);
                assert_eq!(holders, ["GitHub (alice)"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn push_failures_carry_the_token_or_request_they_name() {
        let forged = ffi(PushError::BadSignature {
            serial: "PIPU0001".into(),
        });
        assert!(
            matches!(&forged, AuthCoreError::Forged { text, serial } if serial == "PIPU0001" && text == "push request for PIPU0001: the server signature does not verify; it was not sent by the enrolled server"),
            "{forged:?}"
        );
        let replayed = ffi(PushError::Replayed { nonce: "N1".into() });
        assert!(
            matches!(&replayed, AuthCoreError::Replayed { text, nonce } if nonce == "N1" && text == "push request N1 was already answered")
        );
        let expired = ffi(PushError::Expired {
            nonce: "N2".into(),
            validity: std::time::Duration::from_secs(120),
        });
        assert!(
            matches!(&expired, AuthCoreError::Expired { text, nonce: Some(n) } if n == "N2" && text == "push request N2 expired (it could be answered for 120 s)")
        );
        let qr = ffi(PushError::EnrollmentExpired { ttl_minutes: 10 });
        assert!(matches!(&qr, AuthCoreError::Expired { nonce: None, .. }));
        let unknown = ffi(PushError::UnknownSerial {
            serial: "PIPU9".into(),
        });
        assert!(
            matches!(&unknown, AuthCoreError::BadPush { serial: Some(s), nonce: None, .. } if s == "PIPU9")
        );
        let offline = ffi(PushError::Network {
            reason: "connection refused".into(),
        });
        assert!(
            matches!(&offline, AuthCoreError::Network { text } if text == "network: connection refused")
        );
        let refused = ffi(PushError::Rejected {
            server_message: None,
        });
        assert!(
            matches!(&refused, AuthCoreError::ServerRefused { text, http_status: None, server_code: None } if text == "the server refused the request")
        );
        let status = ffi(PushError::Server {
            status: 500,
            server_message: Some("boom".into()),
        });
        assert!(
            matches!(&status, AuthCoreError::ServerRefused { text, http_status: Some(500), server_code: None } if text == "server error (HTTP 500): boom")
        );
        let answer = ffi(AuthError::AnswerRefused {
            nonce: "N3".into(),
            server_message: None,
            source: PushError::Rejected {
                server_message: None,
            },
        });
        assert!(
            matches!(&answer, AuthCoreError::AnswerRefused { text, nonce } if nonce == "N3" && text == "the server refused the request")
        );
        let key = ffi(PushError::DeviceKey {
            reason: "key store unavailable: device locked".into(),
        });
        assert!(
            matches!(&key, AuthCoreError::KeyStore { text } if text == "device key: key store unavailable: device locked")
        );
        let bits = ffi(PushError::InvalidArgument {
            param: "key_bits".into(),
            reason: "1024 is not supported".into(),
        });
        assert!(
            matches!(&bits, AuthCoreError::InvalidInput { text } if text == "key_bits: 1024 is not supported")
        );
    }

    #[test]
    fn a_refused_approval_says_what_it_needs() {
        let unlock = ffi(AuthError::PushGate {
            needs: ApprovalNeeds::DeviceUnlock,
            serial: "PIPU0001".into(),
            reason: "confirm with the device unlock".into(),
        });
        assert!(
            matches!(&unlock, AuthCoreError::NeedsUnlock { text, serial: Some(s) } if s == "PIPU0001" && text == "approval refused: confirm with the device unlock"),
            "{unlock:?}"
        );
        let number = ffi(AuthError::PushGate {
            needs: ApprovalNeeds::NumberMatching,
            serial: "PIPU0002".into(),
            reason: "choose the number shown".into(),
        });
        assert!(
            matches!(&number, AuthCoreError::NeedsNumberMatching { serial: Some(s), .. } if s == "PIPU0002")
        );
        let policy = ffi(PolicyError::NeedsNumberMatching);
        assert!(matches!(
            &policy,
            AuthCoreError::NeedsNumberMatching { serial: None, .. }
        ));
    }

    #[test]
    fn every_kind_has_its_case() {
        // A kind that fell into another kind's case would make an app act wrongly on it.
        let facts = ErrorFacts {
            limit: Some(authcore::error::LimitFacts {
                platform: authcore::policy::Platform::Ios,
                max: 3,
                holders: vec![],
            }),
            ..ErrorFacts::default()
        };
        let mut seen = std::collections::HashSet::new();
        for kind in ErrorKind::ALL {
            let case = AuthCoreError::of_kind(kind, String::new(), facts.clone());
            seen.insert(std::mem::discriminant(&case));
        }
        assert_eq!(seen.len(), ErrorKind::ALL.len());
    }
}
