//! Answers to a push request: what the device signs and the form it POSTs to the request's `url`.
//!
//! | answer | signed message |
//! |---|---|
//! | accept | `{nonce}|{serial}` |
//! | accept, number matching | `{nonce}|{serial}|{presence_answer}` |
//! | decline | `{nonce}|{serial}|decline` |
//! | decline with a reason | `{nonce}|{serial}|decline|{unknown_trigger or cancelled}` |
//!
//! The form carries `serial`, `nonce`, `signature` (padded upper-case base32) and, as needed,
//! `decline=1`, `decline_reason`, `presence_answer`. A reason is sent only when the server
//! advertised the `decline_reason` capability with a valid signature: an older server would
//! verify a different message and refuse the answer.

use super::PushError;
use super::challenge::PushRequest;
use super::keys::{DeviceKey, sign_b32};

/// Why the user declined; privacyIDEA 3.14 records these as distinct events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeclineReason {
    /// "This wasn't me": the user did not start this login (possible attack).
    UnknownTrigger,
    /// The user started the login but changed their mind.
    Cancelled,
}

impl DeclineReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::UnknownTrigger => "unknown_trigger",
            DeclineReason::Cancelled => "cancelled",
        }
    }
}

/// The user's decision on one request.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PushAnswer {
    Accept,
    /// Number matching: accept by picking the option shown on the login page.
    AcceptWithPresence(String),
    Decline,
    DeclineWithReason(DeclineReason),
}

/// What the server said to an accepted answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AnswerOutcome {
    /// Code-to-phone: the code the user must now type on the login page.
    pub display_code: Option<String>,
    /// The server's instruction to show beside `display_code`.
    pub message: Option<String>,
}

/// The message the device signs for `answer`, after checking the answer fits the request.
pub(crate) fn signed_message(
    request: &PushRequest,
    answer: &PushAnswer,
) -> Result<String, PushError> {
    let base = format!("{}|{}", request.nonce, request.serial);
    match answer {
        PushAnswer::Accept => {
            if let Some(options) = &request.require_presence {
                return Err(invalid(format!(
                    "this request uses number matching: accept by picking one of {}",
                    options.join(", ")
                )));
            }
            Ok(base)
        }
        PushAnswer::AcceptWithPresence(choice) => {
            let Some(options) = &request.require_presence else {
                return Err(invalid(
                    "this request does not use number matching: accept it without an option",
                ));
            };
            if !options.iter().any(|o| o == choice) {
                return Err(invalid(format!(
                    "'{}' is not one of the offered options ({})",
                    choice.chars().take(20).collect::<String>(),
                    options.join(", ")
                )));
            }
            Ok(format!("{base}|{choice}"))
        }
        PushAnswer::Decline => Ok(format!("{base}|decline")),
        PushAnswer::DeclineWithReason(reason) => {
            if !(request.capabilities.verified && request.capabilities.decline_reason) {
                return Err(invalid(
                    "the server did not advertise (with a valid signature) that it accepts a \
                     decline reason: decline without one",
                ));
            }
            Ok(format!("{base}|decline|{}", reason.as_str()))
        }
    }
}

/// The form fields of the answer POST, signed by `key`.
pub(crate) fn answer_form(
    request: &PushRequest,
    key: &dyn DeviceKey,
    answer: &PushAnswer,
) -> Result<Vec<(&'static str, String)>, PushError> {
    let message = signed_message(request, answer)?;
    let mut form = vec![
        ("serial", request.serial.clone()),
        ("nonce", request.nonce.clone()),
        ("signature", sign_b32(key, &message)?),
    ];
    match answer {
        PushAnswer::Accept => {}
        PushAnswer::AcceptWithPresence(choice) => form.push(("presence_answer", choice.clone())),
        PushAnswer::Decline => form.push(("decline", "1".to_owned())),
        PushAnswer::DeclineWithReason(reason) => {
            form.push(("decline", "1".to_owned()));
            form.push(("decline_reason", reason.as_str().to_owned()));
        }
    }
    Ok(form)
}

fn invalid(reason: impl Into<String>) -> PushError {
    PushError::InvalidAnswer {
        reason: reason.into(),
    }
}
