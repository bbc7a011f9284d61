//! The process whose memory `scripts/memory-check.sh` dumps: it uses the core as an app would,
//! then closes everything and waits, so the script can show that no secret outlives the close.
//!
//! `memory_subject DIR` (DIR: a private directory the script made) does, through the facade:
//! creates a password-protected vault and opens it again with the password; adds a TOTP account
//! from an otpauth URI and a HOTP account as a record; produces codes; enrolls a push token with
//! a software device key (the spare the background worker made after open) against an
//! in-process stand-in for privacyIDEA, takes a signed
//! notification and approves it (the device key signs the answer); registers a privacyIDEA
//! container (the facade makes its P-384 key and signs the registration with it) against the
//! same stand-in, whose refusal of the sync that follows leaves the registration kept; exports
//! two other accounts
//! from a second vault as an encrypted Aegis file and imports that file with its password.
//! Then it writes `DIR/needles` (mode 0600): one line per secret, `NAME<TAB>MODE<TAB>HEX`, MODE
//! `window` (search 16-byte pieces too) or `whole`; prints `open` and waits for a line on stdin.
//! On that line it drops everything (the authenticator, its own copies, all zeroizing), prints
//! `closed`, and waits for stdin to close before exiting.
//!
//! Every secret is random per run, so nothing in the binary itself matches, and every copy the
//! subject keeps is `Zeroizing`: what the scan finds after the close is the core's. The hex in
//! the needle file is never searched for.
use std::fmt::Write as _;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use authcore::account::{NewAccount, OtpCredential};
use authcore::authenticator::{
    Authenticator, Config, Decision, DeviceKeys, ImportMode, UserPresence,
};
use authcore::clock::SystemClock;
use authcore::import::Format;
use authcore::log::NoLogger;
use authcore::otp::{Algorithm, OtpParams};
use authcore::policy::Platform;
use authcore::push::{
    DeviceKey, HttpRequest, HttpResponse, HttpTransport, SoftwareDeviceKey, TransportError,
};
use authcore::secret::Secret;
use authcore::vault::{FileKeyStore, KdfParams, KeyStore, StoredDeviceKey, Unlock, Vault};
use data_encoding::{BASE32, BASE64};
use ring::rand::{SecureRandom, SystemRandom};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use zeroize::Zeroizing;

/// As the products install it (the FFI library, the CLI): the subject is an app's process.
/// `--features system-allocator` leaves it out, to see what the core and its dependencies leave
/// behind on their own (`AUTHCORE_MEMCHECK_ALLOCATOR=system bash scripts/memory-check.sh`).
#[cfg(not(feature = "system-allocator"))]
#[global_allocator]
static ALLOCATOR: authcore::allocator::Zeroizing = authcore::allocator::ZEROIZING;

const SERIAL: &str = "PIPU0MEMCHECK";
const PUSH_URL: &str = "https://pi.example/ttype/push";
const NONCE: &str = "MEMCHECKNONCEAAAAAAAAAAAAAAAAAAA";
const CONTAINER_SERIAL: &str = "SMPH0MEMCHECK";
/// Software device keys of 2048 bits: the same code path as privacyIDEA's 4096 (generation by
/// `rsa`, PKCS#8 sealed in the vault, signatures by ring) at a fraction of the generation time.
const DEVICE_KEY_BITS: usize = 2048;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir] = args.as_slice() else {
        fail("usage: memory_subject DIR")
    };
    let dir = PathBuf::from(dir);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut out = std::io::stdout().lock();

    let session = Session::run(&dir).unwrap_or_else(|e| fail(&e));
    let _ = writeln!(out, "open");
    let _ = out.flush();
    // Held open until the script has dumped this process.
    let _ = lines.next();
    drop(session);
    let _ = writeln!(out, "closed");
    let _ = out.flush();
    // Alive, with nothing open, until the script has dumped it again and closes stdin.
    for _ in lines {}
}

/// Everything the subject holds while "open": the authenticator and its own copies of the
/// secrets (all zeroized when dropped).
struct Session {
    _auth: Authenticator,
    _password: Zeroizing<String>,
    _export_password: Zeroizing<String>,
    _secrets: Vec<Secret>,
    /// The base32 forms, as an app showing or typing a secret holds them.
    _texts: Vec<Zeroizing<String>>,
}

impl Session {
    fn run(dir: &Path) -> Result<Session, String> {
        let rng = SystemRandom::new();
        let password = random_text(&rng, 24)?;
        let export_password = random_text(&rng, 24)?;
        let totp = random_secret(&rng, 20)?;
        let hotp = random_secret(&rng, 20)?;
        let imported_sha256 = random_secret(&rng, 32)?;
        let imported_sha1 = random_secret(&rng, 20)?;

        // A password-protected vault, created and then opened with its password.
        let vault_path = dir.join("vault.sqlite");
        let store = FileKeyStore::create(&dir.join("vault.key")).map_err(text)?;
        let server = Arc::new(MiniServer::new()?);
        let config = Config {
            clock: Arc::new(SystemClock),
            platform: Platform::Desktop,
            device_keys: DeviceKeys::Software {
                bits: DEVICE_KEY_BITS,
            },
            transport: server.clone(),
            logger: Arc::new(NoLogger),
            spare_device_keys: 1,
        };
        let created = Authenticator::create(
            &vault_path,
            &store,
            Some((&password, KdfParams::default())),
            config.clone(),
        )
        .map_err(text)?;
        drop(created);
        let auth = Authenticator::open(&vault_path, Unlock::Password(&password), config.clone())
            .map_err(text)?;

        // Accounts: one from a URI (base32 secret in text), one as a record.
        let totp_b32 = totp.to_base32();
        let uri = concat(&[
            "otpauth://totp/MemCheck:alice?secret=",
            &totp_b32,
            "&issuer=MemCheck&algorithm=SHA1&digits=6&period=30",
        ]);
        auth.add_uri(&uri).map_err(text)?;
        let record = NewAccount {
            issuer: "MemCheck".into(),
            label: "hotp".into(),
            otp: OtpCredential::new(OtpParams::hotp(Algorithm::Sha1, 6, 0), hotp.clone())
                .map_err(text)?,
            group: None,
            note: None,
            extra_params: Vec::new(),
        };
        let added = auth.add_accounts(vec![record]).map_err(text)?;
        let hotp_id = added
            .first()
            .map(|a| a.info().id.to_string())
            .ok_or("the HOTP account was not added")?;
        auth.codes(None, None).map_err(text)?;
        auth.next_hotp(&hotp_id).map_err(text)?;

        // Push: enroll (the facade makes the device key), a signed notification, an approval.
        let enroll = concat(&[
            "otpauth://pipush/memcheck?url=https%3A//pi.example/ttype/push&ttl=10",
            "&issuer=MemCheck&enrollment_credential=0123456789abcdef&v=1&serial=",
            SERIAL,
            "&sslverify=1",
        ]);
        // The device key is the spare the background worker made after open (sealed in the
        // vault until this enrollment took it); the worker then makes the next, which close
        // stops.
        let started = std::time::Instant::now();
        while auth.spare_device_keys_ready().map_err(text)? == 0 {
            if started.elapsed() > std::time::Duration::from_secs(120) {
                return Err("no spare device key after two minutes".into());
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let scan = auth.scan_push_enrollment(&enroll).map_err(text)?;
        let push_account = authcore_http::block_on(auth.enroll_push(scan, None, None))
            .map_err(text)?
            .id;
        auth.handle_notification(&server.notification()?)
            .map_err(text)?;
        authcore_http::block_on(auth.answer_push(
            NONCE,
            Decision::Approve { answer: None },
            UserPresence::DeviceUnlocked,
        ))
        .map_err(text)?;
        if !server.answered() {
            return Err("the push answer did not reach the server".into());
        }

        // A container: registered (a new P-384 key, sealed; the finalize request signed with it).
        // The stand-in answers the finalize only, so the sync that follows fails and is reported.
        let container_uri = concat(&[
            "pia://container/",
            CONTAINER_SERIAL,
            "?issuer=MemCheck&ttl=10&nonce=memchecknonce&time=2026-12-01T00%3A00%3A00%2B00%3A00",
            "&url=https%3A//pi.example/&serial=",
            CONTAINER_SERIAL,
            "&key_algorithm=secp384r1&hash_algorithm=SHA256&ssl_verify=True",
        ]);
        let registration = auth.scan_container(&container_uri).map_err(text)?;
        let device = authcore::container::DeviceInfo {
            brand: None,
            model: None,
        };
        authcore_http::block_on(auth.register_container(registration, None, device, None))
            .map_err(text)?;
        if !server.registered_container() {
            return Err("the container registration did not reach the server".into());
        }

        // Import: a second vault exports two accounts as an encrypted Aegis file, which the
        // first one reads back with the file's password.
        let export_path = dir.join("export.aegis.json");
        {
            let source_store = FileKeyStore::create(&dir.join("source.key")).map_err(text)?;
            let source = Authenticator::create(
                &dir.join("source.sqlite"),
                &source_store,
                None,
                Config {
                    spare_device_keys: 0,
                    ..config.clone()
                },
            )
            .map_err(text)?;
            for (label, secret, algorithm) in [
                ("sha256", &imported_sha256, Algorithm::Sha256),
                ("sha1", &imported_sha1, Algorithm::Sha1),
            ] {
                let account = NewAccount {
                    issuer: "Imported".into(),
                    label: label.into(),
                    otp: OtpCredential::new(OtpParams::totp(algorithm, 6, 30), secret.clone())
                        .map_err(text)?,
                    group: None,
                    note: None,
                    extra_params: Vec::new(),
                };
                source.add_accounts(vec![account]).map_err(text)?;
            }
            let file = source.export_aegis(Some(&export_password)).map_err(text)?;
            std::fs::write(&export_path, file.as_bytes()).map_err(text)?;
        }
        let file = Zeroizing::new(std::fs::read(&export_path).map_err(text)?);
        let preview = auth
            .preview_import(&file, Some(Format::Aegis), Some(&export_password))
            .map_err(text)?;
        let outcome = auth
            .commit_import(&preview, ImportMode::AllOrNothing)
            .map_err(text)?;
        if outcome.added.len() != 2 {
            return Err(format!(
                "the import added {} accounts, not 2",
                outcome.added.len()
            ));
        }
        drop(preview);

        let mut needles = Needles::default();
        needles.push(
            "vault master key",
            true,
            master_key(&vault_path, &store)?.expose(),
        );
        let slot_key = slot_key(&vault_path, &password)?;
        needles.push("password slot key (Argon2id)", true, slot_key.expose());
        needles.push("vault password", true, password.as_bytes());
        needles.push("import file password", true, export_password.as_bytes());
        for (name, secret) in [
            ("TOTP secret", &totp),
            ("HOTP secret", &hotp),
            ("imported SHA-256 secret", &imported_sha256),
            ("imported SHA-1 secret", &imported_sha1),
        ] {
            needles.push(name, true, secret.expose());
            needles.push(
                &format!("{name}, base32"),
                true,
                secret.to_base32().as_bytes(),
            );
        }
        let pkcs8 = device_key(&vault_path, &store, &push_account)?;
        needles.push("device key, PKCS#8 DER", false, pkcs8.expose());
        for (name, bytes) in rsa_components(pkcs8.expose())? {
            // p and q also as the little-endian 64-bit limbs that ring and `rsa` compute with
            // (d is not kept by ring, and dP and dQ not in that form).
            needles.push(&format!("device key {name}, big-endian"), true, bytes);
            if name == "p" || name == "q" {
                let mut little = Zeroizing::new(bytes.to_vec());
                little.reverse();
                needles.push(&format!("device key {name}, limbs"), true, &little);
            }
        }
        // The container's P-384 key: its PKCS#8 and its 48-byte private scalar (p384 computes
        // with the scalar in Montgomery form, so its plain limbs are never in memory).
        let container = container_key(&vault_path, &store)?;
        needles.push("container key, PKCS#8 DER", false, container.expose());
        needles.push(
            "container key scalar",
            true,
            p384_scalar(container.expose())?,
        );
        needles.write(&dir.join("needles"))?;

        Ok(Session {
            _auth: auth,
            _password: password,
            _export_password: export_password,
            _texts: [&totp, &hotp, &imported_sha256, &imported_sha1]
                .iter()
                .map(|s| s.to_base32())
                .collect(),
            _secrets: vec![
                totp,
                hotp,
                imported_sha256,
                imported_sha1,
                slot_key,
                container,
            ],
        })
    }
}

/// The master key, unwrapped from the vault's key-store slot with the key file, as the vault
/// itself does (docs/vault.md), so the core needs no accessor for it.
fn master_key(vault: &Path, store: &FileKeyStore) -> Result<Secret, String> {
    let conn =
        rusqlite::Connection::open_with_flags(vault, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(text)?;
    let wrapped: Vec<u8> = conn
        .query_row(
            "SELECT wrapped_key FROM key_slots WHERE kind = 'keystore' ORDER BY id LIMIT 1",
            [],
            |r| r.get(0),
        )
        .map_err(text)?;
    store.unwrap(&wrapped).map_err(text)
}

/// The key the password derives (Argon2id with the slot's salt), which unwraps the master key.
fn slot_key(vault: &Path, password: &str) -> Result<Secret, String> {
    let conn =
        rusqlite::Connection::open_with_flags(vault, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(text)?;
    let salt: Vec<u8> = conn
        .query_row(
            "SELECT kdf_salt FROM key_slots WHERE kind = 'password'",
            [],
            |r| r.get(0),
        )
        .map_err(text)?;
    authcore::vault::slots::derive_key(password, &salt, KdfParams::default())
}

/// The push account's software device key as the vault keeps it.
fn device_key(
    vault: &Path,
    store: &FileKeyStore,
    account: &authcore::account::AccountId,
) -> Result<Secret, String> {
    let vault = Vault::open(vault, Unlock::KeyStore(store)).map_err(text)?;
    match vault.push_device_key(account).map_err(text)? {
        StoredDeviceKey::Software(pkcs8) => Ok(pkcs8),
        _ => Err("the device key is not a software key".into()),
    }
}

/// The container's current key as the vault keeps it.
fn container_key(vault: &Path, store: &FileKeyStore) -> Result<Secret, String> {
    let vault = Vault::open(vault, Unlock::KeyStore(store)).map_err(text)?;
    let (current, _next) = vault.container_keys(CONTAINER_SERIAL).map_err(text)?;
    Ok(current)
}

/// The 48-byte private scalar of a P-384 PKCS#8 key (SEC1 inside: version 1, then an octet
/// string of 48 bytes), as a slice of `pkcs8`.
fn p384_scalar(pkcs8: &[u8]) -> Result<&[u8], String> {
    let at = pkcs8
        .windows(5)
        .position(|w| w == [0x02, 0x01, 0x01, 0x04, 0x30])
        .ok_or("the container key is not P-384 PKCS#8 DER")?
        + 5;
    pkcs8
        .get(at..at + 48)
        .ok_or_else(|| "the container key is cut short".to_owned())
}

/// The private integers of an RSA PKCS#8 key (`d`, `p`, `q`, `dP`, `dQ`), big-endian without the sign
/// byte, as slices of `pkcs8` (read by hand, so the subject itself allocates no copy).
fn rsa_components(pkcs8: &[u8]) -> Result<Vec<(&'static str, &[u8])>, String> {
    let bad = || "the device key is not RSA PKCS#8 DER".to_owned();
    let (info, _) = der(pkcs8, 0x30).ok_or_else(bad)?;
    let (_version, rest) = der(info, 0x02).ok_or_else(bad)?;
    let (_algorithm, rest) = der(rest, 0x30).ok_or_else(bad)?;
    let (private, _) = der(rest, 0x04).ok_or_else(bad)?;
    let (mut fields, _) = der(private, 0x30).ok_or_else(bad)?;
    let mut integers = Vec::new();
    for _ in 0..8 {
        let (value, rest) = der(fields, 0x02).ok_or_else(bad)?;
        integers.push(value);
        fields = rest;
    }
    let unsigned = |v: &'static str, i: usize| -> Result<(&'static str, &[u8]), String> {
        let value = integers.get(i).ok_or_else(bad)?;
        Ok((v, value.strip_prefix(&[0]).unwrap_or(value)))
    };
    // version, n, e, d, p, q, dP, dQ (then qInv)
    Ok(vec![
        unsigned("d", 3)?,
        unsigned("p", 4)?,
        unsigned("q", 5)?,
        unsigned("dP", 6)?,
        unsigned("dQ", 7)?,
    ])
}

/// One DER element of `tag` at the start of `input`: its contents and what follows.
fn der(input: &[u8], tag: u8) -> Option<(&[u8], &[u8])> {
    let (&found, rest) = input.split_first()?;
    if found != tag {
        return None;
    }
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let count = usize::from(first & 0x7f);
        if count == 0 || count > 4 || rest.len() < count {
            return None;
        }
        let (bytes, rest) = rest.split_at(count);
        (
            bytes.iter().fold(0usize, |n, &b| (n << 8) | usize::from(b)),
            rest,
        )
    };
    (rest.len() >= len).then(|| rest.split_at(len))
}

/// The needle file's lines, built in one zeroizing buffer.
#[derive(Default)]
struct Needles(Zeroizing<Vec<(String, bool, Zeroizing<String>)>>);

impl Needles {
    fn push(&mut self, name: &str, window: bool, bytes: &[u8]) {
        // One byte at a time through `fmt`: a vectorised encoder would leave 16 bytes of the
        // secret in a SIMD register, where the dump after the close would find them.
        let mut hex = Zeroizing::new(String::with_capacity(2 * bytes.len()));
        for b in bytes {
            let _ = write!(hex, "{b:02x}");
        }
        self.0.push((name.to_owned(), window, hex));
    }

    fn write(&self, path: &Path) -> Result<(), String> {
        use std::os::unix::fs::OpenOptionsExt;
        let size: usize = self.0.iter().map(|(n, _, h)| n.len() + h.len() + 10).sum();
        let mut text = Zeroizing::new(String::with_capacity(size));
        for (name, window, hex) in self.0.iter() {
            text.push_str(name);
            text.push('\t');
            text.push_str(if *window { "window" } else { "whole" });
            text.push('\t');
            text.push_str(hex);
            text.push('\n');
        }
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(text_of_io)?;
        file.write_all(text.as_bytes()).map_err(text_of_io)
    }
}

/// `parts` joined in a buffer of exactly their size (a growing `String` would leave copies).
fn concat(parts: &[&str]) -> Zeroizing<String> {
    let mut out = Zeroizing::new(String::with_capacity(parts.iter().map(|p| p.len()).sum()));
    for part in parts {
        out.push_str(part);
    }
    out
}

fn random_secret(rng: &SystemRandom, len: usize) -> Result<Secret, String> {
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    rng.fill(&mut bytes).map_err(|_| "no randomness")?;
    Ok(Secret::from_slice(&bytes))
}

/// `len` random letters and digits.
fn random_text(rng: &SystemRandom, len: usize) -> Result<Zeroizing<String>, String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = Zeroizing::new(vec![0u8; len]);
    rng.fill(&mut bytes).map_err(|_| "no randomness")?;
    let mut out = Zeroizing::new(String::with_capacity(len));
    for b in bytes.iter() {
        out.push(char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]));
    }
    Ok(out)
}

/// privacyIDEA's side of enrollment, answers and container registration, in process: it
/// registers the device key with its own server key, accepts the answer, and accepts the
/// container's registration (and refuses anything else, such as the container's first sync).
struct MiniServer {
    key: SoftwareDeviceKey,
    answered: Mutex<bool>,
    registered_container: Mutex<bool>,
}

impl MiniServer {
    fn new() -> Result<Self, String> {
        Ok(MiniServer {
            key: SoftwareDeviceKey::generate(2048).map_err(text)?,
            answered: Mutex::new(false),
            registered_container: Mutex::new(false),
        })
    }

    fn public_pkcs1_b64(&self) -> Result<String, String> {
        let spki = self.key.public_key_spki_der().map_err(text)?;
        let public = rsa::RsaPublicKey::from_public_key_der(&spki).map_err(text)?;
        Ok(BASE64.encode(public.to_pkcs1_der().map_err(text)?.as_bytes()))
    }

    /// A push notification for `NONCE`, signed as privacyIDEA signs it.
    fn notification(&self) -> Result<String, String> {
        let (question, title, sslverify) = ("Sign in to MemCheck?", "MemCheck", "1");
        let message = format!("{NONCE}|{PUSH_URL}|{SERIAL}|{question}|{title}|{sslverify}");
        let signature = BASE32.encode(
            &self
                .key
                .sign_pkcs1_sha256(message.as_bytes())
                .map_err(text)?,
        );
        Ok(serde_json::json!({
            "nonce": NONCE, "question": question, "serial": SERIAL, "title": title,
            "sslverify": sslverify, "url": PUSH_URL, "signature": signature,
        })
        .to_string())
    }

    fn answered(&self) -> bool {
        self.answered.lock().map(|a| *a).unwrap_or(false)
    }

    fn registered_container(&self) -> bool {
        self.registered_container
            .lock()
            .map(|a| *a)
            .unwrap_or(false)
    }

    fn reply(&self, request: &HttpRequest) -> Result<String, String> {
        let form = String::from_utf8_lossy(&request.body);
        let has = |field: &str| form.split('&').any(|kv| kv.starts_with(field));
        if request.url.ends_with("/container/register/finalize") {
            if !(has("signature=") && has("public_client_key=")) {
                return Err("an unsigned container registration".to_owned());
            }
            if let Ok(mut registered) = self.registered_container.lock() {
                *registered = true;
            }
            Ok(r#"{"result": {"status": true, "value": {"policies": {}}}}"#.to_owned())
        } else if has("enrollment_credential=") {
            let detail = serde_json::json!({
                "public_key": self.public_pkcs1_b64()?, "rollout_state": "enrolled", "serial": SERIAL,
            });
            Ok(
                serde_json::json!({"result": {"status": true, "value": true}, "detail": detail})
                    .to_string(),
            )
        } else if has("nonce=") && has("signature=") {
            if let Ok(mut answered) = self.answered.lock() {
                *answered = true;
            }
            Ok(r#"{"result": {"status": true, "value": true}, "detail": {}}"#.to_owned())
        } else {
            Err("an unexpected request".to_owned())
        }
    }
}

#[async_trait::async_trait]
impl HttpTransport for MiniServer {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let body = self
            .reply(&request)
            .map_err(|reason| TransportError::Other { reason })?;
        Ok(HttpResponse {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into_bytes(),
        })
    }
}

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn text_of_io(e: std::io::Error) -> String {
    e.to_string()
}

fn fail(msg: &str) -> ! {
    eprintln!("memory_subject: {msg}");
    std::process::exit(1)
}
