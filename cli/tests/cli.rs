//! The `authcore` binary driven as a script would drive it: exit codes, stderr, JSON fields.
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

const EXAMPLE: &str =
    "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";
const RFC_HOTP: &str = "otpauth://hotp/RFC:4226?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=0";

fn authcore(home: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    authcore_bytes(home, args, stdin.unwrap_or("").as_bytes())
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
    // A CLI that refuses its arguments exits before reading stdin, closing the pipe: what it
    // printed is what the test checks, so only another write failure is one.
    if let Err(e) = pipe.write_all(stdin) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    drop(pipe);
    child.wait_with_output().expect("run authcore")
}

fn ok(home: &Path, args: &[&str]) -> String {
    let out = authcore(home, args, None);
    assert!(
        out.status.success(),
        "authcore {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn json(home: &Path, args: &[&str]) -> Value {
    serde_json::from_str(&ok(home, args)).expect("JSON output")
}

fn count(home: &Path) -> usize {
    json(home, &["list", "--json"])
        .as_array()
        .map_or(0, Vec::len)
}

/// Exit status 2 and exactly `line` (after the `authcore: ` prefix) on stderr.
fn bad_input(out: &Output, line: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    assert_eq!(err, format!("authcore: {line}\n"));
}

#[test]
fn input_that_is_not_utf8_is_bad_input() {
    let home = tempfile::tempdir().unwrap();
    let mut lines = format!("{EXAMPLE}\n").into_bytes();
    lines.extend_from_slice(b"otpauth://totp/B?secret=\xff\xfe\n");
    bad_input(
        &authcore_bytes(home.path(), &["add", "-"], &lines),
        &format!(
            "standard input: not UTF-8 text (byte {})",
            EXAMPLE.len() + 26
        ),
    );
    assert_eq!(count(home.path()), 0, "nothing added");
    bad_input(
        &authcore_bytes(
            home.path(),
            &["push", "notify", "-"],
            b"{\"nonce\": \"\xc3\"}",
        ),
        "standard input: not UTF-8 text (byte 12)",
    );
    let file = home.path().join("notification.json");
    std::fs::write(&file, b"\x80{}").unwrap();
    let file = file.to_str().unwrap();
    bad_input(
        &authcore(home.path(), &["push", "notify", file], None),
        &format!("notification file {file}: not UTF-8 text (byte 1)"),
    );
    bad_input(
        &authcore_bytes(
            home.path(),
            &["--password-stdin", "list"],
            b"pass\xffword\n",
        ),
        "the password on standard input: not UTF-8 text (byte 5)",
    );
}

#[test]
fn a_uri_holding_a_newline_gives_a_one_line_error() {
    let home = tempfile::tempdir().unwrap();
    bad_input(
        &authcore(
            home.path(),
            &["add", "otpauth://to\ntp/X?secret=JBSWY3DP"],
            None,
        ),
        "type: 'to\\ntp' is not totp, hotp or steam",
    );
    bad_input(
        &authcore(home.path(), &["next", "a\nb"], None),
        "no account matches 'a\\nb'",
    );
}

#[test]
fn first_call_creates_a_private_vault_and_shows_the_code() {
    let home = tempfile::tempdir().unwrap();
    let out = ok(home.path(), &["add", EXAMPLE]);
    assert!(out.contains("Added Example (alice@google.com)"), "{out}");
    assert!(home.path().join("vault.sqlite").exists());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(home.path().join("desktop.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let codes = json(home.path(), &["codes", "--at", "1257894000", "--json"]);
    let row = &codes[0];
    assert_eq!(row["code"], "528064");
    assert_eq!(row["issuer"], "Example");
    assert_eq!(row["label"], "alice@google.com");
    assert_eq!(row["type"], "totp");
    assert_eq!(row["valid_for"], 30);
    assert!(row["next_code"].as_str().unwrap().len() == 6);
    assert!(row["id"].as_str().unwrap().len() == 36);
    // No code exists before 1970: a time there is bad input, not the first code.
    bad_input(
        &authcore(home.path(), &["codes", "--at", "-5", "--json"], None),
        "at=-5: before 1970, where codes begin",
    );
}

#[test]
fn list_json_has_the_documented_fields() {
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["add", EXAMPLE]);
    ok(home.path(), &["add", RFC_HOTP]);
    let list = json(home.path(), &["list", "--json"]);
    let rows = list.as_array().unwrap();
    assert_eq!(rows.len(), 2);
    for key in [
        "id",
        "issuer",
        "label",
        "type",
        "algorithm",
        "digits",
        "period",
        "counter",
    ] {
        assert!(rows[0].get(key).is_some(), "{key} in {}", rows[0]);
    }
    assert_eq!(rows[0]["algorithm"], "SHA1");
    assert_eq!(rows[0]["period"], 30);
    assert_eq!(rows[0]["counter"], Value::Null);
    assert_eq!(rows[1]["type"], "hotp");
    assert_eq!(rows[1]["period"], Value::Null);
    assert_eq!(rows[1]["counter"], 0);
}

#[test]
fn adding_the_same_account_twice_keeps_one() {
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["add", EXAMPLE]);
    let again = json(home.path(), &["add", EXAMPLE, "--json"]);
    assert_eq!(again[0]["status"], "already_present");
    assert_eq!(count(home.path()), 1);
}

#[test]
fn stdin_adds_all_lines_or_none() {
    let home = tempfile::tempdir().unwrap();
    let good = format!(
        "{EXAMPLE}\n\n# a comment\n{RFC_HOTP}\notpauth://steam/Steam:me?secret=63BEDWCQZKTQWPESARIERL5DTTQFCJTK\n"
    );
    let out = authcore(home.path(), &["add", "-", "--json"], Some(&good));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let added: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(added.as_array().unwrap().len(), 3);
    let steam = json(
        home.path(),
        &["codes", "me", "--at", "1511200518", "--json"],
    );
    assert_eq!(steam[0]["code"], "FR8RV");
    assert_eq!(steam[0]["type"], "steam");

    let other = tempfile::tempdir().unwrap();
    let bad = format!("{EXAMPLE}\notpauth://totp/X?secret=JBSWY3DPEHPK3PXP&digits=11\n");
    let out = authcore(other.path(), &["add", "-"], Some(&bad));
    bad_input(&out, "line 2: digits=11: must be between 6 and 10");
    assert_eq!(count(other.path()), 0);
}

#[test]
fn hotp_counter_advances_and_persists() {
    let home = tempfile::tempdir().unwrap();
    let added = json(home.path(), &["add", RFC_HOTP, "--json"]);
    let id = added[0]["id"].as_str().unwrap().to_owned();
    let want = ["755224", "287082", "359152"];
    for (counter, code) in want.iter().enumerate() {
        let next = json(home.path(), &["next", &id[..8], "--json"]);
        assert_eq!(next["code"], *code);
        assert_eq!(next["counter"], counter as u64);
        assert_eq!(next["id"], id.as_str());
    }
    assert_eq!(json(home.path(), &["list", "--json"])[0]["counter"], 3);
}

#[test]
fn bad_input_exits_2_with_one_clear_line() {
    let home = tempfile::tempdir().unwrap();
    bad_input(
        &authcore(
            home.path(),
            &["add", "otpauth://totp/X?secret=JBSWY3DPEHPK3PXP&digits=11"],
            None,
        ),
        "digits=11: must be between 6 and 10",
    );
    bad_input(
        &authcore(home.path(), &["add", "otpauth://totp/X?secret=Q1"], None),
        "secret: '1' is not base32 (character 2)",
    );
    bad_input(
        &authcore(home.path(), &["next", "nope"], None),
        "no account matches 'nope'",
    );
    bad_input(
        &authcore(home.path(), &["rm", "nope"], None),
        "no account matches 'nope'",
    );
    bad_input(
        &authcore(home.path(), &["time", "set-offset", "soon"], None),
        "offset 'soon': not a whole number of seconds",
    );
    ok(home.path(), &["add", EXAMPLE]);
    let id = json(home.path(), &["list", "--json"])[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    bad_input(
        &authcore(home.path(), &["next", &id], None),
        "Example (alice@google.com) is not a HOTP account: its code changes with time",
    );
    bad_input(
        &authcore(home.path(), &["export", "--format", "otpauth"], None),
        "export prints every secret in the clear: add --plaintext to confirm",
    );
    // Usage errors (unknown commands, flags, values) are one line too, naming the culprit.
    bad_input(
        &authcore(home.path(), &["frobnicate"], None),
        "unrecognized subcommand 'frobnicate'",
    );
    bad_input(
        &authcore(home.path(), &["codes", "--bogus"], None),
        "unexpected argument '--bogus' found tip: to pass '--bogus' as a value, use '-- --bogus'",
    );
    bad_input(
        &authcore(home.path(), &["push", "deny", "N", "--reason", "meh"], None),
        "invalid value 'meh' for '--reason <REASON>' [possible values: unknown_trigger, cancelled]",
    );
}

#[test]
fn rename_move_group_note_and_rm() {
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["add", EXAMPLE]);
    ok(home.path(), &["add", RFC_HOTP]);
    let list = json(home.path(), &["list", "--json"]);
    let first = list[0]["id"].as_str().unwrap().to_owned();
    let second = list[1]["id"].as_str().unwrap().to_owned();
    let renamed = json(
        home.path(),
        &["rename", &first, "--issuer", "Acme", "--json"],
    );
    assert_eq!(renamed["issuer"], "Acme");
    assert_eq!(renamed["label"], "alice@google.com");
    ok(home.path(), &["move", &second, "0"]);
    ok(home.path(), &["group", &first, "Work"]);
    ok(home.path(), &["note", &first, "recovery codes in the safe"]);
    let list = json(home.path(), &["list", "--json"]);
    assert_eq!(list[0]["id"], second.as_str());
    assert_eq!(list[1]["group"], "Work");
    assert_eq!(list[1]["note"], "recovery codes in the safe");
    ok(home.path(), &["rm", &second]);
    assert_eq!(count(home.path()), 1);
}

#[test]
fn export_reimports_to_the_same_codes() {
    let home = tempfile::tempdir().unwrap();
    let input = format!(
        "{EXAMPLE}\notpauth://totp/ACME%20Co:john?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&algorithm=SHA256&digits=8&period=60&image=https%3A%2F%2Fexample.com%2Fa.png\n"
    );
    assert!(
        authcore(home.path(), &["add", "-"], Some(&input))
            .status
            .success()
    );
    let exported = ok(
        home.path(),
        &["export", "--format", "otpauth", "--plaintext"],
    );
    assert_eq!(exported.lines().count(), 2);
    assert!(
        exported.contains("image="),
        "unknown parameters survive: {exported}"
    );
    let copy = tempfile::tempdir().unwrap();
    assert!(
        authcore(copy.path(), &["add", "-"], Some(&exported))
            .status
            .success()
    );
    let codes = |h: &Path| {
        json(h, &["codes", "--at", "1700000000", "--json"])
            .as_array()
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
    assert_eq!(codes(home.path()), codes(copy.path()));
}

#[test]
fn time_offset_is_stored_and_shown() {
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["time", "set-offset", "-30"]);
    let shown = json(home.path(), &["time", "show", "--json"]);
    assert_eq!(shown["offset_seconds"], -30);
    assert_eq!(
        shown["corrected_time"].as_i64().unwrap(),
        shown["system_time"].as_i64().unwrap() - 30
    );
}

#[test]
fn a_missing_key_file_is_a_clear_failure() {
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["add", EXAMPLE]);
    std::fs::remove_file(home.path().join("desktop.key")).unwrap();
    let out = authcore(home.path(), &["list"], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "authcore: the key file {} is missing: restore it, or unlock with --password-stdin\n",
            home.path().join("desktop.key").display()
        )
    );
}

#[test]
fn a_password_unlocks_a_vault_whose_key_file_is_gone() {
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["add", EXAMPLE]);
    let set = authcore(home.path(), &["password", "set"], Some("correct horse\n"));
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    std::fs::remove_file(home.path().join("desktop.key")).unwrap();
    let out = authcore(
        home.path(),
        &["--password-stdin", "list", "--json"],
        Some("correct horse\n"),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wrong = authcore(
        home.path(),
        &["--password-stdin", "list"],
        Some("wrong horse\n"),
    );
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&wrong.stderr),
        "authcore: wrong password\n"
    );
}

#[test]
fn watch_draws_a_countdown() {
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["add", EXAMPLE]);
    let out = ok(home.path(), &["watch", "--frames", "1"]);
    assert!(out.contains("Example (alice@google.com)"), "{out}");
    assert!(out.contains('[') && out.contains("next"), "{out}");
}

#[test]
fn passwordless_follows_the_chosen_platform_rule() {
    let home = tempfile::tempdir().unwrap();
    ok(home.path(), &["add", EXAMPLE]);
    ok(home.path(), &["add", RFC_HOTP]);
    let list = json(home.path(), &["list", "--json"]);
    let (a, b) = (
        list[0]["id"].as_str().unwrap().to_owned(),
        list[1]["id"].as_str().unwrap().to_owned(),
    );
    ok(
        home.path(),
        &["passwordless", "enable", &a, "--platform", "android"],
    );
    bad_input(
        &authcore(
            home.path(),
            &["passwordless", "enable", &b, "--platform", "android"],
            None,
        ),
        "android allows passwordless for 1 account; Example (alice@google.com) already has it: turn it off there first, or move it",
    );
    bad_input(
        &authcore(
            home.path(),
            &["passwordless", "enable", &b, "--platform", "android"],
            None,
        ),
        "android allows passwordless for 1 account; Example (alice@google.com) already has it: turn it off there first, or move it",
    );
    // iOS allows several; approving other accounts' requests never depended on this.
    ok(
        home.path(),
        &["passwordless", "enable", &b, "--platform", "ios"],
    );
    let shown = json(
        home.path(),
        &["passwordless", "show", "--platform", "ios", "--json"],
    );
    assert_eq!(shown["max_accounts"], Value::Null);
    assert_eq!(shown["accounts"].as_array().unwrap().len(), 2);
    ok(home.path(), &["passwordless", "disable", &b]);
    ok(
        home.path(),
        &["passwordless", "move", &a, &b, "--platform", "android"],
    );
    let list = json(home.path(), &["list", "--json"]);
    assert_eq!(
        (
            list[0]["passwordless"].clone(),
            list[1]["passwordless"].clone()
        ),
        (Value::Bool(false), Value::Bool(true))
    );
    // The rule is data: an issuer allows two on Android.
    ok(
        home.path(),
        &[
            "passwordless",
            "rules",
            r#"{"passwordless":{"android":{"max_accounts":2}}}"#,
        ],
    );
    ok(
        home.path(),
        &["passwordless", "enable", &a, "--platform", "android"],
    );
    bad_input(
        &authcore(home.path(), &["passwordless", "rules", "{nope"], None),
        "passwordless rules: key must be a string at line 1 column 2",
    );
    bad_input(
        &authcore(
            home.path(),
            &["passwordless", "show", "--platform", "windows"],
            None,
        ),
        "platform 'windows': must be ios, android or desktop",
    );
    ok(home.path(), &["passwordless", "rules", "--reset"]);
}

#[test]
fn every_command_has_help() {
    let home = tempfile::tempdir().unwrap();
    for cmd in [
        "add",
        "list",
        "codes",
        "next",
        "rename",
        "group",
        "note",
        "move",
        "rm",
        "export",
        "qr",
        "watch",
        "time",
        "password",
        "passwordless",
    ] {
        let out = ok(home.path(), &["help", cmd]);
        assert!(out.contains("Usage: authcore"), "{cmd}: {out}");
    }
}

#[test]
fn log_prints_the_cores_diagnostics_on_stderr_only() {
    let home = tempfile::tempdir().unwrap();
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXQ";
    let uri = format!("otpauth://totp/Bank:me?secret={secret}");
    let out = authcore(home.path(), &["--log", "info", "add", &uri, "--json"], None);
    assert!(out.status.success());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err, "authcore: info vault: vault opened: 0 account(s)\n");
    let added: Value = serde_json::from_slice(&out.stdout).expect("stdout stays JSON");
    assert_eq!(added.as_array().map(Vec::len), Some(1));
    // Without --log nothing is printed; the environment variable does the same as the flag.
    let quiet = authcore(home.path(), &["list"], None);
    assert!(quiet.stderr.is_empty());
    let mut command = Command::new(env!("CARGO_BIN_EXE_authcore"));
    let by_env = command
        .args(["list", "--json"])
        .env("AUTHCORE_HOME", home.path())
        .env("AUTHCORE_LOG", "info")
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&by_env.stderr),
        "authcore: info vault: vault opened: 1 account(s)\n"
    );
    // A level that does not exist is bad input, named.
    let wrong = authcore(home.path(), &["--log", "loud", "list"], None);
    bad_input(
        &wrong,
        "invalid value 'loud' for '--log <LEVEL>' [possible values: error, warn, info, debug]",
    );
}
