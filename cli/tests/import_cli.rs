//! `authcore import` and `authcore add --qr` driven as a script would: the JSON fields, exit
//! statuses, the file's password on standard input, dry runs and all-or-nothing.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

fn authcore(home: &Path, args: &[&str], stdin: &str) -> Output {
    authcore_bytes(home, args, stdin.as_bytes())
}

fn authcore_bytes(home: &Path, args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authcore"))
        .args(args)
        .env("AUTHCORE_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authcore");
    let mut pipe = child.stdin.take().expect("stdin");
    let _ = pipe.write_all(stdin);
    drop(pipe);
    child.wait_with_output().expect("run authcore")
}

fn json_of(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

fn generated(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/import_generated")
        .join(name)
}

fn password() -> String {
    let v: Value =
        serde_json::from_slice(&std::fs::read(generated("expected.json")).unwrap()).unwrap();
    v["password"].as_str().unwrap().to_owned()
}

fn count(home: &Path) -> usize {
    json_of(&authcore(home, &["list", "--json"], ""))
        .as_array()
        .unwrap()
        .len()
}

#[test]
fn import_encrypted_file_with_its_password_on_stdin() {
    let home = tempfile::tempdir().unwrap();
    let file = generated("aegis_encrypted.json");
    let file = file.to_str().unwrap();
    let pw = format!("{}\n", password());

    let dry = json_of(&authcore(
        home.path(),
        &[
            "import",
            file,
            "--file-password-stdin",
            "--dry-run",
            "--json",
        ],
        &pw,
    ));
    assert_eq!(dry["format"], "aegis");
    assert_eq!(dry["added"].as_array().unwrap().len(), 5);
    assert_eq!(count(home.path()), 0, "a dry run changes nothing");

    let out = json_of(&authcore(
        home.path(),
        &["import", file, "--file-password-stdin", "--json"],
        &pw,
    ));
    let added = out["added"].as_array().unwrap();
    assert_eq!(added.len(), 5);
    for key in ["id", "issuer", "label", "type"] {
        assert!(added[0].get(key).is_some(), "{key} in {}", added[0]);
    }
    assert_eq!(added[3]["type"], "steam");
    assert!(out["duplicates"].as_array().unwrap().is_empty());
    assert!(out["skipped"].as_array().unwrap().is_empty());
    assert_eq!(count(home.path()), 5);

    // Again: read fine, every entry a duplicate, exit 0.
    let out = json_of(&authcore(
        home.path(),
        &["import", file, "--file-password-stdin", "--json"],
        &pw,
    ));
    assert_eq!(out["duplicates"].as_array().unwrap().len(), 5);
    assert_eq!(out["duplicates"][0].as_object().unwrap().len(), 2);
    assert_eq!(count(home.path()), 5);
}

#[test]
fn wrong_password_is_one_line_and_exit_2() {
    let home = tempfile::tempdir().unwrap();
    let file = generated("twofas_encrypted.2fas");
    let out = authcore(
        home.path(),
        &["import", file.to_str().unwrap(), "--file-password-stdin"],
        "nope\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert_eq!(
        err,
        "authcore: wrong password for this 2FAS file; nothing was imported\n"
    );
    // A password line that is not text is the caller's mistake too.
    let out = authcore_bytes(
        home.path(),
        &["import", file.to_str().unwrap(), "--file-password-stdin"],
        b"pass\xffword\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "authcore: the file's password on standard input: not UTF-8 text (byte 5)\n"
    );
    let out = authcore(home.path(), &["import", file.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "authcore: this 2FAS file is encrypted: give its password\n"
    );
    assert_eq!(count(home.path()), 0);
}

#[test]
fn partial_by_default_all_or_nothing_on_request_from_stdin() {
    let home = tempfile::tempdir().unwrap();
    let list = "# two good, one mOTP\notpauth://totp/A:one?secret=JBSWY3DPEHPK3PXP\notpauth://motp/B:two?secret=abcd\notpauth://hotp/C:three?secret=GEZDGNBVGY3TQOJQ&counter=3\n";
    let out = authcore(home.path(), &["import", "-", "--all-or-nothing"], list);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "authcore: all-or-nothing import refused: 1 of the entries cannot be imported \
         (first: entry 2: mOTP is not supported); nothing was imported\n"
    );
    assert_eq!(count(home.path()), 0);
    let out = json_of(&authcore(home.path(), &["import", "-", "--json"], list));
    assert_eq!(out["format"], "otpauth");
    assert_eq!(out["added"].as_array().unwrap().len(), 2);
    let skipped = &out["skipped"][0];
    assert_eq!(skipped["position"], 2);
    assert_eq!(skipped["issuer"], "B");
    assert_eq!(skipped["label"], "two");
    assert_eq!(skipped["reason"], "mOTP is not supported");
    assert_eq!(count(home.path()), 2);
}

#[test]
fn format_flag_overrides_and_unknown_names_are_refused() {
    let home = tempfile::tempdir().unwrap();
    let file = generated("andotp_encrypted.bin");
    let out = authcore(
        home.path(),
        &["import", file.to_str().unwrap(), "--format", "nonsense"],
        "",
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "authcore: 'nonsense' is not an import format\n"
    );
    let out = json_of(&authcore(
        home.path(),
        &[
            "import",
            file.to_str().unwrap(),
            "--format",
            "andotp",
            "--file-password-stdin",
            "--json",
        ],
        &format!("{}\n", password()),
    ));
    assert_eq!(out["format"], "andotp");
    assert_eq!(out["added"].as_array().unwrap().len(), 5);
}

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("AUTHCORE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the interop corpus is missing at {}",
        dir.display()
    );
    eprintln!(
        "NOTE: interop corpus not found at {}; set AUTHCORE_FIXTURES",
        dir.display()
    );
    None
}

#[test]
fn add_qr_from_an_image() {
    let Some(dir) = corpus() else { return };
    let home = tempfile::tempdir().unwrap();
    let image = dir.join("extract_otp_secrets/tests/data/test_googleauth_export.png");
    let out = json_of(&authcore(
        home.path(),
        &["add", "--qr", image.to_str().unwrap(), "--json"],
        "",
    ));
    let added = out.as_array().unwrap();
    assert!(!added.is_empty());
    assert!(
        added
            .iter()
            .all(|a| a["status"] == "added" || a["status"] == "already_present")
    );
    let not_otp = dir.join("extract_otp_secrets/tests/data/qr_but_without_otp.png");
    let out = authcore(home.path(), &["add", "--qr", not_otp.to_str().unwrap()], "");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr)
            .trim_end()
            .lines()
            .count(),
        1
    );
}
