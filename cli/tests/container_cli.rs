//! `authcore container ...` as a script drives it, against a real privacyIDEA 3.14 on
//! 127.0.0.1: registering from the QR code, the JSON of `list` and `sync`, a transfer to a
//! second device (`rollover --json`, then `register` there), the old device told that the
//! container moved (exit 1) and forgetting it, a passphrase from standard input, and bad input
//! (exit 2, one line).

use std::io::Write;
use std::path::Path;
use std::process::{Command, ExitCode, Output, Stdio};

use authcore_tests::privacyidea::PrivacyIdea;
use authcore_tests::suite::{self, Case, Failed, Outcome, Suite};
use serde_json::Value;

fn authcore(home: &Path, args: &[&str], stdin: &str) -> Result<Output, Failed> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authcore"))
        .args(args)
        .env("AUTHCORE_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(mut pipe) = child.stdin.take() {
        // A CLI that refuses its arguments exits before reading stdin, closing the pipe: what it
        // printed is what the test checks, so only another write failure is one.
        match pipe.write_all(stdin.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => return Err(e.into()),
            _ => {}
        }
    }
    Ok(child.wait_with_output()?)
}

fn json(home: &Path, args: &[&str], stdin: &str) -> Result<Value, Failed> {
    let out = authcore(home, args, stdin)?;
    if !out.status.success() {
        return Err(format!(
            "authcore {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(serde_json::from_slice(&out.stdout)?)
}

/// Runs a command that must fail with `status` and one line on stderr; returns that line.
fn fails(home: &Path, args: &[&str], stdin: &str, status: i32) -> Result<String, Failed> {
    let out = authcore(home, args, stdin)?;
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(status), "{args:?}: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one clear line: {stderr:?}");
    Ok(stderr)
}

/// The current code of the account holding `token`, from `codes --json`.
fn code_of(home: &Path, account: &str) -> Result<String, Failed> {
    let codes = json(home, &["codes", account, "--json"], "")?;
    Ok(codes[0]["code"].as_str().ok_or("no code")?.to_owned())
}

fn accepted(pi: &PrivacyIdea, user: &str, code: &str) -> Result<bool, Failed> {
    Ok(pi
        .validate_check(user, &format!("{user}-pin{code}"))?
        .accepted())
}

fn transfer_between_two_devices(pi: &PrivacyIdea) -> Outcome {
    let user = "alice";
    pi.enable_containers()?;
    let container = pi.init_container(user)?;
    let totp = pi.init_totp_token(user, &format!("{user}-pin"))?.serial;
    pi.add_to_container(&container, &totp)?;
    let (old, new) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let qr = pi.container_qr(&container, &[])?;
    let registered = json(old.path(), &["container", "register", &qr, "--json"], "")?;
    assert_eq!(registered["container"]["serial"], container.as_str());
    assert_eq!(
        registered["sync"]["added"].as_array().map(Vec::len),
        Some(1)
    );
    let listed = json(old.path(), &["container", "list", "--json"], "")?;
    let token = &listed[0]["tokens"][0];
    assert_eq!(token["token_serial"], totp.as_str());
    assert_eq!(token["token_type"], "totp");
    assert_eq!(listed[0]["policies"]["container_client_rollover"], true);
    let account = token["account_id"].as_str().ok_or("id")?.to_owned();
    let old_code = code_of(old.path(), &account)?;
    assert!(accepted(pi, user, &old_code)?);
    let synced = json(old.path(), &["container", "sync", &container, "--json"], "")?;
    assert_eq!(synced["unchanged"], 1);

    let rollover = json(
        old.path(),
        &["container", "rollover", &container, "--json"],
        "",
    )?;
    let transfer = rollover["qr"].as_str().ok_or("qr")?.to_owned();
    assert!(transfer.starts_with("pia://container/"), "{rollover}");
    json(
        new.path(),
        &["container", "register", &transfer, "--json"],
        "",
    )?;
    let new_account =
        json(new.path(), &["container", "list", "--json"], "")?[0]["tokens"][0]["account_id"]
            .as_str()
            .ok_or("id")?
            .to_owned();
    assert!(accepted(pi, user, &code_of(new.path(), &new_account)?)?);

    let moved = fails(old.path(), &["container", "sync", &container], "", 1)?;
    let why = format!(
        "authcore: container {container}: the server does not accept this phone's signature \
         (ERR3002): the container was moved to another phone (rollover), or the passphrase was \
         wrong, or the challenge expired"
    );
    assert!(moved.starts_with(&why), "{moved}");
    let out = authcore(
        old.path(),
        &["container", "forget", &container, "--delete-accounts"],
        "",
    )?;
    assert!(out.status.success());
    assert_eq!(
        json(old.path(), &["list", "--json"], "")?
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    Ok(())
}

fn passphrase_from_stdin_and_bad_input(pi: &PrivacyIdea) -> Outcome {
    let user = "bob";
    pi.enable_containers()?;
    let container = pi.init_container(user)?;
    let qr = pi.container_qr(
        &container,
        &[
            ("passphrase_prompt", "PIN letter"),
            ("passphrase_response", "Straße 7"),
        ],
    )?;
    let home = tempfile::tempdir()?;
    let missing = fails(home.path(), &["container", "register", &qr], "", 2)?;
    assert_eq!(
        missing,
        "authcore: passphrase: this registration asks for one (PIN letter)\n"
    );
    let wrong = fails(
        home.path(),
        &["container", "register", &qr, "--passphrase-stdin"],
        "Strasse 7\n",
        2,
    )?;
    assert_eq!(
        wrong,
        format!(
            "authcore: container {container}: the server did not accept the registration \
             (ERR3002): the passphrase is wrong, or the QR code expired or was replaced by a newer \
             one\n"
        )
    );
    json(
        home.path(),
        &["container", "register", &qr, "--passphrase-stdin", "--json"],
        "Straße 7\n",
    )?;
    let bad = fails(
        home.path(),
        &["container", "register", "pia://container/X?nonce=a%0Ab"],
        "",
        2,
    )?;
    assert_eq!(
        bad,
        "authcore: container QR code: nonce: contains a control character\n"
    );
    let unknown = fails(home.path(), &["container", "sync", "SMPH0000NONE"], "", 2)?;
    assert_eq!(
        unknown,
        "authcore: no container SMPH0000NONE is registered on this device\n"
    );
    let done = authcore(home.path(), &["container", "unregister", &container], "")?;
    let text = String::from_utf8_lossy(&done.stdout);
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert_eq!(
        text,
        format!(
            "Unregistered container {container}; 0 account(s) kept here.\nNote: their codes still \
             work at the server. To stop a lost device's codes, roll the container over (or have \
             the tokens disabled).\n"
        )
    );
    Ok(())
}

const CASES: &[(&str, Case<PrivacyIdea>)] = &[
    (
        "cli::container::transfer_between_two_devices",
        transfer_between_two_devices,
    ),
    (
        "cli::container::passphrase_from_stdin_and_bad_input",
        passphrase_from_stdin_and_bad_input,
    ),
];

fn main() -> ExitCode {
    suite::run(&Suite {
        cases: CASES,
        alone: &[],
        default_threads: Some(1),
    })
}
