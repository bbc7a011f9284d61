//! Taking push requests in: from a notification the shell hands over, or by polling every push
//! account's server; each verified against the enrolled server key and kept once by nonce.

use super::{ServerClock, no_request, push_error};
use crate::account::AccountId;
use crate::authenticator::{Authenticator, ErrorKind, Result, State};
use crate::log::LogLevel;
use crate::push::{PushCredential, PushError, PushRequest, UnverifiedChallenge};
use crate::time::UnixTime;
use crate::vault::PushInserted;

/// What an app shows for a push request: enough to decide, nothing secret. `Serialize` is the
/// CLI's `push pending --json` (see `records.rs`).
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
    pub received_at: UnixTime,
    pub expires_at: UnixTime,
    /// The server accepts a reason with a denial ("this wasn't me" or "cancelled").
    pub decline_reasons: bool,
    /// The account holds passwordless sign-in: approving needs number matching and the
    /// platform's confirmation that the user unlocked the device.
    pub passwordless: bool,
    /// The server asked that the app be unlocked before an answer (`app_force_unlock`). Not in
    /// the CLI's JSON: the CLI has no app lock to honour it with.
    #[serde(skip)]
    pub unlock_required: bool,
}

/// Refused entries of one poll listed one by one in `CheckOutcome::problems`; the rest are
/// counted in one more line.
const MAX_PROBLEMS_PER_SERVER: usize = 5;

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

impl State {
    pub(in crate::authenticator) fn request_info(
        &self,
        request: &PushRequest,
    ) -> Option<PushRequestInfo> {
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
            received_at: request.received_at,
            expires_at: request.expires_at,
            decline_reasons: request.capabilities.verified && request.capabilities.decline_reason,
            passwordless: self.passwordless.contains(&account.id),
            unlock_required: credential.app_force_unlock.is_some(),
        })
    }

    pub(in crate::authenticator) fn pending_infos(
        &mut self,
        now: UnixTime,
    ) -> Result<Vec<PushRequestInfo>> {
        let pending = self.vault.pending_push_requests(now)?;
        Ok(pending
            .iter()
            .filter_map(|r| self.request_info(r))
            .collect())
    }

    /// Keeps a verified request, and the server's current endpoint it carries.
    pub(in crate::authenticator) fn keep(
        &mut self,
        request: &PushRequest,
        now: UnixTime,
    ) -> Result<PushInserted> {
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
                now,
            )?;
            self.reload()?;
        }
        Ok(inserted)
    }
}

impl Authenticator {
    /// Takes in a push notification's data (what FCM or APNs handed the shell, as JSON: the
    /// data map itself, or privacyIDEA's gateway message `{"device_token", "data"}`). The
    /// request is verified against the enrolled server key before it is kept; a request seen
    /// before (also by polling) is returned as it was kept.
    pub fn handle_notification(&self, payload: &str) -> Result<PushRequestInfo> {
        let result = self.take_notification(payload);
        match &result {
            Ok(info) => self.log.write(LogLevel::Info, "push", || {
                format!(
                    "notification: push request {} for {} kept",
                    info.nonce, info.serial
                )
            }),
            Err(e) => {
                let level = if e.kind() == ErrorKind::Forged {
                    LogLevel::Error
                } else {
                    LogLevel::Warn
                };
                self.log
                    .write(level, "push", || format!("notification refused: {e}"));
            }
        }
        result
    }

    fn take_notification(&self, payload: &str) -> Result<PushRequestInfo> {
        let now = self.clock.now();
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
                    validity: request.expires_at.since(request.received_at),
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
        let now = self.clock.now();
        self.state()?.pending_infos(now)
    }

    /// "Check for notifications": polls every push account's server (all at once, each
    /// request timestamped on its own server's clock when it is sent), verifies and keeps what
    /// comes back, and lists every request waiting for an answer. One server failing does not
    /// stop the others; its failure is in `problems`.
    pub async fn check_pending(&self) -> Result<CheckOutcome> {
        let now = self.clock.now();
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
                    // A server that lists thousands of bad entries gets a few lines and a
                    // count, not a screen per entry.
                    let refused = outcome.rejected.len();
                    for rejected in outcome.rejected.iter().take(MAX_PROBLEMS_PER_SERVER) {
                        problems.push(format!("{}: {}", credential.serial, rejected.error));
                    }
                    if refused > MAX_PROBLEMS_PER_SERVER {
                        problems.push(format!(
                            "{}: {} more entries of this poll refused",
                            credential.serial,
                            refused - MAX_PROBLEMS_PER_SERVER
                        ));
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
        let requests = state.pending_infos(now)?;
        self.log_servers(
            format!(
                "checked for notifications: {} waiting, {} problem(s)",
                requests.len(),
                problems.len()
            ),
            &problems,
        );
        Ok(CheckOutcome {
            requests,
            problems,
            server_clocks,
        })
    }
}
