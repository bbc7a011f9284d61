//! The facade's push calls without a network: a push account stored with a known server key,
//! notifications signed with it, and the passwordless gate (which refuses before any request is
//! sent). The network paths run against a real privacyIDEA in `tests/tests/`.

use std::sync::Arc;

use super::{AuthError, Authenticator, Config, Decision, DeviceKeys, ErrorKind, UserPresence};
use crate::account::{AccountId, CredentialKind, Names};
use crate::clock::FixedClock;
use crate::policy::Platform;
use crate::push::PushError;
use crate::push::tests::support::{
    ChallengeBuilder, NONCE, SERIAL, ScriptedTransport, credential, device_key, server_key,
    stranger_key,
};
use crate::time::UnixTime;
use crate::vault::{FileKeyStore, StoredDeviceKey, Unlock, Vault};

const NOW: i64 = 1_700_000_000;

struct Fixture {
    _dir: tempfile::TempDir,
    auth: Authenticator,
    clock: Arc<FixedClock>,
    push_id: AccountId,
}

/// A vault with one TOTP account and one push-only account (server key: `server_key()`), opened
/// for the desktop.
fn fixture() -> Fixture {
    fixture_on(Platform::Desktop)
}

/// The same, opened for `platform`. Its transport answers nothing: a request that gets as far
/// as the network fails with the script's "no more answers".
fn fixture_on(platform: Platform) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.sqlite");
    let store = FileKeyStore::create(&dir.path().join("key")).unwrap();
    let mut vault = Vault::create(&path, &store, None, UnixTime::from_secs(NOW)).unwrap();
    let push_id = AccountId::random();
    vault
        .add_push_account(
            push_id.clone(),
            Names {
                issuer: "privacyIDEA".into(),
                label: "alice".into(),
                group: None,
                note: None,
            },
            credential(),
            StoredDeviceKey::Software(device_key().pkcs8().clone()),
            UnixTime::from_secs(NOW),
        )
        .unwrap();
    drop(vault);
    let clock = Arc::new(FixedClock::new(NOW));
    let config = Config {
        clock: clock.clone(),
        platform,
        device_keys: DeviceKeys::software(),
        transport: ScriptedTransport::new(Vec::new()),
        logger: Arc::new(crate::log::NoLogger),
        spare_device_keys: 0,
    };
    let auth = Authenticator::open(&path, Unlock::KeyStore(&store), config).unwrap();
    auth.add_uri("otpauth://totp/Example:bob?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        .unwrap();
    Fixture {
        _dir: dir,
        auth,
        clock,
        push_id,
    }
}

fn push_error(e: AuthError) -> PushError {
    match e {
        AuthError::Push(p) => p,
        other => panic!("expected a push error, got {other}"),
    }
}

#[test]
fn a_signed_notification_becomes_one_pending_request() {
    let f = fixture();
    let payload = ChallengeBuilder::new().signed_by(server_key()).json();
    let info = f.auth.handle_notification(&payload).unwrap();
    assert_eq!(info.nonce, NONCE);
    assert_eq!(info.account_id, f.push_id);
    assert_eq!(
        (info.title.as_str(), info.question.as_str()),
        ("PI Test", "Login for alice?")
    );
    assert_eq!(info.answers, None);
    assert_eq!(info.received_at, UnixTime::from_secs(NOW));
    assert_eq!(info.expires_at, UnixTime::from_secs(NOW + 120));
    // The same request again (say, also found by a poll) is kept once.
    f.clock.advance(5);
    let again = f.auth.handle_notification(&payload).unwrap();
    assert_eq!(again, info);
    assert_eq!(f.auth.pending_push_requests().unwrap(), vec![info]);
    // It expires after 120 s.
    f.clock.advance(116);
    assert!(f.auth.pending_push_requests().unwrap().is_empty());
    let late = push_error(f.auth.handle_notification(&payload).unwrap_err());
    assert!(matches!(late, PushError::Expired { .. }), "{late}");
}

#[test]
fn forged_and_foreign_notifications_are_refused_and_not_kept() {
    let f = fixture();
    let forged = ChallengeBuilder::new().signed_by(stranger_key()).json();
    let e = f.auth.handle_notification(&forged).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Forged);
    assert_eq!(
        e.to_string(),
        "push request for PIPU0000TEST: the server signature does not verify; it was not sent by the enrolled server"
    );

    let tampered = ChallengeBuilder::new()
        .signed_by(server_key())
        .set("question", "Login for mallory?")
        .json();
    assert!(matches!(
        push_error(f.auth.handle_notification(&tampered).unwrap_err()),
        PushError::BadSignature { .. }
    ));

    let unknown = ChallengeBuilder::new()
        .set("serial", "PIPU0000ELSE")
        .signed_by(server_key())
        .json();
    assert!(matches!(
        push_error(f.auth.handle_notification(&unknown).unwrap_err()),
        PushError::UnknownSerial { .. }
    ));
    assert!(f.auth.pending_push_requests().unwrap().is_empty());
}

#[test]
fn number_matching_options_are_shown() {
    let f = fixture();
    let payload = ChallengeBuilder::new()
        .set("require_presence", "A,B,C")
        .set("version", "2")
        .signed_by(server_key())
        .with_capabilities(server_key(), NONCE)
        .json();
    let info = f.auth.handle_notification(&payload).unwrap();
    assert_eq!(info.answers, Some(vec!["A".into(), "B".into(), "C".into()]));
    assert!(info.decline_reasons);
}

#[test]
fn passwordless_approval_needs_number_matching_and_the_device_unlock() {
    futures_executor::block_on(async {
        let f = fixture_on(Platform::Android);
        f.auth
            .enable_passwordless(f.push_id.as_str(), Platform::Android)
            .unwrap();
        // Without number matching: refused whatever the user did.
        let plain = ChallengeBuilder::new().signed_by(server_key()).json();
        f.auth.handle_notification(&plain).unwrap();
        let e = f
            .auth
            .answer_push(
                NONCE,
                Decision::Approve { answer: None },
                UserPresence::DeviceUnlocked,
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NeedsNumberMatching);
        assert_eq!(
            e.to_string(),
            "approval refused: privacyIDEA (PIPU0000TEST) has passwordless sign-in on, which needs number matching, and this request has none: deny it, or have the server require number matching"
        );

        // With number matching but no unlock: refused, and still pending.
        let nonce2 = "BSUFJZYQYRFDTTAGQCMLJA5HOLQTIH6F";
        let presence = ChallengeBuilder::new()
            .set("nonce", nonce2)
            .set("require_presence", "A,B,C")
            .signed_by(server_key())
            .json();
        f.auth.handle_notification(&presence).unwrap();
        let e = f
            .auth
            .answer_push(
                nonce2,
                Decision::Approve {
                    answer: Some("B".into()),
                },
                UserPresence::NotVerified,
            )
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NeedsUnlock);
        assert_eq!(
            e.to_string(),
            "approval refused: privacyIDEA (PIPU0000TEST): a passwordless sign-in needs the device unlocked (biometric or PIN) first"
        );
        assert_eq!(f.auth.pending_push_requests().unwrap().len(), 2);

        // Denying is always allowed past the gate (here it reaches the network, which is absent:
        // the failure is the network's, and the request stays pending for another try).
        let e = f
            .auth
            .answer_push(
                NONCE,
                Decision::Deny { reason: None },
                UserPresence::NotVerified,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, AuthError::Push(PushError::Network { .. })),
            "{e}"
        );
        assert_eq!(f.auth.pending_push_requests().unwrap().len(), 2);
    })
}

#[test]
fn rules_are_data_a_rule_without_the_unlock_requirement_lets_it_through_the_gate() {
    futures_executor::block_on(async {
        let f = fixture();
        f.auth
            .set_passwordless_rules(Some(
                r#"{"passwordless":{"desktop":{"max_accounts":1,"require_device_unlock":false}}}"#,
            ))
            .unwrap();
        f.auth
            .enable_passwordless(f.push_id.as_str(), Platform::Desktop)
            .unwrap();
        let presence = ChallengeBuilder::new()
            .set("require_presence", "A,B,C")
            .signed_by(server_key())
            .json();
        f.auth.handle_notification(&presence).unwrap();
        // Past the gate, the call reaches the (absent) server.
        let e = f
            .auth
            .answer_push(
                NONCE,
                Decision::Approve {
                    answer: Some("A".into()),
                },
                UserPresence::NotVerified,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, AuthError::Push(PushError::Network { .. })),
            "{e}"
        );
    })
}

#[test]
fn other_accounts_approvals_are_not_gated() {
    futures_executor::block_on(async {
        let f = fixture();
        let payload = ChallengeBuilder::new().signed_by(server_key()).json();
        f.auth.handle_notification(&payload).unwrap();
        let e = f
            .auth
            .answer_push(
                NONCE,
                Decision::Approve { answer: None },
                UserPresence::NotVerified,
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, AuthError::Push(PushError::Network { .. })),
            "{e}"
        );
    })
}

#[test]
fn an_account_holds_a_push_token_and_a_code_together() {
    let f = fixture();
    let bob = f.auth.search("bob").unwrap().remove(0);
    assert_eq!((bob.push_serial, bob.push_enrolled_at), (None, None));
    let accounts = f.auth.accounts().unwrap();
    let push = accounts.iter().find(|a| a.id == f.push_id).unwrap();
    assert_eq!(push.kind, CredentialKind::Push);
    assert_eq!(push.push_serial.as_deref(), Some(SERIAL));
    // The registration time the credential carried, as the vault kept it.
    assert_eq!(
        push.push_enrolled_at,
        Some(UnixTime::from_secs(1_700_000_000))
    );
    assert_eq!((push.algorithm, push.digits), (None, None));
    // Codes skip the push-only account and still list the TOTP one.
    let codes = f.auth.codes(None, Some(UnixTime::from_secs(59))).unwrap();
    assert_eq!(codes.len(), 1);
    assert_eq!(codes[0].label, "bob");
    // Exports carry codes only: a push token is bound to this device.
    assert_eq!(f.auth.export_otpauth().unwrap().len(), 1);
    let transfer = f.auth.export_migration_batch().unwrap();
    assert_eq!(transfer.payloads.len(), 1);
    assert!(
        transfer.left_out.is_empty(),
        "push-only is not 'left out': it has no code"
    );
    let aegis: serde_json::Value =
        serde_json::from_str(&f.auth.export_aegis(None).unwrap()).unwrap();
    let entries = aegis["db"]["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["name"], "bob");
    assert!(f.auth.export_otpauth_one(f.push_id.as_str()).is_err());
}

#[test]
fn deleting_a_push_account_forgets_its_token_and_requests() {
    let f = fixture();
    let payload = ChallengeBuilder::new().signed_by(server_key()).json();
    f.auth.handle_notification(&payload).unwrap();
    f.auth.delete(f.push_id.as_str()).unwrap();
    assert!(f.auth.pending_push_requests().unwrap().is_empty());
    assert!(matches!(
        push_error(f.auth.handle_notification(&payload).unwrap_err()),
        PushError::UnknownSerial { .. }
    ));
}
