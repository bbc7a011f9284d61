//! Spare device keys: the pool is filled after open, an enrollment takes its key (once, and
//! out of the vault before the registration is sent), the pool is refilled, closing does not
//! wait for a key being made, and a platform store that makes keys ahead gets the same.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use super::config_tests::{HookedTransport, NOW, SERIAL, Vault, enrollment_uri, registered, run};
use super::{Authenticator, Config, DeviceKeys, PlatformDeviceKeys};
use crate::account::AccountId;
use crate::push::tests::support::{ScriptedTransport, device_key};
use crate::push::{DeviceKey, HttpTransport, PushError, SoftwareDeviceKey};
use crate::secret::Secret;
use crate::time::UnixTime;
use crate::vault::{FileKeyStore, SpareKind, Unlock};

const SOFT: SpareKind = SpareKind::Software { bits: 2048 };

fn software() -> DeviceKeys {
    DeviceKeys::Software { bits: 2048 }
}

/// Waits (up to a minute: a debug build under load) until `auth` has `n` spares ready.
fn wait_for_spares(auth: &Authenticator, n: usize) {
    let started = Instant::now();
    while auth.spare_device_keys_ready().unwrap() != n {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no {n} spare key(s) after a minute"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The SPKI DER the (first) registration sent as `pubkey`.
fn registered_pubkey(transport: &ScriptedTransport) -> Vec<u8> {
    let sent = transport.sent();
    let pubkey = url::form_urlencoded::parse(&sent[0].body)
        .find(|(k, _)| k == "pubkey")
        .map(|(_, v)| v.into_owned())
        .unwrap();
    data_encoding::BASE64.decode(pubkey.as_bytes()).unwrap()
}

fn spki_of(pkcs8: &Secret) -> Vec<u8> {
    SoftwareDeviceKey::from_pkcs8(pkcs8.clone())
        .unwrap()
        .public_key_spki_der()
        .unwrap()
}

fn raw_vault(v: &Vault) -> crate::vault::Vault {
    let store = FileKeyStore::open(&v.dir.path().join("key")).unwrap();
    crate::vault::Vault::open(&v.dir.path().join("vault.sqlite"), Unlock::KeyStore(&store)).unwrap()
}

#[test]
fn the_pool_fills_after_open_an_enrollment_takes_its_key_and_it_is_refilled() {
    let v = Vault::new();
    // Filled in the background after open; kept sealed in the vault across a close.
    let auth = v.open_with(software(), ScriptedTransport::new(Vec::new()), 1);
    wait_for_spares(&auth, 1);
    drop(auth);
    let mut raw = raw_vault(&v);
    let spare = raw.take_spare_software_key(2048).unwrap().unwrap();
    raw.add_spare_software_key(2048, &spare, 1, UnixTime::from_secs(NOW))
        .unwrap();
    drop(raw);

    let transport = ScriptedTransport::new(vec![Ok(registered())]);
    let auth = v.open_with(software(), transport.clone(), 1);
    let scanned = auth.scan_push_enrollment(&enrollment_uri(10)).unwrap();
    let info = run(auth.enroll_push(scanned, None, None)).unwrap();
    assert_eq!(info.push_serial.as_deref(), Some(SERIAL));
    // The server got the spare's public key, and the token keeps the spare as its key.
    assert_eq!(registered_pubkey(&transport), spki_of(&spare));
    assert_eq!(
        auth.state()
            .unwrap()
            .vault
            .push_device_key(&info.id)
            .unwrap(),
        crate::vault::StoredDeviceKey::Software(spare.clone())
    );
    // The pool is refilled with a new key.
    wait_for_spares(&auth, 1);
    drop(auth);
    let next = raw_vault(&v)
        .take_spare_software_key(2048)
        .unwrap()
        .unwrap();
    assert_ne!(spki_of(&next), spki_of(&spare), "a key serves one token");
}

#[test]
fn a_spare_leaves_the_vault_before_the_registration_is_sent_and_never_returns() {
    let v = Vault::new();
    let mut raw = raw_vault_created(&v);
    raw.add_spare_software_key(2048, device_key().pkcs8(), 1, UnixTime::from_secs(NOW))
        .unwrap();
    // While the registration is on its way (the moment a crash would lose it), the spare is
    // already gone from the file: no later enrollment, in any process, can take it again.
    let seen_during = Arc::new(Mutex::new(None));
    let seen = seen_during.clone();
    let dir = v.dir.path().to_owned();
    let transport = Arc::new(HookedTransport {
        hook: Mutex::new(Some(Box::new(move || {
            let store = FileKeyStore::open(&dir.join("key")).unwrap();
            let other =
                crate::vault::Vault::open(&dir.join("vault.sqlite"), Unlock::KeyStore(&store))
                    .unwrap();
            *seen.lock().unwrap() = Some(other.spare_device_keys(SOFT).unwrap());
        }))),
        // The server refuses: the key it saw is not used again.
        inner: ScriptedTransport::new(Vec::new()),
    });
    let auth = v.open_with(software(), transport, 0);
    let scanned = auth.scan_push_enrollment(&enrollment_uri(10)).unwrap();
    run(auth.enroll_push(scanned, None, None)).unwrap_err();
    assert_eq!(*seen_during.lock().unwrap(), Some(0));
    assert_eq!(auth.spare_device_keys_ready().unwrap(), 0);
    assert_eq!(raw.spare_device_keys(SOFT).unwrap(), 0);

    // With none ready, an enrollment makes its key inline (a new one).
    let transport = ScriptedTransport::new(vec![Ok(registered())]);
    drop(auth);
    let auth = v.open_with(software(), transport.clone(), 0);
    let scanned = auth.scan_push_enrollment(&enrollment_uri(10)).unwrap();
    run(auth.enroll_push(scanned, None, None)).unwrap();
    assert_ne!(
        registered_pubkey(&transport),
        device_key().public_key_spki_der().unwrap()
    );
}

/// The vault file created (and a raw handle on it).
fn raw_vault_created(v: &Vault) -> crate::vault::Vault {
    drop(v.open_with(software(), ScriptedTransport::new(Vec::new()), 0));
    raw_vault(v)
}

/// A platform store that makes keys ahead, whose `generate` tells when it starts (the alias)
/// and then holds until the test opens its gate; `delete` reports the alias it was given.
struct GatedKeys {
    entered: Mutex<mpsc::Sender<String>>,
    gate: Mutex<mpsc::Receiver<()>>,
    returned: AtomicBool,
    deleted: Mutex<mpsc::Sender<String>>,
}

impl PlatformDeviceKeys for GatedKeys {
    fn generate(&self, alias: &str) -> Result<Vec<u8>, PushError> {
        let _ = self.entered.lock().unwrap().send(alias.to_owned());
        // Open, or the test is gone (its sender dropped).
        let _ = self.gate.lock().unwrap().recv();
        self.returned.store(true, Ordering::SeqCst);
        device_key().public_key_spki_der()
    }
    fn sign(&self, _alias: &str, message: &[u8]) -> Result<Vec<u8>, PushError> {
        device_key().sign_pkcs1_sha256(message)
    }
    fn delete(&self, alias: &str) -> Result<(), PushError> {
        let _ = self.deleted.lock().unwrap().send(alias.to_owned());
        Ok(())
    }
    fn prepare_ahead(&self) -> bool {
        true
    }
}

/// How long a step the test waits for may take before the test fails (a debug build under
/// load); a bound on hanging, not a measure of speed.
const STUCK: Duration = Duration::from_secs(60);

#[test]
fn closing_does_not_wait_for_a_key_being_made_and_the_key_is_not_kept() {
    let v = Vault::new();
    let (entered_tx, entered) = mpsc::channel();
    let (open_gate, gate) = mpsc::channel();
    let (deleted_tx, deleted) = mpsc::channel();
    let keys = Arc::new(GatedKeys {
        entered: Mutex::new(entered_tx),
        gate: Mutex::new(gate),
        returned: AtomicBool::new(false),
        deleted: Mutex::new(deleted_tx),
    });
    let auth = v.open_with(
        DeviceKeys::Platform(keys.clone()),
        ScriptedTransport::new(Vec::new()),
        1,
    );
    // The worker has counted the pool and is making a key, which it cannot finish until the
    // gate opens.
    let alias = entered
        .recv_timeout(STUCK)
        .expect("the worker never started making a spare");
    let (closed_tx, closed) = mpsc::channel();
    std::thread::spawn(move || {
        drop(auth);
        let _ = closed_tx.send(());
    });
    let close = closed.recv_timeout(STUCK);
    let still_making = !keys.returned.load(Ordering::SeqCst);
    // Opened in any case, so a close that does wait ends and the test fails instead of hanging.
    open_gate.send(()).unwrap();
    close.expect("close waited for the key being made");
    assert!(still_making, "the key was made before close returned");
    // The key finished after close is deleted, not kept in the vault.
    let gone = deleted
        .recv_timeout(STUCK)
        .expect("the key made after close was not deleted");
    assert_eq!(gone, alias);
    assert_eq!(
        raw_vault(&v)
            .spare_device_keys(SpareKind::Platform)
            .unwrap(),
        0
    );
}

#[test]
fn a_software_worker_keeps_nothing_after_close() {
    let v = Vault::new();
    drop(raw_vault_created(&v));
    let auth = v.open_with(software(), ScriptedTransport::new(Vec::new()), 1);
    drop(auth);
    // Whatever the worker was doing (counting, searching for primes), from here on it must
    // not touch the vault.
    let at_close = raw_vault(&v).spare_device_keys(SOFT).unwrap();
    // With the authenticator gone, the worker holds the only other handle on the clock, and
    // lets it go when its thread ends.
    let started = Instant::now();
    while Arc::strong_count(&v.clock) > 1 {
        assert!(
            started.elapsed() < STUCK,
            "the spare worker did not end after close"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(raw_vault(&v).spare_device_keys(SOFT).unwrap(), at_close);
}

#[test]
fn spares_follow_the_key_size_the_vault_is_opened_with() {
    let v = Vault::new();
    let mut raw = raw_vault_created(&v);
    raw.add_spare_software_key(2048, device_key().pkcs8(), 1, UnixTime::from_secs(NOW))
        .unwrap();
    let transport = ScriptedTransport::new(vec![Ok(registered())]);
    let auth = v.open_with(DeviceKeys::Software { bits: 3072 }, transport.clone(), 0);
    assert_eq!(auth.spare_device_keys_ready().unwrap(), 0);
    let scanned = auth.scan_push_enrollment(&enrollment_uri(10)).unwrap();
    run(auth.enroll_push(scanned, None, None)).unwrap();
    let sent = registered_pubkey(&transport);
    let public =
        <rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_der(&sent).unwrap();
    assert_eq!(rsa::traits::PublicKeyParts::size(&public) * 8, 3072);
    assert_eq!(
        raw.spare_device_keys(SOFT).unwrap(),
        1,
        "the 2048-bit spare waits"
    );
}

#[test]
fn prepare_makes_spares_in_the_foreground_up_to_the_count() {
    let v = Vault::new();
    let auth = v.open_with(software(), ScriptedTransport::new(Vec::new()), 0);
    assert_eq!(run(auth.prepare_device_keys(2)).unwrap(), 2);
    assert_eq!(run(auth.prepare_device_keys(1)).unwrap(), 2, "none removed");
    assert_eq!(
        run(auth.prepare_device_keys(0)).unwrap(),
        2,
        "0 only counts"
    );
    assert_eq!(
        run(auth.prepare_device_keys(9)).unwrap_err().to_string(),
        "count: 9 is more than 8"
    );
}

#[test]
fn a_pool_larger_than_the_maximum_is_refused_at_open() {
    let v = Vault::new();
    let store = FileKeyStore::open(&v.dir.path().join("key")).unwrap();
    let config = Config::offline(v.clock.clone()).with_spare_device_keys(9);
    let err = Authenticator::open_or_create(&v.dir.path().join("vault.sqlite"), &store, config)
        .unwrap_err();
    assert_eq!(err.to_string(), "spare_device_keys: 9 is more than 8");
}

/// A platform store that makes keys ahead (played by one software key), recording aliases.
#[derive(Default)]
struct PreparingKeys {
    generated: Mutex<Vec<String>>,
    deleted: Mutex<Vec<String>>,
}

impl PlatformDeviceKeys for PreparingKeys {
    fn generate(&self, alias: &str) -> Result<Vec<u8>, PushError> {
        self.generated.lock().unwrap().push(alias.to_owned());
        device_key().public_key_spki_der()
    }
    fn sign(&self, _alias: &str, message: &[u8]) -> Result<Vec<u8>, PushError> {
        device_key().sign_pkcs1_sha256(message)
    }
    fn delete(&self, alias: &str) -> Result<(), PushError> {
        self.deleted.lock().unwrap().push(alias.to_owned());
        Ok(())
    }
    fn prepare_ahead(&self) -> bool {
        true
    }
}

#[test]
fn a_platform_store_that_makes_keys_ahead_gets_a_spare_under_the_next_accounts_id() {
    let v = Vault::new();
    let keys = Arc::new(PreparingKeys::default());
    let mut second = registered();
    second.body = String::from_utf8(second.body)
        .unwrap()
        .replace(SERIAL, "PIPU0000TWO")
        .into_bytes();
    let transport: Arc<dyn HttpTransport> =
        ScriptedTransport::new(vec![Ok(registered()), Ok(second)]);
    let auth = v.open_with(DeviceKeys::Platform(keys.clone()), transport, 1);
    wait_for_spares(&auth, 1);
    let alias = keys.generated.lock().unwrap()[0].clone();
    let scanned = auth.scan_push_enrollment(&enrollment_uri(10)).unwrap();
    let info = run(auth.enroll_push(scanned, None, None)).unwrap();
    assert_eq!(
        info.id.as_str(),
        alias,
        "the account took the spare's alias"
    );
    wait_for_spares(&auth, 1);
    // Attaching to an existing account makes its key under that account's id.
    let otp = auth
        .add_uri("otpauth://totp/privacyIDEA:bob?secret=JBSWY3DPEHPK3PXP&issuer=privacyIDEA")
        .unwrap();
    let otp_id: AccountId = otp[0].info().id.clone();
    let two = enrollment_uri(10).replace(SERIAL, "PIPU0000TWO");
    let scanned = auth.scan_push_enrollment(&two).unwrap();
    run(auth.enroll_push(scanned, None, Some(otp_id.as_str()))).unwrap();
    assert_eq!(
        keys.generated.lock().unwrap().last().unwrap(),
        otp_id.as_str()
    );
    assert_eq!(
        auth.spare_device_keys_ready().unwrap(),
        1,
        "the spare waits"
    );
    assert!(keys.deleted.lock().unwrap().is_empty());
}
