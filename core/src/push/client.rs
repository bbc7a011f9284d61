//! `PushClient`: the phone's side of privacyIDEA's PUSH endpoint, over the app's transport.
//!
//! One endpoint (`url` from the QR, normally `https://HOST/ttype/push`) takes everything:
//! - registration (enrollment step 2): form POST `enrollment_credential`, `serial`, `fbtoken`
//!   (the push token or `no_firebase_token`), `pubkey`; the response's `detail.public_key` is the
//!   server's key;
//! - poll: `GET url?serial=&timestamp=&signature=` signing `{serial}|{timestamp}`; the timestamp
//!   must be within a minute of the server's clock, so it is taken from the corrected clock;
//! - answer: form POST, see [`super::answer`];
//! - push token update: form POST `new_fb_token`, `serial`, `timestamp`, `signature` signing
//!   `{new_fb_token}|{serial}|{timestamp}`.
//!
//! Success is `result.value == true`: the server answers a bad signature with HTTP 200 and
//! `false`. Every request has a time-out; redirects are not followed (a redirected POST could
//! carry the enrollment credential elsewhere); response bodies are capped.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::answer::{AnswerOutcome, PushAnswer, answer_form};
use super::challenge::{NO_PUSH_TOKEN, PushRequest, parse_poll_value};
use super::clock_skew::{ClockOffset, iso8601_utc};
use super::credential::PushCredential;
use super::enroll_uri::{AppForceUnlock, PushEnrollment, check_endpoint_url};
use super::exchange::RawResponse;
use super::keys::{DeviceKey, parse_server_public_key, pubkey_param, sign_b32};
use super::transport::{HttpTransport, Method};
use super::{DEFAULT_CHALLENGE_VALIDITY, PushError, response};
use crate::time::UnixTime;
use serde_json::Value;

/// Time-outs and limits of a [`PushClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushClientConfig {
    /// The whole request: connect, send, wait, receive.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// How long a challenge stays answerable after it arrives.
    pub challenge_validity: Duration,
    /// Larger responses are refused (a poll with a few 4096-bit challenges is ~5 KiB).
    pub max_response_bytes: usize,
}

impl Default for PushClientConfig {
    fn default() -> Self {
        PushClientConfig {
            timeout: Duration::from_secs(20),
            connect_timeout: Duration::from_secs(10),
            challenge_validity: DEFAULT_CHALLENGE_VALIDITY,
            max_response_bytes: 1024 * 1024,
        }
    }
}

/// The verified requests of one poll, and the entries that failed verification.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PollOutcome {
    pub requests: Vec<PushRequest>,
    pub rejected: Vec<RejectedChallenge>,
}

/// A poll entry that was not accepted, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedChallenge {
    /// The entry's nonce, when it had one.
    pub nonce: Option<String>,
    pub error: PushError,
}

/// A poll whose timestamp the server refused is retried once with the newly observed clock
/// offset when it moved by more than this (the server's window is one minute).
const CLOCK_RETRY_THRESHOLD: Duration = Duration::from_secs(30);

/// Talks to privacyIDEA PUSH endpoints through an [`HttpTransport`]. Cheap to share: one per
/// app, used from any task. It remembers each server's clock offset (by origin), so polls of
/// several servers are each timestamped on their own server's clock.
pub struct PushClient {
    pub(super) transport: Arc<dyn HttpTransport>,
    pub(super) config: PushClientConfig,
    pub(super) offsets: Mutex<HashMap<String, ClockOffset>>,
    pub(super) log: crate::log::Log,
}

impl std::fmt::Debug for PushClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushClient")
            .field("config", &self.config)
            .field("clock_offsets", &self.clock_offsets())
            .finish_non_exhaustive()
    }
}

/// The server a URL belongs to, as clock offsets are keyed: `scheme://host:port`.
pub fn server_origin(url: &str) -> String {
    server_endpoint(url).0
}

/// The server (as [`server_origin`]) and the path of a URL: what a log may show of a request,
/// without its query (a poll's signature) or user info.
pub(super) fn server_endpoint(url: &str) -> (String, String) {
    match url::Url::parse(url) {
        Ok(parsed) => (
            parsed.origin().ascii_serialization(),
            parsed.path().to_owned(),
        ),
        Err(_) => (
            url.split(['?', '#']).next().unwrap_or_default().to_owned(),
            String::new(),
        ),
    }
}

impl PushClient {
    pub fn new(transport: Arc<dyn HttpTransport>, config: PushClientConfig) -> Self {
        PushClient {
            transport,
            config,
            offsets: Mutex::new(HashMap::new()),
            log: crate::log::Log::none(),
        }
    }

    /// The same client writing each exchange (method, URL without its query, status, time) to
    /// `log`.
    pub(crate) fn with_log(mut self, log: crate::log::Log) -> Self {
        self.log = log;
        self
    }

    pub(super) fn offsets(&self) -> std::sync::MutexGuard<'_, HashMap<String, ClockOffset>> {
        self.offsets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Server time minus local time for the server of `url`, from its last response that
    /// carried a `Date` header.
    pub fn clock_offset(&self, url: &str) -> Option<ClockOffset> {
        self.offsets().get(&server_origin(url)).copied()
    }

    /// Every server's known offset, by origin, sorted.
    pub fn clock_offsets(&self) -> Vec<(String, ClockOffset)> {
        let mut all: Vec<_> = self
            .offsets()
            .iter()
            .map(|(k, v)| (k.clone(), *v))
            .collect();
        all.sort();
        all
    }

    /// Seeds the offset of the server of `url` (e.g. from the last run); `None` forgets it.
    pub fn set_clock_offset(&self, url: &str, offset: Option<ClockOffset>) {
        let origin = server_origin(url);
        let mut offsets = self.offsets();
        match offset {
            Some(o) => offsets.insert(origin, o),
            None => offsets.remove(&origin),
        };
    }

    /// `local_now` on the clock of the server of `url`, as far as we know it.
    pub fn server_time(&self, url: &str, local_now: UnixTime) -> UnixTime {
        self.clock_offset(url)
            .map_or(local_now, |offset| offset.apply(local_now))
    }

    /// Enrollment step 2: registers `key` (and the push token, if the app has one) for the
    /// scanned token and returns the enrolled credential.
    pub async fn register(
        &self,
        enrollment: &PushEnrollment,
        key: &dyn DeviceKey,
        fb_token: Option<&str>,
        now: UnixTime,
    ) -> Result<PushCredential, PushError> {
        enrollment.check_not_expired(now)?;
        let url = check_endpoint_url("url", &enrollment.url, enrollment.sslverify)?;
        if let Some(token) = fb_token {
            check_push_token("fb_token", token)?;
        }
        let credential = std::str::from_utf8(enrollment.enrollment_credential.expose())
            .map_err(|_| PushError::enroll("enrollment_credential", "is not UTF-8"))?;
        let form = [
            ("enrollment_credential", credential.to_owned()),
            ("serial", enrollment.serial.clone()),
            ("fbtoken", fb_token.unwrap_or(NO_PUSH_TOKEN).to_owned()),
            ("pubkey", pubkey_param(key)?),
        ];
        let started = Instant::now();
        let request = self.post(url, enrollment.sslverify, &form);
        let raw = self.execute(request, now, started).await?;
        let envelope = response::parse(raw.status, &raw.body)?;
        response::require_true(&envelope)?;
        if let Some(state) = envelope.detail.get("rollout_state").and_then(Value::as_str)
            && state != "enrolled"
        {
            return Err(PushError::response(format!(
                "the token's rollout state is '{}', not 'enrolled'",
                response::short_message(state)
            )));
        }
        if let Some(serial) = envelope.detail.get("serial").and_then(Value::as_str)
            && serial != enrollment.serial
        {
            return Err(PushError::response(
                "the server answered for a different serial",
            ));
        }
        let public_key = envelope
            .detail
            .get("public_key")
            .and_then(Value::as_str)
            .ok_or_else(|| PushError::response("`detail.public_key` is missing"))?;
        let server_public_key_pkcs1 = parse_server_public_key(public_key)?;

        Ok(PushCredential {
            serial: enrollment.serial.clone(),
            url: enrollment.url.clone(),
            sslverify: enrollment.sslverify,
            server_public_key_pkcs1,
            poll_only: enrollment.poll_only,
            fb_token: fb_token.map(str::to_owned),
            enrolled_at: now,
            // The older `pin=True` asks for the same thing: unlock before answering.
            app_force_unlock: enrollment
                .app_force_unlock
                .or(enrollment.pin.then_some(AppForceUnlock::Any)),
        })
    }

    /// Fetches and verifies the open challenges of `credential`.
    pub async fn poll(
        &self,
        credential: &PushCredential,
        key: &dyn DeviceKey,
        now: UnixTime,
    ) -> Result<PollOutcome, PushError> {
        let started = Instant::now();
        let used_offset = self.clock_offset(&credential.url);
        let mut raw = self.poll_once(credential, key, now, started).await?;
        if raw.status == 400
            && let Some(seen) = raw.offset
        {
            let moved = seen.as_millis() - used_offset.unwrap_or(ClockOffset::ZERO).as_millis();
            if ClockOffset::from_millis(moved).exceeds(CLOCK_RETRY_THRESHOLD) {
                raw = self.poll_once(credential, key, now, started).await?;
            }
        }
        let envelope = response::parse(raw.status, &raw.body)?;
        let mut outcome = PollOutcome::default();
        for entry in parse_poll_value(&envelope.value)? {
            match entry {
                Err(error) => outcome
                    .rejected
                    .push(RejectedChallenge { nonce: None, error }),
                Ok(challenge) => {
                    let nonce = challenge.nonce().to_owned();
                    match challenge.verify(credential, now, self.config.challenge_validity) {
                        Ok(request) => outcome.requests.push(request),
                        Err(error) => outcome.rejected.push(RejectedChallenge {
                            nonce: Some(nonce),
                            error,
                        }),
                    }
                }
            }
        }
        Ok(outcome)
    }

    async fn poll_once(
        &self,
        credential: &PushCredential,
        key: &dyn DeviceKey,
        now: UnixTime,
        started: Instant,
    ) -> Result<RawResponse, PushError> {
        let mut url = check_endpoint_url("url", &credential.url, credential.sslverify)?;
        let timestamp = iso8601_utc(self.server_time(&credential.url, now + started.elapsed()))?;
        let signature = sign_b32(key, &format!("{}|{timestamp}", credential.serial))?;
        url.query_pairs_mut()
            .append_pair("serial", &credential.serial)
            .append_pair("timestamp", &timestamp)
            .append_pair("signature", &signature);
        let request = self.request(Method::Get, url, credential.sslverify, Vec::new());
        self.execute(request, now, started).await
    }

    /// Sends the user's answer to `request`. The request must be for `credential` and still
    /// answerable at `now`.
    pub async fn answer(
        &self,
        credential: &PushCredential,
        key: &dyn DeviceKey,
        request: &PushRequest,
        answer: &PushAnswer,
        now: UnixTime,
    ) -> Result<AnswerOutcome, PushError> {
        if request.serial != credential.serial {
            return Err(PushError::WrongAccount {
                serial: request.serial.clone(),
                reason: format!("it was answered with the token {}", credential.serial),
            });
        }
        if request.is_expired(now) {
            return Err(PushError::Expired {
                nonce: request.nonce.clone(),
                validity: request.expires_at.since(request.received_at),
            });
        }
        // The request's url and sslverify are the server's current, signed values.
        let url = check_endpoint_url("url", &request.url, request.sslverify)?;
        let form = answer_form(request, key, answer)?;
        let started = Instant::now();
        let http = self.post(url, request.sslverify, &form);
        let raw = self.execute(http, now, started).await?;
        let envelope = response::parse(raw.status, &raw.body)?;
        response::require_true(&envelope)?;
        let field = |name: &str| {
            envelope
                .detail
                .get(name)
                .and_then(Value::as_str)
                .map(response::short_message)
        };
        Ok(AnswerOutcome {
            display_code: field("display_code"),
            message: field("message"),
        })
    }

    /// Tells the server the device's new FCM/APNs token. On success the caller stores
    /// `new_fb_token` in the credential.
    pub async fn update_push_token(
        &self,
        credential: &PushCredential,
        key: &dyn DeviceKey,
        new_fb_token: &str,
        now: UnixTime,
    ) -> Result<(), PushError> {
        check_push_token("new_fb_token", new_fb_token)?;
        let url = check_endpoint_url("url", &credential.url, credential.sslverify)?;
        let started = Instant::now();
        let timestamp = iso8601_utc(self.server_time(&credential.url, now))?;
        let signature = sign_b32(
            key,
            &format!("{new_fb_token}|{}|{timestamp}", credential.serial),
        )?;
        let form = [
            ("new_fb_token", new_fb_token.to_owned()),
            ("serial", credential.serial.clone()),
            ("timestamp", timestamp),
            ("signature", signature),
        ];
        let request = self.post(url, credential.sslverify, &form);
        let raw = self.execute(request, now, started).await?;
        let envelope = response::parse(raw.status, &raw.body)?;
        response::require_true(&envelope)
    }
}

fn check_push_token(param: &str, token: &str) -> Result<(), PushError> {
    if token.is_empty() || token.len() > 4096 || token.chars().any(char::is_control) {
        return Err(PushError::InvalidArgument {
            param: param.to_owned(),
            reason: "must be 1 to 4096 printable characters".to_owned(),
        });
    }
    Ok(())
}
