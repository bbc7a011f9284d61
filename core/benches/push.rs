//! The client's share of a push approval, piece by piece, with privacyIDEA's key sizes (RSA-4096
//! for the server and, as its app does, for the device):
//! - `sign_poll` / `sign_answer`: the device signs the poll request and the answer;
//! - `verify_challenge`: parse a challenge and check the server's signature;
//! - `keep_and_mark_answered`: the vault keeps the request (one durable transaction) and
//!   records the answer (another);
//! - `push_enroll/device_keygen_4096`: what enrollment spent before its single HTTP request
//!   when no spare key is ready (`rsa`'s own generator, what the background worker runs too);
//! - `push_enroll/with_ready_key`: an enrollment's client work with a spare key ready, through
//!   `Authenticator` from the scan to the token stored: take the spare out of the vault
//!   (a durable transaction), unseal and load it, build and sign nothing (registration is not
//!   signed) but encode the key and the form, read the server's answer (an in-process
//!   transport answers at once: no HTTP), store the account and token (a durable transaction).
//!
//! Poll to approved on the client = sign_poll + verify_challenge + sign_answer +
//! keep_and_mark_answered; the two HTTP round trips and the server's work come on top.
//! Scan to registered = with_ready_key + one HTTP round trip and the server's work.
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authcore::authenticator::{Authenticator, Config, DeviceKeys};
use authcore::clock::SystemClock;
use authcore::log::NoLogger;
use authcore::policy::Platform;
use authcore::push::{
    Capabilities, DeviceKey, HttpRequest, HttpResponse, HttpTransport, PushCredential, PushRequest,
    SoftwareDeviceKey, TransportError, UnverifiedChallenge,
};
use authcore::time::UnixTime;
use authcore::vault::{FileKeyStore, Unlock, Vault};
use criterion::{Criterion, criterion_group, criterion_main};
use data_encoding::BASE32;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;

const SERIAL: &str = "PIPU0000BENCH";
const URL: &str = "https://pi.example/ttype/push";

fn pkcs1(key: &SoftwareDeviceKey) -> Vec<u8> {
    let spki = key.public_key_spki_der().expect("spki");
    rsa::RsaPublicKey::from_public_key_der(&spki)
        .expect("public key")
        .to_pkcs1_der()
        .expect("pkcs1")
        .into_vec()
}

fn request(nonce: String) -> PushRequest {
    let at = UnixTime::from_secs(1_700_000_000);
    PushRequest {
        nonce,
        serial: SERIAL.into(),
        title: "PI Test".into(),
        question: "Login for alice?".into(),
        url: URL.into(),
        sslverify: true,
        require_presence: None,
        capabilities: Capabilities::default(),
        received_at: at,
        expires_at: at + Duration::from_secs(120),
    }
}

fn push(c: &mut Criterion) {
    let server = SoftwareDeviceKey::generate(4096).expect("server key");
    let device = SoftwareDeviceKey::generate(4096).expect("device key");
    let nonce = "ASUFJZYQYRFDTTAGQCMLJA5HOLQTIH6F";
    let signed = format!("{nonce}|{URL}|{SERIAL}|Login for alice?|PI Test|1");
    let signature = BASE32.encode(&server.sign_pkcs1_sha256(signed.as_bytes()).expect("sign"));
    let payload = serde_json::json!({
        "nonce": nonce, "question": "Login for alice?", "serial": SERIAL, "title": "PI Test",
        "sslverify": "1", "url": URL, "signature": signature,
    })
    .to_string();
    let credential = PushCredential {
        serial: SERIAL.into(),
        url: URL.into(),
        sslverify: true,
        server_public_key_pkcs1: pkcs1(&server),
        poll_only: true,
        fb_token: None,
        enrolled_at: UnixTime::EPOCH,
        app_force_unlock: None,
    };
    let now = UnixTime::from_secs(1_700_000_000);

    c.bench_function("push/sign_poll_4096", |b| {
        b.iter(|| {
            black_box(
                device
                    .sign_pkcs1_sha256(
                        format!("{SERIAL}|2026-11-22T20:00:00.000000+00:00").as_bytes(),
                    )
                    .expect("sign"),
            )
        })
    });
    c.bench_function("push/verify_challenge_4096", |b| {
        b.iter(|| {
            let challenge =
                UnverifiedChallenge::from_notification(black_box(&payload)).expect("parse");
            black_box(
                challenge
                    .verify(&credential, now, Duration::from_secs(120))
                    .expect("verify"),
            )
        })
    });
    c.bench_function("push/sign_answer_4096", |b| {
        b.iter(|| {
            black_box(
                device
                    .sign_pkcs1_sha256(format!("{nonce}|{SERIAL}").as_bytes())
                    .expect("sign"),
            )
        })
    });

    // On the target directory's disk, not a tmpfs: the commit's fsync is part of the cost.
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let store = FileKeyStore::create(&dir.path().join("key")).expect("key file");
    let mut vault = Vault::create(
        &dir.path().join("vault.sqlite"),
        &store,
        None,
        UnixTime::from_secs(0),
    )
    .expect("vault");
    let mut n = 0u64;
    c.bench_function("push/keep_and_mark_answered", |b| {
        b.iter(|| {
            // Each request two hours after the last, as requests are rare: the table holds
            // what a phone holds, not every request of the benchmark.
            n += 1;
            let at = now + Duration::from_secs(7200 * n);
            let mut r = request(format!("N{n}"));
            r.received_at = at;
            r.expires_at = at + Duration::from_secs(120);
            black_box(vault.store_push_request(&r, at).expect("keep"));
            vault.mark_push_answered(&r.nonce, at).expect("mark")
        })
    });

    let mut group = c.benchmark_group("push_enroll");
    group.sample_size(10);
    // One key per sample: a second or more each, so not criterion's growing sample sizes.
    group.sampling_mode(criterion::SamplingMode::Flat);
    group.measurement_time(Duration::from_secs(20));
    group.bench_function("device_keygen_4096", |b| {
        b.iter(|| black_box(SoftwareDeviceKey::generate(4096).expect("keygen")))
    });
    group.finish();

    let mut group = c.benchmark_group("push_enroll");
    group.measurement_time(Duration::from_secs(10));
    let app = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let store = FileKeyStore::create(&app.path().join("key")).expect("key file");
    let path = app.path().join("vault.sqlite");
    let config = Config {
        clock: Arc::new(SystemClock),
        platform: Platform::Android,
        device_keys: DeviceKeys::Software { bits: 4096 },
        transport: Arc::new(Registers {
            server_public_key: data_encoding::BASE64.encode(&pkcs1(&server)),
        }),
        logger: Arc::new(NoLogger),
        // The bench puts a spare in before each enrollment itself, from a second handle.
        spare_device_keys: 0,
    };
    let auth = Authenticator::create(&path, &store, None, config).expect("authenticator");
    let mut other = Vault::open(&path, Unlock::KeyStore(&store)).expect("second handle");
    let mut serial = 0u64;
    group.bench_function("with_ready_key", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                // A ready key (the same key each time: the bench measures the flow, and each
                // token gets its own serial), seen by the authenticator before the clock runs.
                assert!(
                    other
                        .add_spare_software_key(4096, device.pkcs8(), 1, UnixTime::from_secs(0))
                        .expect("spare")
                );
                assert_eq!(auth.spare_device_keys_ready().expect("ready"), 1);
                serial += 1;
                let uri = format!(
                    "otpauth://pipush/PIPU{serial:08}?url=https%3A//pi.example/ttype/push&ttl=10\
                     &issuer=privacyIDEA&enrollment_credential=0123456789abcdef&v=1\
                     &serial=PIPU{serial:08}&sslverify=1&poll_only=True"
                );
                let started = Instant::now();
                let scanned = auth.scan_push_enrollment(&uri).expect("scan");
                let info = futures_executor::block_on(auth.enroll_push(scanned, None, None))
                    .expect("enroll");
                spent += started.elapsed();
                assert_eq!(auth.spare_device_keys_ready().expect("ready"), 0);
                // The vault keeps one account, as a phone's does; not timed.
                auth.delete(info.id.as_str()).expect("delete");
            }
            spent
        })
    });
    group.finish();
}

/// privacyIDEA answering every registration at once, in process: what is left of an enrollment
/// is the client's work.
struct Registers {
    server_public_key: String,
}

#[async_trait::async_trait]
impl HttpTransport for Registers {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let body = format!(
            r#"{{"result":{{"status":true,"value":true}},"detail":{{"public_key":"{}","rollout_state":"enrolled"}}}}"#,
            self.server_public_key
        );
        Ok(HttpResponse {
            status: 200,
            headers: vec![
                ("Content-Type".into(), "application/json".into()),
                (
                    "Date".into(),
                    httpdate::fmt_http_date(std::time::SystemTime::now()),
                ),
            ],
            body: body.into_bytes(),
        })
    }
}

criterion_group!(benches, push);
criterion_main!(benches);
