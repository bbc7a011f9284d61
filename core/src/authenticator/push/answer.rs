//! Answering a push request, behind the passwordless gate; a sent answer is never offered
//! again, a refused one can be retried.

use std::sync::Arc;

use super::inbox::PushRequestInfo;
use super::{no_request, push_error};
use crate::authenticator::{ApprovalNeeds, AuthError, Authenticator, Result};
use crate::error::Echo;
use crate::log::LogLevel;
use crate::policy::{PasswordlessRule, PolicyError};
use crate::push::{
    AnswerOutcome, DeclineReason, DeviceKey, PushAnswer, PushClient, PushCredential, PushError,
    PushRequest,
};

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

pub(in crate::authenticator) struct Answerable {
    pub(in crate::authenticator) request: PushRequest,
    pub(in crate::authenticator) credential: PushCredential,
    pub(in crate::authenticator) key: Arc<dyn DeviceKey>,
    pub(in crate::authenticator) client: Arc<PushClient>,
}

impl Authenticator {
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
        let what = match &decision {
            Decision::Approve { .. } => "approved",
            Decision::Deny { .. } => "denied",
        };
        let result = self.send_answer(nonce, decision, presence).await;
        match &result {
            Ok(_) => self.log.write(LogLevel::Info, "push", || {
                format!("push request {} {what}", Echo(nonce))
            }),
            Err(e) => self.log.write(LogLevel::Warn, "push", || {
                format!("push request {}: answer not sent: {e}", Echo(nonce))
            }),
        }
        result
    }

    async fn send_answer(
        &self,
        nonce: &str,
        decision: Decision,
        presence: UserPresence,
    ) -> Result<AnswerOutcome> {
        let now = self.clock.now();
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
                    validity: request.expires_at.since(request.received_at),
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
}

/// The passwordless gate: what an approval needs beyond the user's tap. For an account with
/// passwordless on, the platform's rule (data, see `policy`) decides; a server that asked for
/// an app unlock (`app_force_unlock`) gets one whatever the rule says.
pub(in crate::authenticator) fn check_gate(
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
