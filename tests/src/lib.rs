//! Shared pieces of the cross-crate tests: the deterministic accounts the crash-test writer
//! stores, so the test can check every one it reads back.

use authcore::account::{NewAccount, OtpCredential};
use authcore::otp::{Algorithm, OtpParams};
use authcore::secret::Secret;

/// The secret the writer stores for the account labelled `label`: derivable, so a reader can
/// tell a correct secret from a half-written or mixed-up one.
pub fn secret_for(label: &str) -> Vec<u8> {
    let mut bytes = format!("s3cr3t|{label}|").into_bytes();
    bytes.resize(32, b'#');
    bytes
}

/// The push request the crash-test writer keeps under `nonce`: answerable for an hour from now.
pub fn push_request_for(nonce: &str) -> authcore::push::PushRequest {
    let now = authcore::clock::Clock::now(&authcore::clock::SystemClock);
    authcore::push::PushRequest {
        nonce: nonce.into(),
        serial: "PIPU0CRASHTEST".into(),
        title: "privacyIDEA".into(),
        question: format!("Sign in? ({nonce})"),
        url: "https://pi.example/ttype/push".into(),
        sslverify: true,
        require_presence: None,
        capabilities: Default::default(),
        received_at: now,
        expires_at: now + std::time::Duration::from_secs(3600),
    }
}

pub fn account_for(label: &str) -> NewAccount {
    NewAccount {
        issuer: "CrashTest".into(),
        label: label.into(),
        otp: OtpCredential::new(
            OtpParams::totp(Algorithm::Sha256, 8, 30),
            Secret::new(secret_for(label)),
        )
        .unwrap_or_else(|e| panic!("fixed parameters are valid: {e}")),
        group: None,
        note: None,
        extra_params: Vec::new(),
    }
}

/// What the privacyIDEA and eduMFA harnesses share: install, configuration, start and stop,
/// users and realm, the admin and relying-party calls.
pub mod server;

/// A real privacyIDEA 3.14 on 127.0.0.1 (interop tests).
pub mod privacyidea;

/// The admin's side of privacyIDEA's smartphone containers (container interop tests).
pub mod pi_container;

/// A real eduMFA 2.9.5 on 127.0.0.1, the privacyIDEA fork with the `edupush` token (interop
/// tests).
pub mod edumfa;

/// A phone with one enrolled push token: the core's push client against either server.
pub mod phone;

/// An app (the `Authenticator` facade over its own vault) enrolling from either server.
pub mod app;

/// The `main` of an interop test binary: one server shared by its cases.
pub mod suite;

/// An HTTPS front (test CA, rustls) for the plain-http privacyIDEA, for the TLS cases.
pub mod tls_front;
