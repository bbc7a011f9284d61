use std::time::Duration;

use serde_json::{Value, json};

use super::support::{
    ChallengeBuilder, NONCE, SERIAL, URL, credential, server_key, stranger_key, t,
};
use crate::push::challenge::parse_poll_value;
use crate::push::{Capabilities, PushError, PushRequest, UnverifiedChallenge};

const VALIDITY: Duration = Duration::from_secs(120);

fn verify(json: &str) -> Result<PushRequest, PushError> {
    UnverifiedChallenge::from_notification(json)?.verify(&credential(), t(5000), VALIDITY)
}

#[test]
fn a_signed_fcm_data_map_verifies() {
    let json = ChallengeBuilder::new().signed_by(server_key()).json();
    let request = verify(&json).unwrap();
    assert_eq!(request.nonce, NONCE);
    assert_eq!(request.serial, SERIAL);
    assert_eq!(request.title, "PI Test");
    assert_eq!(request.question, "Login for alice?");
    assert_eq!(request.url, URL);
    assert!(request.sslverify);
    assert_eq!(request.require_presence, None);
    assert_eq!(request.capabilities, Capabilities::default());
    assert_eq!(request.received_at, t(5000));
    assert_eq!(request.expires_at, t(5120));
}

#[test]
fn the_http_gateway_wrapper_is_unwrapped_and_its_device_token_checked() {
    let data: Value =
        serde_json::from_str(&ChallengeBuilder::new().signed_by(server_key()).json()).unwrap();
    let ours = json!({"device_token": "fcm-token-1", "data": data}).to_string();
    assert_eq!(verify(&ours).unwrap().nonce, NONCE);

    let as_string = json!({"device_token": "fcm-token-1", "data": data.to_string()}).to_string();
    assert_eq!(verify(&as_string).unwrap().nonce, NONCE);

    let theirs = json!({"device_token": "someone-else", "data": data}).to_string();
    let err = verify(&theirs).unwrap_err();
    assert!(matches!(&err, PushError::WrongAccount { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        format!(
            "push request for {SERIAL} does not belong to this account: it was addressed to a \
             different push token"
        )
    );

    // A poll-only credential registered `no_firebase_token`.
    let mut poll_only = credential();
    poll_only.fb_token = None;
    let addressed = json!({"device_token": "no_firebase_token", "data": data}).to_string();
    let challenge = UnverifiedChallenge::from_notification(&addressed).unwrap();
    assert_eq!(challenge.device_token(), Some("no_firebase_token"));
    assert!(challenge.verify(&poll_only, t(0), VALIDITY).is_ok());
}

#[test]
fn number_matching_options_are_part_of_the_signature() {
    let json = ChallengeBuilder::new()
        .set("require_presence", "U,P,D")
        .set("version", "2")
        .signed_by(server_key())
        .json();
    let request = verify(&json).unwrap();
    assert_eq!(
        request.require_presence,
        Some(vec!["U".to_owned(), "P".to_owned(), "D".to_owned()])
    );

    // An attacker who swaps the options (or drops them) breaks the signature.
    let mut fields: Value = serde_json::from_str(&json).unwrap();
    fields["require_presence"] = Value::String("U,P,X".to_owned());
    assert!(matches!(
        verify(&fields.to_string()),
        Err(PushError::BadSignature { .. })
    ));
    fields.as_object_mut().unwrap().remove("require_presence");
    assert!(matches!(
        verify(&fields.to_string()),
        Err(PushError::BadSignature { .. })
    ));
}

#[test]
fn any_tampered_field_or_foreign_signer_is_a_bad_signature() {
    let good: Value =
        serde_json::from_str(&ChallengeBuilder::new().signed_by(server_key()).json()).unwrap();
    for (field, value) in [
        ("nonce", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("question", "Login for mallory?"),
        ("title", "Other"),
        ("url", "https://evil.example/ttype/push"),
        ("sslverify", "0"),
    ] {
        let mut tampered = good.clone();
        tampered[field] = Value::String(value.to_owned());
        let err = verify(&tampered.to_string()).unwrap_err();
        assert_eq!(
            err,
            PushError::BadSignature {
                serial: SERIAL.to_owned()
            },
            "{field}"
        );
    }
    let forged = ChallengeBuilder::new().signed_by(stranger_key()).json();
    let err = verify(&forged).unwrap_err();
    assert_eq!(
        err.to_string(),
        "push request for PIPU0000TEST: the server signature does not verify; it was not sent by the enrolled server"
    );
}

#[test]
fn the_serial_must_be_enrolled_and_match_the_credential() {
    let json = ChallengeBuilder::new()
        .set("serial", "PIPU0000OTHER")
        .signed_by(server_key())
        .json();
    let err = UnverifiedChallenge::from_notification(&json)
        .unwrap()
        .verify_with(&[credential()], t(0), VALIDITY)
        .unwrap_err();
    assert_eq!(
        err,
        PushError::UnknownSerial {
            serial: "PIPU0000OTHER".to_owned()
        }
    );

    let err = verify(&json).unwrap_err();
    assert!(matches!(err, PushError::WrongAccount { .. }), "{err:?}");

    let ok = ChallengeBuilder::new().signed_by(server_key()).json();
    let found = UnverifiedChallenge::from_notification(&ok)
        .unwrap()
        .verify_with(&[credential()], t(0), VALIDITY);
    assert!(found.is_ok());
}

#[test]
fn capabilities_are_honoured_only_with_a_valid_signature() {
    let with = ChallengeBuilder::new()
        .signed_by(server_key())
        .with_capabilities(server_key(), NONCE)
        .json();
    assert_eq!(
        verify(&with).unwrap().capabilities,
        Capabilities {
            decline_reason: true,
            verified: true
        }
    );

    // Signed for another challenge (replayed capabilities) or by someone else: ignored, but the
    // challenge itself still stands on its own signature.
    for capabilities in [
        ChallengeBuilder::new()
            .signed_by(server_key())
            .with_capabilities(server_key(), "OTHERNONCE"),
        ChallengeBuilder::new()
            .signed_by(server_key())
            .with_capabilities(stranger_key(), NONCE),
        ChallengeBuilder::new()
            .signed_by(server_key())
            .with_capabilities(server_key(), NONCE)
            .set("capabilities", "{\"decline_reason\": true, \"more\": 1}"),
        ChallengeBuilder::new()
            .signed_by(server_key())
            .with_capabilities(server_key(), NONCE)
            .set("capabilities_signature", "not base32!"),
        ChallengeBuilder::new()
            .signed_by(server_key())
            .with_capabilities(server_key(), NONCE)
            .set("capabilities", "not json"),
    ] {
        let request = verify(&capabilities.json()).unwrap();
        assert_eq!(request.capabilities, Capabilities::default());
    }
}

#[test]
fn the_capabilities_are_canonicalised_exactly_like_rfc8785() {
    // Python's rfc8785.dumps({"capabilities": {"decline_reason": True}, "nonce": N}).
    let value = json!({"nonce": NONCE, "capabilities": {"decline_reason": true}});
    assert_eq!(
        serde_json_canonicalizer::to_string(&value).unwrap(),
        format!("{{\"capabilities\":{{\"decline_reason\":true}},\"nonce\":\"{NONCE}\"}}")
    );
}

#[test]
fn malformed_challenges_name_the_field() {
    let good: Value =
        serde_json::from_str(&ChallengeBuilder::new().signed_by(server_key()).json()).unwrap();
    for field in [
        "nonce",
        "serial",
        "title",
        "question",
        "url",
        "sslverify",
        "signature",
    ] {
        let mut missing = good.clone();
        missing.as_object_mut().unwrap().remove(field);
        let err = UnverifiedChallenge::from_notification(&missing.to_string()).unwrap_err();
        assert_eq!(
            err,
            PushError::Challenge {
                field: field.to_owned(),
                reason: "is missing".to_owned()
            }
        );
        let mut number = good.clone();
        number[field] = json!(1);
        let err = UnverifiedChallenge::from_notification(&number.to_string()).unwrap_err();
        assert!(
            matches!(&err, PushError::Challenge { field: f, .. } if f == field),
            "{err:?}"
        );
    }
    for (json, field) in [
        ("not json".to_owned(), "notification"),
        ("[]".to_owned(), "notification"),
        ("{\"data\": 5}".to_owned(), "data"),
        (
            "{\"device_token\": 5, \"data\": {}}".to_owned(),
            "device_token",
        ),
        ("{}".to_owned(), "nonce"),
        (format!("\"{}\"", "x".repeat(70_000)), "notification"),
    ] {
        let err = UnverifiedChallenge::from_notification(&json).unwrap_err();
        assert!(
            matches!(&err, PushError::Challenge { field: f, .. } if f == field),
            "{json:.40}: {err:?}"
        );
    }
}

#[test]
fn signed_but_unusable_values_are_still_refused() {
    let bad_flag = ChallengeBuilder::new()
        .set("sslverify", "2")
        .signed_by(server_key())
        .json();
    assert!(
        matches!(verify(&bad_flag), Err(PushError::Challenge { field, .. }) if field == "sslverify")
    );

    let plain_http = ChallengeBuilder::new()
        .set("url", "http://pi.example/ttype/push")
        .signed_by(server_key())
        .json();
    assert!(matches!(
        verify(&plain_http),
        Err(PushError::InsecureUrl { .. })
    ));
    let allowed = ChallengeBuilder::new()
        .set("url", "http://pi.example/ttype/push")
        .set("sslverify", "0")
        .signed_by(server_key())
        .json();
    assert!(!verify(&allowed).unwrap().sslverify);

    let empty_option = ChallengeBuilder::new()
        .set("require_presence", "A,,B")
        .signed_by(server_key())
        .json();
    assert!(
        matches!(verify(&empty_option), Err(PushError::Challenge { field, .. }) if field == "require_presence")
    );
}

#[test]
fn a_poll_result_keeps_good_entries_beside_bad_ones() {
    let good: Value =
        serde_json::from_str(&ChallengeBuilder::new().signed_by(server_key()).json()).unwrap();
    let list = json!([good, 7, {"nonce": "X"}]);
    let entries = parse_poll_value(&list).unwrap();
    assert_eq!(entries.len(), 3);
    assert!(entries[0].is_ok());
    assert!(
        matches!(&entries[1], Err(PushError::Challenge { field, .. }) if field == "poll entry")
    );
    assert!(matches!(&entries[2], Err(PushError::Challenge { field, .. }) if field == "serial"));
    assert!(matches!(
        parse_poll_value(&json!({})),
        Err(PushError::Response { .. })
    ));
}
