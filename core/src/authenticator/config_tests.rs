//! What is fixed at open and what the facade keeps straight around the network, with a scripted
//! transport instead of a server: a scan's `ttl` runs from the scan, an enrollment that cannot
//! be stored leaves no device key, each push server's clock corrects only its own requests and
//! the codes it checks, and another connection's changes are seen on the next call.

use std::sync::{Arc, Mutex};

use super::{AuthError, Authenticator, CodeClock, Config, DeviceKeys, PlatformDeviceKeys};
use crate::clock::FixedClock;
use crate::policy::Platform;
use crate::push::tests::support::{
    ScriptedTransport, device_key, json_response, pkcs1_of, server_key,
};
use crate::push::{DeviceKey, HttpRequest, HttpResponse, HttpTransport, PushError, TransportError};
use crate::vault::FileKeyStore;

pub(super) const NOW: i64 = 1_700_000_000;
pub(super) const SERIAL: &str = "PIPU0000CONF";

pub(super) fn enrollment_uri(ttl_minutes: u32) -> String {
    format!(
        "otpauth://pipush/{SERIAL}?url=https%3A//pi.example/ttype/push&ttl={ttl_minutes}&issuer=privacyIDEA\
         &enrollment_credential=0123456789abcdef&v=1&serial={SERIAL}&sslverify=1&poll_only=True"
    )
}

/// privacyIDEA's answer to a registration, with `server_key()` as its key.
pub(super) fn registered() -> HttpResponse {
    let key = data_encoding::BASE64.encode(&pkcs1_of(server_key()));
    json_response(
        &format!(
            r#"{{"result":{{"status":true,"value":true}},"detail":{{"public_key":"{key}","rollout_state":"enrolled","serial":"{SERIAL}"}}}}"#
        ),
        &httpdate::fmt_http_date(crate::push::tests::support::t(NOW as u64).to_system()),
    )
}

pub(super) struct Vault {
    pub(super) dir: tempfile::TempDir,
    pub(super) clock: Arc<FixedClock>,
}

impl Vault {
    pub(super) fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        FileKeyStore::create(&dir.path().join("key")).unwrap();
        Vault {
            dir,
            clock: Arc::new(FixedClock::new(NOW)),
        }
    }

    pub(super) fn open(
        &self,
        device_keys: DeviceKeys,
        transport: Arc<dyn HttpTransport>,
    ) -> Authenticator {
        self.open_with(device_keys, transport, 0)
    }

    /// Opened keeping `spare` device keys ready.
    pub(super) fn open_with(
        &self,
        device_keys: DeviceKeys,
        transport: Arc<dyn HttpTransport>,
        spare: usize,
    ) -> Authenticator {
        let store = FileKeyStore::open(&self.dir.path().join("key")).unwrap();
        let config = Config {
            clock: self.clock.clone(),
            platform: Platform::Android,
            device_keys,
            transport,
            logger: Arc::new(crate::log::NoLogger),
            spare_device_keys: spare,
        };
        Authenticator::open_or_create(&self.dir.path().join("vault.sqlite"), &store, config)
            .unwrap()
    }

    pub(super) fn open_offline(&self) -> Authenticator {
        self.open(
            DeviceKeys::Software { bits: 2048 },
            ScriptedTransport::new(Vec::new()),
        )
    }
}

/// Platform keys played by a software key, recording what was deleted.
#[derive(Default)]
struct RecordingKeys {
    deleted: Mutex<Vec<String>>,
}

impl PlatformDeviceKeys for RecordingKeys {
    fn generate(&self, _alias: &str) -> Result<Vec<u8>, PushError> {
        device_key().public_key_spki_der()
    }
    fn sign(&self, _alias: &str, message: &[u8]) -> Result<Vec<u8>, PushError> {
        device_key().sign_pkcs1_sha256(message)
    }
    fn delete(&self, alias: &str) -> Result<(), PushError> {
        self.deleted.lock().unwrap().push(alias.to_owned());
        Ok(())
    }
}

/// A transport that runs `hook` when the first request arrives, then answers from a script.
pub(super) struct HookedTransport {
    pub(super) hook: Mutex<Option<Box<dyn FnOnce() + Send>>>,
    pub(super) inner: Arc<ScriptedTransport>,
}

#[async_trait::async_trait]
impl HttpTransport for HookedTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let hook = self.hook.lock().unwrap().take();
        if let Some(hook) = hook {
            hook();
        }
        self.inner.send(request).await
    }
}

pub(super) fn run<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

#[test]
fn software_key_sizes_are_checked_at_open() {
    let v = Vault::new();
    let store = FileKeyStore::open(&v.dir.path().join("key")).unwrap();
    let mut config = Config::offline(v.clock.clone());
    config.device_keys = DeviceKeys::Software { bits: 1024 };
    let err = Authenticator::open_or_create(&v.dir.path().join("vault.sqlite"), &store, config)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "software_key_bits: 1024 is not supported (use 2048, 3072 or 4096)"
    );
}

#[test]
fn an_enrollment_qr_code_expires_from_when_it_was_scanned() {
    let v = Vault::new();
    let transport = ScriptedTransport::new(vec![Ok(registered())]);
    let auth = v.open(DeviceKeys::Software { bits: 2048 }, transport.clone());
    let scanned = auth.scan_push_enrollment(&enrollment_uri(1)).unwrap();
    assert_eq!(
        scanned.scanned_at,
        crate::push::tests::support::t(NOW as u64)
    );
    // The user looked at the confirmation screen for 61 s.
    v.clock.set(NOW + 61);
    let err = run(auth.enroll_push(scanned.clone(), None, None)).unwrap_err();
    assert!(
        matches!(
            err,
            AuthError::Push(PushError::EnrollmentExpired { ttl_minutes: 1 })
        ),
        "{err}"
    );
    assert!(transport.sent().is_empty(), "nothing was sent");
    // Within the minute it enrolls.
    v.clock.set(NOW + 59);
    let info = run(auth.enroll_push(scanned, None, None)).unwrap();
    assert_eq!(info.push_serial.as_deref(), Some(SERIAL));
    assert_eq!(transport.sent().len(), 1);
}

#[test]
fn an_enrollment_that_cannot_be_stored_deletes_the_platform_key_and_says_so() {
    let v = Vault::new();
    let setup = v.open_offline();
    let added = setup
        .add_uri("otpauth://totp/Example:bob?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        .unwrap();
    let bob = added[0].info().id.clone();
    // While the registration is on its way, another process deletes the account the token
    // was to join.
    let other = v.open_offline();
    let doomed = bob.to_string();
    let transport = Arc::new(HookedTransport {
        hook: Mutex::new(Some(Box::new(move || {
            other.delete(&doomed).unwrap();
        }))),
        inner: ScriptedTransport::new(vec![Ok(registered())]),
    });
    let keys = Arc::new(RecordingKeys::default());
    let auth = v.open(DeviceKeys::Platform(keys.clone()), transport);
    let scanned = auth.scan_push_enrollment(&enrollment_uri(10)).unwrap();
    let err = run(auth.enroll_push(scanned, None, Some(bob.as_str()))).unwrap_err();
    assert!(
        matches!(err, AuthError::EnrollmentNotStored { .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "push token {SERIAL} was registered with the server but could not be stored here \
             (no account with id {bob}); the server may keep a stale token: ask for a new \
             enrollment QR code"
        )
    );
    assert_eq!(*keys.deleted.lock().unwrap(), vec![bob.to_string()]);
    assert!(auth.accounts().unwrap().is_empty());
}

#[test]
fn a_push_servers_clock_corrects_its_own_codes_and_never_the_users_offset() {
    let v = Vault::new();
    // Registration, then a poll whose Date header is 40 s ahead of this device.
    let ahead = json_response(
        r#"{"result":{"status":true,"value":[]}}"#,
        &httpdate::fmt_http_date(crate::push::tests::support::t(NOW as u64 + 40).to_system()),
    );
    let transport = ScriptedTransport::new(vec![Ok(registered()), Ok(ahead)]);
    let auth = v.open(DeviceKeys::Software { bits: 2048 }, transport.clone());
    auth.set_clock_offset(-3).unwrap();
    let both = auth
        .add_uri("otpauth://totp/PI:carol?secret=JBSWY3DPEHPK3PXP&issuer=PI")
        .unwrap()[0]
        .info()
        .id
        .clone();
    let plain = auth
        .add_uri("otpauth://totp/Example:dave?secret=KRSXG5CTMVRXEZLU&issuer=Example")
        .unwrap()[0]
        .info()
        .id
        .clone();
    let scanned = auth.scan_push_enrollment(&enrollment_uri(10)).unwrap();
    run(auth.enroll_push(scanned, None, Some(both.as_str()))).unwrap();
    let outcome = run(auth.check_pending()).unwrap();
    assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
    assert_eq!(outcome.server_clocks.len(), 1);
    assert_eq!(outcome.server_clocks[0].server, "https://pi.example");
    let ms = outcome.server_clocks[0].offset_ms;
    assert!((40_000..=40_500).contains(&ms), "{ms}");
    let seconds = (ms as f64 / 1000.0).round() as i64;

    let codes = auth.codes(None, None).unwrap();
    let of =
        |id: &crate::account::AccountId| codes.iter().find(|c| c.id == *id).unwrap().clock_offset;
    assert_eq!(of(&both), CodeClock::Server(seconds));
    assert_eq!(of(&plain), CodeClock::User(-3));
    assert_eq!(
        auth.clock_offset().unwrap(),
        -3,
        "the user's offset is untouched"
    );
    // Persisted: a second handle (another process) uses the same correction.
    let again = v.open_offline();
    let codes = again.codes(None, None).unwrap();
    assert_eq!(
        codes.iter().find(|c| c.id == both).unwrap().clock_offset,
        CodeClock::Server(seconds)
    );
}

#[test]
fn another_connections_changes_are_seen_on_the_next_call() {
    let v = Vault::new();
    let app = v.open_offline();
    let cli = v.open_offline();
    assert!(app.accounts().unwrap().is_empty());
    let added = cli
        .add_uri("otpauth://totp/Example:erin?secret=JBSWY3DPEHPK3PXP&issuer=Example")
        .unwrap();
    let erin = added[0].info().id.clone();
    assert_eq!(app.accounts().unwrap().len(), 1);
    assert_eq!(app.codes(None, None).unwrap().len(), 1);
    cli.set_clock_offset(7).unwrap();
    assert_eq!(app.clock_offset().unwrap(), 7);
    cli.rename(erin.as_str(), None, Some("erin@work".into()))
        .unwrap();
    assert_eq!(app.account(erin.as_str()).unwrap().label, "erin@work");
    cli.delete(erin.as_str()).unwrap();
    assert!(app.accounts().unwrap().is_empty());
}

#[test]
fn the_passwordless_limit_counts_holders_another_connection_added() {
    let v = Vault::new();
    let app = v.open_offline();
    let a = app
        .add_uri("otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP&issuer=A")
        .unwrap()[0]
        .info()
        .id
        .clone();
    let b = app
        .add_uri("otpauth://totp/B:b?secret=KRSXG5CTMVRXEZLU&issuer=B")
        .unwrap()[0]
        .info()
        .id
        .clone();
    let cli = v.open_offline();
    cli.enable_passwordless(a.as_str(), Platform::Android)
        .unwrap();
    // Android allows one: the app's handle, loaded before, must still refuse a second.
    let err = app
        .enable_passwordless(b.as_str(), Platform::Android)
        .unwrap_err();
    assert!(matches!(err, AuthError::Policy(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "android allows passwordless for 1 account; A (a) already has it: turn it off there first, or move it"
    );
    // Moving it is one transaction, and the holder must hold it now.
    app.move_passwordless(a.as_str(), b.as_str(), Platform::Android)
        .unwrap();
    let err = cli
        .move_passwordless(a.as_str(), b.as_str(), Platform::Android)
        .unwrap_err();
    assert!(matches!(err, AuthError::Policy(_)), "{err}");
    let holders: Vec<_> = cli
        .accounts()
        .unwrap()
        .into_iter()
        .filter(|i| i.passwordless)
        .map(|i| i.id)
        .collect();
    assert_eq!(holders, vec![b]);
}

/// The ISO timestamp a poll was signed with, as Unix seconds.
fn poll_timestamp(request: &HttpRequest) -> i64 {
    let query = request.url.split_once('?').unwrap().1;
    let stamp = url::form_urlencoded::parse(query.as_bytes())
        .find(|(name, _)| name == "timestamp")
        .unwrap()
        .1
        .into_owned();
    let t = humantime::parse_rfc3339(&stamp).unwrap();
    t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[test]
fn each_poll_is_timestamped_on_its_own_servers_clock() {
    let v = Vault::new();
    let date = |offset: i64| {
        httpdate::fmt_http_date(crate::push::tests::support::t((NOW + offset) as u64).to_system())
    };
    let empty = r#"{"result":{"status":true,"value":[]}}"#;
    let mut second = registered();
    second.body = String::from_utf8(second.body)
        .unwrap()
        .replace(SERIAL, "PIPU0000TWO")
        .into_bytes();
    let transport = ScriptedTransport::new(vec![
        Ok(registered()),
        Ok(second),
        // First round: the servers are 10 s ahead and 20 s behind.
        Ok(json_response(empty, &date(10))),
        Ok(json_response(empty, &date(-20))),
        Ok(json_response(empty, &date(10))),
        Ok(json_response(empty, &date(-20))),
    ]);
    let auth = v.open(DeviceKeys::Software { bits: 2048 }, transport.clone());
    let one = auth.scan_push_enrollment(&enrollment_uri(10)).unwrap();
    run(auth.enroll_push(one, None, None)).unwrap();
    let two = enrollment_uri(10)
        .replace(SERIAL, "PIPU0000TWO")
        .replace("pi.example", "pi2.example%3A8443");
    let two = auth.scan_push_enrollment(&two).unwrap();
    run(auth.enroll_push(two, None, None)).unwrap();

    run(auth.check_pending()).unwrap();
    let outcome = run(auth.check_pending()).unwrap();
    // Date headers have whole seconds: the offset is the header plus half a second, less
    // half the (scripted, near-instant) round trip.
    let clocks: Vec<(&str, i64)> = outcome
        .server_clocks
        .iter()
        .map(|c| (c.server.as_str(), c.offset_ms))
        .collect();
    assert_eq!(clocks.len(), 2, "{clocks:?}");
    assert_eq!(clocks[0].0, "https://pi.example");
    assert!((10_000..=10_500).contains(&clocks[0].1), "{clocks:?}");
    assert_eq!(clocks[1].0, "https://pi2.example:8443");
    assert!((-20_000..=-19_500).contains(&clocks[1].1), "{clocks:?}");
    // The second round's polls were stamped with what the first round learnt, per server.
    let sent = transport.sent();
    let stamp_of = |host: &str| {
        sent.iter()
            .rev()
            .find(|r| r.url.contains(host))
            .map(poll_timestamp)
            .unwrap()
    };
    assert_eq!(stamp_of("//pi.example/"), NOW + 10);
    assert_eq!(stamp_of("//pi2.example:8443/"), NOW - 20);
    assert_eq!(
        auth.clock_offset().unwrap(),
        0,
        "the user's offset is untouched"
    );
}

#[test]
fn a_notification_goes_in_as_the_platforms_string_map() {
    use crate::push::tests::support::ChallengeBuilder;
    let v = Vault::new();
    let transport = ScriptedTransport::new(vec![Ok(registered())]);
    let auth = v.open(DeviceKeys::Software { bits: 2048 }, transport);
    let scanned = auth.scan_push_enrollment(&enrollment_uri(10)).unwrap();
    run(auth.enroll_push(scanned, None, None)).unwrap();
    // What FCM hands `onMessageReceived` as `RemoteMessage.data`: every value a string.
    let signed = ChallengeBuilder::new()
        .set("serial", SERIAL)
        .signed_by(server_key());
    let data: Vec<(String, String)> = signed
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let info = auth
        .handle_notification_data(data.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap();
    assert_eq!(info.serial, SERIAL);
    assert_eq!(info.question, "Login for alice?");
    // A tampered map is refused as forged, like its JSON form.
    let mut tampered = data.clone();
    for (k, v) in &mut tampered {
        if k == "question" {
            *v = "Login for mallory?".into();
        }
    }
    let err = auth
        .handle_notification_data(tampered.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .unwrap_err();
    assert!(
        matches!(err, AuthError::Push(PushError::BadSignature { .. })),
        "{err}"
    );
}

#[test]
fn a_platform_public_key_is_taken_as_spki_or_as_bare_pkcs1() {
    use crate::push::keys::spki_from_platform_der;
    let spki = device_key().public_key_spki_der().unwrap();
    assert_eq!(spki_from_platform_der(&spki).unwrap(), spki);
    // The iOS Keychain exports the PKCS#1 RSAPublicKey alone: the core wraps it.
    assert_eq!(
        spki_from_platform_der(&pkcs1_of(device_key())).unwrap(),
        spki
    );
    let err = spki_from_platform_der(b"\x30\x03\x02\x01\x01").unwrap_err();
    assert_eq!(
        err.to_string(),
        "device key: the platform key store returned a public key that is neither SPKI nor PKCS#1 RSA DER"
    );
}

#[test]
fn a_refused_configuration_leaves_no_vault_file_behind() {
    let v = Vault::new();
    let store = FileKeyStore::open(&v.dir.path().join("key")).unwrap();
    let mut config = Config::offline(v.clock.clone());
    config.device_keys = DeviceKeys::Software { bits: 0 };
    let path = v.dir.path().join("vault.sqlite");
    let err = Authenticator::open_or_create(&path, &store, config).unwrap_err();
    assert_eq!(
        err.to_string(),
        "software_key_bits: 0 is not supported (use 2048, 3072 or 4096)"
    );
    assert!(!path.exists());
}

#[test]
fn a_used_hotp_account_added_again_is_recognised() {
    let v = Vault::new();
    let auth = v.open_offline();
    let uri = "otpauth://hotp/Example:hal?secret=JBSWY3DPEHPK3PXP&issuer=Example&counter=1";
    let first = auth.add_uri(uri).unwrap();
    let id = first[0].info().id.clone();
    auth.next_hotp(id.as_str()).unwrap();
    auth.next_hotp(id.as_str()).unwrap();
    // The same QR code (or an export made before) again: the counter moved on, the account is
    // the same, and its counter is not set back.
    let again = auth.add_uri(uri).unwrap();
    assert!(matches!(&again[0], super::Added::AlreadyPresent(info) if info.id == id));
    assert_eq!(auth.accounts().unwrap().len(), 1);
    assert_eq!(auth.accounts().unwrap()[0].counter, Some(3));
}
