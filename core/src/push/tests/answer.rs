use super::support::{NONCE, SERIAL, device_key, pkcs1_of, request, t};
use crate::push::answer::{answer_form, signed_message};
use crate::push::keys::{decode_signature, server_signature_valid};
use crate::push::{Capabilities, DeclineReason, PushAnswer, PushError, PushRequest};

fn plain() -> PushRequest {
    request(NONCE, t(0))
}

fn with_options() -> PushRequest {
    let mut r = plain();
    r.require_presence = Some(vec!["U".into(), "P".into(), "D".into()]);
    r
}

fn with_capabilities(verified: bool) -> PushRequest {
    let mut r = plain();
    r.capabilities = Capabilities {
        decline_reason: verified,
        verified,
    };
    r
}

#[test]
fn each_answer_signs_the_message_privacyidea_rebuilds() {
    let cases = [
        (plain(), PushAnswer::Accept, format!("{NONCE}|{SERIAL}")),
        (
            plain(),
            PushAnswer::Decline,
            format!("{NONCE}|{SERIAL}|decline"),
        ),
        (
            with_capabilities(true),
            PushAnswer::DeclineWithReason(DeclineReason::UnknownTrigger),
            format!("{NONCE}|{SERIAL}|decline|unknown_trigger"),
        ),
        (
            with_capabilities(true),
            PushAnswer::DeclineWithReason(DeclineReason::Cancelled),
            format!("{NONCE}|{SERIAL}|decline|cancelled"),
        ),
        (
            with_options(),
            PushAnswer::AcceptWithPresence("P".into()),
            format!("{NONCE}|{SERIAL}|P"),
        ),
        (
            with_options(),
            PushAnswer::Decline,
            format!("{NONCE}|{SERIAL}|decline"),
        ),
    ];
    for (request, answer, expected) in cases {
        assert_eq!(signed_message(&request, &answer).unwrap(), expected);
        let form = answer_form(&request, device_key(), &answer).unwrap();
        let get = |name: &str| {
            form.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.as_str())
        };
        assert_eq!(get("serial"), Some(SERIAL));
        assert_eq!(get("nonce"), Some(NONCE));
        let signature = decode_signature("signature", get("signature").unwrap()).unwrap();
        assert!(server_signature_valid(
            &pkcs1_of(device_key()),
            expected.as_bytes(),
            &signature
        ));
        match &answer {
            PushAnswer::Accept => assert_eq!(form.len(), 3),
            PushAnswer::AcceptWithPresence(c) => {
                assert_eq!(get("presence_answer"), Some(c.as_str()))
            }
            PushAnswer::Decline => {
                assert_eq!(get("decline"), Some("1"));
                assert_eq!(get("decline_reason"), None);
            }
            PushAnswer::DeclineWithReason(reason) => {
                assert_eq!(get("decline"), Some("1"));
                assert_eq!(get("decline_reason"), Some(reason.as_str()));
            }
        }
    }
}

fn invalid(request: &PushRequest, answer: PushAnswer) -> String {
    match signed_message(request, &answer).unwrap_err() {
        PushError::InvalidAnswer { reason } => reason,
        other => panic!("expected InvalidAnswer, got {other:?}"),
    }
}

#[test]
fn a_decline_reason_needs_the_verified_capability() {
    let reason = PushAnswer::DeclineWithReason(DeclineReason::UnknownTrigger);
    assert_eq!(
        invalid(&plain(), reason.clone()),
        "the server did not advertise (with a valid signature) that it accepts a decline reason: decline without one"
    );
    let mut unverified = plain();
    unverified.capabilities = Capabilities {
        decline_reason: true,
        verified: false,
    };
    assert_eq!(
        invalid(&unverified, reason),
        "the server did not advertise (with a valid signature) that it accepts a decline reason: decline without one"
    );
}

#[test]
fn number_matching_answers_must_fit_the_request() {
    assert_eq!(
        invalid(&with_options(), PushAnswer::Accept),
        "this request uses number matching: accept by picking one of U, P, D"
    );
    assert_eq!(
        invalid(&with_options(), PushAnswer::AcceptWithPresence("X".into())),
        "'X' is not one of the offered options (U, P, D)"
    );
    assert_eq!(
        invalid(&plain(), PushAnswer::AcceptWithPresence("U".into())),
        "this request does not use number matching: accept it without an option"
    );
}
