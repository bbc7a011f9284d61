//! Backups through the facade: a backup restores every account onto a new vault with identical
//! codes, counters, groups, notes and order; merging recognises duplicates; verify reports what
//! differs and changes nothing; a wrong password or a damaged file changes nothing; automatic
//! backups appear after a change, coalesce, keep the newest N and record failures.

use std::path::Path;
use std::sync::Arc;

use super::{Authenticator, Config};
use crate::clock::FixedClock;
use crate::error::ErrorKind;
use crate::time::UnixTime;
use crate::vault::{FileKeyStore, KdfParams};

const NOW: i64 = 1_764_600_000;
const FAST: KdfParams = KdfParams {
    memory_kib: 64,
    iterations: 1,
    parallelism: 1,
};

const URIS: &[&str] = &[
    "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
    "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=41&digits=8",
    "otpauth://totp/Cloud:carol?secret=KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQ&issuer=Cloud&algorithm=SHA512&period=60&image=https%3A%2F%2Fexample.com%2Fi.png",
    "otpauth://steam/Steam:dave?secret=MFRGGZDFMZTWQ2LK&issuer=Steam",
];

struct Phone {
    dir: tempfile::TempDir,
    clock: Arc<FixedClock>,
}

impl Phone {
    fn new() -> Self {
        Phone {
            dir: tempfile::tempdir().unwrap(),
            clock: Arc::new(FixedClock::new(NOW)),
        }
    }

    fn open(&self) -> Authenticator {
        let store = FileKeyStore::open_or_create(&self.dir.path().join("key")).unwrap();
        Authenticator::open_or_create(
            &self.dir.path().join("vault.db"),
            &store,
            Config::offline(self.clock.clone()),
        )
        .unwrap()
    }
}

fn filled() -> (Phone, Authenticator) {
    let phone = Phone::new();
    let auth = phone.open();
    for uri in URIS {
        auth.add_uri(uri).unwrap();
    }
    let ids: Vec<_> = auth.accounts().unwrap().into_iter().map(|a| a.id).collect();
    auth.set_group(ids[0].as_str(), Some("Work".into()))
        .unwrap();
    auth.set_note(ids[1].as_str(), Some("recovery codes in the safe".into()))
        .unwrap();
    auth.next_hotp(ids[1].as_str()).unwrap();
    auth.move_to(ids[3].as_str(), 0).unwrap();
    (phone, auth)
}

/// What the user sees of every account: names, group, note, parameters and codes, in order.
fn view(auth: &Authenticator) -> Vec<String> {
    let accounts = auth.accounts().unwrap();
    let codes = auth.codes(None, Some(UnixTime::from_secs(NOW))).unwrap();
    accounts
        .iter()
        .zip(&codes)
        .map(|(a, c)| {
            format!(
                "{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{}",
                a.issuer,
                a.label,
                a.kind,
                a.algorithm,
                a.digits,
                a.period,
                a.counter,
                a.group,
                a.note,
                c.code
            )
        })
        .collect()
}

#[test]
fn a_backup_restores_everything_onto_a_new_phone() {
    let (_old, auth) = filled();
    let file = auth.create_backup("backup pass", FAST).unwrap();
    let new_phone = Phone::new();
    let fresh = new_phone.open();
    let report = fresh.restore_backup(&file, "backup pass", false).unwrap();
    assert_eq!(report.added.len(), 4);
    assert_eq!(report.created_at, UnixTime::from_secs(NOW));
    assert!(report.duplicates.is_empty());
    assert_eq!(view(&fresh), view(&auth));
    // The HOTP counter moved on with the code shown before the backup.
    assert_eq!(
        fresh.accounts().unwrap()[2].counter,
        Some(42),
        "{:?}",
        view(&fresh)
    );
    // The kept URI parameter (image) comes back too.
    let uris = fresh.export_otpauth().unwrap();
    assert!(
        uris[3].ends_with("&image=https%3A%2F%2Fexample.com%2Fi.png"),
        "{}",
        *uris[3]
    );
    assert!(
        fresh
            .verify_backup(&file, "backup pass")
            .unwrap()
            .is_identical()
    );
}

#[test]
fn restoring_into_a_vault_with_accounts_needs_merge_and_merging_skips_duplicates() {
    let (_old, auth) = filled();
    let file = auth.create_backup("pw", FAST).unwrap();
    let other = Phone::new();
    let target = other.open();
    target.add_uri(URIS[0]).unwrap();
    target
        .add_uri("otpauth://totp/Mail:erin?secret=ONSWG4TFOQ&issuer=Mail")
        .unwrap();
    let e = target.restore_backup(&file, "pw", false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert_eq!(
        e.to_string(),
        "the vault already holds 2 accounts: restore with merge to add the backup's accounts to them"
    );
    assert_eq!(target.accounts().unwrap().len(), 2);
    let report = target.restore_backup(&file, "pw", true).unwrap();
    assert_eq!(report.added.len(), 3);
    assert_eq!(
        report.duplicates,
        vec![("GitHub".to_string(), "alice".to_string())]
    );
    assert_eq!(target.accounts().unwrap().len(), 5);
    // Merging again adds nothing.
    let again = target.restore_backup(&file, "pw", true).unwrap();
    assert!(again.added.is_empty());
    assert_eq!(again.duplicates.len(), 4);
}

#[test]
fn verify_reports_what_changed_since_and_changes_nothing() {
    let (_old, auth) = filled();
    let file = auth.create_backup("pw", FAST).unwrap();
    let report = auth.verify_backup(&file, "pw").unwrap();
    assert!(report.is_identical(), "{report:?}");
    assert_eq!((report.accounts, report.matching), (4, 4));
    let ids: Vec<_> = auth.accounts().unwrap().into_iter().map(|a| a.id).collect();
    auth.rename(ids[1].as_str(), None, Some("alice2".into()))
        .unwrap();
    auth.delete(ids[0].as_str()).unwrap();
    auth.add_uri("otpauth://totp/New:x?secret=ONSWG4TFOQ&issuer=New")
        .unwrap();
    let before = view(&auth);
    let report = auth.verify_backup(&file, "pw").unwrap();
    assert!(!report.is_identical());
    assert_eq!(report.only_in_backup, vec!["Steam (dave)".to_string()]);
    assert_eq!(report.only_in_vault, vec!["New (x)".to_string()]);
    assert_eq!(report.different.len(), 3, "{report:?}");
    assert_eq!(report.different[0].name, "GitHub (alice)");
    assert_eq!(report.different[0].fields, vec!["label", "order"]);
    assert_eq!(view(&auth), before);
}

#[test]
fn a_wrong_password_or_a_damaged_file_changes_nothing() {
    let (_old, auth) = filled();
    let file = auth.create_backup("pw", FAST).unwrap();
    let fresh_phone = Phone::new();
    let fresh = fresh_phone.open();
    let e = fresh.restore_backup(&file, "PW", false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongPassword);
    let mut flipped = file.clone();
    let last = flipped.len() - 20;
    flipped[last] ^= 0x80;
    let e = fresh.verify_backup(&flipped, "pw").unwrap_err();
    assert_eq!(
        e.to_string(),
        "the backup does not decrypt: wrong password, or the file was altered"
    );
    let e = fresh
        .restore_backup(&file[..file.len() / 2], "pw", false)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::WrongPassword);
    let e = fresh.restore_backup(&file[..30], "pw", false).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput);
    assert!(fresh.accounts().unwrap().is_empty());
}

fn backups_in(dir: &Path) -> Vec<std::path::PathBuf> {
    crate::backup::BackupDir::new(dir)
        .unwrap()
        .backups()
        .unwrap()
}

#[test]
fn automatic_backups_follow_changes_and_restore() {
    let (phone, auth) = filled();
    let out = tempfile::tempdir().unwrap();
    let status = auth
        .enable_auto_backup(out.path(), 3, "auto pw", FAST)
        .unwrap();
    assert!(status.enabled);
    assert_eq!(status.backups, 1, "the first backup is written at once");
    assert_eq!(status.last_success_at, Some(UnixTime::from_secs(NOW)));
    assert_eq!(status.last_error, None);
    // Nothing changed: a flush writes nothing.
    assert_eq!(auth.flush_backup().unwrap(), None);
    for n in 0..5 {
        phone.clock.advance(1);
        auth.add_uri(&format!(
            "otpauth://totp/S{n}:u?secret=ONSWG4TFOQ&issuer=S{n}"
        ))
        .unwrap();
        let written = auth.flush_backup().unwrap().expect("a change is backed up");
        assert_eq!(backups_in(out.path()).last(), Some(&written));
    }
    assert_eq!(backups_in(out.path()).len(), 3, "the newest 3 are kept");
    let newest = std::fs::read(backups_in(out.path()).last().unwrap()).unwrap();
    let restored_phone = Phone::new();
    let restored = restored_phone.open();
    restored.restore_backup(&newest, "auto pw", false).unwrap();
    assert_eq!(view(&restored), view(&auth));
    auth.disable_auto_backup().unwrap();
    assert!(!auth.backup_status().unwrap().enabled);
    assert_eq!(
        auth.flush_backup().unwrap_err().to_string(),
        "automatic backups are off"
    );
    assert_eq!(
        backups_in(out.path()).len(),
        3,
        "switching off keeps the backups"
    );
}

#[test]
fn closing_writes_the_pending_backup_and_reopening_catches_up() {
    let phone = Phone::new();
    let out = tempfile::tempdir().unwrap();
    {
        let auth = phone.open();
        auth.enable_auto_backup(out.path(), 10, "pw", FAST).unwrap();
        phone.clock.advance(5);
        auth.add_uri(URIS[0]).unwrap();
        // Dropped before the worker's quiet time: closing writes it.
    }
    let files = backups_in(out.path());
    assert_eq!(files.len(), 2);
    let restored_phone = Phone::new();
    let restored = restored_phone.open();
    restored
        .restore_backup(&std::fs::read(&files[1]).unwrap(), "pw", false)
        .unwrap();
    assert_eq!(restored.accounts().unwrap().len(), 1);
    // Reopening with nothing changed writes nothing.
    drop(phone.open());
    assert_eq!(backups_in(out.path()).len(), 2);
}

#[test]
fn a_failing_backup_directory_is_recorded_not_silent() {
    let (phone, auth) = filled();
    let out = tempfile::tempdir().unwrap();
    let gone = out.path().join("gone");
    std::fs::create_dir(&gone).unwrap();
    auth.enable_auto_backup(&gone, 10, "pw", FAST).unwrap();
    std::fs::remove_dir_all(&gone).unwrap();
    phone.clock.advance(60);
    auth.add_uri(URIS[0].replace("alice", "zed").as_str())
        .unwrap();
    let e = auth.flush_backup().unwrap_err();
    assert_eq!(e.kind(), ErrorKind::BadInput, "{e}");
    let status = auth.backup_status().unwrap();
    assert_eq!(status.last_error_at, Some(UnixTime::from_secs(NOW + 60)));
    assert_eq!(
        status.last_error.as_deref(),
        Some(
            format!(
                "automatic backups: dir {}: No such file or directory (os error 2)",
                gone.display()
            )
            .as_str()
        )
    );
    assert_eq!(status.last_success_at, Some(UnixTime::from_secs(NOW)));
}

#[test]
fn enabling_refuses_bad_settings_naming_them() {
    let (_phone, auth) = filled();
    let out = tempfile::tempdir().unwrap();
    assert_eq!(
        auth.enable_auto_backup(out.path(), 0, "pw", FAST)
            .unwrap_err()
            .to_string(),
        "automatic backups: keep=0: must be between 1 and 1000"
    );
    assert_eq!(
        auth.enable_auto_backup(out.path(), 5, "", FAST)
            .unwrap_err()
            .to_string(),
        "backup password: must not be empty"
    );
    assert_eq!(
        auth.enable_auto_backup(Path::new("backups"), 5, "pw", FAST)
            .unwrap_err()
            .to_string(),
        "automatic backups: dir backups is not an absolute path"
    );
    assert!(!auth.backup_status().unwrap().enabled);
}

#[test]
fn the_reenroll_list_names_push_tokens_and_no_otp_account() {
    let (_phone, auth) = filled();
    assert!(auth.reenroll_list().unwrap().is_empty());
}

#[test]
fn the_worker_writes_one_backup_for_changes_close_together() {
    let (phone, auth) = filled();
    let out = tempfile::tempdir().unwrap();
    auth.enable_auto_backup(out.path(), 10, "pw", FAST).unwrap();
    phone.clock.advance(10);
    for n in 0..3 {
        auth.add_uri(&format!(
            "otpauth://totp/W{n}:u?secret=ONSWG4TFOQ&issuer=W{n}"
        ))
        .unwrap();
    }
    // No flush: the worker writes after the quiet time (2 s); wait for it, up to 30 s.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while backups_in(out.path()).len() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let files = backups_in(out.path());
    assert_eq!(files.len(), 2, "one backup for the three changes");
    let restored_phone = Phone::new();
    let restored = restored_phone.open();
    restored
        .restore_backup(&std::fs::read(&files[1]).unwrap(), "pw", false)
        .unwrap();
    assert_eq!(restored.accounts().unwrap().len(), 7);
    assert_eq!(auth.flush_backup().unwrap(), None, "nothing left pending");
}

/// A format-1 backup written by the desktop CLI (default Argon2id cost; password `format 1`):
/// it must keep restoring, on every platform (the Kotlin and Swift suites restore the same
/// bytes), with these codes.
#[test]
fn a_format_1_backup_from_the_cli_keeps_restoring() {
    let file = include_bytes!("../../testdata/backup-format1.backup");
    let phone = Phone::new();
    let auth = phone.open();
    let report = auth.restore_backup(file, "format 1", false).unwrap();
    assert_eq!(report.added.len(), 3);
    let codes: Vec<_> = auth
        .codes(None, Some(UnixTime::from_secs(1_700_000_000)))
        .unwrap()
        .into_iter()
        .map(|c| (c.issuer, c.code.to_string()))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("GitHub".to_string(), "324550".to_string()),
            ("Steam".to_string(), "5DJH6".to_string())
        ]
    );
    let accounts = auth.accounts().unwrap();
    assert_eq!(accounts[0].group.as_deref(), Some("Work"));
    assert_eq!(
        auth.next_hotp(accounts[1].id.as_str()).unwrap().code,
        "30055299"
    );
}
