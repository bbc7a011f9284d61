//! The vault file, its WAL and its shared-memory file never hold a secret in the clear: not the
//! raw bytes, not base32, not hex, whether or not the WAL has been checkpointed.
use std::path::Path;

use authcore::account::{NewAccount, OtpCredential};
use authcore::otp::{Algorithm, OtpParams};
use authcore::secret::Secret;
use authcore::vault::{FileKeyStore, KdfParams, Unlock, Vault};

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

fn assert_clean(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        let Ok(bytes) = std::fs::read(&file) else {
            continue;
        };
        for secret in SECRETS {
            for form in forms(secret) {
                assert!(
                    !bytes.windows(form.len()).any(|w| w == form.as_slice()),
                    "{file} contains a secret in the clear"
                );
            }
        }
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
    let mut v = Vault::create(&path, &store, Some(("pw", cheap)), 0).unwrap();
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
            0,
        )
        .unwrap();
    }
    // The connection is open: the writes sit in the WAL.
    assert!(
        std::fs::metadata(format!("{}-wal", path.display()))
            .unwrap()
            .len()
            > 0
    );
    assert_clean(&path);
    drop(v);
    // Closing checkpoints the WAL into the main file.
    assert_clean(&path);
    let v = Vault::open(&path, Unlock::Password("pw")).unwrap();
    assert_eq!(v.accounts().unwrap().len(), 3);
    assert_clean(&path);
}
