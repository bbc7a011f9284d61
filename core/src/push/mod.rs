//! `push`: push approvals, privacyIDEA's PUSH token first. Owns the protocol from the QR code to
//! the signed answer: the enrollment URI ([`enroll_uri`]), the device key and the server key
//! ([`keys`]), challenges from a notification or a poll and their verification ([`challenge`]),
//! answers ([`answer`]), the HTTP client
//! ([`client`]) over the app's [`transport`], and the server clock offsets it observes
//! ([`clock_skew`]).
//!
//! This is the only module of the core that talks to a network, and it opens no socket: every
//! request goes out through an [`HttpTransport`] the app provides. It holds plain data and takes
//! time and keys as arguments; the vault persists what needs persisting ([`PushCredential`], the device
//! key's PKCS#8, the requests waiting for the user and the answered nonces).
//!
//! Each submodule documents its part of the wire format exactly; the interop tests in
//! `tests/tests/push_privacyidea.rs` run all of it against a real privacyIDEA 3.14, and
//! `tests/tests/push_edumfa.rs` enrollment, polls, approve and deny against eduMFA 2.9.5, whose
//! `edupush` token speaks the same protocol under its own QR scheme ([`enroll_uri`]).

pub mod answer;
pub mod challenge;
pub mod client;
pub mod clock_skew;
pub mod credential;
pub mod enroll_uri;
mod error;
mod exchange;
pub mod keys;
pub(crate) mod response;
pub mod transport;

pub use answer::{AnswerOutcome, DeclineReason, PushAnswer};
pub use challenge::{Capabilities, PushRequest, UnverifiedChallenge};
pub use client::{PollOutcome, PushClient, PushClientConfig, RejectedChallenge, server_origin};
pub use clock_skew::ClockOffset;
pub use credential::PushCredential;
pub use enroll_uri::{AppForceUnlock, PushEnrollment};
pub use error::PushError;
pub use keys::{DeviceKey, SoftwareDeviceKey};
pub use transport::{HttpRequest, HttpResponse, HttpTransport, Method, NoNetwork, TransportError};

use std::time::Duration;

/// How long a challenge may be answered after it arrives: privacyIDEA's default
/// `PushChallengeValidityTime`.
pub const DEFAULT_CHALLENGE_VALIDITY: Duration = Duration::from_secs(120);

#[cfg(test)]
pub(crate) mod tests;
