//! The app's view of push against a real privacyIDEA 3.14 on 127.0.0.1: everything through
//! `Authenticator` (the facade the CLI and the FFI use), so the vault's push tables, the request
//! dedupe, the passwordless gate and the fallback code are exercised with the real server.
//! (`push_privacyidea.rs` covers the protocol module case by case.)
//!
//! One server for the binary, started by `main` and stopped at the end; cases run one at a time,
//! each with its own user and its own vault. It prints the wall-clock times of an enrollment
//! with a 4096-bit key and of poll-to-approved (server included), for the closing notes; the
//! client-only share is benchmarked in `core/benches/push.rs`.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authcore::account::CredentialKind;
use authcore::authenticator::{
    ApprovalNeeds, AuthError, Authenticator, Config, Decision, DeclineReason, DeviceKeys,
    ErrorKind, PlatformDeviceKeys, PushError, UserPresence,
};
use authcore::clock::SystemClock;
use authcore::container::DeviceInfo;
use authcore::log::{LogLevel, Logger};
use authcore::policy::Platform;
use authcore::push::{
    DeviceKey, HttpRequest, HttpResponse, HttpTransport, SoftwareDeviceKey, TransportError,
};
use authcore::secret::Secret;
use authcore::vault::FileKeyStore;
use authcore::vault::{KdfParams, KeyStore, KeyStoreError, Unlock};
use authcore_http::ReqwestTransport;
use authcore_tests::app::App;
use authcore_tests::privacyidea::{PUSH_TITLE, PrivacyIdea, push_question};
use authcore_tests::suite::{self, Case, Failed, Outcome, Suite, block_on};

const GATEWAY: &str = "fakefcm";
const FCM_WAIT: Duration = Duration::from_secs(20);

/// Starts a push login for `user` with the PIN its token was enrolled with.
fn trigger(pi: &PrivacyIdea, user: &str) -> Result<(String, Option<String>), Failed> {
    Ok(pi.trigger(user, &format!("{user}-pin"))?)
}

fn enroll_poll_approve_and_sign_in(pi: &PrivacyIdea) -> Outcome {
    let app = App::new(4096)?;
    let started = Instant::now();
    let id = app.enroll(pi, "alice", None)?;
    let enrolled_in = started.elapsed();
    let (transaction, _) = trigger(pi, "alice")?;

    let started = Instant::now();
    let requests = app.check(1)?;
    let request = &requests[0];
    let polled_in = started.elapsed();
    assert_eq!(request.account_id.as_str(), id);
    assert_eq!(request.title, PUSH_TITLE);
    assert_eq!(request.question, push_question("alice"));
    assert_eq!(request.answers, None);
    assert!(request.expires_at > request.received_at);
    let outcome = app.answer(&request.nonce, Decision::Approve { answer: None })?;
    let approved_in = started.elapsed();
    assert_eq!(outcome.display_code, None);
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    let finished = pi.finalize("alice", &transaction, "")?;
    assert!(finished.accepted(), "{}", finished.json);
    eprintln!(
        "  timing: enrollment with a 4096-bit device key {enrolled_in:.2?} (key generation, registration, storage); poll {polled_in:.2?}; poll to approved {approved_in:.2?} (server on 127.0.0.1 included)"
    );

    // Answered: not listed again, and a second answer is refused as a replay.
    assert!(app.check(0)?.is_empty());
    let again = app.answer(&request.nonce, Decision::Approve { answer: None });
    assert!(
        matches!(again, Err(AuthError::Push(PushError::Replayed { .. }))),
        "{again:?}"
    );
    Ok(())
}

/// The transport of the tests, counting the time spent in it (the HTTP round trips and the
/// server), so what is left of a flow is the client's work.
struct Timed {
    inner: ReqwestTransport,
    spent: std::sync::Mutex<Duration>,
}

#[async_trait::async_trait]
impl HttpTransport for Timed {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let started = Instant::now();
        let response = self.inner.send(request).await;
        if let Ok(mut spent) = self.spent.lock() {
            *spent += started.elapsed();
        }
        response
    }
}

/// An app keeps a 4096-bit device key ready from when its vault opens: enrolling is one
/// registration round trip plus milliseconds, the pool refills behind it, and the token so
/// enrolled works at the server (poll, approve, sign-in accepted).
fn enrollment_with_a_ready_key(pi: &PrivacyIdea) -> Outcome {
    let transport = Arc::new(Timed {
        inner: ReqwestTransport::new()?,
        spent: Default::default(),
    });
    let app = App::with_transport(Platform::Android, 4096, 1, transport.clone())?;
    let ready = |n: usize| -> Outcome {
        let started = Instant::now();
        while app.auth.spare_device_keys_ready()? != n {
            if started.elapsed() > Duration::from_secs(120) {
                return Err(format!("no {n} spare device key(s) after two minutes").into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok(())
    };
    let started = Instant::now();
    ready(1)?;
    let made_in = started.elapsed();
    let init = pi.init_push_token("olivia", "olivia-pin")?;
    let started = Instant::now();
    let info = app.enroll_uri(&init.uri, None, None)?;
    let enrolled_in = started.elapsed();
    let http = *transport.spent.lock().map_err(|_| "poisoned")?;
    assert_eq!(info.push_serial.as_deref(), Some(init.serial.as_str()));
    // The spare is made again behind the enrollment. Whether the refill is still running at
    // this point depends on how fast its random prime search was (a 4096-bit key can take
    // well under the registration's round trip), so nothing is asserted about it here; that
    // enrollment registers the spare's own key is `spare_tests.rs`, deterministically.
    ready(1)?;
    eprintln!(
        "  timing: spare 4096-bit key made in the background in {made_in:.2?} after open; enrollment with it {enrolled_in:.2?}: registration round trip {http:.2?} (server on 127.0.0.1 included), client {:.2?}",
        enrolled_in.saturating_sub(http)
    );

    let (transaction, _) = trigger(pi, "olivia")?;
    let requests = app.check(1)?;
    assert_eq!(requests[0].account_id, info.id);
    app.answer(&requests[0].nonce, Decision::Approve { answer: None })?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    let finished = pi.finalize("olivia", &transaction, "")?;
    assert!(finished.accepted(), "{}", finished.json);
    Ok(())
}

fn deny_and_deny_with_reasons(pi: &PrivacyIdea) -> Outcome {
    for (user, reason, expected) in [
        ("bob", None, "declined"),
        ("carol", Some(DeclineReason::UnknownTrigger), "declined"),
        ("dave", Some(DeclineReason::Cancelled), "cancelled"),
    ] {
        let app = App::new(2048)?;
        app.enroll(pi, user, None)?;
        let (transaction, _) = trigger(pi, user)?;
        let request = app.check(1)?.remove(0);
        assert!(
            request.decline_reasons,
            "privacyIDEA 3.14 advertises decline reasons"
        );
        app.answer(&request.nonce, Decision::Deny { reason })?;
        assert_eq!(pi.challenge_status(&transaction)?, expected, "{user}");
        let finished = pi.finalize(user, &transaction, "")?;
        assert!(
            !finished.accepted(),
            "a denied login is not accepted: {}",
            finished.json
        );
    }
    Ok(())
}

fn number_matching_wrong_then_right(pi: &PrivacyIdea) -> Outcome {
    pi.set_user_policy(
        "erin-nm",
        "authentication",
        "push_require_presence=1",
        "erin",
    )?;
    let app = App::new(2048)?;
    app.enroll(pi, "erin", None)?;
    let (transaction, shown) = trigger(pi, "erin")?;
    let shown = shown.unwrap_or_else(|| panic!("the login page gets the number to show"));
    let request = app.check(1)?.remove(0);
    let options = request.answers.clone().unwrap_or_default();
    assert!(options.contains(&shown), "{shown} among {options:?}");
    let wrong = options
        .iter()
        .find(|o| **o != shown)
        .cloned()
        .unwrap_or_default();
    let refused = app.answer(
        &request.nonce,
        Decision::Approve {
            answer: Some(wrong),
        },
    );
    assert!(
        matches!(&refused, Err(e) if e.kind() == ErrorKind::AnswerRefused),
        "a wrong number is an error: {refused:?}"
    );
    assert_eq!(pi.challenge_status(&transaction)?, "pending");
    assert_eq!(
        app.auth.pending_push_requests()?.len(),
        1,
        "still open for another try"
    );
    app.answer(
        &request.nonce,
        Decision::Approve {
            answer: Some(shown),
        },
    )?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    pi.delete_policy("erin-nm")?;
    Ok(())
}

fn code_to_phone(pi: &PrivacyIdea) -> Outcome {
    pi.set_user_policy(
        "frank-ctp",
        "authentication",
        "push_code_to_phone=1",
        "frank",
    )?;
    let app = App::new(2048)?;
    app.enroll(pi, "frank", None)?;
    let (transaction, _) = trigger(pi, "frank")?;
    let request = app.check(1)?.remove(0);
    let outcome = app.answer(&request.nonce, Decision::Approve { answer: None })?;
    let code = outcome
        .display_code
        .unwrap_or_else(|| panic!("code-to-phone returns the code to type"));
    let finished = pi.finalize("frank", &transaction, &code)?;
    assert!(finished.accepted(), "{}", finished.json);
    pi.delete_policy("frank-ctp")?;
    Ok(())
}

/// A real push message through privacyIDEA's HTTP gateway (a listener plays FCM) handed to
/// `handle_notification`, then found again by polling: one request, answered once.
fn notification_and_poll_are_one_request(pi: &PrivacyIdea) -> Outcome {
    pi.use_fake_fcm_for_user(GATEWAY, "grace")?;
    let app = App::new(2048)?;
    app.enroll(pi, "grace", Some("fcm-grace-1"))?;
    let serial = app.auth.accounts()?[0]
        .push_serial
        .clone()
        .unwrap_or_default();
    let (transaction, _) = trigger(pi, "grace")?;
    let message = pi
        .fake_fcm()
        .wait_for_serial(&serial, 0, FCM_WAIT)
        .unwrap_or_else(|| panic!("no push message for {serial} reached the fake FCM"));
    assert_eq!(message["device_token"], "fcm-grace-1");
    let from_push = app.auth.handle_notification(&message.to_string())?;
    let polled = app.check(1)?;
    assert_eq!(
        polled,
        vec![from_push.clone()],
        "seen both ways, listed once"
    );
    app.answer(&from_push.nonce, Decision::Approve { answer: None })?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    // The same message delivered again is a replay.
    let replay = app.auth.handle_notification(&message.to_string());
    assert!(
        matches!(replay, Err(AuthError::Push(PushError::Replayed { .. }))),
        "{replay:?}"
    );
    // A tampered copy is refused and never listed.
    let mut forged = message.clone();
    forged["data"]["nonce"] = serde_json::Value::from("ZZZZJZYQYRFDTTAGQCMLJA5HOLQTIH6F");
    let forged = app.auth.handle_notification(&forged.to_string());
    assert!(
        matches!(forged, Err(AuthError::Push(PushError::BadSignature { .. }))),
        "{forged:?}"
    );
    assert!(app.auth.pending_push_requests()?.is_empty());

    // The platform rotates the push token: the server sends the next push to the new one.
    let (updated, problems) = block_on(app.auth.update_push_token("fcm-grace-2"))?;
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(updated, vec![serial.clone()]);
    let (transaction, _) = trigger(pi, "grace")?;
    let message = pi
        .fake_fcm()
        .wait_for_serial(&serial, 1, FCM_WAIT)
        .unwrap_or_else(|| panic!("no second push message for {serial}"));
    assert_eq!(message["device_token"], "fcm-grace-2");
    let request = app.auth.handle_notification(&message.to_string())?;
    app.answer(&request.nonce, Decision::Deny { reason: None })?;
    assert_eq!(pi.challenge_status(&transaction)?, "declined");
    Ok(())
}

/// One account with a TOTP code and a push token: when push fails, its code signs in.
fn the_code_is_the_fallback(pi: &PrivacyIdea) -> Outcome {
    let app = App::new(2048)?;
    let totp = pi.init_totp_token("heidi", "heidi-otp")?;
    let added = app.auth.add_uri(&totp.uri)?;
    let id = added[0].info().id.to_string();
    let push = pi.init_push_token("heidi", "heidi-pin")?;
    let both = app.enroll_uri(&push.uri, None, Some(&id))?;
    assert_eq!(both.id.to_string(), id);
    assert_eq!(both.kind, CredentialKind::Totp);
    assert_eq!(both.push_serial.as_deref(), Some(push.serial.as_str()));
    assert_eq!(app.auth.accounts()?.len(), 1);
    let codes = app.auth.codes(None, None)?;
    assert_eq!(codes.len(), 1);
    let signed_in = pi.validate_check("heidi", &format!("heidi-otp{}", codes[0].code))?;
    assert!(signed_in.accepted(), "{}", signed_in.json);
    Ok(())
}

/// privacyIDEA's own HOTP URI through the facade: its counter starts where the server's
/// window accepts it.
fn hotp_from_privacyidea(pi: &PrivacyIdea) -> Outcome {
    let app = App::new(2048)?;
    let hotp = pi.init_hotp_token("ivan", "ivan-otp")?;
    let added = app.auth.add_uri(&hotp.uri)?;
    let id = added[0].info().id.to_string();
    for _ in 0..2 {
        let code = app.auth.next_hotp(&id)?;
        let check = pi.validate_check("ivan", &format!("ivan-otp{}", code.code))?;
        assert!(
            check.accepted(),
            "HOTP counter {}: {}",
            code.counter,
            check.json
        );
    }
    // The counter was saved before each code: privacyIDEA's URI said 1, two codes later it is 3.
    let stored = app.auth.accounts()?.remove(0);
    assert_eq!(stored.counter, Some(3));
    Ok(())
}

fn passwordless_needs_number_matching_and_unlock(pi: &PrivacyIdea) -> Outcome {
    pi.set_user_policy(
        "judy-nm",
        "authentication",
        "push_require_presence=1",
        "judy",
    )?;
    let app = App::on(Platform::Android, 2048)?;
    let id = app.enroll(pi, "judy", None)?;
    app.auth.enable_passwordless(&id, Platform::Android)?;
    let (transaction, shown) = trigger(pi, "judy")?;
    let shown = shown.unwrap_or_default();
    let request = app.check(1)?.remove(0);
    assert!(request.passwordless);
    let refused = block_on(app.auth.answer_push(
        &request.nonce,
        Decision::Approve {
            answer: Some(shown.clone()),
        },
        UserPresence::NotVerified,
    ));
    assert!(
        matches!(
            refused,
            Err(AuthError::PushGate {
                needs: ApprovalNeeds::DeviceUnlock,
                ..
            })
        ),
        "{refused:?}"
    );
    assert_eq!(
        pi.challenge_status(&transaction)?,
        "pending",
        "nothing was sent"
    );
    block_on(app.auth.answer_push(
        &request.nonce,
        Decision::Approve {
            answer: Some(shown),
        },
        UserPresence::DeviceUnlocked,
    ))?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    Ok(())
}

/// A lost phone: the account is deleted (on the old device if at hand) and the server's token
/// revoked; a new phone enrolls afresh.
fn a_replaced_phone_enrolls_again(pi: &PrivacyIdea) -> Outcome {
    let old = App::new(2048)?;
    let id = old.enroll(pi, "mallory", None)?;
    let serial = old.auth.accounts()?[0]
        .push_serial
        .clone()
        .unwrap_or_default();
    old.auth.delete(&id)?;
    assert!(old.auth.accounts()?.is_empty());
    pi.delete_token(&serial)?;
    let new = App::new(2048)?;
    new.enroll(pi, "mallory", None)?;
    let (transaction, _) = trigger(pi, "mallory")?;
    let request = new.check(1)?.remove(0);
    new.answer(&request.nonce, Decision::Approve { answer: None })?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    assert!(block_on(old.auth.check_pending())?.requests.is_empty());
    Ok(())
}

/// Moving to a new phone with a backup: the account's code comes back and signs in at
/// privacyIDEA; the push tokens, bound to the old phone's device key, are listed to enroll
/// again (with their server and serial) and are not restored; enrolled again, push works.
fn a_backup_moves_codes_and_lists_push_tokens_to_enroll_again(pi: &PrivacyIdea) -> Outcome {
    let old = App::new(2048)?;
    let totp = pi.init_totp_token("sybil", "sybil-otp")?;
    let id = old.auth.add_uri(&totp.uri)?[0].info().id.to_string();
    let both = pi.init_push_token("sybil", "sybil-pin")?;
    old.enroll_uri(&both.uri, None, Some(&id))?;
    let only_push = old.enroll(pi, "trent", None)?;
    let listed = old.auth.reenroll_list()?;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert_eq!(listed[0].token.serial, both.serial);
    assert!(listed[0].token.has_code);
    assert_eq!(listed[1].id.to_string(), only_push);
    assert!(!listed[1].token.has_code);
    let origin = authcore::push::server_origin(pi.base_url());
    assert!(
        listed.iter().all(|r| r.token.server == origin),
        "{listed:?}"
    );
    assert_eq!(
        listed[0].action,
        format!(
            "at {origin}, remove the lost phone's sign-in method (push token {}) and add the new \
             phone's: scan a new enrollment QR code there",
            both.serial
        )
    );
    let file = old
        .auth
        .create_backup("moving day", authcore::vault::KdfParams::default())?;
    let new = App::new(2048)?;
    let report = new.auth.restore_backup(&file, "moving day", false)?;
    assert_eq!(report.added.len(), 1, "only the account with a code");
    assert_eq!(report.reenroll.len(), 2);
    assert_eq!(report.reenroll[1], listed[1].token);
    assert!(new.auth.reenroll_list()?.is_empty(), "no push token moved");
    let code = new.auth.codes(None, None)?.remove(0).code;
    let signed_in = pi.validate_check("sybil", &format!("sybil-otp{code}"))?;
    assert!(signed_in.accepted(), "{}", signed_in.json);
    // What the list says to do: the new phone enrolls again, and push works there.
    new.enroll(pi, "trent", None)?;
    let (transaction, _) = trigger(pi, "trent")?;
    let request = new.check(1)?.remove(0);
    new.answer(&request.nonce, Decision::Approve { answer: None })?;
    assert_eq!(pi.challenge_status(&transaction)?, "accept");
    Ok(())
}

/// Keeps every diagnostic line the core writes.
#[derive(Default)]
struct Recording(std::sync::Mutex<Vec<String>>);

impl Logger for Recording {
    fn log(&self, level: LogLevel, target: &'static str, message: &str) {
        if let Ok(mut lines) = self.0.lock() {
            lines.push(format!("{} {target}: {message}", level.as_str()));
        }
    }
}

/// A platform key store played by a software key the test can see: its private key is one of
/// the secrets the log must not show.
struct KnownDeviceKey(SoftwareDeviceKey);

impl PlatformDeviceKeys for KnownDeviceKey {
    fn generate(&self, _alias: &str) -> Result<Vec<u8>, PushError> {
        self.0.public_key_spki_der()
    }
    fn sign(&self, _alias: &str, message: &[u8]) -> Result<Vec<u8>, PushError> {
        self.0.sign_pkcs1_sha256(message)
    }
    fn delete(&self, _alias: &str) -> Result<(), PushError> {
        Ok(())
    }
}

/// A vault key store that remembers the master key it was given to wrap.
struct KnownMasterKey {
    inner: FileKeyStore,
    seen: std::sync::Mutex<Vec<Vec<u8>>>,
}

impl KeyStore for KnownMasterKey {
    fn wrap(&self, master_key: &Secret) -> Result<Vec<u8>, KeyStoreError> {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push(master_key.expose().to_vec());
        }
        self.inner.wrap(master_key)
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Secret, KeyStoreError> {
        self.inner.unwrap(wrapped)
    }
}

/// Every secret of a push user's day (the OTP secret, the device key, the vault's master key
/// and password, the enrollment credential, a container's key) stays out of the diagnostics,
/// through enrollment, notifications (a forged and a replayed one included), polls, answers, a
/// token update, an export, a container's registration and sync, and a reopening with the
/// password; while the log does say what happened.
fn nothing_secret_reaches_the_logger(pi: &PrivacyIdea) -> Outcome {
    use data_encoding::{BASE32_NOPAD, BASE64, BASE64URL_NOPAD, HEXLOWER, HEXUPPER};
    pi.use_fake_fcm_for_user(GATEWAY, "heidi")?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("vault.sqlite");
    let store = KnownMasterKey {
        inner: FileKeyStore::create(&dir.path().join("key"))?,
        seen: Default::default(),
    };
    let log = Arc::new(Recording::default());
    let device = Arc::new(KnownDeviceKey(SoftwareDeviceKey::generate(2048)?));
    let config = || -> Result<Config, Failed> {
        Ok(Config {
            clock: Arc::new(SystemClock),
            platform: Platform::Desktop,
            device_keys: DeviceKeys::Platform(device.clone()),
            transport: Arc::new(ReqwestTransport::new()?),
            logger: log.clone(),
            spare_device_keys: 0,
        })
    };
    let password = "correct horse battery staple";
    let cheap = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let otp_secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ";
    let init = pi.init_push_token("heidi", "heidi-pin")?;
    let mut containers = Vec::new();
    let enrollment_credential = url::Url::parse(&init.uri)?
        .query_pairs()
        .find(|(k, _)| k == "enrollment_credential")
        .map(|(_, v)| v.into_owned())
        .ok_or("the enrollment QR code has no enrollment_credential")?;
    {
        let auth = Authenticator::create(&path, &store, Some((password, cheap)), config()?)?;
        auth.add_uri(&format!(
            "otpauth://totp/Bank:heidi?secret={otp_secret}&issuer=Bank"
        ))?;
        let scanned = auth.scan_push_enrollment(&init.uri)?;
        block_on(auth.enroll_push(scanned, Some("fcm-heidi-1"), None))?;
        let (transaction, _) = trigger(pi, "heidi")?;
        let message = pi
            .fake_fcm()
            .wait_for_serial(&init.serial, 0, FCM_WAIT)
            .ok_or("no push message reached the fake FCM")?;
        let request = auth.handle_notification(&message.to_string())?;
        let mut forged = message.clone();
        forged["data"]["question"] = serde_json::Value::from("Sign in to something else?");
        assert!(auth.handle_notification(&forged.to_string()).is_err());
        assert!(block_on(auth.check_pending())?.problems.is_empty());
        block_on(auth.answer_push(
            &request.nonce,
            Decision::Approve { answer: None },
            UserPresence::NotVerified,
        ))?;
        assert_eq!(pi.challenge_status(&transaction)?, "accept");
        assert!(auth.handle_notification(&message.to_string()).is_err());
        let (transaction, _) = trigger(pi, "heidi")?;
        let next = block_on(auth.check_pending())?.requests.remove(0);
        block_on(auth.answer_push(
            &next.nonce,
            Decision::Deny { reason: None },
            UserPresence::NotVerified,
        ))?;
        assert_eq!(pi.challenge_status(&transaction)?, "declined");
        block_on(auth.update_push_token("fcm-heidi-2"))?;
        assert_eq!(auth.export_otpauth()?.len(), 1);
        // A container registered and synced: its P-384 key signs both.
        pi.enable_containers()?;
        let container = pi.init_container("heidi")?;
        let scanned = auth.scan_container(&pi.container_qr(&container, &[])?)?;
        block_on(auth.register_container(scanned, None, DeviceInfo::default(), None))?;
        block_on(auth.sync_container(&container, None))?;
        containers.push(container);
    }
    Authenticator::open(&path, Unlock::Password(password), config()?)?;
    // The container's key as the vault keeps it (sealed), to search the log for.
    let container_keys: Vec<Vec<u8>> = {
        let vault = authcore::vault::Vault::open(&path, Unlock::Password(password))?;
        containers
            .iter()
            .map(|serial| {
                vault
                    .container_keys(serial)
                    .map(|(key, _)| key.expose().to_vec())
            })
            .collect::<Result<_, _>>()?
    };
    assert_eq!(container_keys.len(), 1, "the container was registered");

    let lines = log.0.lock().map_err(|_| "the log's lock")?.clone();
    // The log tells the story (so the search below searched something).
    for expected in [
        "info vault: vault opened: 0 account(s)",
        "info vault: vault opened: 2 account(s)",
        &format!("info push: push token {} enrolled with", init.serial),
        &format!(
            "info push: notification: push request {} for {} kept",
            request_nonce(&lines)?,
            init.serial
        ),
        &format!(
            "error push: notification refused: push request for {}: the server signature does not verify",
            init.serial
        ),
        "debug push: POST http",
        "-> HTTP 200 in ",
        "info push: checked for notifications: 1 waiting, 0 problem(s)",
        "denied",
        "push token sent to the servers of 1 token(s); 0 failed",
    ] {
        assert!(
            lines.iter().any(|l| l.contains(expected)),
            "no line holds {expected:?}: {lines:#?}"
        );
    }
    let master_keys = store.seen.lock().map_err(|_| "the store's lock")?.clone();
    assert!(
        !master_keys.is_empty(),
        "the key store wrapped the master key"
    );
    let mut secrets: Vec<(String, String)> = vec![
        ("OTP secret".into(), otp_secret.into()),
        ("password".into(), password.into()),
        ("enrollment credential".into(), enrollment_credential),
    ];
    let raw_otp = BASE32_NOPAD.decode(otp_secret.as_bytes())?;
    let device_der = device.0.pkcs8().expose().to_vec();
    let mut binary = vec![("OTP secret", raw_otp), ("device key", device_der)];
    binary.extend(master_keys.into_iter().map(|k| ("master key", k)));
    binary.extend(container_keys.into_iter().map(|k| ("container key", k)));
    for (what, bytes) in binary {
        for encoding in [
            &HEXLOWER,
            &HEXUPPER,
            &BASE64,
            &BASE64URL_NOPAD,
            &BASE32_NOPAD,
        ] {
            secrets.push((what.into(), encoding.encode(&bytes)));
        }
    }
    // Any 16 characters in a row of any encoding of a secret.
    for (what, text) in &secrets {
        let chars: Vec<char> = text.chars().collect();
        for window in chars.windows(16.min(chars.len())) {
            let piece: String = window.iter().collect();
            for line in &lines {
                assert!(!line.contains(&piece), "the {what} reached the log: {line}");
            }
        }
    }
    let kinds: std::collections::BTreeSet<&str> = secrets.iter().map(|(w, _)| w.as_str()).collect();
    eprintln!(
        "  {} log lines searched for {} encodings of {} kinds of secret",
        lines.len(),
        secrets.len(),
        kinds.len()
    );
    Ok(())
}

/// The nonce of the request the notification brought, as the log names it.
fn request_nonce(lines: &[String]) -> Result<String, Failed> {
    lines
        .iter()
        .find_map(|l| {
            l.strip_prefix("info push: notification: push request ")
                .and_then(|rest| rest.split(' ').next())
                .map(str::to_owned)
        })
        .ok_or_else(|| "no notification was logged as kept".into())
}

const CASES: &[(&str, Case<PrivacyIdea>)] = &[
    (
        "facade::enroll_poll_approve_and_sign_in",
        enroll_poll_approve_and_sign_in,
    ),
    (
        "facade::enrollment_with_a_ready_key",
        enrollment_with_a_ready_key,
    ),
    (
        "facade::deny_and_deny_with_reasons",
        deny_and_deny_with_reasons,
    ),
    (
        "facade::number_matching_wrong_then_right",
        number_matching_wrong_then_right,
    ),
    ("facade::code_to_phone", code_to_phone),
    (
        "facade::notification_and_poll_are_one_request",
        notification_and_poll_are_one_request,
    ),
    ("facade::the_code_is_the_fallback", the_code_is_the_fallback),
    (
        "facade::a_backup_moves_codes_and_lists_push_tokens_to_enroll_again",
        a_backup_moves_codes_and_lists_push_tokens_to_enroll_again,
    ),
    ("facade::hotp_from_privacyidea", hotp_from_privacyidea),
    (
        "facade::passwordless_needs_number_matching_and_unlock",
        passwordless_needs_number_matching_and_unlock,
    ),
    (
        "facade::a_replaced_phone_enrolls_again",
        a_replaced_phone_enrolls_again,
    ),
    (
        "facade::nothing_secret_reaches_the_logger",
        nothing_secret_reaches_the_logger,
    ),
];

fn main() -> ExitCode {
    suite::run(&Suite {
        cases: CASES,
        alone: &[],
        default_threads: Some(1),
    })
}
