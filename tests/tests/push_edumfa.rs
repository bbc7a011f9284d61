//! authcore's push client against a real eduMFA 2.9.5 on 127.0.0.1: the privacyIDEA fork whose
//! push token is `edupush` (QR `edumfa-push://edumfa/...`, endpoint `/ttype/edupush`).
//!
//! One server for the whole binary, started by `main` (installing it into its cached venv on the
//! first run) and stopped at the end; cases run one at a time, each with its own user. The
//! protocol module's cases (`push::`) enroll, poll, verify, approve and deny with the core's
//! `PushClient` and check at eduMFA that the login is accepted or rejected; the facade's cases
//! (`facade::`) do the same through `Authenticator`, as an app would.
//!
//! If eduMFA cannot be installed or started, the binary fails with the reason; nothing is
//! skipped.

use std::process::ExitCode;

use authcore::authenticator::{AuthError, Decision, DeclineReason, ErrorKind};
use authcore::push::{PushAnswer, PushError, PushRequest};
use authcore_tests::app::App;
use authcore_tests::edumfa::{EduMfa, PUSH_QUESTION, PUSH_TITLE};
use authcore_tests::phone::Phone;
use authcore_tests::suite::{self, Case, Outcome, Suite, block_on};

fn assert_request_texts(request: &PushRequest, phone: &Phone, server: &EduMfa) {
    assert_eq!(request.serial, phone.serial());
    assert_eq!(request.title, PUSH_TITLE);
    assert_eq!(request.question, PUSH_QUESTION);
    assert_eq!(request.url, server.push_url());
    assert!(!request.sslverify);
    // eduMFA 2.9.5 has no number matching and signs no capabilities.
    assert_eq!(request.require_presence, None);
    assert!(!request.capabilities.verified);
    assert!(!request.capabilities.decline_reason);
}

/// The user's login is not accepted: the relying party's finishing `/validate/check` rejects it.
fn assert_rejected(server: &EduMfa, user: &str, transaction: &str) -> Outcome {
    let finished = server.finalize(user, transaction, "")?;
    assert!(
        !finished.accepted(),
        "the login must not be ACCEPTed: {}",
        finished.json
    );
    assert_eq!(
        finished.authentication.as_deref(),
        Some("REJECT"),
        "{}",
        finished.json
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------

fn enroll_registers_the_device_key(server: &EduMfa) -> Outcome {
    let phone = Phone::enroll(server, "alice", "alice-pin", 2048, None)?;
    assert!(
        phone.init.uri.starts_with("edumfa-push://edumfa/EDUP"),
        "{}",
        phone.init.uri
    );
    assert!(
        !phone.credential.poll_only,
        "eduMFA's QR does not say poll_only"
    );
    phone.assert_registered(server, "edupush")?;
    Ok(())
}

fn approve_accepts_the_login(server: &EduMfa) -> Outcome {
    let phone = Phone::enroll(server, "bob", "bob-pin", 2048, None)?;
    let (transaction, presence) = server.trigger("bob", "bob-pin")?;
    assert_eq!(presence, None);
    assert_eq!(server.challenge_status(&transaction)?, "pending");

    let request = phone.poll_one()?;
    assert_request_texts(&request, &phone, server);
    let outcome = phone.answer(&request, &PushAnswer::Accept)?;
    assert_eq!(outcome.display_code, None);

    let status = server.poll_transaction(&transaction)?;
    assert!(status.value, "{}", status.json);
    assert_eq!(server.challenge_status(&transaction)?, "accept");
    let finished = server.finalize("bob", &transaction, "")?;
    assert!(finished.accepted(), "{}", finished.json);
    // Answered: no longer listed.
    let outcome = phone.poll()?;
    assert!(outcome.requests.is_empty(), "{outcome:?}");
    Ok(())
}

fn deny_declines_the_login(server: &EduMfa) -> Outcome {
    let phone = Phone::enroll(server, "carol", "carol-pin", 2048, None)?;
    let (transaction, _) = server.trigger("carol", "carol-pin")?;
    let request = phone.poll_one()?;
    assert_request_texts(&request, &phone, server);
    // A reason needs the signed capability, which eduMFA does not send: refused before anything
    // is sent, so the challenge is still open for a plain decline.
    match phone.answer(
        &request,
        &PushAnswer::DeclineWithReason(DeclineReason::UnknownTrigger),
    ) {
        Err(PushError::InvalidAnswer { reason }) => assert_eq!(
            reason,
            "the server did not advertise (with a valid signature) that it accepts a decline \
             reason: decline without one"
        ),
        other => panic!("a decline reason must be refused without the capability: {other:?}"),
    }
    assert_eq!(server.challenge_status(&transaction)?, "pending");

    phone.answer(&request, &PushAnswer::Decline)?;
    let status = server.poll_transaction(&transaction)?;
    assert!(!status.value, "{}", status.json);
    assert_eq!(
        status.challenge_status.as_deref(),
        Some("declined"),
        "{}",
        status.json
    );
    assert_rejected(server, "carol", &transaction)?;
    // Declined: no longer listed.
    let outcome = phone.poll()?;
    assert!(outcome.requests.is_empty(), "{outcome:?}");
    Ok(())
}

fn answers_signed_by_another_device_key_are_refused(server: &EduMfa) -> Outcome {
    let phone = Phone::enroll(server, "dave", "dave-pin", 2048, None)?;
    let (transaction, _) = server.trigger("dave", "dave-pin")?;
    phone.assert_other_keys_refused(server, &transaction)?;
    assert_rejected(server, "dave", &transaction)?;
    Ok(())
}

/// Through the facade: scan, enroll with a 4096-bit key as the apps do, poll, approve and sign
/// in; then a second login denied and rejected; and the push-token update eduMFA accepts.
fn facade_enroll_approve_and_deny(server: &EduMfa) -> Outcome {
    let app = App::new(4096)?;
    let id = app.enroll(server, "erin", None)?;

    let (transaction, _) = server.trigger("erin", "erin-pin")?;
    let requests = app.check(1)?;
    let request = &requests[0];
    assert_eq!(request.account_id.as_str(), id);
    assert_eq!(request.title, PUSH_TITLE);
    assert_eq!(request.question, PUSH_QUESTION);
    assert_eq!(request.answers, None);
    assert!(!request.decline_reasons, "eduMFA advertises no reasons");
    app.answer(&request.nonce, Decision::Approve { answer: None })?;
    assert_eq!(server.challenge_status(&transaction)?, "accept");
    let finished = server.finalize("erin", &transaction, "")?;
    assert!(finished.accepted(), "{}", finished.json);
    assert!(app.check(0)?.is_empty(), "answered: not listed again");

    let (transaction, _) = server.trigger("erin", "erin-pin")?;
    let request = app.check(1)?.remove(0);
    let with_reason = app.answer(
        &request.nonce,
        Decision::Deny {
            reason: Some(DeclineReason::Cancelled),
        },
    );
    assert!(
        matches!(&with_reason, Err(e) if e.kind() == ErrorKind::BadPush),
        "{with_reason:?}"
    );
    assert_eq!(server.challenge_status(&transaction)?, "pending");
    app.answer(&request.nonce, Decision::Deny { reason: None })?;
    assert_eq!(server.challenge_status(&transaction)?, "declined");
    assert_rejected(server, "erin", &transaction)?;
    let again = app.answer(&request.nonce, Decision::Approve { answer: None });
    assert!(
        matches!(again, Err(AuthError::Push(PushError::Replayed { .. }))),
        "{again:?}"
    );

    // eduMFA's QR does not say poll_only, so the app tells it a new push token, and it takes it.
    let serial = app.auth.accounts()?[0]
        .push_serial
        .clone()
        .unwrap_or_default();
    let (updated, problems) = block_on(app.auth.update_push_token("fcm-erin-2"))?;
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(updated, vec![serial.clone()]);
    let token = server.token_info(&serial)?;
    assert_eq!(token["info"]["firebase_token"], "fcm-erin-2", "{token}");
    Ok(())
}

const CASES: &[(&str, Case<EduMfa>)] = &[
    (
        "push::enroll_registers_the_device_key",
        enroll_registers_the_device_key,
    ),
    ("push::approve_accepts_the_login", approve_accepts_the_login),
    ("push::deny_declines_the_login", deny_declines_the_login),
    (
        "push::answers_signed_by_another_device_key_are_refused",
        answers_signed_by_another_device_key_are_refused,
    ),
    (
        "facade::enroll_approve_and_deny",
        facade_enroll_approve_and_deny,
    ),
];

fn main() -> ExitCode {
    suite::run(&Suite {
        cases: CASES,
        alone: &[],
        default_threads: Some(1),
    })
}
