//! What the fuzz targets share: the fixed test keys, a fixed clock, a device key that signs
//! nothing, a transport that hands back the fuzzer's bytes, and the vault exercise.
//!
//! Every target treats an `Err` from the core as the right answer to bad input; only a panic, a
//! hang or a memory blow-up is a finding. So nothing here unwraps what the input decides, and the
//! few `expect`s are on fixtures this crate ships (a failure there is a broken fuzz set-up, not a
//! finding, and shows on the first input).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use authcore::authenticator::{Authenticator, Config};
use authcore::clock::FixedClock;
use authcore::policy::Platform;
use authcore::push::{
    DeviceKey, HttpRequest, HttpResponse, HttpTransport, PushCredential, PushError, TransportError,
};
use authcore::time::UnixTime;
use authcore::vault::{FileKeyStore, Setting, Unlock, Vault};

/// The instant every target calls "now" (2026-09-21T14:13:20Z). Fixed so that an input behaves
/// the same on every run: a crash found today still reproduces next year, and the seeds' `Date`
/// headers and the seed vault's pending requests are written around it.
pub const NOW_UNIX: i64 = 1_790_000_000;

pub fn now() -> UnixTime {
    UnixTime::from_secs(NOW_UNIX)
}

/// The serial and endpoint of the test push token; the seeds' challenges name them.
pub const SERIAL: &str = "PIPU00F0221A";
pub const URL: &str = "https://push.fuzz.test/ttype/push";
/// The push token the test credential registered; gateway-wrapped seeds address it.
pub const FB_TOKEN: &str = "fuzz-device-token-7";

/// The public half of the test server key (PKCS#1 `RSAPublicKey` DER, RSA-2048). The seed
/// generator signed the seeds' challenges with its private half and then threw that away: the
/// targets only ever verify, and no private key needs to live in the repository.
pub const SERVER_PUBLIC_PKCS1: &[u8] = include_bytes!("../keys/push-server.pkcs1.der");

/// The 32-byte FileKeyStore key that wraps the seed vaults' master key.
pub const VAULT_KEY_FILE: &[u8] = include_bytes!("../keys/vault.key");

/// The enrolled token that challenges are verified against, as the vault would hold it.
pub fn credential() -> PushCredential {
    PushCredential {
        serial: SERIAL.to_owned(),
        url: URL.to_owned(),
        sslverify: true,
        server_public_key_pkcs1: SERVER_PUBLIC_PKCS1.to_vec(),
        poll_only: false,
        fb_token: Some(FB_TOKEN.to_owned()),
        enrolled_at: UnixTime::from_secs(NOW_UNIX - 86_400),
        app_force_unlock: None,
    }
}

/// The same token enrolled poll-only (no push token: gateway messages must say
/// `no_firebase_token`).
pub fn poll_only_credential() -> PushCredential {
    PushCredential {
        poll_only: true,
        fb_token: None,
        ..credential()
    }
}

/// A device key whose "signature" is eight zero bytes. Requests go to the fuzzer, never to a
/// server, so their signatures need not verify; RSA signing, or even a signature of RSA length
/// percent-encoded into every URL and form, would only cost the fuzzer time.
/// Its public key is the test server key's (a real RSA key), because registration checks that
/// the key it sends is a well-formed SubjectPublicKeyInfo.
pub struct ZeroSigner;

impl DeviceKey for ZeroSigner {
    fn public_key_spki_der(&self) -> Result<Vec<u8>, PushError> {
        static SPKI: OnceLock<Vec<u8>> = OnceLock::new();
        Ok(SPKI
            .get_or_init(|| {
                authcore::push::keys::spki_from_pkcs1(SERVER_PUBLIC_PKCS1)
                    .expect("keys/push-server.pkcs1.der is a PKCS#1 RSA public key")
            })
            .clone())
    }

    fn sign_pkcs1_sha256(&self, _message: &[u8]) -> Result<Vec<u8>, PushError> {
        Ok(vec![0; 8])
    }
}

/// What a transport hands back for every request of one fuzz input.
#[derive(Clone)]
pub enum Canned {
    Response(HttpResponse),
    Failure(TransportError),
}

/// A transport that answers every request with the same canned outcome: the fuzzer's bytes
/// play the server (or a misbehaving platform HTTP stack).
pub struct CannedTransport(pub Canned);

#[async_trait::async_trait]
impl HttpTransport for CannedTransport {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        match &self.0 {
            Canned::Response(r) => Ok(r.clone()),
            Canned::Failure(e) => Err(e.clone()),
        }
    }
}

/// HTTP statuses a server might answer with, picked by the input's first byte: mostly 200 (the
/// body is parsed then), the 400 that makes a poll retry with a corrected clock, errors, and
/// redirects the client must refuse.
const STATUSES: [u16; 16] = [
    200, 200, 200, 200, 400, 400, 500, 404, 301, 302, 307, 201, 299, 300, 399, 99,
];

/// Reads the response framing of the HTTP targets:
///
/// - byte 0: below 0xF0, `STATUSES[b % 16]` is the HTTP status; from 0xF0 the transport fails
///   instead (`b % 4`: time-out, TLS, connection, other) with the rest as its reason, which the
///   client must scrub of the request's query string;
/// - then up to the first `\n`: the `Date` header's value (none when that line is empty or there
///   is no `\n`), from which the client learns the server's clock;
/// - the rest: the body.
pub fn canned_from(data: &[u8]) -> Canned {
    let Some((&selector, rest)) = data.split_first() else {
        return Canned::Response(HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: Vec::new(),
        });
    };
    if selector >= 0xF0 {
        let reason = String::from_utf8_lossy(rest).into_owned();
        return Canned::Failure(match selector % 4 {
            0 => TransportError::Timeout,
            1 => TransportError::Tls { reason },
            2 => TransportError::Connection { reason },
            _ => TransportError::Other { reason },
        });
    }
    let status = STATUSES[usize::from(selector % 16)];
    let (date, body) = match rest.iter().position(|&b| b == b'\n') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (&rest[..0], rest),
    };
    let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
    if !date.is_empty() {
        headers.push((
            "Date".to_owned(),
            String::from_utf8_lossy(date).into_owned(),
        ));
    }
    Canned::Response(HttpResponse {
        status,
        headers,
        body: body.to_vec(),
    })
}

/// A per-process directory for the vault targets: under `TMPDIR` (scripts/fuzz.sh points it at
/// a RAM disk and removes it afterwards), holding the key file and the vault under test.
struct VaultDir {
    dir: PathBuf,
    key_store: FileKeyStore,
}

fn vault_dir() -> &'static VaultDir {
    static DIR: OnceLock<VaultDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("authcore-fuzz-{}", std::process::id()));
        // Left over only from an earlier process with the same pid.
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create the fuzz vault directory");
        let key_path = dir.join("vault.key");
        // git does not keep file modes, and FileKeyStore refuses a key file others may read:
        // write the shipped key with owner-only permissions.
        {
            use std::io::Write;
            use std::os::unix::fs::OpenOptionsExt;
            let mut file = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&key_path)
                .expect("write the fuzz key file");
            file.write_all(VAULT_KEY_FILE)
                .expect("write the fuzz key file");
        }
        let key_store = FileKeyStore::open(&key_path).expect("keys/vault.key is a key file");
        VaultDir { dir, key_store }
    })
}

fn remove_vault_files(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(name));
    }
}

/// Puts `bytes` where a vault file would be and does everything a launch does with it: open
/// and unlock it with the key store (which may migrate it), read every table through the vault
/// API, then open it again through the facade, which loads every account's generator, the
/// clock settings and the rules, and produce codes and exports. Every step may fail; none may
/// panic or hang.
pub fn exercise_vault(bytes: &[u8]) {
    let VaultDir { dir, key_store } = vault_dir();
    let path = dir.join("vault.sqlite");
    // A WAL or SHM file left by the previous input would be replayed into this one.
    remove_vault_files(&path);
    if std::fs::write(&path, bytes).is_err() {
        return;
    }

    let opened = match Vault::open(&path, Unlock::KeyStore(key_store)) {
        Ok(mut vault) => {
            if let Ok(accounts) = vault.accounts() {
                for account in &accounts {
                    let _ = vault.get(&account.id);
                    if let Some(otp) = &account.otp
                        && let Ok(generator) = otp.generator()
                    {
                        let _ = generator.code_at(now());
                    }
                    if account.push.is_some() {
                        let _ = vault.push_device_key(&account.id);
                    }
                }
            }
            let _ = vault.passwordless_ids();
            for setting in [
                Setting::ClockOffset,
                Setting::PasswordlessRules,
                Setting::PushServerOffsets,
            ] {
                let _ = vault.setting(setting);
            }
            if let Ok(pending) = vault.pending_push_requests(now()) {
                for request in &pending {
                    let _ = vault.push_request(&request.nonce);
                }
            }
            let _ = vault.has_password();
            let _ = vault.data_version();
            true
        }
        Err(_) => false,
    };
    // The facade reads the same file again only when the vault opened: the damage worth
    // chasing past that point is in what it loads, and skipping it keeps refused files cheap.
    if opened {
        let clock = Arc::new(FixedClock::new(NOW_UNIX));
        if let Ok(auth) =
            Authenticator::open(&path, Unlock::KeyStore(key_store), Config::offline(clock))
        {
            let _ = auth.accounts();
            let _ = auth.codes(None, Some(now()));
            let _ = auth.clock_offset();
            for platform in [Platform::Ios, Platform::Android, Platform::Desktop] {
                let _ = auth.passwordless_rule(platform);
            }
            let _ = auth.pending_push_requests();
            let _ = auth.export_otpauth();
            let _ = auth.export_migration_batch();
        }
    }
    remove_vault_files(&path);
}
