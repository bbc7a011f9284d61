//! Push approvals (privacyIDEA PUSH) as Kotlin and Swift see them: the records, the
//! `DeviceKeyStore` foreign trait with its adapter to the core's `PlatformDeviceKeys`, and the
//! push calls of `Authenticator`. Network calls are `async`: their futures wait on the app's
//! `HttpTransport` and are polled by Kotlin's or Swift's executor; the rest are plain calls.
//! Translation only.

use std::sync::{Arc, Mutex};

use authcore::authenticator::{
    AnswerOutcome, CheckOutcome as CoreCheckOutcome, Decision, DeclineReason as CoreDeclineReason,
    PlatformDeviceKeys, PushEnrollment, PushError, PushRequestInfo, UserPresence,
};
use zeroize::Zeroizing;

use crate::errors::{AuthCoreError, KeyStoreError};
use crate::{Account, Authenticator};
use authcore::time::UnixTime;

type Result<T> = std::result::Result<T, AuthCoreError>;

/// Keeps the RSA device keys of push tokens in the platform (Android Keystore, iOS Keychain /
/// Secure Enclave) so the private half never leaves it. `alias` is the account id.
#[uniffi::export(with_foreign)]
pub trait DeviceKeyStore: Send + Sync {
    /// Creates an RSA key pair (2048 bits or more, e = 65537) for `alias`, replacing any old
    /// one, and returns its public key in DER: a SubjectPublicKeyInfo (Java's
    /// `PublicKey.encoded`) or a bare PKCS#1 `RSAPublicKey` (what
    /// `SecKeyCopyExternalRepresentation` gives), which the core wraps.
    fn generate(&self, alias: String) -> std::result::Result<Vec<u8>, KeyStoreError>;
    /// RSASSA-PKCS#1 v1.5 with SHA-256 over `message` (Java's `SHA256withRSA`,
    /// `.rsaSignatureMessagePKCS1v15SHA256`) with the key of `alias`.
    fn sign(&self, alias: String, message: Vec<u8>) -> std::result::Result<Vec<u8>, KeyStoreError>;
    /// Forgets the key of `alias`; a missing key is not an error.
    fn delete(&self, alias: String) -> std::result::Result<(), KeyStoreError>;
}

pub(crate) struct ForeignDeviceKeys(pub Arc<dyn DeviceKeyStore>);

fn device_key_error(e: KeyStoreError) -> PushError {
    PushError::DeviceKey {
        reason: e.to_string(),
    }
}

impl PlatformDeviceKeys for ForeignDeviceKeys {
    fn generate(&self, alias: &str) -> std::result::Result<Vec<u8>, PushError> {
        let der = self
            .0
            .generate(alias.to_owned())
            .map_err(device_key_error)?;
        authcore::push::keys::spki_from_platform_der(&der)
    }

    fn sign(&self, alias: &str, message: &[u8]) -> std::result::Result<Vec<u8>, PushError> {
        self.0
            .sign(alias.to_owned(), message.to_vec())
            .map_err(device_key_error)
    }

    fn delete(&self, alias: &str) -> std::result::Result<(), PushError> {
        self.0.delete(alias.to_owned()).map_err(device_key_error)
    }
}

/// What a push enrollment QR code would enroll, for a confirmation screen. The one-time
/// enrollment credential it carries is not included.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushEnrollmentPreview {
    pub serial: String,
    pub issuer: String,
    pub label: String,
    /// The server's PUSH endpoint.
    pub url: String,
    /// False only when the server itself said not to verify its certificate.
    pub sslverify: bool,
    /// The server sends no notifications for this token: the app must poll (`check_pending`).
    pub poll_only: bool,
    /// How long the QR code may be used after scanning.
    pub ttl_seconds: u64,
    /// When it was scanned, and the last moment it may be enrolled (Unix seconds).
    pub scanned_at: UnixTime,
    pub expires_at: UnixTime,
}

/// A scanned enrollment QR code, waiting for the user's confirmation. It keeps the scan time
/// (the QR's `ttl` runs from it) and the one-time credential, which never crosses the FFI.
#[derive(uniffi::Object)]
pub struct PushEnrollmentScan {
    preview: PushEnrollmentPreview,
    /// Taken by `enroll_push`: a scan enrolls once.
    enrollment: Mutex<Option<PushEnrollment>>,
}

impl std::fmt::Debug for PushEnrollmentScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushEnrollmentScan")
            .field("preview", &self.preview)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl PushEnrollmentScan {
    /// What the QR code would enroll.
    pub fn preview(&self) -> PushEnrollmentPreview {
        self.preview.clone()
    }
}

impl From<&PushEnrollment> for PushEnrollmentPreview {
    fn from(e: &PushEnrollment) -> Self {
        PushEnrollmentPreview {
            serial: e.serial.clone(),
            issuer: e.issuer.clone(),
            label: e.label.clone(),
            url: e.url.clone(),
            sslverify: e.sslverify,
            poll_only: e.poll_only,
            ttl_seconds: e.ttl.as_secs(),
            scanned_at: e.scanned_at,
            expires_at: e.expires_at(),
        }
    }
}

/// A verified push request waiting for the user: what to show, nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushRequest {
    /// Identifies the request in `approve_push` / `deny_push`.
    pub nonce: String,
    pub account_id: String,
    pub serial: String,
    pub issuer: String,
    pub label: String,
    pub title: String,
    pub question: String,
    /// Number matching: the options to offer (the login page shows the right one); `None` when
    /// the server did not ask for it.
    pub answers: Option<Vec<String>>,
    /// Unix seconds.
    pub received_at: UnixTime,
    pub expires_at: UnixTime,
    /// The server accepts a reason with a denial.
    pub decline_reasons: bool,
    /// The account holds passwordless sign-in: approving needs number matching and
    /// `device_unlocked`.
    pub passwordless: bool,
    /// The server wants the device unlocked before an answer.
    pub unlock_required: bool,
}

impl From<&PushRequestInfo> for PushRequest {
    fn from(r: &PushRequestInfo) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let PushRequestInfo {
            nonce,
            account_id,
            serial,
            issuer,
            label,
            title,
            question,
            answers,
            received_at,
            expires_at,
            decline_reasons,
            passwordless,
            unlock_required,
        } = r;
        PushRequest {
            nonce: nonce.clone(),
            account_id: account_id.to_string(),
            serial: serial.clone(),
            issuer: issuer.clone(),
            label: label.clone(),
            title: title.clone(),
            question: question.clone(),
            answers: answers.clone(),
            received_at: *received_at,
            expires_at: *expires_at,
            decline_reasons: *decline_reasons,
            passwordless: *passwordless,
            unlock_required: *unlock_required,
        }
    }
}

/// The outcome of "check for notifications".
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct CheckOutcome {
    /// Every request waiting for an answer, oldest first.
    pub requests: Vec<PushRequest>,
    /// One readable line per server that could not be polled or entry that was refused.
    pub problems: Vec<String>,
    /// Every push server's clock as last seen: each corrects its own requests' timestamps and
    /// the codes of the accounts it checks, never the user's own offset.
    pub server_clocks: Vec<ServerClock>,
}

/// A push server's clock, as last seen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ServerClock {
    /// `https://host:port`.
    pub server: String,
    /// The server's clock minus this device's.
    pub offset_ms: i64,
}

impl From<&CoreCheckOutcome> for CheckOutcome {
    fn from(c: &CoreCheckOutcome) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let CoreCheckOutcome {
            requests,
            problems,
            server_clocks,
        } = c;
        CheckOutcome {
            requests: requests.iter().map(Into::into).collect(),
            problems: problems.clone(),
            server_clocks: server_clocks
                .iter()
                .map(|s| ServerClock {
                    server: s.server.clone(),
                    offset_ms: s.offset_ms,
                })
                .collect(),
        }
    }
}

/// What the server said to an approval.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ApproveOutcome {
    /// Code-to-phone: the code the user must now type on the login page.
    pub display_code: Option<String>,
    /// The server's instruction to show beside `display_code`.
    pub message: Option<String>,
}

impl From<AnswerOutcome> for ApproveOutcome {
    fn from(a: AnswerOutcome) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let AnswerOutcome {
            display_code,
            message,
        } = a;
        ApproveOutcome {
            display_code,
            message,
        }
    }
}

/// The outcome of telling the servers a new push token.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PushTokenUpdate {
    /// Serials whose server now has the new token (poll-only tokens are not sent it).
    pub updated: Vec<String>,
    /// One readable line per server that failed.
    pub problems: Vec<String>,
}

/// Why the user denied a request (send only when `PushRequest.decline_reasons` is true).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum DeclineReason {
    /// "This wasn't me": the user did not start this login.
    UnknownTrigger,
    /// The user started the login but changed their mind.
    Cancelled,
}

impl From<DeclineReason> for CoreDeclineReason {
    fn from(r: DeclineReason) -> Self {
        match r {
            DeclineReason::UnknownTrigger => CoreDeclineReason::UnknownTrigger,
            DeclineReason::Cancelled => CoreDeclineReason::Cancelled,
        }
    }
}

#[uniffi::export]
impl Authenticator {
    /// Reads a push enrollment QR code (`otpauth://pipush/...`) just scanned: what it would
    /// enroll, for a confirmation screen. Its `ttl` runs from now; `enroll_push` consumes it.
    pub fn scan_push_enrollment(&self, uri: String) -> Result<Arc<PushEnrollmentScan>> {
        let uri = Zeroizing::new(uri);
        let enrollment = self.inner.scan_push_enrollment(&uri)?;
        Ok(Arc::new(PushEnrollmentScan {
            preview: (&enrollment).into(),
            enrollment: Mutex::new(Some(enrollment)),
        }))
    }

    /// Enrolls a scanned push token: creates the device key, registers it with the server and
    /// stores the token, as a new account or joined to `attach_to` (an account id).
    /// `push_token` is the platform's FCM/APNs token, if the app has one. A scan is used once.
    pub async fn enroll_push(
        &self,
        scan: Arc<PushEnrollmentScan>,
        push_token: Option<String>,
        attach_to: Option<String>,
    ) -> Result<Account> {
        let enrollment = scan
            .enrollment
            .lock()
            .map_err(|_| AuthCoreError::invalid("the scan is unusable"))?
            .take()
            .ok_or_else(|| {
                AuthCoreError::invalid("this enrollment QR code was already used: scan it again")
            })?;
        let info = self
            .inner
            .enroll_push(enrollment, push_token.as_deref(), attach_to.as_deref())
            .await?;
        Ok((&info).into())
    }

    /// Takes in a push notification's data map as the platform delivered it (FCM
    /// `RemoteMessage.data`, the string entries of APNs `userInfo`). It is verified against the
    /// enrolled server key before it is kept.
    pub fn handle_notification_data(
        &self,
        data: std::collections::HashMap<String, String>,
    ) -> Result<PushRequest> {
        let info = self
            .inner
            .handle_notification_data(data.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
        Ok((&info).into())
    }

    /// The same for a notification as JSON: the data map, or privacyIDEA's gateway message
    /// `{"device_token", "data"}` (what a relay or a test harness may hand over).
    pub fn handle_notification(&self, payload: String) -> Result<PushRequest> {
        Ok((&self.inner.handle_notification(&payload)?).into())
    }

    /// The requests kept and still answerable, without asking any server.
    pub fn pending_push_requests(&self) -> Result<Vec<PushRequest>> {
        Ok(self
            .inner
            .pending_push_requests()?
            .iter()
            .map(Into::into)
            .collect())
    }

    /// "Check for notifications": polls every push account's server and lists every request
    /// waiting for an answer. One server failing does not stop the others (see `problems`).
    pub async fn check_pending(&self) -> Result<CheckOutcome> {
        Ok((&self.inner.check_pending().await?).into())
    }

    /// Approves a request; `answer` is the number-matching choice when it has one.
    /// `device_unlocked`: the platform confirmed a device unlock (biometric, PIN) just now, which
    /// passwordless accounts and servers demanding an unlock require.
    pub async fn approve_push(
        &self,
        nonce: String,
        answer: Option<String>,
        device_unlocked: bool,
    ) -> Result<ApproveOutcome> {
        let presence = if device_unlocked {
            UserPresence::DeviceUnlocked
        } else {
            UserPresence::NotVerified
        };
        Ok(self
            .inner
            .answer_push(&nonce, Decision::Approve { answer }, presence)
            .await?
            .into())
    }

    /// Denies a request, optionally saying why.
    pub async fn deny_push(&self, nonce: String, reason: Option<DeclineReason>) -> Result<()> {
        self.inner
            .answer_push(
                &nonce,
                Decision::Deny {
                    reason: reason.map(Into::into),
                },
                UserPresence::NotVerified,
            )
            .await?;
        Ok(())
    }

    /// Tells every push account's server the platform's new FCM/APNs token.
    pub async fn update_push_token(&self, token: String) -> Result<PushTokenUpdate> {
        let (updated, problems) = self.inner.update_push_token(&token).await?;
        Ok(PushTokenUpdate { updated, problems })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;

    impl DeviceKeyStore for Failing {
        fn generate(&self, _: String) -> std::result::Result<Vec<u8>, KeyStoreError> {
            Err(KeyStoreError::Unavailable {
                reason: "device locked".into(),
            })
        }
        fn sign(&self, alias: String, _: Vec<u8>) -> std::result::Result<Vec<u8>, KeyStoreError> {
            Err(KeyStoreError::Unexpected {
                reason: format!("no key {alias}"),
            })
        }
        fn delete(&self, _: String) -> std::result::Result<(), KeyStoreError> {
            Err(KeyStoreError::WrongKey)
        }
    }

    #[test]
    fn platform_key_failures_become_readable_device_key_errors() {
        let keys = ForeignDeviceKeys(Arc::new(Failing));
        let text = |e: PushError| e.to_string();
        assert_eq!(
            keys.generate("a").map_err(text),
            Err("device key: key store unavailable: device locked".to_owned())
        );
        assert_eq!(
            keys.sign("a", b"m").map_err(text),
            Err("device key: key store failed: no key a".to_owned())
        );
        assert_eq!(
            keys.delete("a").map_err(text),
            Err("device key: the key store holds a different key".to_owned())
        );
    }
}
