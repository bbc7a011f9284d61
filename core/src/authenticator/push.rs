//! Push approvals on the facade: enrolling a push token from its QR code, taking requests in
//! (from a notification the shell hands over, or by polling every push account's server),
//! and answering them, with the passwordless gate.
//!
//! Network calls are `async` (they need a tokio runtime, as reqwest does). The facade's lock is
//! never held across an `await`: a call reads what it needs, releases the lock, talks to the
//! server, and takes the lock again to store the outcome.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{AccountInfo, ApprovalNeeds, AuthError, Authenticator, DeviceKeys, Result, State};
use crate::account::{Account, AccountId, Names};
use crate::clock;
use crate::policy::{PasswordlessRule, PolicyError};
use crate::push::{
    AnswerOutcome, ClockOffset, DeclineReason, DeviceKey, PushAnswer, PushClient, PushCredential,
    PushEnrollment, PushError, PushRequest, SoftwareDeviceKey, UnverifiedChallenge,
};
use crate::vault::{PushInserted, StoredDeviceKey};

/// A device key store the platform provides (Android Keystore, iOS Keychain / Secure Enclave):
/// it creates an RSA key under an alias (the account id), signs with it, and deletes it. The
/// private key never leaves the platform. Without one, the core keeps software keys sealed in
/// the vault.
pub trait PlatformDeviceKeys: Send + Sync {
    /// Creates an RSA key pair for `alias` (replacing any old one) and returns its public key
    /// as a DER SubjectPublicKeyInfo.
    fn generate(&self, alias: &str) -> std::result::Result<Vec<u8>, PushError>;
    /// RSASSA-PKCS#1 v1.5 with SHA-256 over `message`, with the key of `alias`.
    fn sign(&self, alias: &str, message: &[u8]) -> std::result::Result<Vec<u8>, PushError>;
    /// Forgets the key of `alias` (the account was deleted). Missing keys are not an error.
    fn delete(&self, alias: &str) -> std::result::Result<(), PushError>;
}

struct PlatformKey {
    keys: Arc<dyn PlatformDeviceKeys>,
    alias: String,
    /// Known right after generation, which is the only time the protocol sends it.
    spki: Option<Vec<u8>>,
}

impl DeviceKey for PlatformKey {
    fn public_key_spki_der(&self) -> std::result::Result<Vec<u8>, PushError> {
        self.spki
            .clone()
            .ok_or_else(|| PushError::device_key("the platform key's public half is not at hand"))
    }

    fn sign_pkcs1_sha256(&self, message: &[u8]) -> std::result::Result<Vec<u8>, PushError> {
        self.keys.sign(&self.alias, message)
    }
}

/// What an app shows for a push request: enough to decide, nothing secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PushRequestInfo {
    pub nonce: String,
    pub account_id: AccountId,
    pub serial: String,
    pub issuer: String,
    pub label: String,
    pub title: String,
    pub question: String,
    /// Number matching: the options to choose from (the login page shows the right one);
    /// `None` when the server did not ask for it.
    pub answers: Option<Vec<String>>,
    /// Unix seconds.
    pub received_at: u64,
    pub expires_at: u64,
    /// The server accepts a reason with a denial ("this wasn't me" or "cancelled").
    pub decline_reasons: bool,
    /// The account holds passwordless sign-in: approving needs number matching and the
    /// platform's confirmation that the user unlocked the device.
    pub passwordless: bool,
    /// The server asked that the app be unlocked before an answer (`app_force_unlock`).
    pub unlock_required: bool,
}

/// The outcome of "check for notifications".
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckOutcome {
    /// Every request waiting for an answer (new or seen before), oldest first.
    pub requests: Vec<PushRequestInfo>,
    /// Why some accounts could not be polled or some entries were refused (forged, expired,
    /// replayed...), one readable line each.
    pub problems: Vec<String>,
    /// The clock of every push server this vault has heard from, by origin. Each corrects the
    /// timestamps of its own server's requests and the codes of accounts that server checks;
    /// none changes the user's own offset.
    pub server_clocks: Vec<ServerClock>,
}

/// The user's answer to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Approve; `answer` is the number-matching choice when the request has one.
    Approve { answer: Option<String> },
    /// Deny, optionally saying why (only if the server advertised that it understands reasons).
    Deny { reason: Option<DeclineReason> },
}

/// How the user confirmed they are present, as the platform reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserPresence {
    /// The app did not ask the platform (or the user was not asked to unlock).
    NotVerified,
    /// The platform confirmed a device unlock (biometric, PIN, pattern, password) just now.
    DeviceUnlocked,
}

/// Above this many seconds between the server's clock and the device's, callers should warn:
/// codes would be wrong without the correction.
pub const CLOCK_WARN_SECONDS: i64 = clock::WARN_OFFSET_SECONDS;

/// The setting that records each push server's last clock offset: a JSON object from origin
/// (`https://host:port`) to milliseconds (server minus device).
pub const SERVER_OFFSETS_SETTING: &str = "push.server_offsets_ms";

/// A push server's clock as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerClock {
    /// The server's origin, `https://host:port`.
    pub server: String,
    /// The server's clock minus this device's.
    pub offset_ms: i64,
}

struct Answerable {
    request: PushRequest,
    credential: PushCredential,
    key: Arc<dyn DeviceKey>,
    client: Arc<PushClient>,
}

/// Runs `work` on a thread of its own and awaits it without blocking the caller's executor
/// (the core has no runtime of its own; the app's or the CLI's polls this future).
async fn off_thread<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    let (done, result) = futures_channel::oneshot::channel();
    std::thread::Builder::new()
        .name("authcore-keygen".into())
        .spawn(move || {
            let _ = done.send(work());
        })
        .map_err(|e| {
            push_error(PushError::device_key(format!(
                "no thread for key generation: {e}"
            )))
        })?;
    result
        .await
        .map_err(|_| push_error(PushError::device_key("key generation stopped unexpectedly")))
}

/// The servers' clock offsets as stored (milliseconds by origin). A damaged value is
/// forgotten rather than fatal: the next response from each server restores it.
pub(super) fn load_server_offsets(vault: &crate::vault::Vault) -> Result<HashMap<String, i64>> {
    Ok(vault
        .setting(SERVER_OFFSETS_SETTING)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn push_error(e: PushError) -> AuthError {
    AuthError::Push(e)
}

impl State {
    fn push_accounts(&self) -> Vec<(AccountId, PushCredential)> {
        self.accounts
            .iter()
            .filter_map(|l| {
                l.account
                    .push
                    .as_ref()
                    .map(|p| (l.account.id.clone(), p.clone()))
            })
            .collect()
    }

    /// The account holding the push token `serial`, with that token.
    fn push_account(&self, serial: &str) -> Option<(&Account, &PushCredential)> {
        self.accounts.iter().find_map(|l| {
            l.account
                .push
                .as_ref()
                .filter(|p| p.serial == serial)
                .map(|p| (&l.account, p))
        })
    }

    fn request_info(&self, request: &PushRequest) -> Option<PushRequestInfo> {
        let (account, credential) = self.push_account(&request.serial)?;
        Some(PushRequestInfo {
            nonce: request.nonce.clone(),
            account_id: account.id.clone(),
            serial: request.serial.clone(),
            issuer: account.issuer.clone(),
            label: account.label.clone(),
            title: request.title.clone(),
            question: request.question.clone(),
            answers: request.require_presence.clone(),
            received_at: unix_seconds(request.received_at),
            expires_at: unix_seconds(request.expires_at),
            decline_reasons: request.capabilities.verified && request.capabilities.decline_reason,
            passwordless: self.passwordless.contains(&account.id),
            unlock_required: credential.app_force_unlock.is_some(),
        })
    }

    fn pending_infos(&mut self, now: SystemTime) -> Result<Vec<PushRequestInfo>> {
        let pending = self.vault.pending_push_requests(now)?;
        Ok(pending
            .iter()
            .filter_map(|r| self.request_info(r))
            .collect())
    }

    /// Keeps a verified request, and the server's current endpoint it carries.
    fn keep(&mut self, request: &PushRequest, now: SystemTime) -> Result<PushInserted> {
        let inserted = self.vault.store_push_request(request, now)?;
        let moved = match self.push_account(&request.serial) {
            Some((account, current))
                if inserted == PushInserted::New
                    && (current.url != request.url || current.sslverify != request.sslverify) =>
            {
                Some((account.id.clone(), current.fb_token.clone()))
            }
            _ => None,
        };
        if let Some((id, fb_token)) = moved {
            self.vault.update_push_credential(
                &id,
                &request.url,
                request.sslverify,
                fb_token.as_deref(),
                unix_seconds(now) as i64,
            )?;
            self.reload()?;
        }
        Ok(inserted)
    }
}

impl Authenticator {
    fn local_now(&self) -> SystemTime {
        let secs = self.clock.now_unix_seconds();
        UNIX_EPOCH + Duration::from_secs(u64::try_from(secs).unwrap_or(0))
    }

    /// The client, seeded with the servers' clock offsets as the vault holds them now (another
    /// process may have seen a server since).
    fn client(&self, state: &State) -> Arc<PushClient> {
        let client = self.push.client.clone();
        for (origin, ms) in &state.server_offsets {
            client.set_clock_offset(origin, Some(ClockOffset::from_millis(*ms)));
        }
        client
    }

    /// Stores the clock offsets `client` has seen (one setting, a JSON object by origin).
    fn save_server_offsets(&self, state: &mut State, client: &PushClient) -> Result<()> {
        let seen: HashMap<String, i64> = client
            .clock_offsets()
            .into_iter()
            .map(|(origin, offset)| (origin, offset.as_millis()))
            .collect();
        if seen.is_empty()
            || seen
                .iter()
                .all(|(k, v)| state.server_offsets.get(k) == Some(v))
        {
            return Ok(());
        }
        let mut all = load_server_offsets(&state.vault)?;
        all.extend(seen);
        let json = serde_json::to_string(&all).map_err(|e| {
            AuthError::Vault(crate::vault::VaultError::Damaged {
                what: format!("server clock offsets: {e}"),
            })
        })?;
        state.vault.set_setting(SERVER_OFFSETS_SETTING, &json)?;
        state.server_offsets = all;
        Ok(())
    }

    /// Reads an enrollment QR code just scanned, for a confirmation screen: its `ttl` runs from
    /// now. Hand the result to [`Authenticator::enroll_push`], which consumes it.
    pub fn scan_push_enrollment(&self, uri: &str) -> Result<PushEnrollment> {
        let now = self.local_now();
        PushEnrollment::parse(uri, now, now).map_err(push_error)
    }

    /// Enrolls a scanned push token: creates the device key, registers it with the server, and
    /// stores the token. With `attach_to`, the token joins that existing account (whose code
    /// then is the fallback); otherwise a new account is made. `push_token` is the platform's
    /// FCM/APNs token, if any.
    ///
    /// Atomic: when anything after the server's registration fails, the device key is deleted
    /// and nothing is stored; the error says that the server may keep a stale token.
    pub async fn enroll_push(
        &self,
        enrollment: PushEnrollment,
        push_token: Option<&str>,
        attach_to: Option<&str>,
    ) -> Result<AccountInfo> {
        enrollment
            .check_not_expired(self.local_now())
            .map_err(push_error)?;
        let attach_id = {
            let state = self.state()?;
            if let Some((account, _)) = state.push_account(&enrollment.serial) {
                return Err(crate::vault::VaultError::PushSerialTaken {
                    serial: enrollment.serial.clone(),
                    id: account.id.to_string(),
                }
                .into());
            }
            match attach_to {
                None => None,
                Some(query) => {
                    let index = state.resolve(query)?;
                    let account = &state.accounts[index].account;
                    if let Some(p) = &account.push {
                        return Err(crate::vault::VaultError::AlreadyHasPush {
                            name: account.display_name(),
                            serial: p.serial.clone(),
                        }
                        .into());
                    }
                    Some(account.id.clone())
                }
            }
        };
        let id = attach_id.clone().unwrap_or_else(AccountId::random);
        let alias = id.to_string();
        let (key, stored) = self.new_device_key(&alias).await?;
        let forget_key = || {
            if let DeviceKeys::Platform(keys) = &self.push.device_keys {
                let _ = keys.delete(&alias);
            }
        };
        let client = match self.state() {
            Ok(state) => self.client(&state),
            Err(e) => {
                forget_key();
                return Err(e);
            }
        };
        let credential = match client
            .register(&enrollment, key.as_ref(), push_token, self.local_now())
            .await
        {
            Ok(c) => c,
            Err(e) => {
                forget_key();
                return Err(push_error(e));
            }
        };
        let stored_account =
            self.store_enrolled(&enrollment, attach_id, id, credential, stored, &key);
        match stored_account {
            Ok(info) => Ok(info),
            Err(e) => {
                forget_key();
                Err(AuthError::EnrollmentNotStored {
                    serial: enrollment.serial.clone(),
                    reason: e.to_string(),
                })
            }
        }
    }

    /// A new device key under `alias`, made off the caller's thread: RSA-4096 generation
    /// takes about a second, and the caller's thread may be an app's UI or executor thread.
    async fn new_device_key(&self, alias: &str) -> Result<(Arc<dyn DeviceKey>, StoredDeviceKey)> {
        match &self.push.device_keys {
            DeviceKeys::Platform(keys) => {
                let (keys2, alias2) = (keys.clone(), alias.to_owned());
                let spki = off_thread(move || keys2.generate(&alias2))
                    .await?
                    .map_err(push_error)?;
                Ok((
                    Arc::new(PlatformKey {
                        keys: keys.clone(),
                        alias: alias.to_owned(),
                        spki: Some(spki),
                    }),
                    StoredDeviceKey::Platform,
                ))
            }
            DeviceKeys::Software { bits } => {
                let bits = *bits;
                let key = off_thread(move || SoftwareDeviceKey::generate(bits))
                    .await?
                    .map_err(push_error)?;
                let stored = StoredDeviceKey::Software(key.pkcs8().clone());
                Ok((Arc::new(key), stored))
            }
        }
    }

    fn store_enrolled(
        &self,
        enrollment: &PushEnrollment,
        attach_id: Option<AccountId>,
        id: AccountId,
        credential: PushCredential,
        stored: StoredDeviceKey,
        key: &Arc<dyn DeviceKey>,
    ) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let now_s = self.clock.now_unix_seconds();
        let account = match attach_id {
            Some(id) => state.vault.attach_push(&id, credential, stored, now_s)?,
            None => state.vault.add_push_account(
                id,
                Names {
                    issuer: enrollment.issuer.clone(),
                    label: enrollment.label.clone(),
                    group: None,
                    note: None,
                },
                credential,
                stored,
                now_s,
            )?,
        };
        state.push_keys.insert(account.id.clone(), key.clone());
        state.reload()?;
        Ok(state.info(&account))
    }

    /// The device key of a push account, loaded once and kept.
    fn device_key(&self, state: &mut State, id: &AccountId) -> Result<Arc<dyn DeviceKey>> {
        if let Some(key) = state.push_keys.get(id) {
            return Ok(key.clone());
        }
        let key: Arc<dyn DeviceKey> = match state.vault.push_device_key(id)? {
            StoredDeviceKey::Software(pkcs8) => {
                Arc::new(SoftwareDeviceKey::from_pkcs8(pkcs8).map_err(push_error)?)
            }
            StoredDeviceKey::Platform => {
                let DeviceKeys::Platform(keys) = &self.push.device_keys else {
                    return Err(push_error(PushError::device_key(
                        "this account's key is in the platform key store, and this authenticator was opened with software device keys",
                    )));
                };
                let keys = keys.clone();
                Arc::new(PlatformKey {
                    keys,
                    alias: id.to_string(),
                    spki: None,
                })
            }
        };
        state.push_keys.insert(id.clone(), key.clone());
        Ok(key)
    }

    /// Takes in a push notification's data (what FCM or APNs handed the shell, as JSON: the
    /// data map itself, or privacyIDEA's gateway message `{"device_token", "data"}`). The
    /// request is verified against the enrolled server key before it is kept; a request seen
    /// before (also by polling) is returned as it was kept.
    pub fn handle_notification(&self, payload: &str) -> Result<PushRequestInfo> {
        let now = self.local_now();
        let challenge = UnverifiedChallenge::from_notification(payload).map_err(push_error)?;
        let mut state = self.state()?;
        let credentials: Vec<PushCredential> =
            state.push_accounts().into_iter().map(|(_, c)| c).collect();
        let request = challenge
            .verify_with(&credentials, now, crate::push::DEFAULT_CHALLENGE_VALIDITY)
            .map_err(push_error)?;
        match state.keep(&request, now)? {
            PushInserted::New => {}
            PushInserted::Duplicate => {
                if let Some((kept, _)) = state.vault.push_request(&request.nonce)? {
                    return state
                        .request_info(&kept)
                        .ok_or_else(|| no_request(&request.nonce));
                }
            }
            PushInserted::Answered => {
                return Err(push_error(PushError::Replayed {
                    nonce: request.nonce,
                }));
            }
            PushInserted::Expired => {
                return Err(push_error(PushError::Expired {
                    validity: request
                        .expires_at
                        .duration_since(request.received_at)
                        .unwrap_or_default(),
                    nonce: request.nonce,
                }));
            }
        }
        state
            .request_info(&request)
            .ok_or_else(|| no_request(&request.nonce))
    }

    /// The requests kept and still answerable, without asking any server.
    pub fn pending_push_requests(&self) -> Result<Vec<PushRequestInfo>> {
        let now = self.local_now();
        self.state()?.pending_infos(now)
    }

    /// "Check for notifications": polls every push account's server (all at once, each
    /// request timestamped on its own server's clock when it is sent), verifies and keeps what
    /// comes back, and lists every request waiting for an answer. One server failing does not
    /// stop the others; its failure is in `problems`.
    pub async fn check_pending(&self) -> Result<CheckOutcome> {
        let now = self.local_now();
        let (accounts, client) = {
            let mut state = self.state()?;
            let mut list = Vec::new();
            for (id, credential) in state.push_accounts() {
                let key = self.device_key(&mut state, &id);
                list.push((credential, key));
            }
            (list, self.client(&state))
        };
        let mut problems = Vec::new();
        let mut polls = Vec::new();
        let client_ref = &client;
        for (credential, key) in accounts {
            match key {
                Ok(key) => polls.push(async move {
                    let outcome = client_ref.poll(&credential, key.as_ref(), now).await;
                    (credential, outcome)
                }),
                Err(e) => problems.push(format!("{}: {e}", credential.serial)),
            }
        }
        let mut polled = Vec::new();
        for (credential, outcome) in futures_util::future::join_all(polls).await {
            match outcome {
                Ok(outcome) => {
                    for rejected in outcome.rejected {
                        problems.push(format!("{}: {}", credential.serial, rejected.error));
                    }
                    polled.extend(outcome.requests);
                }
                Err(e) => problems.push(format!("{}: {e}", credential.serial)),
            }
        }
        let mut state = self.state()?;
        for request in &polled {
            // New, seen before, expired, or answered here already (the server lists a
            // challenge until it expires): each is kept or ignored by the vault.
            state.keep(request, now)?;
        }
        self.save_server_offsets(&mut state, &client)?;
        let server_clocks = state
            .push_accounts()
            .iter()
            .map(|(_, c)| crate::push::server_origin(&c.url))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter_map(|origin| {
                let ms = *state.server_offsets.get(&origin)?;
                Some(ServerClock {
                    server: origin,
                    offset_ms: ms,
                })
            })
            .collect();
        Ok(CheckOutcome {
            requests: state.pending_infos(now)?,
            problems,
            server_clocks,
        })
    }

    /// Answers a request. Approving a request of a passwordless account needs what the
    /// platform's rule says (by default number matching and [`UserPresence::DeviceUnlocked`]);
    /// any request of a token whose server asked for an unlock needs the unlock. A refused answer (e.g. a wrong number) is an error and the request stays
    /// open for another try; a sent one is never offered again.
    pub async fn answer_push(
        &self,
        nonce: &str,
        decision: Decision,
        presence: UserPresence,
    ) -> Result<AnswerOutcome> {
        let now = self.local_now();
        let Answerable {
            request,
            credential,
            key,
            client,
        } = {
            let mut state = self.state()?;
            let (request, answered) = state
                .vault
                .push_request(nonce)?
                .ok_or_else(|| no_request(nonce))?;
            if answered {
                return Err(push_error(PushError::Replayed {
                    nonce: nonce.to_owned(),
                }));
            }
            if request.is_expired(now) {
                return Err(push_error(PushError::Expired {
                    nonce: nonce.to_owned(),
                    validity: request
                        .expires_at
                        .duration_since(request.received_at)
                        .unwrap_or_default(),
                }));
            }
            let info = state
                .request_info(&request)
                .ok_or_else(|| no_request(nonce))?;
            if let Decision::Approve { answer } = &decision {
                let rule = state.policy()?.passwordless(self.push.platform);
                check_gate(&info, rule, answer.as_deref(), presence)?;
            }
            let credential = state
                .push_accounts()
                .into_iter()
                .find(|(id, _)| *id == info.account_id)
                .map(|(_, c)| c)
                .ok_or_else(|| no_request(nonce))?;
            let key = self.device_key(&mut state, &info.account_id)?;
            Answerable {
                request,
                credential,
                key,
                client: self.client(&state),
            }
        };
        let answer = match decision {
            Decision::Approve { answer: None } => PushAnswer::Accept,
            Decision::Approve {
                answer: Some(choice),
            } => PushAnswer::AcceptWithPresence(choice),
            Decision::Deny { reason: None } => PushAnswer::Decline,
            Decision::Deny {
                reason: Some(reason),
            } => PushAnswer::DeclineWithReason(reason),
        };
        let outcome = client
            .answer(&credential, key.as_ref(), &request, &answer, now)
            .await
            .map_err(|e| match e {
                PushError::Rejected { server_message } => AuthError::AnswerRefused {
                    nonce: nonce.to_owned(),
                    server_message: server_message.clone(),
                    source: PushError::Rejected { server_message },
                },
                other => push_error(other),
            })?;
        let mut state = self.state()?;
        state.vault.mark_push_answered(nonce, now)?;
        self.save_server_offsets(&mut state, &client)?;
        Ok(outcome)
    }

    /// Tells every push account's server the platform's new push token (FCM/APNs rotate them).
    /// Returns the serials updated; one server failing does not stop the others.
    pub async fn update_push_token(&self, token: &str) -> Result<(Vec<String>, Vec<String>)> {
        let now = self.local_now();
        let (accounts, client) = {
            let mut state = self.state()?;
            let mut list = Vec::new();
            for (id, credential) in state.push_accounts() {
                if credential.poll_only {
                    continue;
                }
                let key = self.device_key(&mut state, &id);
                list.push((id, credential, key));
            }
            (list, self.client(&state))
        };
        let (mut updated, mut problems) = (Vec::new(), Vec::new());
        let mut done: HashMap<AccountId, PushCredential> = HashMap::new();
        for (id, credential, key) in accounts {
            let result = match key {
                Ok(key) => client
                    .update_push_token(&credential, key.as_ref(), token, now)
                    .await
                    .map_err(push_error),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    updated.push(credential.serial.clone());
                    done.insert(id, credential);
                }
                Err(e) => problems.push(format!("{}: {e}", credential.serial)),
            }
        }
        let mut state = self.state()?;
        self.save_server_offsets(&mut state, &client)?;
        let now_s = self.clock.now_unix_seconds();
        for (id, credential) in done {
            state.vault.update_push_credential(
                &id,
                &credential.url,
                credential.sslverify,
                Some(token),
                now_s,
            )?;
        }
        state.reload()?;
        Ok((updated, problems))
    }
}

fn no_request(nonce: &str) -> AuthError {
    push_error(PushError::NoSuchRequest {
        nonce: nonce.to_owned(),
    })
}

/// The passwordless gate: what an approval needs beyond the user's tap. For an account with
/// passwordless on, the platform's rule (data, see `policy`) decides; a server that asked for
/// an app unlock (`app_force_unlock`) gets one whatever the rule says.
fn check_gate(
    info: &PushRequestInfo,
    rule: PasswordlessRule,
    answer: Option<&str>,
    presence: UserPresence,
) -> Result<()> {
    let unlocked = presence == UserPresence::DeviceUnlocked;
    let refused = |needs, reason| AuthError::PushGate {
        needs,
        serial: info.serial.clone(),
        reason,
    };
    if info.passwordless {
        let number_matched = info.answers.is_some() && answer.is_some();
        rule.check_approval(number_matched, unlocked)
            .map_err(|e| match e {
                PolicyError::NeedsNumberMatching if info.answers.is_none() => refused(
                    ApprovalNeeds::NumberMatching,
                    format!(
                        "{} ({}) has passwordless sign-in on, which needs number matching, and this request has none: deny it, or have the server require number matching",
                        info.issuer, info.serial
                    ),
                ),
                PolicyError::NeedsNumberMatching => refused(
                    ApprovalNeeds::NumberMatching,
                    format!("{} ({}): {e}", info.issuer, info.serial),
                ),
                other => refused(
                    ApprovalNeeds::DeviceUnlock,
                    format!("{} ({}): {other}", info.issuer, info.serial),
                ),
            })?;
    }
    if info.unlock_required && !unlocked {
        return Err(refused(
            ApprovalNeeds::DeviceUnlock,
            format!(
                "the server of {} requires the device unlock (biometric or PIN) before approving",
                info.serial
            ),
        ));
    }
    Ok(())
}
