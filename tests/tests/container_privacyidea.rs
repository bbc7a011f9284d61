//! privacyIDEA 3.14 smartphone containers through the `Authenticator` facade (what the CLI and
//! the FFI call), against a real server on 127.0.0.1: each phone is its own vault, each case its
//! own user; codes are checked with the relying party's `/validate/check`, so "the old phone's
//! codes stop working" is the server's word, not ours.
//!
//! It prints the wall-clock time of a registration with its first sync, and of the first and a
//! later sync of a container of 20 tokens, for the closing notes.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use authcore::authenticator::{
    AuthError, Authenticator, Config, DeviceKeys, ErrorKind, Registered,
};
use authcore::clock::{Clock, SystemClock};
use authcore::container::DeviceInfo;
use authcore::log::NoLogger;
use authcore::policy::Platform;
use authcore::push::{HttpRequest, HttpResponse, HttpTransport, TransportError};
use authcore::vault::FileKeyStore;
use authcore_http::ReqwestTransport;
use authcore_tests::privacyidea::{PrivacyIdea, user_password};
use authcore_tests::suite::{self, Case, Failed, Outcome, Suite, block_on};

/// The real transport, which can lose the answers of the next N sync requests after the server
/// has processed them: what a phone that dies (or loses the network) mid-sync sees.
struct Lossy {
    inner: ReqwestTransport,
    lose_syncs: AtomicUsize,
    /// Sends the next N sync requests twice (a replay by someone on the path) and hands the
    /// phone the second answer.
    replay_syncs: AtomicUsize,
}

#[async_trait::async_trait]
impl HttpTransport for Lossy {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let lose = request.url.ends_with("/container/synchronize")
            && self
                .lose_syncs
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        let replay = request.url.ends_with("/container/synchronize")
            && self
                .replay_syncs
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if replay {
            let _first = self.inner.send(request.clone()).await;
        }
        let response = self.inner.send(request).await;
        if lose {
            return Err(TransportError::Timeout);
        }
        response
    }
}

struct Phone {
    _dir: tempfile::TempDir,
    auth: Authenticator,
    transport: Arc<Lossy>,
}

impl Phone {
    fn new() -> Result<Phone, Failed> {
        let dir = tempfile::tempdir()?;
        let store = FileKeyStore::create(&dir.path().join("key"))?;
        let transport = Arc::new(Lossy {
            inner: ReqwestTransport::new()?,
            lose_syncs: AtomicUsize::new(0),
            replay_syncs: AtomicUsize::new(0),
        });
        let config = Config {
            clock: Arc::new(SystemClock),
            platform: Platform::Android,
            device_keys: DeviceKeys::Software { bits: 2048 },
            transport: transport.clone(),
            logger: Arc::new(NoLogger),
            spare_device_keys: 0,
        };
        let auth = Authenticator::create(&dir.path().join("vault.sqlite"), &store, None, config)?;
        Ok(Phone {
            _dir: dir,
            auth,
            transport,
        })
    }

    fn register(&self, qr: &str, passphrase: Option<&str>) -> Result<Registered, AuthError> {
        let scanned = self.auth.scan_container(qr)?;
        let device = DeviceInfo {
            brand: Some("Acme".to_owned()),
            model: Some("Phone Ä1".to_owned()),
        };
        block_on(
            self.auth
                .register_container(scanned, passphrase, device, None),
        )
    }

    /// The container's key and server as the vault holds them, for protocol-level calls the
    /// facade would not make.
    fn raw_container(
        &self,
        serial: &str,
    ) -> Result<
        (
            authcore::container::ContainerServer,
            authcore::container::ContainerKey,
        ),
        Failed,
    > {
        let store = FileKeyStore::open(&self._dir.path().join("key"))?;
        let vault = authcore::vault::Vault::open(
            &self._dir.path().join("vault.sqlite"),
            authcore::vault::Unlock::KeyStore(&store),
        )?;
        let stored = vault
            .containers()?
            .into_iter()
            .find(|c| c.serial == serial)
            .ok_or("no such container")?;
        let (pkcs8, _) = vault.container_keys(serial)?;
        let key = authcore::container::ContainerKey::from_pkcs8(&pkcs8)?;
        Ok((
            authcore::container::ContainerServer {
                serial: stored.serial,
                url: stored.url,
                ssl_verify: stored.ssl_verify,
            },
            key,
        ))
    }

    fn sync(&self, serial: &str) -> Result<authcore::authenticator::SyncReport, AuthError> {
        block_on(self.auth.sync_container(serial, None))
    }

    /// The current code of the account holding token `serial`.
    fn code(&self, serial: &str) -> Result<String, Failed> {
        let id = self.account_of(serial)?;
        let codes = self.auth.codes(Some(&id), None)?;
        let code = codes
            .into_iter()
            .find(|c| c.id.as_str() == id)
            .ok_or("no code")?;
        Ok(code.code.to_string())
    }

    fn account_of(&self, token_serial: &str) -> Result<String, Failed> {
        for c in self.auth.containers()? {
            for t in c.tokens {
                if t.token_serial == token_serial {
                    return Ok(t.account_id);
                }
            }
        }
        Err(format!("no account holds {token_serial}").into())
    }
}

fn pin(user: &str) -> String {
    format!("{user}-pin")
}

/// Whether the server accepts `code` for `user` right now.
fn accepted(pi: &PrivacyIdea, user: &str, code: &str) -> Result<bool, Failed> {
    Ok(pi
        .validate_check(user, &format!("{}{code}", pin(user)))?
        .accepted())
}

/// A container for `user` with a TOTP and a HOTP token; returns (container, totp, hotp).
fn container_with_codes(pi: &PrivacyIdea, user: &str) -> Result<(String, String, String), Failed> {
    let container = new_container(pi, user)?;
    let totp = pi.init_totp_token(user, &pin(user))?.serial;
    let hotp = pi.init_hotp_token(user, &pin(user))?.serial;
    pi.add_to_container(&container, &totp)?;
    pi.add_to_container(&container, &hotp)?;
    Ok((container, totp, hotp))
}

/// A container for `user`, with the base container policy in place.
fn new_container(pi: &PrivacyIdea, user: &str) -> Result<String, Failed> {
    pi.enable_containers()?;
    Ok(pi.init_container(user)?)
}

fn kind(e: &AuthError) -> ErrorKind {
    e.kind()
}

fn register_sync_and_sign_in(pi: &PrivacyIdea) -> Outcome {
    let user = "alice";
    let (container, totp, hotp) = container_with_codes(pi, user)?;
    let day = pi.init_daypassword_token(user, &pin(user))?;
    pi.add_to_container(&container, &day)?;
    let push = pi.init_push_token(user, &pin(user))?.serial;
    pi.add_to_container(&container, &push)?;
    let phone = Phone::new()?;
    let qr = pi.container_qr(&container, &[])?;
    let started = Instant::now();
    let registered = phone.register(&qr, None)?;
    eprintln!(
        "  register + first sync (4 tokens, one push with a 2048-bit key): {} ms",
        started.elapsed().as_millis()
    );
    assert_eq!(registered.sync_error, None);
    let report = registered.sync.ok_or("no sync")?;
    assert_eq!(report.added.len(), 4, "{report:?}");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(pi.container_registration_state(&container)?, "registered");
    let info = phone.auth.container(&container)?;
    assert_eq!(info.tokens.len(), 4);
    let day_info = phone.auth.account(&phone.account_of(&day)?)?;
    assert_eq!(
        day_info.period,
        Some(86_400),
        "a DayPassword is a TOTP of one day"
    );
    // Every delivered secret works at the server.
    assert!(accepted(pi, user, &phone.code(&totp)?)?, "TOTP");
    let hotp_id = phone.account_of(&hotp)?;
    let next = phone.auth.next_hotp(&hotp_id)?;
    assert!(accepted(pi, user, &next.code)?, "HOTP");
    assert!(accepted(pi, user, &phone.code(&day)?)?, "DayPassword");
    // A second sync lists every token: nothing new, nothing re-keyed, the codes still work.
    let again = phone.sync(&container)?;
    assert!(again.added.is_empty() && again.rekeyed.is_empty() && again.removed.is_empty());
    assert_eq!(again.unchanged, 4);
    let next = phone.auth.next_hotp(&hotp_id)?;
    assert!(
        accepted(pi, user, &next.code)?,
        "HOTP after the second sync"
    );
    // The push token works: a sign-in approved by poll.
    let (transaction, _) = pi.trigger(user, &pin(user))?;
    let pending = block_on(phone.auth.check_pending())?;
    let request = pending.requests.first().ok_or("no push request")?;
    block_on(phone.auth.answer_push(
        &request.nonce,
        authcore::authenticator::Decision::Approve { answer: None },
        authcore::authenticator::UserPresence::NotVerified,
    ))?;
    assert!(pi.finalize(user, &transaction, &pin(user))?.accepted());
    // A token the admin takes out of the container leaves the phone at the next sync.
    pi.admin_post_form(
        &format!("/container/{container}/remove"),
        &[("serial", &day)],
    )?;
    let after = phone.sync(&container)?;
    assert_eq!(after.removed.len(), 1, "{after:?}");
    assert_eq!(phone.auth.container(&container)?.tokens.len(), 3);
    Ok(())
}

fn a_registration_is_used_once(pi: &PrivacyIdea) -> Outcome {
    let (container, _, _) = container_with_codes(pi, "bob")?;
    let qr = pi.container_qr(&container, &[])?;
    Phone::new()?.register(&qr, None)?;
    let second = Phone::new()?.register(&qr, None).expect_err("second");
    assert_eq!(kind(&second), ErrorKind::ServerRefused, "{second}");
    assert_eq!(
        second.to_string(),
        format!(
            "container {container}: the server refused (ERR3000): ERR3000: Cannot finalize \
             registration: the container is already registered. Re-register it via the rollover flow."
        )
    );
    Ok(())
}

fn transfer_to_a_new_phone(pi: &PrivacyIdea) -> Outcome {
    let user = "carol";
    let (container, totp, _) = container_with_codes(pi, user)?;
    let old = Phone::new()?;
    old.register(&pi.container_qr(&container, &[])?, None)?;
    let old_code = old.code(&totp)?;
    let qr = block_on(old.auth.container_transfer_qr(&container))?;
    assert!(qr.starts_with("pia://container/"), "{qr}");
    assert_eq!(pi.container_registration_state(&container)?, "rollover");
    let new = Phone::new()?;
    let registered = new.register(&qr, None)?;
    let report = registered.sync.ok_or("no sync")?;
    assert_eq!(report.added.len(), 2, "{report:?}");
    assert!(!accepted(pi, user, &old_code)?, "the old phone's code died");
    assert!(
        accepted(pi, user, &new.code(&totp)?)?,
        "the new phone's works"
    );
    let moved = old.sync(&container).expect_err("moved");
    assert_eq!(kind(&moved), ErrorKind::ContainerMoved, "{moved}");
    assert!(
        old.auth.container(&container)?.last_error.is_some(),
        "the failure is kept"
    );
    assert_eq!(old.auth.forget_container(&container, true)?, 2);
    assert!(old.auth.accounts()?.is_empty());
    Ok(())
}

fn lost_phone_rolled_over_by_the_admin(pi: &PrivacyIdea) -> Outcome {
    let user = "dave";
    let (container, totp, _) = container_with_codes(pi, user)?;
    let lost = Phone::new()?;
    lost.register(&pi.container_qr(&container, &[])?, None)?;
    let lost_code = lost.code(&totp)?;
    let qr = pi.container_qr(&container, &[("rollover", "1")])?;
    let new = Phone::new()?;
    new.register(&qr, None)?;
    assert!(
        !accepted(pi, user, &lost_code)?,
        "the lost phone's code died"
    );
    assert!(accepted(pi, user, &new.code(&totp)?)?);
    assert_eq!(
        kind(&lost.sync(&container).expect_err("moved")),
        ErrorKind::ContainerMoved
    );
    Ok(())
}

fn renew_every_secret_on_this_phone(pi: &PrivacyIdea) -> Outcome {
    let user = "erin";
    let (container, totp, _) = container_with_codes(pi, user)?;
    let phone = Phone::new()?;
    phone.register(&pi.container_qr(&container, &[])?, None)?;
    let before = phone.code(&totp)?;
    let ids_before = phone.auth.containers()?[0].tokens.clone();
    // The renewal's sync answer is lost once: the next sync still brings the new secrets.
    phone.transport.lose_syncs.store(1, Ordering::SeqCst);
    let lost = block_on(phone.auth.renew_container(&container, None, None)).expect_err("lost");
    assert_eq!(kind(&lost), ErrorKind::Network, "{lost}");
    let report = phone.sync(&container)?;
    assert_eq!(report.rekeyed.len(), 2, "{report:?}");
    assert_eq!(
        phone.auth.containers()?[0].tokens,
        ids_before,
        "same accounts, new secrets"
    );
    let after = phone.code(&totp)?;
    assert_ne!(before, after);
    assert!(!accepted(pi, user, &before)?, "the old secret died");
    assert!(accepted(pi, user, &after)?);
    // And a renewal that goes through in one go.
    let report = block_on(phone.auth.renew_container(&container, None, None))?;
    assert_eq!(report.rekeyed.len(), 2);
    Ok(())
}

fn unregister_and_delete_leave_codes_valid(pi: &PrivacyIdea) -> Outcome {
    let user = "frank";
    let (container, _, _) = container_with_codes(pi, user)?;
    let phone = Phone::new()?;
    phone.register(&pi.container_qr(&container, &[])?, None)?;
    let done = block_on(phone.auth.unregister_container(&container))?;
    assert!(!done.already_gone);
    assert_eq!(done.accounts_kept, 2);
    assert!(phone.auth.containers()?.is_empty());
    // What the user must be told: the codes still work at the server.
    // The TOTP account (the server delivers the tokens in no fixed order).
    let id = phone
        .auth
        .accounts()?
        .into_iter()
        .find(|a| a.kind == authcore::account::CredentialKind::Totp)
        .ok_or("no TOTP account kept")?
        .id
        .to_string();
    let code = phone
        .auth
        .codes(Some(&id), None)?
        .remove(0)
        .code
        .to_string();
    assert!(
        accepted(pi, user, &code)?,
        "unregister does not invalidate codes"
    );
    // A server that already forgot the container: unregistering is done all the same.
    let again = Phone::new()?;
    let (container2, _, _) = container_with_codes(pi, "grace")?;
    again.register(&pi.container_qr(&container2, &[])?, None)?;
    pi.terminate_container(&container2)?;
    assert_eq!(
        kind(&again.sync(&container2).expect_err("gone")),
        ErrorKind::ContainerGone
    );
    assert!(block_on(again.auth.unregister_container(&container2))?.already_gone);
    // Deleted on the server: ERR601, also "gone"; the tokens stay valid there.
    let third = Phone::new()?;
    let (container3, totp3, _) = container_with_codes(pi, "heidi")?;
    third.register(&pi.container_qr(&container3, &[])?, None)?;
    let code3 = third.code(&totp3)?;
    pi.delete_container(&container3)?;
    let gone = third.sync(&container3).expect_err("deleted");
    assert_eq!(kind(&gone), ErrorKind::ContainerGone, "{gone}");
    assert_eq!(
        gone.to_string(),
        format!("container {container3}: the server has no such container (ERR601)")
    );
    assert!(
        accepted(pi, "heidi", &code3)?,
        "delete does not invalidate codes"
    );
    Ok(())
}

fn policies_forbid_unregister_and_deletion(pi: &PrivacyIdea) -> Outcome {
    let user = "ivan";
    pi.set_container_user_policy(
        "ivan-locked",
        "disable_client_container_unregister, disable_client_token_deletion",
        user,
    )?;
    let (container, totp, _) = container_with_codes(pi, user)?;
    let phone = Phone::new()?;
    let registered = phone.register(&pi.container_qr(&container, &[])?, None)?;
    assert!(
        registered
            .container
            .policies
            .disable_client_container_unregister
    );
    let refused = block_on(phone.auth.unregister_container(&container)).expect_err("policy");
    assert_eq!(kind(&refused), ErrorKind::BadInput);
    assert_eq!(
        refused.to_string(),
        format!(
            "container {container}: the server's policy disable_client_container_unregister forbids this"
        )
    );
    // The server refuses it too (ERR303), when a phone does not check the policy itself.
    let (server, key) = phone.raw_container(&container)?;
    let client = authcore::push::PushClient::new(
        Arc::new(ReqwestTransport::new()?),
        authcore::push::PushClientConfig::default(),
    );
    let e = block_on(client.container_unregister(&server, &key, SystemClock.now()))
        .expect_err("the server's policy");
    assert_eq!(e.facts().server_code, Some(303), "{e}");
    let id = phone.account_of(&totp)?;
    let refused = phone.auth.delete(&id).expect_err("policy");
    assert_eq!(
        refused.to_string(),
        format!(
            "container {container}: the server's policy disable_client_token_deletion forbids this"
        )
    );
    assert_eq!(phone.auth.accounts()?.len(), 2, "nothing was deleted");
    Ok(())
}

fn passphrases_are_signed_as_utf8(pi: &PrivacyIdea) -> Outcome {
    let (container, _, _) = container_with_codes(pi, "judy")?;
    let passphrase = "Grüße € 🔑";
    let qr = pi.container_qr(
        &container,
        &[
            ("passphrase_prompt", "Your letter's code"),
            ("passphrase_response", passphrase),
        ],
    )?;
    let phone = Phone::new()?;
    let scanned = phone.auth.scan_container(&qr)?;
    assert_eq!(
        scanned.passphrase_prompt.as_deref(),
        Some("Your letter's code")
    );
    let missing = phone.register(&qr, None).expect_err("needs one");
    assert_eq!(kind(&missing), ErrorKind::BadInput);
    let wrong = phone.register(&qr, Some("Grusse")).expect_err("wrong");
    assert_eq!(kind(&wrong), ErrorKind::WrongPassword, "{wrong}");
    assert!(
        phone.auth.containers()?.is_empty(),
        "a refused registration keeps nothing"
    );
    let ok = phone.register(&qr, Some(passphrase))?;
    assert_eq!(ok.sync.ok_or("sync")?.added.len(), 2);
    // The user-store variant: the user's password, signed and sent.
    let user = "mallory";
    let (container, _, _) = container_with_codes(pi, user)?;
    let qr = pi.container_qr(&container, &[("passphrase_user", "1")])?;
    let phone = Phone::new()?;
    assert!(phone.auth.scan_container(&qr)?.send_passphrase);
    assert_eq!(
        kind(&phone.register(&qr, Some("not it")).expect_err("wrong")),
        ErrorKind::WrongPassword
    );
    phone.register(&qr, Some(&user_password(user)))?;
    Ok(())
}

fn the_first_sync_takes_over_tokens_already_here(pi: &PrivacyIdea) -> Outcome {
    let user = "niaj";
    pi.set_container_user_policy("niaj-takeover", "initially_add_tokens_to_container", user)?;
    let phone = Phone::new()?;
    // A HOTP token the phone got before containers, with no serial in its URI.
    let hotp = pi.init_hotp_token(user, &pin(user))?;
    let uri: String = hotp
        .uri
        .split('&')
        .filter(|p| !p.starts_with("serial="))
        .collect::<Vec<_>>()
        .join("&");
    let added = phone.auth.add_uri(&uri)?;
    let id = added[0].info().id.to_string();
    let container = new_container(pi, user)?;
    let registered = phone.register(&pi.container_qr(&container, &[])?, None)?;
    let report = registered.sync.ok_or("sync")?;
    assert_eq!(report.taken_over.len(), 1, "{report:?}");
    assert_eq!(report.taken_over[0].id.to_string(), id);
    assert!(report.added.is_empty());
    assert_eq!(
        phone.auth.container(&container)?.tokens[0].token_serial,
        hotp.serial
    );
    // Not re-keyed: the phone's own secret still signs in.
    let next = phone.auth.next_hotp(&id)?;
    assert!(accepted(pi, user, &next.code)?);
    Ok(())
}

fn a_lost_sync_answer_is_repaired(pi: &PrivacyIdea) -> Outcome {
    let user = "olivia";
    let (container, totp, _) = container_with_codes(pi, user)?;
    let phone = Phone::new()?;
    phone.transport.lose_syncs.store(1, Ordering::SeqCst);
    let registered = phone.register(&pi.container_qr(&container, &[])?, None)?;
    assert!(
        registered.sync_error.is_some(),
        "the first sync's answer was lost"
    );
    assert!(phone.auth.accounts()?.is_empty());
    let report = phone.sync(&container)?;
    assert_eq!(report.added.len(), 2);
    assert!(accepted(pi, user, &phone.code(&totp)?)?);
    Ok(())
}

fn a_replayed_sync_is_refused(pi: &PrivacyIdea) -> Outcome {
    let user = "rupert";
    let (container, totp, _) = container_with_codes(pi, user)?;
    let phone = Phone::new()?;
    phone.register(&pi.container_qr(&container, &[])?, None)?;
    // The same signed request sent twice: the server took the first, refuses the copy.
    phone.transport.replay_syncs.store(1, Ordering::SeqCst);
    let replayed = phone.sync(&container).expect_err("replay");
    assert_eq!(
        replayed.to_string(),
        format!(
            "container {container}: the server does not accept this phone's signature (ERR3002): \
             the container was moved to another phone (rollover), or the passphrase was wrong, or \
             the challenge expired: ERR3002: Could not verify signature!"
        )
    );
    // Nothing changed here, and the phone's own next sync goes through.
    assert_eq!(phone.sync(&container)?.unchanged, 2);
    assert!(
        accepted(pi, user, &phone.code(&totp)?)?,
        "the secret was not touched"
    );
    Ok(())
}

fn twenty_tokens(pi: &PrivacyIdea) -> Outcome {
    let user = "peggy";
    let container = new_container(pi, user)?;
    for _ in 0..20 {
        let serial = pi.init_totp_token(user, &pin(user))?.serial;
        pi.add_to_container(&container, &serial)?;
    }
    let phone = Phone::new()?;
    let qr = pi.container_qr(&container, &[])?;
    let started = Instant::now();
    let registered = phone.register(&qr, None)?;
    let first = started.elapsed();
    assert_eq!(registered.sync.ok_or("sync")?.added.len(), 20);
    let started = Instant::now();
    let again = phone.sync(&container)?;
    let later = started.elapsed();
    assert_eq!(again.unchanged, 20);
    eprintln!(
        "  20 tokens: register + first sync {} ms, a later sync {} ms",
        first.as_millis(),
        later.as_millis()
    );
    Ok(())
}

const CASES: &[(&str, Case<PrivacyIdea>)] = &[
    (
        "container::register_sync_and_sign_in",
        register_sync_and_sign_in,
    ),
    (
        "container::a_registration_is_used_once",
        a_registration_is_used_once,
    ),
    (
        "container::transfer_to_a_new_phone",
        transfer_to_a_new_phone,
    ),
    (
        "container::lost_phone_rolled_over_by_the_admin",
        lost_phone_rolled_over_by_the_admin,
    ),
    (
        "container::renew_every_secret_on_this_phone",
        renew_every_secret_on_this_phone,
    ),
    (
        "container::unregister_and_delete_leave_codes_valid",
        unregister_and_delete_leave_codes_valid,
    ),
    (
        "container::policies_forbid_unregister_and_deletion",
        policies_forbid_unregister_and_deletion,
    ),
    (
        "container::passphrases_are_signed_as_utf8",
        passphrases_are_signed_as_utf8,
    ),
    (
        "container::the_first_sync_takes_over_tokens_already_here",
        the_first_sync_takes_over_tokens_already_here,
    ),
    (
        "container::a_lost_sync_answer_is_repaired",
        a_lost_sync_answer_is_repaired,
    ),
    (
        "container::a_replayed_sync_is_refused",
        a_replayed_sync_is_refused,
    ),
    ("container::twenty_tokens", twenty_tokens),
];

fn main() -> ExitCode {
    suite::run(&Suite {
        cases: CASES,
        alone: &[],
        default_threads: Some(1),
    })
}
