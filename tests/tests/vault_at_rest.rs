//! The vault file, its WAL and its shared-memory file never hold a secret in the clear (the
//! master key, OTP secrets, a push token's software device key, a container's P-384 key and the
//! next one of a rollover, the secrets a container sync delivered): not the raw bytes, not base32, not hex,
//! whether or not the WAL has been checkpointed. The same scan finds what the vault keeps in
//! the clear by design (names, a push serial, a container serial), so a scan that could not see would fail. Backup
//! files (made by hand and automatically) and their directory hold no OTP secret, password or
//! backup key either.
use std::path::Path;

use authcore::account::{AccountId, Names, NewAccount, OtpCredential};
use authcore::container::{ContainerPolicies, TokenType};
use authcore::otp::{Algorithm, OtpParams};
use authcore::push::{PushCredential, SoftwareDeviceKey};
use authcore::secret::Secret;
use authcore::time::UnixTime;
use authcore::vault::{
    FileKeyStore, KdfParams, KeyStore, StoredDeviceKey, SyncChange, Unlock, Vault,
};

/// Kept in the clear by design (docs/vault.md, "What is in the clear"): the positive controls.
const CLEAR_ISSUER: &str = "ClearIssuerMarker";
const CLEAR_SERIAL: &str = "PIPU0CLEARSERIAL";
/// A container serial, kept in the clear like the push serial.
const CLEAR_CONTAINER: &str = "SMPH0CLEARSERIAL";

/// The secret of the token a container sync delivers.
const SYNCED_SECRET: &[u8] = b"ContainerSyncedSecretMarker!";

const SECRETS: [&[u8]; 3] = [
    b"12345678901234567890",
    b"\xde\xad\xbe\xef\xca\xfe\xba\xbe\x01\x02\x03\x04\x05\x06\x07\x08",
    b"UniqueMarkerSecret!!-sixty-four-bytes-long-for-SHA512-accounts..",
];

fn forms(secret: &[u8]) -> Vec<Vec<u8>> {
    let hex: String = secret.iter().map(|b| format!("{b:02x}")).collect();
    vec![
        secret.to_vec(),
        Secret::from_slice(secret).to_base32().as_bytes().to_vec(),
        hex.as_bytes().to_vec(),
        hex.to_uppercase().into_bytes(),
    ]
}

/// The vault's files (main, WAL, shared memory) in which `needle` occurs.
fn files_holding(path: &Path, needle: &[u8]) -> Vec<String> {
    ["", "-wal", "-shm"]
        .iter()
        .map(|suffix| format!("{}{suffix}", path.display()))
        .filter(|file| {
            std::fs::read(file)
                .map(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
        })
        .collect()
}

/// `container_key` and `more` (whole keys and secrets) are searched for too.
fn assert_clean(path: &Path, device_key: &[u8], container_key: &[u8], more: &[&[u8]]) {
    // The whole PKCS#8 key, and 32 bytes from its middle (inside the private exponent); the
    // container's whole PKCS#8 and its 48-byte private scalar (SEC1: version 1, then an octet
    // string of 48 bytes).
    let middle = device_key.len() / 2;
    let scalar_at = container_key
        .windows(5)
        .position(|w| w == [0x02, 0x01, 0x01, 0x04, 0x30])
        .expect("a P-384 SEC1 private key")
        + 5;
    let pieces = [
        device_key,
        &device_key[middle..middle + 32],
        container_key,
        &container_key[scalar_at..scalar_at + 48],
    ];
    for secret in SECRETS
        .iter()
        .copied()
        .chain(pieces)
        .chain(more.iter().copied())
    {
        for form in forms(secret) {
            let holding = files_holding(path, &form);
            assert!(holding.is_empty(), "{holding:?} hold a secret in the clear");
        }
    }
    // The same scan sees what is in the clear by design.
    for clear in [CLEAR_ISSUER, CLEAR_SERIAL, CLEAR_CONTAINER] {
        assert!(
            !files_holding(path, clear.as_bytes()).is_empty(),
            "the scan does not find {clear}, which the vault keeps in the clear"
        );
    }
}

fn push_credential() -> PushCredential {
    PushCredential {
        serial: CLEAR_SERIAL.into(),
        url: "https://pi.example/ttype/push".into(),
        sslverify: true,
        server_public_key_pkcs1: vec![0x30, 0x03, 0x02, 0x01, 0x03],
        poll_only: true,
        fb_token: None,
        enrolled_at: UnixTime::EPOCH,
        app_force_unlock: None,
    }
}

#[test]
fn no_secret_in_the_clear_before_or_after_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.sqlite");
    let store = FileKeyStore::create(&dir.path().join("key")).unwrap();
    let cheap = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let mut v = Vault::create(&path, &store, Some(("pw", cheap)), UnixTime::from_secs(0)).unwrap();
    for (i, secret) in SECRETS.iter().enumerate() {
        v.add(
            NewAccount {
                issuer: format!("Issuer{i}"),
                label: "me".into(),
                otp: OtpCredential::new(
                    OtpParams::totp(Algorithm::Sha512, 8, 30),
                    Secret::from_slice(secret),
                )
                .unwrap(),
                group: None,
                note: None,
                extra_params: vec![],
            },
            UnixTime::from_secs(0),
        )
        .unwrap();
    }
    let device_key = SoftwareDeviceKey::generate(2048).unwrap();
    let device_der = device_key.pkcs8().expose().to_vec();
    v.add_push_account(
        AccountId::random(),
        Names {
            issuer: CLEAR_ISSUER.into(),
            label: "push".into(),
            group: None,
            note: None,
        },
        push_credential(),
        StoredDeviceKey::Software(device_key.pkcs8().clone()),
        UnixTime::from_secs(0),
    )
    .unwrap();
    let container_key = authcore::container::ContainerKey::generate()
        .and_then(|k| k.to_pkcs8())
        .unwrap();
    let container_der = container_key.expose().to_vec();
    v.add_container(
        CLEAR_CONTAINER,
        "privacyIDEA",
        "https://pi.example",
        true,
        &container_key,
        UnixTime::from_secs(0),
    )
    .unwrap();
    v.container_registered(CLEAR_CONTAINER, &ContainerPolicies::default())
        .unwrap();
    // A rollover's next key, and a token a sync delivered.
    let next_key = authcore::container::ContainerKey::generate()
        .and_then(|k| k.to_pkcs8())
        .unwrap();
    v.set_container_next_key(CLEAR_CONTAINER, &next_key)
        .unwrap();
    v.apply_container_sync(
        CLEAR_CONTAINER,
        vec![SyncChange::Add {
            new: NewAccount {
                issuer: "Synced".into(),
                label: "me".into(),
                otp: OtpCredential::new(
                    OtpParams::totp(Algorithm::Sha1, 6, 30),
                    Secret::from_slice(SYNCED_SECRET),
                )
                .unwrap(),
                group: None,
                note: None,
                extra_params: vec![],
            },
            token_serial: "TOTP0SYNCED".into(),
            token_type: TokenType::Totp,
        }],
        &ContainerPolicies::default(),
        UnixTime::from_secs(0),
    )
    .unwrap();
    // The master key, as the key store unwraps it from the vault's key-store slot.
    let wrapped: Vec<u8> = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row(
            "SELECT wrapped_key FROM key_slots WHERE kind = 'keystore'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let master = store.unwrap(&wrapped).unwrap();
    let next_der = next_key.expose().to_vec();
    let more: [&[u8]; 3] = [master.expose(), &next_der, SYNCED_SECRET];
    // The connection is open: the writes sit in the WAL.
    assert!(
        std::fs::metadata(format!("{}-wal", path.display()))
            .unwrap()
            .len()
            > 0
    );
    assert_clean(&path, &device_der, &container_der, &more);
    drop(v);
    // Closing checkpoints the WAL into the main file.
    assert_clean(&path, &device_der, &container_der, &more);
    let v = Vault::open(&path, Unlock::Password("pw")).unwrap();
    assert_eq!(v.accounts().unwrap().len(), 5);
    assert_clean(&path, &device_der, &container_der, &more);
}

/// Every file in `dir` (recursively) in which `needle` occurs.
fn files_in_holding(dir: &Path, needle: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if std::fs::read(&path)
                .map(|b| b.windows(needle.len()).any(|w| w == needle))
                .unwrap_or(false)
            {
                found.push(path.display().to_string());
            }
        }
    }
    found
}

/// Backups, automatic backups and the vault beside them hold no OTP secret, no backup password
/// and no backup key in the clear; the same scan finds a backup's signature and the vault's
/// clear names (the positive controls).
#[test]
fn backups_hold_no_secret_in_the_clear() {
    use authcore::authenticator::{Authenticator, Config};
    use authcore::clock::FixedClock;
    use std::sync::Arc;

    const PASSWORD: &str = "BackupPasswordMarker-42";
    let cheap = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let out = home.join("backups");
    std::fs::create_dir_all(&out).unwrap();
    let store = FileKeyStore::create(&home.join("key")).unwrap();
    let auth = Authenticator::create(
        &home.join("vault.sqlite"),
        &store,
        None,
        Config::offline(Arc::new(FixedClock::new(1_764_600_000))),
    )
    .unwrap();
    auth.enable_auto_backup(&out, 5, PASSWORD, cheap).unwrap();
    for (i, secret) in SECRETS.iter().enumerate() {
        auth.add_accounts(vec![NewAccount {
            issuer: format!("{CLEAR_ISSUER}{i}"),
            label: "me".into(),
            otp: OtpCredential::new(
                OtpParams::totp(Algorithm::Sha512, 8, 30),
                Secret::from_slice(secret),
            )
            .unwrap(),
            group: None,
            note: None,
            extra_params: vec![],
        }])
        .unwrap();
        auth.flush_backup().unwrap();
    }
    let manual = auth.create_backup(PASSWORD, cheap).unwrap();
    std::fs::write(home.join("manual.backup"), &manual).unwrap();
    // The automatic backups' key, derived as the core does from the salt a backup states.
    let newest = std::fs::read(
        authcore::backup::BackupDir::new(&out)
            .unwrap()
            .backups()
            .unwrap()
            .pop()
            .unwrap(),
    )
    .unwrap();
    let key = authcore::vault::slots::derive_key(PASSWORD, &newest[22..38], cheap).unwrap();
    for secret in SECRETS
        .iter()
        .copied()
        .chain([PASSWORD.as_bytes(), key.expose()])
    {
        for form in forms(secret) {
            let holding = files_in_holding(&home, &form);
            assert!(holding.is_empty(), "{holding:?} hold a secret in the clear");
        }
    }
    assert_eq!(
        files_in_holding(&out, b"AUTHCBAK").len(),
        4,
        "the scan sees every automatic backup"
    );
    assert!(!files_in_holding(&home, CLEAR_ISSUER.as_bytes()).is_empty());
    drop(auth);
    for form in forms(key.expose()) {
        assert!(files_in_holding(&home, &form).is_empty());
    }
}

/// Spare push device keys (made ahead of enrollments, sealed in `spare_device_keys`) are not in
/// the files in the clear: while the vault is open (the WAL), after close (checkpointed), and
/// after they were taken (their rows deleted; `secure_delete` overwrites them).
#[test]
fn spare_device_keys_are_not_in_the_clear() {
    use authcore::authenticator::{Authenticator, Config, DeviceKeys};
    use authcore::clock::FixedClock;
    use std::sync::Arc;

    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let path = home.join("vault.sqlite");
    let store = FileKeyStore::create(&home.join("key")).unwrap();
    let mut config = Config::offline(Arc::new(FixedClock::new(1_764_600_000)));
    config.device_keys = DeviceKeys::Software { bits: 2048 };
    let auth = Authenticator::create(&path, &store, None, config).unwrap();
    auth.add_uri(&format!(
        "otpauth://totp/{CLEAR_ISSUER}:me?secret=JBSWY3DPEHPK3PXP&issuer={CLEAR_ISSUER}"
    ))
    .unwrap();
    assert_eq!(
        authcore_tests::suite::block_on(auth.prepare_device_keys(2)).unwrap(),
        2
    );
    let snapshot = |name: &str| {
        let to = dir.path().join(name);
        std::fs::create_dir_all(&to).unwrap();
        for suffix in ["", "-wal", "-shm"] {
            let from = format!("{}{suffix}", path.display());
            if std::path::Path::new(&from).exists() {
                std::fs::copy(&from, to.join(format!("vault.sqlite{suffix}"))).unwrap();
            }
        }
        to
    };
    let open = snapshot("open");
    drop(auth);
    let closed = snapshot("closed");
    let mut v = Vault::open(&path, Unlock::KeyStore(&store)).unwrap();
    let keys: Vec<Secret> =
        std::iter::from_fn(|| v.take_spare_software_key(2048).unwrap()).collect();
    assert_eq!(keys.len(), 2, "both spares were in the vault");
    for place in [&open, &closed, &home] {
        for key in &keys {
            let key = key.expose();
            let middle = key.len() / 2;
            for piece in [key, &key[middle..middle + 32]] {
                for form in forms(piece) {
                    let holding = files_in_holding(place, &form);
                    assert!(
                        holding.is_empty(),
                        "{holding:?} hold a spare key in the clear"
                    );
                }
            }
        }
        assert!(
            !files_in_holding(place, CLEAR_ISSUER.as_bytes()).is_empty(),
            "the scan does not see {}",
            place.display()
        );
    }
}
