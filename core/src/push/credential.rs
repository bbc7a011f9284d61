//! `PushCredential`: what an enrolled PUSH token is, apart from its device key.
//!
//! The device key's PKCS#8 (for a software key) is kept apart so the vault can seal it; everything
//! here is public or server-provided and may be stored as is.

use super::enroll_uri::AppForceUnlock;
use crate::time::UnixTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushCredential {
    pub serial: String,
    /// The server's PUSH endpoint. A verified challenge may carry a newer one; store that.
    pub url: String,
    /// `false` only when the server itself said `sslverify=0`.
    pub sslverify: bool,
    /// The server's RSA public key as PKCS#1 `RSAPublicKey` DER: checks every challenge.
    pub server_public_key_pkcs1: Vec<u8>,
    /// No push channel: requests arrive only by polling.
    pub poll_only: bool,
    /// The FCM/APNs token registered with the server; `None` when it has none (poll only).
    pub fb_token: Option<String>,
    /// When the server registered the token (`push_credentials.enrolled_at_ms`): shown as the
    /// account's `push_enrolled_at`, for a token's details screen.
    pub enrolled_at: UnixTime,
    /// How the app must be unlocked before answering, when the server demands it.
    pub app_force_unlock: Option<AppForceUnlock>,
}
