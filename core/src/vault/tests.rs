use std::path::PathBuf;

use rusqlite::params;

use super::*;
use crate::account::{AccountError, AccountId, NewAccount, OtpCredential};
use crate::otp::{Algorithm, OtpKind, OtpParams};
use crate::time::UnixTime;

pub(super) const NOW: i64 = 1_700_000_000;
/// [NOW] as the time the vault calls take.
pub(super) const AT: UnixTime = UnixTime::from_secs(NOW);

pub(super) fn cheap() -> KdfParams {
    KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    }
}

pub(super) struct Fixture {
    pub(super) _dir: tempfile::TempDir,
    pub(super) path: PathBuf,
    pub(super) store: FileKeyStore,
}

pub(super) fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.sqlite");
    let store = FileKeyStore::create(&dir.path().join("key")).unwrap();
    Fixture {
        _dir: dir,
        path,
        store,
    }
}

pub(super) fn new_account(issuer: &str, secret: &[u8], params: OtpParams) -> NewAccount {
    NewAccount {
        issuer: issuer.into(),
        label: "alice@example.com".into(),
        otp: OtpCredential::new(params, Secret::from_slice(secret)).unwrap(),
        group: None,
        note: None,
        extra_params: vec![("image".into(), "https://example.com/i.png".into())],
    }
}

pub(super) fn totp(issuer: &str) -> NewAccount {
    new_account(
        issuer,
        b"12345678901234567890",
        OtpParams::totp(Algorithm::Sha1, 6, 30),
    )
}

#[test]
fn create_add_reopen_and_read_back() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let a = v.add(totp("GitHub"), AT).unwrap();
    let b = v
        .add(
            new_account(
                "Bank",
                b"abcdefghij",
                OtpParams::hotp(Algorithm::Sha512, 8, 7),
            ),
            UnixTime::from_secs(NOW + 1),
        )
        .unwrap();
    drop(v);
    let v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
    let all = v.accounts().unwrap();
    assert_eq!(all, vec![a.clone(), b.clone()]);
    assert_eq!(
        v.get(&b.id).unwrap().otp.unwrap().params.kind,
        OtpKind::Hotp { counter: 7 }
    );
    assert_eq!(all[0].extra_params[0].0, "image");
}

#[cfg(unix)]
#[test]
fn the_vault_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    v.add(totp("A"), AT).unwrap();
    for suffix in ["", "-wal"] {
        let p = format!("{}{suffix}", f.path.display());
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{p} is {mode:o}");
    }
}

#[test]
fn create_refuses_an_existing_file() {
    let f = fixture();
    std::fs::write(&f.path, b"precious").unwrap();
    assert!(matches!(
        Vault::create(&f.path, &f.store, None, AT),
        Err(VaultError::AlreadyExists { .. })
    ));
    assert_eq!(std::fs::read(&f.path).unwrap(), b"precious");
}

#[test]
fn wrong_key_store_changes_nothing() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    v.add(totp("GitHub"), AT).unwrap();
    drop(v);
    let before = std::fs::read(&f.path).unwrap();
    let other = FileKeyStore::create(&f._dir.path().join("other")).unwrap();
    assert!(matches!(
        Vault::open(&f.path, Unlock::KeyStore(&other)),
        Err(VaultError::WrongKey)
    ));
    assert_eq!(std::fs::read(&f.path).unwrap(), before);
}

#[test]
fn password_slot_unlocks_and_wrong_password_is_refused() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, Some(("hunter2", cheap())), AT).unwrap();
    let a = v.add(totp("GitHub"), AT).unwrap();
    assert!(v.has_password().unwrap());
    drop(v);
    let v = Vault::open(&f.path, Unlock::Password("hunter2")).unwrap();
    assert_eq!(v.accounts().unwrap(), vec![a]);
    drop(v);
    assert!(matches!(
        Vault::open(&f.path, Unlock::Password("hunter3")),
        Err(VaultError::WrongPassword)
    ));
}

#[test]
fn password_can_be_added_changed_and_removed() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    assert!(!v.has_password().unwrap());
    assert!(matches!(v.remove_password(), Err(VaultError::NoPassword)));
    assert!(matches!(
        v.set_password("", cheap(), UnixTime::EPOCH),
        Err(VaultError::BadPassword { .. })
    ));
    v.set_password("one", cheap(), UnixTime::EPOCH).unwrap();
    v.set_password("two", cheap(), UnixTime::EPOCH).unwrap();
    drop(v);
    assert!(matches!(
        Vault::open(&f.path, Unlock::Password("one")),
        Err(VaultError::WrongPassword)
    ));
    let mut v = Vault::open(&f.path, Unlock::Password("two")).unwrap();
    v.remove_password().unwrap();
    drop(v);
    assert!(matches!(
        Vault::open(&f.path, Unlock::Password("two")),
        Err(VaultError::NoPassword)
    ));
    Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
}

#[test]
fn replacing_the_key_store_moves_the_vault_to_a_new_device_key() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, Some(("pw", cheap())), AT).unwrap();
    v.add(totp("GitHub"), AT).unwrap();
    drop(v);
    let mut v = Vault::open(&f.path, Unlock::Password("pw")).unwrap();
    let new_store = FileKeyStore::create(&f._dir.path().join("new")).unwrap();
    v.replace_key_store(&new_store, AT).unwrap();
    drop(v);
    assert_eq!(
        Vault::open(&f.path, Unlock::KeyStore(&new_store))
            .unwrap()
            .accounts()
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        Vault::open(&f.path, Unlock::KeyStore(&f.store)),
        Err(VaultError::WrongKey)
    ));
}

#[test]
fn not_a_vault_and_garbage_are_named() {
    let f = fixture();
    std::fs::write(&f.path, vec![0x42; 8192]).unwrap();
    assert!(matches!(
        Vault::open(&f.path, Unlock::KeyStore(&f.store)),
        Err(VaultError::NotAVault { .. })
    ));
    let other = f._dir.path().join("other.sqlite");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE t(x); INSERT INTO t VALUES (1);")
        .unwrap();
    assert!(matches!(
        Vault::open(&other, Unlock::KeyStore(&f.store)),
        Err(VaultError::NotAVault { .. })
    ));
    assert!(matches!(
        Vault::open(&f._dir.path().join("none"), Unlock::KeyStore(&f.store)),
        Err(VaultError::Missing { .. })
    ));
}

#[test]
fn truncated_file_is_an_error_not_a_panic() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    for i in 0..20 {
        v.add(totp(&format!("Issuer {i}")), AT).unwrap();
    }
    drop(v);
    let bytes = std::fs::read(&f.path).unwrap();
    for cut in [10, 100, 1000, bytes.len() / 2] {
        std::fs::write(&f.path, &bytes[..cut]).unwrap();
        let _ = std::fs::remove_file(f.path.with_extension("sqlite-wal"));
        let result = Vault::open(&f.path, Unlock::KeyStore(&f.store)).and_then(|v| v.accounts());
        assert!(result.is_err(), "cut at {cut} must not look healthy");
    }
}

#[test]
fn tampered_or_swapped_secrets_are_detected() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let a = v.add(totp("A"), AT).unwrap();
    let b = v
        .add(
            new_account(
                "B",
                b"bbbbbbbbbbbbbbbbbbbb",
                OtpParams::totp(Algorithm::Sha1, 6, 30),
            ),
            AT,
        )
        .unwrap();
    drop(v);
    let raw = Connection::open(&f.path).unwrap();
    let secret = |id: &AccountId| -> Vec<u8> {
        raw.query_row(
            "SELECT secret FROM accounts WHERE id = ?1",
            [id.as_str()],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (sa, sb) = (secret(&a.id), secret(&b.id));
    raw.execute(
        "UPDATE accounts SET secret = ?2 WHERE id = ?1",
        params![a.id.as_str(), sb],
    )
    .unwrap();
    raw.execute(
        "UPDATE accounts SET secret = ?2 WHERE id = ?1",
        params![b.id.as_str(), sa],
    )
    .unwrap();
    let v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
    let err = v.accounts().unwrap_err();
    assert!(matches!(err, VaultError::Damaged { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        format!(
            "the vault is damaged: the secret of account {} does not decrypt (altered on disk?); nothing was changed",
            a.id
        )
    );
    drop(v);
    // Swap back, then change the digits on disk: the parameters are bound too.
    raw.execute(
        "UPDATE accounts SET secret = ?2 WHERE id = ?1",
        params![a.id.as_str(), sa],
    )
    .unwrap();
    raw.execute(
        "UPDATE accounts SET secret = ?2 WHERE id = ?1",
        params![b.id.as_str(), sb],
    )
    .unwrap();
    raw.execute(
        "UPDATE accounts SET digits = 8 WHERE id = ?1",
        [a.id.as_str()],
    )
    .unwrap();
    let v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
    assert!(matches!(v.get(&a.id), Err(VaultError::Damaged { .. })));
    assert!(v.get(&b.id).is_ok());
}

#[test]
fn newer_format_is_refused() {
    let f = fixture();
    drop(Vault::create(&f.path, &f.store, None, AT).unwrap());
    Connection::open(&f.path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    assert!(matches!(
        Vault::open(&f.path, Unlock::KeyStore(&f.store)),
        Err(VaultError::NewerFormat { found: 99, .. })
    ));
}

#[test]
fn invalid_accounts_change_nothing() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let mut bad = totp("ok");
    bad.issuer = "bad\u{0}issuer".into();
    let err = v.add_many(vec![totp("first"), bad], AT).unwrap_err();
    assert!(matches!(err, VaultError::Invalid(_)));
    assert!(v.accounts().unwrap().is_empty(), "all or nothing");
    let a = v.add(totp("GitHub"), AT).unwrap();
    assert!(matches!(
        v.rename(&a.id, Some(String::new()), Some(" ".into()), AT),
        Err(VaultError::Invalid(AccountError::Unnamed))
    ));
    assert_eq!(v.get(&a.id).unwrap(), a);
}

#[test]
fn rename_group_note_move_delete() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let ids: Vec<AccountId> = ["A", "B", "C"]
        .iter()
        .map(|n| v.add(totp(n), AT).unwrap().id)
        .collect();
    let renamed = v
        .rename(
            &ids[0],
            Some("Acme".into()),
            None,
            UnixTime::from_secs(NOW + 5),
        )
        .unwrap();
    assert_eq!(
        (renamed.issuer.as_str(), renamed.updated_at),
        ("Acme", UnixTime::from_secs(NOW + 5))
    );
    assert_eq!(renamed.label, "alice@example.com");
    v.set_group(&ids[1], Some("Work".into()), AT).unwrap();
    v.set_note(&ids[1], Some("two lines\nof note".into()), AT)
        .unwrap();
    v.move_to(&ids[2], 0, AT).unwrap();
    let order: Vec<_> = v.accounts().unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(order, vec![ids[2].clone(), ids[0].clone(), ids[1].clone()]);
    v.move_to(&ids[2], 99, AT).unwrap();
    let last = v.accounts().unwrap().pop().unwrap();
    assert_eq!(last.id, ids[2]);
    let b = v.get(&ids[1]).unwrap();
    assert_eq!(b.group.as_deref(), Some("Work"));
    assert_eq!(b.note.as_deref(), Some("two lines\nof note"));
    v.delete(&ids[1]).unwrap();
    assert!(matches!(v.get(&ids[1]), Err(VaultError::NotFound { .. })));
    assert!(matches!(
        v.delete(&ids[1]),
        Err(VaultError::NotFound { .. })
    ));
    assert!(matches!(
        v.move_to(&ids[1], 0, AT),
        Err(VaultError::NotFound { .. })
    ));
}

#[test]
fn hotp_counter_is_reserved_before_use() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let h = v
        .add(
            new_account(
                "H",
                b"12345678901234567890",
                OtpParams::hotp(Algorithm::Sha1, 6, 0),
            ),
            AT,
        )
        .unwrap();
    let t = v.add(totp("T"), AT).unwrap();
    for want in 0..3 {
        let (used, stored) = v.advance_hotp(&h.id, AT).unwrap();
        assert_eq!(used, want);
        assert_eq!(
            stored.otp.unwrap().params.kind,
            OtpKind::Hotp { counter: want + 1 }
        );
    }
    drop(v);
    let mut v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
    assert_eq!(
        v.get(&h.id).unwrap().otp.unwrap().params.kind,
        OtpKind::Hotp { counter: 3 }
    );
    assert!(matches!(
        v.advance_hotp(&t.id, AT),
        Err(VaultError::NotHotp { .. })
    ));
}

#[test]
fn hotp_counters_beyond_i64_survive() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let h = v
        .add(
            new_account("H", b"k", OtpParams::hotp(Algorithm::Sha1, 6, u64::MAX - 1)),
            AT,
        )
        .unwrap();
    assert_eq!(v.advance_hotp(&h.id, AT).unwrap().0, u64::MAX - 1);
    assert!(matches!(
        v.advance_hotp(&h.id, AT),
        Err(VaultError::CounterExhausted { .. })
    ));
}

#[test]
fn settings_round_trip() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    assert_eq!(v.setting(Setting::ClockOffset).unwrap(), None);
    v.set_setting(Setting::ClockOffset, "-12").unwrap();
    v.set_setting(Setting::ClockOffset, "7").unwrap();
    drop(v);
    let v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
    assert_eq!(
        v.setting(Setting::ClockOffset).unwrap().as_deref(),
        Some("7")
    );
}

/// The stored names are the file format (docs/vault.md lists them): a rename would lose them.
#[test]
fn setting_names_are_the_documented_ones() {
    assert_eq!(Setting::ClockOffset.as_str(), "clock.offset_seconds");
    assert_eq!(Setting::PasswordlessRules.as_str(), "policy.rules");
    assert_eq!(
        Setting::PushServerOffsets.as_str(),
        "push.server_offsets_ms"
    );
}

#[test]
fn debug_output_has_no_key_material() {
    let f = fixture();
    let v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let shown = format!("{v:?} {:?}", f.store);
    assert!(
        shown.contains("Vault") && !shown.contains("master"),
        "{shown}"
    );
}

#[test]
fn passwordless_flags_change_together() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let a = v.add(totp("A"), AT).unwrap().id;
    let b = v.add(totp("B"), AT).unwrap().id;
    assert!(v.passwordless_ids().unwrap().is_empty());
    v.set_passwordless(&[(a.clone(), true)], AT).unwrap();
    v.set_passwordless(&[(a.clone(), false), (b.clone(), true)], AT)
        .unwrap();
    assert_eq!(v.passwordless_ids().unwrap(), vec![b.clone()]);
    let gone = AccountId::random();
    assert!(matches!(
        v.set_passwordless(&[(b.clone(), false), (gone, true)], AT),
        Err(VaultError::NotFound { .. })
    ));
    assert_eq!(
        v.passwordless_ids().unwrap(),
        vec![b],
        "a failed change changes nothing"
    );
}

#[test]
fn a_version_1_vault_is_migrated_on_open() {
    let f = fixture();
    let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
    let kept = v.add(totp("Kept"), AT).unwrap();
    drop(v);
    // Take the file back to what migration 1 alone left (the columns and tables the later
    // migrations add are gone; the rows are kept).
    let raw = Connection::open(&f.path).unwrap();
    raw.execute_batch(
        "ALTER TABLE accounts DROP COLUMN passwordless;
         DROP TABLE push_credentials; DROP TABLE push_requests;
         DROP TABLE containers; DROP TABLE container_tokens;
         DROP TABLE spare_device_keys;
         PRAGMA user_version = 1;",
    )
    .unwrap();
    drop(raw);
    let mut v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
    assert_eq!(
        v.accounts().unwrap(),
        vec![kept],
        "every account survives the migrations"
    );
    let a = v.add(totp("A"), AT).unwrap().id;
    v.set_passwordless(&[(a.clone(), true)], AT).unwrap();
    assert_eq!(v.passwordless_ids().unwrap(), vec![a]);
}

mod push_storage {
    use super::*;
    use crate::account::Names;
    use crate::push::tests::support::{credential, device_key, request, t};

    fn names() -> Names {
        Names {
            issuer: "privacyIDEA".into(),
            label: "alice".into(),
            group: None,
            note: None,
        }
    }

    #[test]
    fn a_push_account_and_its_sealed_device_key_read_back() {
        let f = fixture();
        let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
        let id = AccountId::random();
        let pkcs8 = device_key().pkcs8().clone();
        let added = v
            .add_push_account(
                id.clone(),
                names(),
                credential(),
                StoredDeviceKey::Software(pkcs8.clone()),
                AT,
            )
            .unwrap();
        drop(v);
        let v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
        let read = v.get(&id).unwrap();
        assert_eq!(read, added);
        assert_eq!(read.otp, None);
        assert_eq!(read.push.as_ref().unwrap().serial, credential().serial);
        assert_eq!(
            v.push_device_key(&id).unwrap(),
            StoredDeviceKey::Software(pkcs8.clone())
        );
        // The device key is not in the file in the clear.
        drop(v);
        let bytes = std::fs::read(&f.path).unwrap();
        let key = pkcs8.expose();
        assert!(!bytes.windows(32).any(|w| key.windows(32).any(|k| k == w)));
    }

    #[test]
    fn a_serial_is_enrolled_once_and_an_account_holds_one_token() {
        let f = fixture();
        let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
        let otp = v.add(totp("privacyIDEA"), AT).unwrap();
        let both = v
            .attach_push(&otp.id, credential(), StoredDeviceKey::Platform, AT)
            .unwrap();
        assert!(both.otp.is_some() && both.push.is_some());
        assert_eq!(
            v.push_device_key(&otp.id).unwrap(),
            StoredDeviceKey::Platform
        );
        let again = v.add_push_account(
            AccountId::random(),
            names(),
            credential(),
            StoredDeviceKey::Platform,
            AT,
        );
        assert!(
            matches!(again, Err(VaultError::PushSerialTaken { .. })),
            "{again:?}"
        );
        let mut other = credential();
        other.serial = "PIPU0000OTHER".into();
        let second = v.attach_push(&otp.id, other, StoredDeviceKey::Platform, AT);
        assert!(
            matches!(second, Err(VaultError::AlreadyHasPush { .. })),
            "{second:?}"
        );
        assert_eq!(
            v.accounts().unwrap().len(),
            1,
            "failed calls change nothing"
        );
        // The code account has no push key to hand out; a push-less account says so.
        let plain = v.add(totp("Plain"), AT).unwrap();
        assert!(matches!(
            v.push_device_key(&plain.id),
            Err(VaultError::NoPush { .. })
        ));
        // Deleting the account deletes its token: the serial can be enrolled again.
        v.delete(&otp.id).unwrap();
        v.add_push_account(
            AccountId::random(),
            names(),
            credential(),
            StoredDeviceKey::Platform,
            AT,
        )
        .unwrap();
    }

    #[test]
    fn requests_are_kept_once_and_never_offered_again_once_answered_or_expired() {
        let f = fixture();
        let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
        let start = t(1_700_000_000);
        let first = request("NONCE1", start);
        assert_eq!(
            v.store_push_request(&first, start).unwrap(),
            PushInserted::New
        );
        assert_eq!(
            v.store_push_request(&first, start).unwrap(),
            PushInserted::Duplicate
        );
        assert_eq!(v.pending_push_requests(start).unwrap(), vec![first.clone()]);
        v.mark_push_answered("NONCE1", start).unwrap();
        assert!(v.pending_push_requests(start).unwrap().is_empty());
        assert_eq!(
            v.store_push_request(&first, start).unwrap(),
            PushInserted::Answered
        );
        assert_eq!(
            v.push_request("NONCE1")
                .unwrap()
                .map(|(_, answered)| answered),
            Some(true)
        );

        let second = request("NONCE2", start);
        v.store_push_request(&second, start).unwrap();
        let later = start + std::time::Duration::from_secs(121);
        assert!(v.pending_push_requests(later).unwrap().is_empty());
        // Seen again after its window (a replay, or a late re-delivery): not offered.
        let replay = request("NONCE2", later);
        assert_eq!(
            v.store_push_request(&replay, later).unwrap(),
            PushInserted::Expired
        );
        // An hour on, the nonces are forgotten.
        let much_later = later + std::time::Duration::from_secs(3600);
        v.pending_push_requests(much_later).unwrap();
        assert_eq!(v.push_request("NONCE1").unwrap(), None);
    }

    #[test]
    fn request_bookkeeping_commits_relaxed_and_leaves_every_other_write_full() {
        let f = fixture();
        let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
        let sync = |v: &Vault| -> i64 {
            v.conn
                .query_row("PRAGMA synchronous", [], |r| r.get(0))
                .unwrap()
        };
        const FULL: i64 = 2;
        assert_eq!(sync(&v), FULL);
        let start = t(1_700_000_000);
        v.store_push_request(&request("NONCE1", start), start)
            .unwrap();
        assert_eq!(sync(&v), FULL);
        v.mark_push_answered("NONCE1", start).unwrap();
        assert_eq!(sync(&v), FULL);
        // A failed write sets FULL again too, and its error comes through.
        assert!(matches!(
            v.relaxed(|_| Err::<(), _>(VaultError::Random)),
            Err(VaultError::Random)
        ));
        assert_eq!(sync(&v), FULL);
        // What was kept relaxed is read back by a second connection (it is in the WAL).
        drop(v);
        let v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
        assert_eq!(
            v.push_request("NONCE1")
                .unwrap()
                .map(|(_, answered)| answered),
            Some(true)
        );
    }
}

mod spare_device_keys {
    use super::*;
    use crate::push::tests::support::{device_key, stranger_key};

    const SOFT: SpareKind = SpareKind::Software { bits: 2048 };

    #[test]
    fn a_version_4_vault_is_migrated_to_5_on_open() {
        let f = fixture();
        let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
        let kept = v.add(totp("Kept"), AT).unwrap();
        drop(v);
        let raw = Connection::open(&f.path).unwrap();
        raw.execute_batch("DROP TABLE spare_device_keys; PRAGMA user_version = 4;")
            .unwrap();
        drop(raw);
        let mut v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
        assert_eq!(v.accounts().unwrap(), vec![kept]);
        assert_eq!(v.spare_device_keys(SOFT).unwrap(), 0);
        assert!(
            v.add_spare_software_key(2048, device_key().pkcs8(), 1, AT)
                .unwrap()
        );
        drop(v);
        let raw = Connection::open(&f.path).unwrap();
        assert_eq!(schema::version(&raw).unwrap(), 5);
    }

    #[test]
    fn a_software_spare_is_sealed_kept_up_to_the_pool_size_and_taken_once() {
        let f = fixture();
        let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
        let first = device_key().pkcs8().clone();
        let second = stranger_key().pkcs8().clone();
        assert!(v.add_spare_software_key(2048, &first, 2, AT).unwrap());
        assert!(
            v.add_spare_software_key(2048, &second, 2, UnixTime::from_secs(NOW + 1))
                .unwrap()
        );
        assert!(
            !v.add_spare_software_key(2048, &second, 2, UnixTime::from_secs(NOW + 2))
                .unwrap(),
            "the pool is full"
        );
        assert_eq!(v.spare_device_keys(SOFT).unwrap(), 2);
        assert_eq!(
            v.spare_device_keys(SpareKind::Software { bits: 4096 })
                .unwrap(),
            0,
            "spares are kept per size"
        );
        assert_eq!(v.take_spare_software_key(4096).unwrap(), None);
        drop(v);
        // Not in the file in the clear.
        let bytes = std::fs::read(&f.path).unwrap();
        for key in [&first, &second] {
            let key = key.expose();
            assert!(!bytes.windows(32).any(|w| key.windows(32).any(|k| k == w)));
        }
        // Taken oldest first, each once, also across handles.
        let mut v = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
        let mut other = Vault::open(&f.path, Unlock::KeyStore(&f.store)).unwrap();
        assert_eq!(v.take_spare_software_key(2048).unwrap(), Some(first));
        assert_eq!(other.take_spare_software_key(2048).unwrap(), Some(second));
        assert_eq!(v.take_spare_software_key(2048).unwrap(), None);
        assert_eq!(other.spare_device_keys(SOFT).unwrap(), 0);
    }

    #[test]
    fn a_spare_moved_on_disk_does_not_open_and_is_passed_over() {
        let f = fixture();
        let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
        v.add_spare_software_key(2048, device_key().pkcs8(), 2, AT)
            .unwrap();
        v.add_spare_software_key(
            2048,
            stranger_key().pkcs8(),
            2,
            UnixTime::from_secs(NOW + 1),
        )
        .unwrap();
        // The first row's sealed key claims another size: its AD no longer matches.
        v.conn
            .execute(
                "UPDATE spare_device_keys SET bits = 3072 WHERE created_at = ?1",
                [NOW],
            )
            .unwrap();
        v.conn
            .execute(
                "UPDATE spare_device_keys SET created_at = ?1 WHERE bits = 3072",
                [NOW - 10],
            )
            .unwrap();
        assert_eq!(v.take_spare_software_key(3072).unwrap(), None);
        assert_eq!(
            v.spare_device_keys(SpareKind::Software { bits: 3072 })
                .unwrap(),
            0,
            "the damaged spare is gone"
        );
        assert_eq!(
            v.take_spare_software_key(2048).unwrap(),
            Some(stranger_key().pkcs8().clone())
        );
    }

    #[test]
    fn a_platform_spare_names_its_alias_and_is_taken_once() {
        let f = fixture();
        let mut v = Vault::create(&f.path, &f.store, None, AT).unwrap();
        let alias = AccountId::random();
        assert!(v.add_spare_platform_key(&alias, b"spki", 1, AT).unwrap());
        assert!(
            !v.add_spare_platform_key(&AccountId::random(), b"spki", 1, AT)
                .unwrap()
        );
        assert_eq!(v.spare_device_keys(SpareKind::Platform).unwrap(), 1);
        assert_eq!(v.spare_device_keys(SOFT).unwrap(), 0);
        assert_eq!(
            v.take_spare_platform_key().unwrap(),
            Some((alias, b"spki".to_vec()))
        );
        assert_eq!(v.take_spare_platform_key().unwrap(), None);
        // An alias some account has meanwhile is not handed out.
        let taken = v.add(totp("Has the id"), AT).unwrap().id;
        v.add_spare_platform_key(&taken, b"spki", 1, AT).unwrap();
        assert_eq!(v.take_spare_platform_key().unwrap(), None);
    }
}
