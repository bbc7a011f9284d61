//! `authcore backup ...` and `authcore reenroll` as a script drives them: a backup made on one
//! home restores on another with identical codes, verify catches a flipped bit and a truncated
//! file (exit 2) and a vault that moved on (exit 1), automatic backups appear after a change,
//! and every refusal is one line with exit 2 that changes nothing.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const URIS: &[&str] = &[
    "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub",
    "otpauth://hotp/Bank:bob?secret=GEZDGNBVGY3TQOJQ&issuer=Bank&counter=41&digits=8",
    "otpauth://steam/Steam:dave?secret=MFRGGZDFMZTWQ2LK&issuer=Steam",
];

fn authcore(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authcore"))
        .args(args)
        .env("AUTHCORE_HOME", home)
        .env_remove("AUTHCORE_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authcore");
    let mut pipe = child.stdin.take().expect("stdin");
    // A CLI that refuses its arguments exits before reading stdin, closing the pipe: what it
    // printed is what the test checks, so only another write failure is one.
    if let Err(e) = pipe.write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    drop(pipe);
    child.wait_with_output().expect("run authcore")
}

fn ok(home: &Path, args: &[&str], stdin: &str) -> String {
    let out = authcore(home, args, stdin);
    assert!(
        out.status.success(),
        "authcore {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json(home: &Path, args: &[&str], stdin: &str) -> Value {
    serde_json::from_str(&ok(home, args, stdin)).expect("JSON output")
}

/// Exit status `code` and exactly `line` (after `authcore: `) as the only line on stderr.
fn fails_with(out: &Output, code: i32, line: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert_eq!(err.trim_end(), format!("authcore: {line}"));
}

fn codes_at(home: &Path) -> Value {
    json(home, &["codes", "--at", "1764600000", "--json"], "")
}

fn listing(home: &Path) -> Vec<Value> {
    let mut list = json(home, &["list", "--json"], "")
        .as_array()
        .cloned()
        .unwrap_or_default();
    for a in &mut list {
        a.as_object_mut().expect("object").remove("id");
    }
    list
}

fn filled(home: &Path) {
    for uri in URIS {
        ok(home, &["add", uri], "");
    }
    let first = json(home, &["list", "--json"], "")[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    ok(home, &["group", &first, "Work"], "");
    ok(home, &["move", &first, "2"], "");
}

#[test]
fn a_backup_restores_on_another_home_with_identical_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let (old, new) = (tmp.path().join("old"), tmp.path().join("new"));
    filled(&old);
    let file = tmp.path().join("b.backup");
    let file = file.to_str().unwrap();
    let made = json(
        &old,
        &["backup", "create", file, "--password-stdin", "--json"],
        "s3cret\n",
    );
    assert_eq!(made["accounts"], 3);
    assert_eq!(made["reenroll"], 0);
    let report = json(
        &new,
        &["backup", "restore", file, "--password-stdin", "--json"],
        "s3cret\n",
    );
    assert_eq!(report["added"].as_array().map(Vec::len), Some(3));
    assert_eq!(listing(&new), listing(&old));
    let strip = |v: Value| {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["issuer"].clone(),
                    c["code"].clone(),
                    c["next_code"].clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(codes_at(&new)), strip(codes_at(&old)));
    let verify = json(
        &new,
        &["backup", "verify", file, "--password-stdin", "--json"],
        "s3cret\n",
    );
    assert_eq!(verify["identical"], true);
    // Restoring again without --merge is refused; with it, nothing is added twice.
    fails_with(
        &authcore(
            &new,
            &["backup", "restore", file, "--password-stdin"],
            "s3cret\n",
        ),
        2,
        "the vault already holds 3 accounts: restore with merge to add the backup's accounts to them",
    );
    let merged = json(
        &new,
        &[
            "backup",
            "restore",
            file,
            "--merge",
            "--password-stdin",
            "--json",
        ],
        "s3cret\n",
    );
    assert_eq!(merged["added"].as_array().map(Vec::len), Some(0));
    assert_eq!(merged["duplicates"].as_array().map(Vec::len), Some(3));
}

#[test]
fn verify_catches_a_flipped_bit_a_truncated_file_and_a_vault_that_moved_on() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    filled(&home);
    let path = tmp.path().join("b.backup");
    let file = path.to_str().unwrap();
    ok(
        &home,
        &["backup", "create", file, "--password-stdin"],
        "pw\n",
    );
    let bytes = std::fs::read(&path).unwrap();
    let mut flipped = bytes.clone();
    flipped[60] ^= 0x04;
    let bad = tmp.path().join("flipped.backup");
    std::fs::write(&bad, &flipped).unwrap();
    fails_with(
        &authcore(
            &home,
            &[
                "backup",
                "verify",
                bad.to_str().unwrap(),
                "--password-stdin",
            ],
            "pw\n",
        ),
        2,
        "the backup does not decrypt: wrong password, or the file was altered",
    );
    let short = tmp.path().join("short.backup");
    std::fs::write(&short, &bytes[..20]).unwrap();
    fails_with(
        &authcore(
            &home,
            &[
                "backup",
                "verify",
                short.to_str().unwrap(),
                "--password-stdin",
            ],
            "pw\n",
        ),
        2,
        "not a usable authcore backup: truncated: 20 bytes, a backup has at least 66",
    );
    fails_with(
        &authcore(
            &home,
            &["backup", "verify", file, "--password-stdin"],
            "wrong\n",
        ),
        2,
        "the backup does not decrypt: wrong password, or the file was altered",
    );
    fails_with(
        &authcore(&home, &["backup", "verify", file], ""),
        2,
        "the backup's password: give it on standard input with --password-stdin",
    );
    ok(
        &home,
        &["add", "otpauth://totp/New:n?secret=ONSWG4TFOQ&issuer=New"],
        "",
    );
    let out = authcore(
        &home,
        &["backup", "verify", file, "--password-stdin"],
        "pw\n",
    );
    fails_with(
        &out,
        1,
        "the backup restores, but differs from the vault: 0 only in the backup, 1 only in the vault, 0 different",
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("  only in the vault: New (n)\n"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn automatic_backups_appear_after_a_change_and_report_their_status() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let dir = tmp.path().join("backups");
    std::fs::create_dir(&dir).unwrap();
    let dir_text = dir.to_str().unwrap();
    filled(&home);
    let off = json(&home, &["backup", "status", "--json"], "");
    assert_eq!(off["enabled"], false);
    ok(
        &home,
        &[
            "backup",
            "auto",
            "--dir",
            dir_text,
            "--keep",
            "2",
            "--password-stdin",
        ],
        "auto\n",
    );
    let count = || std::fs::read_dir(&dir).unwrap().count();
    assert_eq!(count(), 1);
    // Each command that changes the vault leaves a backup when it exits.
    ok(
        &home,
        &["add", "otpauth://totp/A:a?secret=ONSWG4TFOQ&issuer=A"],
        "",
    );
    assert_eq!(count(), 2);
    ok(&home, &["list"], "");
    assert_eq!(count(), 2, "no change, no backup");
    ok(
        &home,
        &["add", "otpauth://totp/B:b?secret=ONSWG4TFOQ&issuer=B"],
        "",
    );
    assert_eq!(count(), 2, "the newest 2 are kept");
    let status = json(&home, &["backup", "status", "--json"], "");
    assert_eq!(status["enabled"], true);
    assert_eq!(status["keep"], 2);
    assert_eq!(status["backups"], 2);
    assert_eq!(status["last_error"], Value::Null);
    let newest = status["last_file"].as_str().unwrap().to_owned();
    let restored = tmp.path().join("restored");
    ok(
        &restored,
        &["backup", "restore", &newest, "--password-stdin"],
        "auto\n",
    );
    assert_eq!(listing(&restored), listing(&home));
    ok(&home, &["backup", "auto", "--off"], "");
    assert_eq!(
        json(&home, &["backup", "status", "--json"], "")["enabled"],
        false
    );
    assert_eq!(count(), 2);
}

#[test]
fn bad_backup_arguments_are_one_line_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    filled(&home);
    fails_with(
        &authcore(&home, &["backup", "auto", "--password-stdin"], "pw\n"),
        2,
        "backup auto: give --dir DIR to switch automatic backups on, or --off",
    );
    let missing = tmp.path().join("nope");
    fails_with(
        &authcore(
            &home,
            &[
                "backup",
                "auto",
                "--dir",
                missing.to_str().unwrap(),
                "--password-stdin",
            ],
            "pw\n",
        ),
        2,
        &format!(
            "--dir {}: No such file or directory (os error 2)",
            missing.display()
        ),
    );
    fails_with(
        &authcore(
            &home,
            &[
                "backup",
                "auto",
                "--dir",
                tmp.path().to_str().unwrap(),
                "--keep",
                "0",
                "--password-stdin",
            ],
            "pw\n",
        ),
        2,
        "automatic backups: keep=0: must be between 1 and 1000",
    );
    fails_with(
        &authcore(
            &home,
            &[
                "backup",
                "create",
                tmp.path().join("x").to_str().unwrap(),
                "--password-stdin",
            ],
            "\n",
        ),
        2,
        "backup password: must not be empty",
    );
    assert!(!tmp.path().join("x").exists());
    let not_backup = tmp.path().join("text.txt");
    std::fs::write(&not_backup, "otpauth://totp/x?secret=ONSWG4TFOQ").unwrap();
    fails_with(
        &authcore(
            &home,
            &[
                "backup",
                "restore",
                not_backup.to_str().unwrap(),
                "--merge",
                "--password-stdin",
            ],
            "pw\n",
        ),
        2,
        "not a usable authcore backup: it does not start with the authcore backup signature",
    );
    assert_eq!(listing(&home).len(), 3);
    assert_eq!(
        json(&home, &["backup", "status", "--json"], "")["enabled"],
        false
    );
}

#[test]
fn reenroll_lists_nothing_for_code_accounts() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    filled(&home);
    assert_eq!(
        json(&home, &["reenroll", "--json"], ""),
        Value::Array(vec![])
    );
}
