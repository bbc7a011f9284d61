//! authcore's push and OTP code against a real privacyIDEA 3.14 on 127.0.0.1.
//!
//! One server for the whole binary: `main` starts it (installing it into the cached venv on the
//! first run), runs every case below with libtest's filtering and report, and stops it. Each case
//! has its own user (and user-scoped policies), so its polls see only its own challenges. Cases
//! run one at a time by default: the server keeps its state in SQLite, and serial runs keep its
//! log readable and free of lock waits. `--test-threads 2` works too (a case that changes a
//! server-wide setting then still runs alone) and saves about a fifth of the time here.
//!
//! If the server cannot be installed or started, the binary fails with the reason; nothing is
//! skipped.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use authcore::clock::{Clock, SystemClock};
use authcore::otp::OtpKind;
use authcore::push::{
    AppForceUnlock, ClockOffset, DeclineReason, PushAnswer, PushEnrollment, PushError, PushRequest,
    SoftwareDeviceKey, UnverifiedChallenge,
};
use authcore_tests::phone::{Phone, new_client};
use authcore_tests::privacyidea::{PUSH_TITLE, PrivacyIdea, push_question};
use authcore_tests::suite::{self, Case, Outcome, Suite, block_on};
use serde_json::Value;

/// The validity the client assumes for a challenge: privacyIDEA's default.
const VALIDITY: Duration = authcore::push::DEFAULT_CHALLENGE_VALIDITY;
const FCM_WAIT: Duration = Duration::from_secs(20);
const GATEWAY: &str = "fakefcm";

fn assert_request_texts(request: &PushRequest, phone: &Phone, user: &str, pi: &PrivacyIdea) {
    assert_eq!(request.serial, phone.serial());
    assert_eq!(request.title, PUSH_TITLE);
    assert_eq!(request.question, push_question(user));
    assert_eq!(request.url, pi.push_url());
    assert!(!request.sslverify);
}

// ---------------------------------------------------------------------------------------------

fn enroll_registers_the_device_key(pi: &PrivacyIdea) -> Outcome {
    let phone = Phone::enroll(pi, "alice", "alice-pin", 2048, None)?;
    assert!(
        phone.credential.poll_only,
        "the base policy enrolls poll-only tokens"
    );
    phone.assert_registered(pi, "push")?;
    Ok(())
}

fn approve_accepts_the_login(pi: &PrivacyIdea) -> Outcome {
    let phone = Phone::enroll(pi, "bob", "bob-pin", 2048, None)?;
    let (transaction, presence) = pi.trigger("bob", "bob-pin")?;
    assert_eq!(presence, None, "no number matching without the policy");
    assert_eq!(pi.challenge_status(&transaction)?, "pending");

    let request = phone.poll_one()?;
    assert_request_texts(&request, &phone, "bob", pi);
    assert_eq!(request.require_presence, None);
    assert!(request.capabilities.verified, "3.14 signs its capabilities");
    assert!(
        request.capabilities.decline_reason,
        "3.14 advertises decline reasons"
    );

    // The next poll brings the same challenge again (the facade keeps it once by nonce, and
    // refuses it once answered: tests/tests/push_facade.rs).
    let again = phone.poll_one()?;
    assert_eq!(again.nonce, request.nonce);

    let outcome = phone.answer(&request, &PushAnswer::Accept)?;
    assert_eq!(outcome.display_code, None);

    let status = pi.poll_transaction(&transaction)?;
    assert!(status.value, "{}", status.json);
    assert_eq!(
        status.challenge_status.as_deref(),
        Some("accept"),
        "{}",
        status.json
    );
    let finished = pi.finalize("bob", &transaction, "")?;
    assert!(
        finished.accepted(),
        "finalize must ACCEPT: {}",
        finished.json
    );
    Ok(())
}

fn deny_declines_the_login(pi: &PrivacyIdea) -> Outcome {
    let phone = Phone::enroll(pi, "carol", "carol-pin", 2048, None)?;
    let (transaction, _) = pi.trigger("carol", "carol-pin")?;
    let request = phone.poll_one()?;
    phone.answer(&request, &PushAnswer::Decline)?;
    let status = pi.poll_transaction(&transaction)?;
    assert!(!status.value, "{}", status.json);
    assert_eq!(
        status.challenge_status.as_deref(),
        Some("declined"),
        "{}",
        status.json
    );
    let finished = pi.finalize("carol", &transaction, "")?;
    assert!(
        !finished.accepted(),
        "a declined login must not ACCEPT: {}",
        finished.json
    );
    Ok(())
}

fn decline_reasons_reach_the_server(pi: &PrivacyIdea) -> Outcome {
    for (user, reason, expected) in [
        ("dave", DeclineReason::UnknownTrigger, "declined"),
        ("erin", DeclineReason::Cancelled, "cancelled"),
    ] {
        let pin = format!("{user}-pin");
        let phone = Phone::enroll(pi, user, &pin, 2048, None)?;
        let (transaction, _) = pi.trigger(user, &pin)?;
        let request = phone.poll_one()?;
        assert!(request.capabilities.verified && request.capabilities.decline_reason);
        phone.answer(&request, &PushAnswer::DeclineWithReason(reason))?;
        let status = pi.challenge_status(&transaction)?;
        assert_eq!(status, expected, "decline reason {}", reason.as_str());
    }
    Ok(())
}

fn number_matching_needs_the_right_option(pi: &PrivacyIdea) -> Outcome {
    pi.set_user_policy(
        "frank-number-matching",
        "authentication",
        "push_require_presence=1",
        "frank",
    )?;
    let phone = Phone::enroll(pi, "frank", "frank-pin", 2048, None)?;
    let (transaction, presence) = pi.trigger("frank", "frank-pin")?;
    let presence = presence.unwrap_or_else(|| panic!("the trigger carries detail.presence_answer"));
    let request = phone.poll_one()?;
    let options = request
        .require_presence
        .clone()
        .unwrap_or_else(|| panic!("the challenge asks for presence: {request:?}"));
    assert!(
        options.contains(&presence),
        "{presence} is among {options:?}"
    );
    assert!(options.len() >= 2, "{options:?}");

    // A plain accept is refused locally, before anything is sent.
    assert!(matches!(
        phone.answer(&request, &PushAnswer::Accept),
        Err(PushError::InvalidAnswer { .. })
    ));
    // A wrong option is signed and sent, and refused by the server (value: false).
    let wrong = options
        .iter()
        .find(|o| **o != presence)
        .cloned()
        .unwrap_or_default();
    match phone.answer(&request, &PushAnswer::AcceptWithPresence(wrong)) {
        Err(PushError::Rejected { .. }) => {}
        other => panic!("a wrong option must be rejected by the server: {other:?}"),
    }
    assert_eq!(pi.challenge_status(&transaction)?, "pending");
    // The challenge stays open: the right option accepts.
    phone.answer(&request, &PushAnswer::AcceptWithPresence(presence))?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    let finished = pi.finalize("frank", &transaction, "")?;
    assert!(finished.accepted(), "{}", finished.json);
    pi.delete_policy("frank-number-matching")?;
    Ok(())
}

/// The other option sets privacyIDEA offers: two-digit numbers, and an issuer's own labels.
fn number_matching_numeric_and_custom_options(pi: &PrivacyIdea) -> Outcome {
    for (user, action, expected) in [
        (
            "zoe",
            "push_require_presence=1, push_presence_options=NUMERIC, push_presence_num_options=6",
            None,
        ),
        (
            "zoe",
            "push_require_presence=1, push_presence_options=CUSTOM, \
             push_presence_custom_options=0A:1B:2C:3D, push_presence_num_options=4",
            Some(["0A", "1B", "2C", "3D"]),
        ),
    ] {
        let policy = format!("{user}-presence-options");
        pi.set_user_policy(&policy, "authentication", action, user)?;
        let pin = format!("{user}-pin");
        let phone = Phone::enroll(pi, user, &pin, 2048, None)?;
        let (transaction, presence) = pi.trigger(user, &pin)?;
        let presence = presence.unwrap_or_else(|| panic!("no presence_answer for {user}"));
        let request = phone.poll_one()?;
        let mut options = request.require_presence.clone().unwrap_or_default();
        assert!(options.contains(&presence), "{presence} among {options:?}");
        match expected {
            None => {
                assert_eq!(options.len(), 6, "{options:?}");
                assert!(
                    options
                        .iter()
                        .all(|o| o.len() == 2 && o.bytes().all(|b| b.is_ascii_digit())),
                    "two-digit numbers: {options:?}"
                );
            }
            Some(labels) => {
                options.sort();
                assert_eq!(options, labels);
            }
        }
        phone.answer(&request, &PushAnswer::AcceptWithPresence(presence))?;
        assert_eq!(pi.challenge_status(&transaction)?, "accept", "{user}");
        pi.delete_policy(&policy)?;
        // One push token per trigger: the next round enrolls afresh.
        pi.delete_token(phone.serial())?;
    }
    Ok(())
}

fn code_to_phone_shows_the_code(pi: &PrivacyIdea) -> Outcome {
    pi.set_user_policy(
        "grace-code-to-phone",
        "authentication",
        "push_code_to_phone=1",
        "grace",
    )?;
    let phone = Phone::enroll(pi, "grace", "grace-pin", 2048, None)?;
    let (transaction, _) = pi.trigger("grace", "grace-pin")?;
    let request = phone.poll_one()?;
    let outcome = phone.answer(&request, &PushAnswer::Accept)?;
    let code = outcome
        .display_code
        .unwrap_or_else(|| panic!("code-to-phone: the accept response carries a display_code"));
    assert!(!code.is_empty());
    assert!(
        outcome.message.is_some(),
        "the server says what to do with the code"
    );
    let finished = pi.finalize("grace", &transaction, &code)?;
    assert!(
        finished.accepted(),
        "pass=<display_code> must ACCEPT: {}",
        finished.json
    );
    pi.delete_policy("grace-code-to-phone")?;
    Ok(())
}

fn forged_and_stale_requests_are_rejected(pi: &PrivacyIdea) -> Outcome {
    pi.use_fake_fcm_for_user(GATEWAY, "heidi")?;
    let phone = Phone::enroll(pi, "heidi", "heidi-pin", 2048, Some("fcm-heidi"))?;
    // Another token, so another server key.
    let other = Phone::enroll(pi, "judy", "judy-pin", 2048, None)?;
    let (transaction, _) = pi.trigger("heidi", "heidi-pin")?;
    let message = pi
        .fake_fcm()
        .wait_for_serial(phone.serial(), 0, FCM_WAIT)
        .unwrap_or_else(|| {
            panic!(
                "no push message for {} reached the fake FCM",
                phone.serial()
            )
        });
    let now = SystemClock.now();
    let genuine = UnverifiedChallenge::from_notification(&message.to_string())?;

    // Tampered text: the server's signature no longer matches.
    let mut tampered = message.clone();
    tampered["data"]["question"] = Value::from("Login for mallory?");
    let forged = UnverifiedChallenge::from_notification(&tampered.to_string())?;
    assert!(matches!(
        forged.verify(&phone.credential, now, VALIDITY),
        Err(PushError::BadSignature { .. })
    ));
    // Tampered signature.
    let mut tampered = message.clone();
    let signature = tampered["data"]["signature"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    tampered["data"]["signature"] = Value::from(format!("{flipped}{}", &signature[1..]));
    let forged = UnverifiedChallenge::from_notification(&tampered.to_string())?;
    assert!(matches!(
        forged.verify(&phone.credential, now, VALIDITY),
        Err(PushError::BadSignature { .. })
    ));
    // Signed by another key: heidi's genuine challenge checked against judy's server key, and
    // a poll with that key rejects the entry instead of offering it.
    let mut wrong_key = phone.credential.clone();
    wrong_key.server_public_key_pkcs1 = other.credential.server_public_key_pkcs1.clone();
    assert!(matches!(
        genuine.clone().verify(&wrong_key, now, VALIDITY),
        Err(PushError::BadSignature { .. })
    ));
    let polled = block_on(phone.client.poll(&wrong_key, &phone.key, SystemClock.now()))?;
    assert!(
        polled.requests.is_empty(),
        "nothing unverified is offered: {:?}",
        polled.requests
    );
    assert_eq!(polled.rejected.len(), 1, "{:?}", polled.rejected);
    assert!(matches!(
        polled.rejected[0].error,
        PushError::BadSignature { .. }
    ));
    // Addressed to another push token.
    let mut readdressed = message.clone();
    readdressed["device_token"] = Value::from("someone-else");
    let forged = UnverifiedChallenge::from_notification(&readdressed.to_string())?;
    assert!(matches!(
        forged.verify(&phone.credential, now, VALIDITY),
        Err(PushError::WrongAccount { .. })
    ));

    // Stale: received longer ago than the answer window. The client does not send an answer
    // for it (the vault refuses to keep one: core/src/vault/tests.rs).
    let long_ago = now.saturating_sub(VALIDITY + Duration::from_secs(1));
    let stale = genuine
        .clone()
        .verify(&phone.credential, long_ago, VALIDITY)?;
    assert!(matches!(
        phone.answer(&stale, &PushAnswer::Accept),
        Err(PushError::Expired { .. })
    ));
    let fresh = genuine.verify(&phone.credential, now, VALIDITY)?;
    assert_eq!(
        pi.challenge_status(&transaction)?,
        "pending",
        "nothing was answered"
    );
    // Clean up: decline it.
    phone.answer(&fresh, &PushAnswer::Decline)?;
    Ok(())
}

fn expired_on_the_server_is_refused(pi: &PrivacyIdea) -> Outcome {
    let phone = Phone::enroll(pi, "ivan", "ivan-pin", 2048, None)?;
    // Only challenges created while this is set get the short window.
    pi.set_config("PushChallengeValidityTime", "4")?;
    let triggered = pi.trigger("ivan", "ivan-pin");
    pi.set_config("PushChallengeValidityTime", "120")?;
    let (transaction, _) = triggered?;
    let request = phone.poll_one()?;
    std::thread::sleep(Duration::from_secs(6));
    let outcome = phone.poll()?;
    assert!(
        outcome.requests.is_empty(),
        "the server no longer lists it: {outcome:?}"
    );
    match phone.answer(&request, &PushAnswer::Accept) {
        Err(PushError::Rejected { .. }) => {}
        other => panic!("an answer after the server's window must be rejected: {other:?}"),
    }
    let finished = pi.finalize("ivan", &transaction, "")?;
    assert!(!finished.accepted(), "{}", finished.json);
    Ok(())
}

fn delivered_through_the_http_gateway(pi: &PrivacyIdea) -> Outcome {
    pi.use_fake_fcm_for_user(GATEWAY, "mallory")?;
    let phone = Phone::enroll(pi, "mallory", "mallory-pin", 2048, Some("fcm-mallory"))?;
    assert!(!phone.credential.poll_only, "a token with a push channel");
    let (transaction, _) = pi.trigger("mallory", "mallory-pin")?;
    let message = pi
        .fake_fcm()
        .wait_for_serial(phone.serial(), 0, FCM_WAIT)
        .unwrap_or_else(|| {
            panic!(
                "no push message for {} reached the fake FCM",
                phone.serial()
            )
        });
    assert_eq!(message["device_token"], "fcm-mallory", "{message}");
    let received = SystemClock.now();
    let challenge = UnverifiedChallenge::from_notification(&message.to_string())?;
    assert_eq!(challenge.device_token(), Some("fcm-mallory"));
    // The bare data map (what an FCM handler gets) parses to the same challenge.
    let bare = UnverifiedChallenge::from_notification(&message["data"].to_string())?;
    assert_eq!(bare.nonce(), challenge.nonce());
    let request =
        challenge.verify_with(std::slice::from_ref(&phone.credential), received, VALIDITY)?;
    assert_request_texts(&request, &phone, "mallory", pi);
    // The same challenge by poll has the same nonce, so the facade lists it once
    // (tests/tests/push_facade.rs: notification_and_poll_are_one_request).
    assert_eq!(phone.poll_one()?.nonce, request.nonce);
    phone.answer(&request, &PushAnswer::Accept)?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    let finished = pi.finalize("mallory", &transaction, "")?;
    assert!(finished.accepted(), "{}", finished.json);
    Ok(())
}

fn push_token_update_is_accepted(pi: &PrivacyIdea) -> Outcome {
    pi.use_fake_fcm_for_user(GATEWAY, "niaj")?;
    let mut phone = Phone::enroll(pi, "niaj", "niaj-pin", 2048, Some("fcm-niaj-old"))?;
    block_on(phone.client.update_push_token(
        &phone.credential,
        &phone.key,
        "fcm-niaj-new",
        SystemClock.now(),
    ))?;
    let token = pi.token_info(phone.serial())?;
    assert_eq!(token["info"]["firebase_token"], "fcm-niaj-new", "{token}");
    let old_credential = phone.credential.clone();
    phone.credential.fb_token = Some("fcm-niaj-new".to_owned());
    // The next notification goes to the new token.
    let (transaction, _) = pi.trigger("niaj", "niaj-pin")?;
    let message = pi
        .fake_fcm()
        .wait_for_serial(phone.serial(), 0, FCM_WAIT)
        .unwrap_or_else(|| panic!("no push message for {}", phone.serial()));
    assert_eq!(message["device_token"], "fcm-niaj-new", "{message}");
    let now = SystemClock.now();
    let challenge = UnverifiedChallenge::from_notification(&message.to_string())?;
    assert!(matches!(
        challenge.clone().verify(&old_credential, now, VALIDITY),
        Err(PushError::WrongAccount { .. })
    ));
    let request = challenge.verify(&phone.credential, now, VALIDITY)?;
    phone.answer(&request, &PushAnswer::Accept)?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    // A forged update (signed by another key) is refused.
    let intruder = SoftwareDeviceKey::generate(2048)?;
    let forged = block_on(phone.client.update_push_token(
        &phone.credential,
        &intruder,
        "fcm-evil",
        SystemClock.now(),
    ));
    assert!(
        forged.is_err(),
        "an update signed by another key must fail: {forged:?}"
    );
    Ok(())
}

fn clock_offset_is_near_zero(pi: &PrivacyIdea) -> Outcome {
    let phone = Phone::enroll(pi, "olivia", "olivia-pin", 2048, None)?;
    let offset = phone
        .client
        .clock_offset(&phone.credential.url)
        .unwrap_or_else(|| panic!("the registration response's Date header gives an offset"));
    // Same machine, so only the Date header's 1 s resolution and the round trip remain.
    assert!(offset.as_millis().abs() <= 1500, "offset {offset}");
    phone.poll()?;
    let offset = phone
        .client
        .clock_offset(&phone.credential.url)
        .unwrap_or_else(|| unreachable!());
    assert!(offset.as_millis().abs() <= 1500, "offset {offset}");

    // A device clock ten minutes slow: the first poll's timestamp is outside the server's one
    // minute window (HTTP 400), its Date header shows the offset, and the retry with the
    // corrected time goes through.
    let fresh = new_client()?;
    let slow_now = SystemClock.now().saturating_sub(Duration::from_secs(600));
    let outcome = block_on(fresh.poll(&phone.credential, &phone.key, slow_now))?;
    assert!(
        outcome.requests.is_empty() && outcome.rejected.is_empty(),
        "{outcome:?}"
    );
    let seen = fresh
        .clock_offset(&phone.credential.url)
        .unwrap_or_else(|| unreachable!("a response arrived"));
    assert!((seen.as_millis() - 600_000).abs() <= 1500, "offset {seen}");
    // A stale remembered offset is corrected the same way.
    fresh.set_clock_offset(
        &phone.credential.url,
        Some(ClockOffset::from_millis(-300_000)),
    );
    block_on(fresh.poll(&phone.credential, &phone.key, SystemClock.now()))?;
    let seen = fresh
        .clock_offset(&phone.credential.url)
        .unwrap_or_else(|| unreachable!());
    assert!(seen.as_millis().abs() <= 1500, "offset {seen}");
    Ok(())
}

fn enroll_and_approve_with_a_4096_bit_key(pi: &PrivacyIdea) -> Outcome {
    let started = Instant::now();
    let phone = Phone::enroll(pi, "peggy", "peggy-pin", 4096, None)?;
    let enrolled_in = started.elapsed();
    assert_eq!(phone.key.bits(), 4096);
    let (transaction, _) = pi.trigger("peggy", "peggy-pin")?;
    let request = phone.poll_one()?;
    assert_request_texts(&request, &phone, "peggy", pi);
    phone.answer(&request, &PushAnswer::Accept)?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    assert!(pi.finalize("peggy", &transaction, "")?.accepted());
    eprintln!(
        "  4096-bit device key: key generation + enrollment {:.2?}, whole case {:.2?}",
        enrolled_in,
        started.elapsed()
    );
    Ok(())
}

fn totp_from_the_servers_uri(pi: &PrivacyIdea) -> Outcome {
    let init = pi.init_totp_token("rupert", "rupert-pin")?;
    let accounts = authcore::uri::parse(&init.uri)?;
    assert_eq!(accounts.len(), 1, "{}", init.uri);
    let account = &accounts[0];
    assert_eq!(account.otp.params.kind, OtpKind::Totp { period: 30 });
    let generator = account.otp.generator()?;
    let code = generator.code_at(SystemClock.now())?;
    let wrong = format!(
        "{:06}",
        (code.as_str().parse::<u32>().unwrap_or(0) + 1) % 1_000_000
    );
    assert!(
        !pi.validate_check("rupert", &format!("rupert-pin{wrong}"))?
            .accepted()
    );
    let check = pi.validate_check("rupert", &format!("rupert-pin{}", code.as_str()))?;
    assert!(
        check.accepted(),
        "authcore's TOTP code must ACCEPT: {}",
        check.json
    );
    // privacyIDEA refuses a TOTP code that was already used.
    let reused = pi.validate_check("rupert", &format!("rupert-pin{}", code.as_str()))?;
    assert!(
        !reused.accepted(),
        "a reused TOTP code must be rejected: {}",
        reused.json
    );
    Ok(())
}

fn hotp_from_the_servers_uri(pi: &PrivacyIdea) -> Outcome {
    let init = pi.init_hotp_token("sybil", "sybil-pin")?;
    let accounts = authcore::uri::parse(&init.uri)?;
    assert_eq!(accounts.len(), 1, "{}", init.uri);
    let account = &accounts[0];
    // privacyIDEA's URI says counter=1 while its own counter starts at 0; its look-ahead window
    // accepts the code for 1, and from then on both sides count together.
    let OtpKind::Hotp { counter } = account.otp.params.kind else {
        panic!("an HOTP account: {:?}", account.otp.params)
    };
    assert_eq!(counter, 1, "{}", init.uri);
    let generator = account.otp.generator()?;
    for next in [counter, counter + 1] {
        let code = generator.code_for_counter(next);
        let check = pi.validate_check("sybil", &format!("sybil-pin{}", code.as_str()))?;
        assert!(
            check.accepted(),
            "HOTP counter {next} must ACCEPT: {}",
            check.json
        );
    }
    // A used counter is not accepted again.
    let replay = generator.code_for_counter(counter + 1);
    assert!(
        !pi.validate_check("sybil", &format!("sybil-pin{}", replay.as_str()))?
            .accepted()
    );
    Ok(())
}

fn enrollment_uri_variants(pi: &PrivacyIdea) -> Outcome {
    pi.set_user_policy(
        "trent-uri-variants",
        "enrollment",
        "push_use_pia_scheme=1, push_app_force_unlock=biometric, push_force_app_pin=1",
        "trent",
    )?;
    let phone = Phone::enroll(pi, "trent", "trent-pin", 2048, None)?;
    assert!(
        phone.init.uri.starts_with("pia://pipush/"),
        "{}",
        phone.init.uri
    );
    let now = SystemClock.now();
    let enrollment = PushEnrollment::parse(&phone.init.uri, now, now)?;
    assert!(enrollment.pin, "push_force_app_pin puts pin=True in the QR");
    assert_eq!(enrollment.app_force_unlock, Some(AppForceUnlock::Biometric));
    assert_eq!(
        phone.credential.app_force_unlock,
        Some(AppForceUnlock::Biometric)
    );
    pi.delete_policy("trent-uri-variants")?;
    Ok(())
}

fn sslverify_over_plain_http_is_refused(pi: &PrivacyIdea) -> Outcome {
    // A QR that asks for certificate checks on an http:// URL: authcore does not register.
    pi.set_user_policy(
        "victor-enroll-sslverify",
        "enrollment",
        "push_ssl_verify=1",
        "victor",
    )?;
    let init = pi.init_push_token("victor", "victor-pin")?;
    let now = SystemClock.now();
    let registered = PushEnrollment::parse(&init.uri, now, now).and_then(|enrollment| {
        let key = SoftwareDeviceKey::generate(2048)?;
        let client = new_client()?;
        block_on(client.register(&enrollment, &key, None, now))
    });
    assert!(
        matches!(registered, Err(PushError::InsecureUrl { .. })),
        "{registered:?}"
    );
    assert_eq!(pi.token_info(&init.serial)?["rollout_state"], "clientwait");
    pi.delete_token(&init.serial)?;
    pi.delete_policy("victor-enroll-sslverify")?;

    // A correctly signed challenge that says sslverify=1 for an http:// URL is not offered.
    // Polls sign each open challenge afresh with the policies of the moment, so the policy
    // stays until after the poll (it only concerns victor).
    let phone = Phone::enroll(pi, "victor", "victor-pin", 2048, None)?;
    pi.set_user_policy(
        "victor-auth-sslverify",
        "authentication",
        "push_ssl_verify=1",
        "victor",
    )?;
    let (transaction, _) = pi.trigger("victor", "victor-pin")?;
    let outcome = phone.poll()?;
    assert!(outcome.requests.is_empty(), "{outcome:?}");
    assert_eq!(outcome.rejected.len(), 1, "{outcome:?}");
    assert!(
        matches!(outcome.rejected[0].error, PushError::InsecureUrl { .. }),
        "{outcome:?}"
    );
    assert_eq!(pi.challenge_status(&transaction)?, "pending");
    pi.delete_policy("victor-auth-sslverify")?;
    // With the server's setting back to sslverify=0 the same challenge is offered again.
    let request = phone.poll_one()?;
    phone.answer(&request, &PushAnswer::Decline)?;
    assert_eq!(pi.challenge_status(&transaction)?, "declined");
    Ok(())
}

fn several_open_challenges_are_kept_apart(pi: &PrivacyIdea) -> Outcome {
    let phone = Phone::enroll(pi, "walter", "walter-pin", 2048, None)?;
    let (first, _) = pi.trigger("walter", "walter-pin")?;
    let (second, _) = pi.trigger("walter", "walter-pin")?;
    assert_ne!(first, second);
    let outcome = phone.poll()?;
    assert!(outcome.rejected.is_empty(), "{outcome:?}");
    assert_eq!(outcome.requests.len(), 2, "both stay open: {outcome:?}");
    let pending = &outcome.requests;
    assert_ne!(pending[0].nonce, pending[1].nonce);

    // Accepting one decides exactly one login; the other is still open.
    phone.answer(&pending[0], &PushAnswer::Accept)?;
    let mut states = [pi.challenge_status(&first)?, pi.challenge_status(&second)?];
    states.sort();
    assert_eq!(states, ["accept", "pending"]);

    phone.answer(&pending[1], &PushAnswer::Decline)?;
    let mut states = [pi.challenge_status(&first)?, pi.challenge_status(&second)?];
    states.sort();
    assert_eq!(states, ["accept", "declined"]);
    Ok(())
}

fn non_ascii_texts_are_signed_as_utf8(pi: &PrivacyIdea) -> Outcome {
    // Policy values end at a comma, so the texts have none.
    pi.set_user_policy(
        "xavier-texts",
        "authentication",
        "push_title_on_mobile=Grüße ✓ Ünïcødé, push_text_on_mobile=Anmeldung für {user} – 許可しますか?",
        "xavier",
    )?;
    let phone = Phone::enroll(pi, "xavier", "xavier-pin", 2048, None)?;
    let (transaction, _) = pi.trigger("xavier", "xavier-pin")?;
    let request = phone.poll_one()?;
    assert_eq!(request.title, "Grüße ✓ Ünïcødé");
    assert_eq!(request.question, "Anmeldung für xavier – 許可しますか?");
    phone.answer(&request, &PushAnswer::Accept)?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    pi.delete_policy("xavier-texts")?;
    Ok(())
}

fn requests_signed_by_another_device_key_are_refused(pi: &PrivacyIdea) -> Outcome {
    let phone = Phone::enroll(pi, "yvonne", "yvonne-pin", 2048, None)?;
    let (transaction, _) = pi.trigger("yvonne", "yvonne-pin")?;
    let request = phone.assert_other_keys_refused(pi, &transaction)?;
    phone.answer(&request, &PushAnswer::Accept)?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    Ok(())
}

const CASES: &[(&str, Case<PrivacyIdea>)] = &[
    (
        "push::enroll_registers_the_device_key",
        enroll_registers_the_device_key,
    ),
    ("push::approve_accepts_the_login", approve_accepts_the_login),
    ("push::deny_declines_the_login", deny_declines_the_login),
    (
        "push::decline_reasons_reach_the_server",
        decline_reasons_reach_the_server,
    ),
    (
        "push::number_matching_numeric_and_custom_options",
        number_matching_numeric_and_custom_options,
    ),
    (
        "push::number_matching_needs_the_right_option",
        number_matching_needs_the_right_option,
    ),
    (
        "push::code_to_phone_shows_the_code",
        code_to_phone_shows_the_code,
    ),
    (
        "push::forged_and_stale_requests_are_rejected",
        forged_and_stale_requests_are_rejected,
    ),
    (
        "push::expired_on_the_server_is_refused",
        expired_on_the_server_is_refused,
    ),
    (
        "push::delivered_through_the_http_gateway",
        delivered_through_the_http_gateway,
    ),
    (
        "push::push_token_update_is_accepted",
        push_token_update_is_accepted,
    ),
    ("push::clock_offset_is_near_zero", clock_offset_is_near_zero),
    (
        "push::enroll_and_approve_with_a_4096_bit_key",
        enroll_and_approve_with_a_4096_bit_key,
    ),
    ("push::enrollment_uri_variants", enrollment_uri_variants),
    (
        "push::sslverify_over_plain_http_is_refused",
        sslverify_over_plain_http_is_refused,
    ),
    (
        "push::several_open_challenges_are_kept_apart",
        several_open_challenges_are_kept_apart,
    ),
    (
        "push::non_ascii_texts_are_signed_as_utf8",
        non_ascii_texts_are_signed_as_utf8,
    ),
    (
        "push::requests_signed_by_another_device_key_are_refused",
        requests_signed_by_another_device_key_are_refused,
    ),
    ("otp::totp_from_the_servers_uri", totp_from_the_servers_uri),
    ("otp::hotp_from_the_servers_uri", hotp_from_the_servers_uri),
];

fn main() -> ExitCode {
    suite::run(&Suite {
        cases: CASES,
        alone: &["push::expired_on_the_server_is_refused"],
        default_threads: Some(1),
    })
}
