//! Tests of what the vault does with hostile or unlucky conditions: key stores that unwrap to
//! the wrong key, bytes damaged anywhere in the file, and two handles writing at once.

use std::collections::HashMap;
use std::path::Path;

use super::tests::{AT, cheap, fixture, new_account, totp};
use super::*;
use crate::account::{Account, AccountId};
use crate::otp::{Algorithm, OtpParams};

/// A key store whose wrapping is not authenticated (as a raw RSA or XOR wrap on some platforms
/// would be): a wrong key unwraps to 32 bytes of nonsense instead of failing.
struct XorStore(u8);

impl KeyStore for XorStore {
    fn wrap(&self, master_key: &Secret) -> Result<Vec<u8>, KeyStoreError> {
        Ok(master_key.expose().iter().map(|b| b ^ self.0).collect())
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Secret, KeyStoreError> {
        Ok(Secret::new(wrapped.iter().map(|b| b ^ self.0).collect()))
    }
}

/// A key store that hands back a key of the wrong length.
struct ShortStore;

impl KeyStore for ShortStore {
    fn wrap(&self, _: &Secret) -> Result<Vec<u8>, KeyStoreError> {
        Ok(vec![1; 16])
    }
    fn unwrap(&self, wrapped: &[u8]) -> Result<Secret, KeyStoreError> {
        Ok(Secret::from_slice(wrapped))
    }
}

fn main_file(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn an_unauthenticated_key_store_with_the_wrong_key_is_a_wrong_key() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &XorStore(0x5a), None, AT).unwrap();
    v.add(totp("A"), AT).unwrap();
    drop(v);
    let before = main_file(&f.path);
    let err = Vault::open(&f.path, Unlock::KeyStore(&XorStore(0x33))).unwrap_err();
    assert!(matches!(err, VaultError::WrongKey), "{err}");
    assert!(matches!(
        Vault::open(&f.path, Unlock::KeyStore(&ShortStore)),
        Err(VaultError::WrongKey)
    ));
    assert_eq!(main_file(&f.path), before);
    let v = Vault::open(&f.path, Unlock::KeyStore(&XorStore(0x5a))).unwrap();
    assert_eq!(v.accounts().unwrap().len(), 1);
}

#[test]
fn a_wrong_password_changes_nothing() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, Some(("right", cheap())), AT).unwrap();
    v.add(totp("A"), AT).unwrap();
    drop(v);
    let before = main_file(&f.path);
    assert!(matches!(
        Vault::open(&f.path, Unlock::Password("wrong")),
        Err(VaultError::WrongPassword)
    ));
    assert_eq!(main_file(&f.path), before);
}

#[test]
fn a_password_slot_with_missing_parameters_is_damage() {
    let f = fixture();
    drop(Vault::create(&f.path, &f.store, Some(("pw", cheap())), AT).unwrap());
    Connection::open(&f.path)
        .unwrap()
        .execute(
            "UPDATE key_slots SET kdf_salt = NULL, kdf_memory_kib = NULL WHERE kind = 'password'",
            [],
        )
        .unwrap();
    let err = Vault::open(&f.path, Unlock::Password("pw")).unwrap_err();
    assert!(matches!(err, VaultError::Damaged { .. }), "{err}");
}

/// Flips bytes all over a closed vault. Whatever is hit, opening and reading either fails with
/// an error that says the file is damaged (or not a vault, or not openable with this key), or
/// succeeds with every secret exactly as written; it never panics and never writes.
#[test]
fn damage_anywhere_in_the_file_is_reported_or_harmless() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, Some(("pw", cheap())), AT).unwrap();
    let written: HashMap<AccountId, Account> = (0..40)
        .map(|i| {
            let secret = format!("secret number {i:02} padded to 32b");
            let a = v
                .add(
                    new_account(
                        &format!("Issuer {i}"),
                        secret.as_bytes(),
                        OtpParams::totp(Algorithm::Sha256, 8, 30),
                    ),
                    AT,
                )
                .unwrap();
            (a.id.clone(), a)
        })
        .collect();
    drop(v);
    let pristine = main_file(&f.path);
    let mut outcomes: HashMap<&'static str, usize> = HashMap::new();
    for offset in (0..pristine.len()).step_by(97) {
        let mut damaged = pristine.clone();
        for b in damaged.iter_mut().skip(offset).take(7) {
            *b ^= 0xa5;
        }
        std::fs::write(&f.path, &damaged).unwrap();
        for suffix in ["-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", f.path.display()));
        }
        let result = Vault::open(&f.path, Unlock::KeyStore(&f.store)).and_then(|v| v.accounts());
        let outcome = match result {
            Ok(all) => {
                for a in &all {
                    let original = written
                        .get(&a.id)
                        .unwrap_or_else(|| panic!("offset {offset}: an account nobody wrote"));
                    assert_eq!(a.otp, original.otp, "offset {offset}: a secret changed");
                }
                "read"
            }
            Err(VaultError::Damaged { .. }) => "damaged",
            Err(VaultError::NotAVault { .. }) => "not a vault",
            Err(VaultError::NewerFormat { .. }) => "newer format",
            Err(VaultError::WrongKey) => "wrong key",
            Err(other) => panic!("offset {offset}: unexpected error kind: {other:?}"),
        };
        *outcomes.entry(outcome).or_default() += 1;
        assert_eq!(
            main_file(&f.path),
            damaged,
            "offset {offset}: the file was written"
        );
    }
    assert!(
        outcomes.get("damaged").copied().unwrap_or(0) > 0,
        "{outcomes:?}"
    );
}

fn open_twice(f: &super::tests::Fixture) -> (Vault, Vault) {
    (
        Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap(),
        Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap(),
    )
}

/// Two handles on one file (the app and the CLI, or two CLI runs) adding at once: every add
/// succeeds, and every account gets its own place in the order.
#[test]
fn two_handles_can_add_at_the_same_time() {
    let f = fixture();
    drop(Vault::create(&f.path, &f.store, None, AT).unwrap());
    let (a, b) = open_twice(&f);
    let run = |mut v: Vault, name: &'static str| {
        std::thread::spawn(move || {
            for i in 0..60 {
                v.add(totp(&format!("{name}{i}")), AT)
                    .unwrap_or_else(|e| panic!("{name}{i}: {e}"));
            }
        })
    };
    let (ta, tb) = (run(a, "a"), run(b, "b"));
    ta.join().unwrap();
    tb.join().unwrap();
    let v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
    let all = v.accounts().unwrap();
    assert_eq!(all.len(), 120);
    let mut orders: Vec<i64> = all.iter().map(|a| a.sort_order).collect();
    orders.dedup();
    assert_eq!(orders.len(), 120, "two accounts share a place in the order");
}

/// An edit through one handle never undoes an edit made through another: each change reads
/// and writes in one transaction.
#[test]
fn edits_through_two_handles_are_never_lost() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let id = v.add(totp("A"), AT).unwrap().id;
    let h = v
        .add(
            new_account("H", b"hotp-secret", OtpParams::hotp(Algorithm::Sha1, 6, 0)),
            AT,
        )
        .unwrap()
        .id;
    drop(v);
    let (a, b) = open_twice(&f);
    let (id_a, id_b, h_a, h_b) = (id.clone(), id.clone(), h.clone(), h.clone());
    let ta = std::thread::spawn(move || {
        let mut a = a;
        let mut used = Vec::new();
        for i in 0..50 {
            a.set_note(&id_a, Some(format!("note {i}")), AT).unwrap();
            used.push(a.advance_hotp(&h_a, AT).unwrap().0);
        }
        used
    });
    let tb = std::thread::spawn(move || {
        let mut b = b;
        let mut used = Vec::new();
        for i in 0..50 {
            b.rename(&id_b, Some(format!("issuer {i}")), None, AT)
                .unwrap();
            used.push(b.advance_hotp(&h_b, AT).unwrap().0);
        }
        used
    });
    let mut used = ta.join().unwrap();
    used.extend(tb.join().unwrap());
    used.sort_unstable();
    assert_eq!(
        used,
        (0..100).collect::<Vec<u64>>(),
        "a HOTP counter was reused"
    );
    let v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
    let a = v.get(&id).unwrap();
    assert_eq!(
        (a.issuer.as_str(), a.note.as_deref()),
        ("issuer 49", Some("note 49"))
    );
}

/// A creation killed midway leaves at most a draft beside the path, never a file at it; the
/// next creation clears the draft and succeeds.
#[test]
fn a_draft_left_by_a_killed_creation_does_not_block_the_next() {
    let f = fixture();
    let draft = files::draft_path(&f.path);
    std::fs::write(&draft, b"half a vault").unwrap();
    std::fs::write(format!("{}-journal", draft.display()), b"junk").unwrap();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    v.add(totp("A"), AT).unwrap();
    let leftovers: Vec<_> = std::fs::read_dir(f._dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".creating"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    drop(v);
    assert_eq!(
        Vault::open(&f.path, Unlock::KeyStore(&f.store))
            .unwrap()
            .accounts()
            .unwrap()
            .len(),
        1
    );
}

/// A key store that refuses to wrap leaves nothing at the path, so the user can retry.
#[test]
fn a_failed_creation_leaves_nothing() {
    struct Refusing;
    impl KeyStore for Refusing {
        fn wrap(&self, _: &Secret) -> Result<Vec<u8>, KeyStoreError> {
            Err(KeyStoreError::Refused {
                reason: "user cancelled".into(),
            })
        }
        fn unwrap(&self, _: &[u8]) -> Result<Secret, KeyStoreError> {
            Err(KeyStoreError::WrongKey)
        }
    }
    let f = fixture();
    assert!(matches!(
        Vault::create(&f.path, &Refusing, None, AT),
        Err(VaultError::KeyStore(KeyStoreError::Refused { .. }))
    ));
    assert!(!Vault::exists(&f.path));
    assert!(matches!(
        Vault::create(
            &f.path,
            &f.store,
            Some((
                "pw",
                KdfParams {
                    memory_kib: 1,
                    ..cheap()
                }
            )),
            AT
        ),
        Err(VaultError::BadKdfParams { .. })
    ));
    assert!(!Vault::exists(&f.path));
    Vault::create(&f.path, &f.store, None, AT).unwrap();
}

/// The SQLite the vault and the importers run is built without extension loading
/// (.cargo/config.toml): no SQL, from a damaged vault or an imported app database, can load a
/// library into the process.
#[test]
fn the_bundled_sqlite_cannot_load_an_extension() {
    let conn = Connection::open_in_memory().unwrap();
    let err = conn
        .query_row("SELECT load_extension('libc.so.6')", [], |r| {
            r.get::<_, Option<String>>(0)
        })
        .unwrap_err();
    // A build with the function would say "not authorized" (loading is off at run time).
    assert_eq!(
        err.to_string(),
        "no such function: load_extension in SELECT load_extension('libc.so.6') at offset 7"
    );
    // What stays: the statements the vault uses.
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 0);
}
