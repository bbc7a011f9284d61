//! A full disk and a read-only directory: every refused write is one clear error, and nothing
//! acknowledged before it is lost. The disk is a 2 MiB tmpfs, the read-only directory a
//! read-only bind mount (as root, file modes alone do not stop writes); both need `mount`, which
//! the test runs itself and undoes. Without it (not root, no mount) the test fails saying so.
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use authcore::authenticator::{Authenticator, Config, ErrorKind};
use authcore::clock::FixedClock;
use authcore::vault::{FileKeyStore, KdfParams};
use authcore_tests::account_for;

/// Unmounts on drop, whatever the test did.
struct Mounted(PathBuf);

impl Mounted {
    fn new(target: &Path, args: &[&str]) -> Mounted {
        let status = Command::new("mount")
            .args(args)
            .arg(target)
            .status()
            .unwrap_or_else(|e| panic!("cannot run mount: {e} (this test needs root and mount)"));
        assert!(
            status.success(),
            "mount {args:?} {} failed: this test needs root and mount",
            target.display()
        );
        Mounted(target.to_path_buf())
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).status();
    }
}

fn offline() -> Config {
    Config::offline(Arc::new(FixedClock::new(1_764_600_000)))
}

#[test]
fn a_full_disk_is_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let disk = dir.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let _mounted = Mounted::new(&disk, &["-t", "tmpfs", "-o", "size=2m", "tmpfs"]);
    let store = FileKeyStore::create(&disk.join("key")).unwrap();
    let auth = Authenticator::create(&disk.join("vault.sqlite"), &store, None, offline()).unwrap();
    let mut acknowledged = Vec::new();
    let mut refused = None;
    for i in 0..100_000 {
        // Long notes fill the disk in a few hundred writes.
        let mut account = account_for(&format!("full-{i}"));
        account.note = Some("n".repeat(4000));
        match auth.add_accounts(vec![account]) {
            Ok(_) => acknowledged.push(format!("full-{i}")),
            Err(e) => {
                refused = Some(e);
                break;
            }
        }
    }
    let full = refused.expect("a 2 MiB disk fills up");
    let e = &full;
    assert_eq!(e.kind(), ErrorKind::Vault, "{e}");
    assert_eq!(e.to_string(), "storage error: database or disk is full");
    assert!(
        acknowledged.len() > 10,
        "{} written first",
        acknowledged.len()
    );
    // The vault still answers, and a later write that fits is refused or done cleanly.
    assert_eq!(auth.accounts().unwrap().len(), acknowledged.len());
    drop(auth);
    let store = FileKeyStore::open(&disk.join("key")).unwrap();
    let reopened = Authenticator::open(
        &disk.join("vault.sqlite"),
        authcore::vault::Unlock::KeyStore(&store),
        offline(),
    )
    .unwrap();
    let labels: Vec<String> = reopened
        .accounts()
        .unwrap()
        .into_iter()
        .map(|a| a.label)
        .collect();
    assert_eq!(
        labels, acknowledged,
        "every acknowledged account, nothing half-written"
    );
    // An automatic backup into the full disk fails loudly, recorded for `backup status`.
    let cheap = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    // Switching automatic backups on writes the first backup at once: on a full disk that is
    // refused, naming the file and the cause, and they stay off.
    let backups = disk.join("backups");
    std::fs::create_dir(&backups).unwrap_or(());
    let e = reopened
        .enable_auto_backup(&backups, 3, "pw", cheap)
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Vault, "{e}");
    assert!(
        e.to_string().starts_with("backup file ")
            || e.to_string() == "storage error: database or disk is full",
        "{e}"
    );
    assert!(!reopened.backup_status().unwrap().enabled);
    eprintln!(
        "full disk: {} accounts written, then \"{full}\"; all there after reopening; switching backups on: \"{e}\"",
        acknowledged.len()
    );
}

#[test]
fn a_read_only_directory_is_a_clear_error_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let store = FileKeyStore::create(&home.join("key")).unwrap();
    let path = home.join("vault.sqlite");
    let auth = Authenticator::create(&path, &store, None, offline()).unwrap();
    auth.add_uri("otpauth://totp/Kept:me?secret=JBSWY3DPEHPK3PXP&issuer=Kept")
        .unwrap();
    drop(auth);
    let _bound = Mounted::new(&home, &["--bind", home.to_str().unwrap()]);
    let remounted = Command::new("mount")
        .args(["-o", "remount,ro,bind"])
        .arg(&home)
        .status()
        .unwrap_or_else(|e| panic!("cannot run mount: {e}"));
    assert!(remounted.success(), "remount read-only failed");
    let e = Authenticator::open(&path, authcore::vault::Unlock::KeyStore(&store), offline())
        .and_then(|auth| {
            auth.add_uri("otpauth://totp/New:x?secret=ONSWG4TFOQ&issuer=New")
                .map(|_| ())
        })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Vault, "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "storage error: {}: unable to open database file",
            path.display()
        )
    );
    eprintln!("read-only directory: \"{e}\"");
    drop(_bound);
    // Writable again: the account written before is there, the refused one is not.
    let auth =
        Authenticator::open(&path, authcore::vault::Unlock::KeyStore(&store), offline()).unwrap();
    let issuers: Vec<String> = auth
        .accounts()
        .unwrap()
        .into_iter()
        .map(|a| a.issuer)
        .collect();
    assert_eq!(issuers, vec!["Kept".to_string()]);
}
