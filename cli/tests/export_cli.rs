//! `authcore export` and `authcore qr` checked by readers that share no code with authcore:
//! an Aegis vault file decrypted by a Python reader written from Aegis's format description
//! (`tests/independent/aegis_read.py`, itself first proven on a real Aegis file of the shared
//! corpus), and QR codes decoded by zbar (`zbarimg`). Outside CI a missing python3 +
//! cryptography or zbarimg is reported and the test returns; in CI it fails.
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use authcore::uri::{parse_migration, parse_otpauth};
use serde_json::Value;

fn authcore(home: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_authcore"))
        .args(args)
        .env("AUTHCORE_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn authcore");
    let mut pipe = child.stdin.take().expect("stdin");
    let _ = pipe.write_all(stdin.as_bytes());
    drop(pipe);
    child.wait_with_output().expect("run authcore")
}

fn ok(home: &Path, args: &[&str], stdin: &str) -> String {
    let out = authcore(home, args, stdin);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// Exit status 2, nothing on stdout, and exactly `line` (after the `authcore: ` prefix) on
/// stderr.
fn bad_input(out: &Output, line: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err, format!("authcore: {line}\n"));
    assert!(out.stdout.is_empty());
}

/// Whether `tool` runs; outside CI its absence is reported, in CI it fails the test.
fn available(tool: &str, args: &[&str]) -> bool {
    let runs = Command::new(tool)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !runs {
        assert!(
            std::env::var_os("CI").is_none(),
            "`{tool} {}` does not run: scripts/install-deps.sh installs it, and CI must have it",
            args.join(" ")
        );
        eprintln!("NOTE: `{tool}` is missing; run scripts/install-deps.sh to run this test");
    }
    runs
}

fn python_ready() -> bool {
    available("python3", &["-c", "import cryptography"])
}

fn zbar_ready() -> bool {
    available("zbarimg", &["--version"])
}

fn reader() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/independent/aegis_read.py")
}

/// The independent reader's entries for an Aegis file.
fn read_aegis(file: &Path, password: Option<&str>) -> Value {
    let mut cmd = Command::new("python3");
    cmd.arg(reader()).arg(file);
    if password.is_some() {
        cmd.arg("--password-stdin");
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3");
    let mut pipe = child.stdin.take().expect("stdin");
    let _ = writeln!(pipe, "{}", password.unwrap_or(""));
    drop(pipe);
    let out = child.wait_with_output().expect("run the reader");
    assert!(
        out.status.success(),
        "aegis_read.py: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the reader's JSON")
}

fn fixtures() -> Option<PathBuf> {
    let dir = std::env::var_os("AUTHCORE_FIXTURES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures"));
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "the interop corpus is missing at {} (set AUTHCORE_FIXTURES); CI must have it",
        dir.display()
    );
    eprintln!("NOTE: interop corpus not found at {}", dir.display());
    None
}

const SEVEN: [&str; 7] = [
    "totp Deno:Mason 4SJHB4GSD43FZBAI7C2HLRJGPQ SHA1 6 30",
    "totp SPDX:James 5OM4WOOGPLQEF6UGN3CPEOOLWU SHA256 7 20",
    "totp Airbnb:Elijah 7ELGJSGXNCCTV3O6LKJWYFV2RA SHA512 8 50",
    "hotp Issuu:James YOOMIXWS5GN6RTBPUFFWKTW5M4 SHA1 6 1",
    "hotp Air Canada:Benjamin KUVJJOM753IHTNDSZVCNKL7GII SHA256 7 50",
    "hotp WWE:Mason 5VAML3X35THCEBVRLV24CGBKOY SHA512 8 10300",
    "steam Boeing:Sophia JRZCL47CMXVOQMNPZR2F7J4RGI SHA1 5 30",
];

fn rows_of(got: &Value) -> Vec<String> {
    let field = |e: &Value, k: &str| e[k].as_str().unwrap_or_default().to_owned();
    got["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let n = if e["period"].is_null() {
                &e["counter"]
            } else {
                &e["period"]
            };
            format!(
                "{} {}:{} {} {} {} {n}",
                field(e, "type"),
                field(e, "issuer"),
                field(e, "name"),
                field(e, "secret"),
                field(e, "algo"),
                e["digits"],
            )
        })
        .collect()
}

#[test]
fn the_independent_reader_reads_a_real_aegis_file() {
    let (Some(dir), true) = (fixtures(), python_ready()) else {
        return;
    };
    // Aegis's own test vaults (the encrypted one's password is "test"): the corpus README's
    // seven vectors.
    let encrypted = dir.join("aegis/importers/aegis_encrypted.json");
    for (file, password) in [
        (encrypted.clone(), Some("test")),
        (dir.join("aegis/importers/aegis_plain.json"), None),
    ] {
        let got = read_aegis(&file, password);
        assert_eq!(rows_of(&got), SEVEN, "{}", file.display());
    }
    // And it refuses a wrong password rather than printing anything.
    let out = Command::new("python3")
        .arg(reader())
        .arg(&encrypted)
        .arg("--password-stdin")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
}

const ACCOUNTS: [(&str, &str); 5] = [
    (
        "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME",
        "JBSWY3DPEHPK3PXP",
    ),
    (
        "otpauth://totp/Slow:bob?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&algorithm=SHA256&digits=8&period=60",
        "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ",
    ),
    (
        "otpauth://hotp/Counter:carol?secret=KUVJJOM753IHTNDSZVCNKL7GII&algorithm=SHA512&counter=10300",
        "KUVJJOM753IHTNDSZVCNKL7GII",
    ),
    (
        "otpauth://steam/Steam:dave?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&issuer=Steam",
        "JRZCL47CMXVOQMNPZR2F7J4RGI",
    ),
    (
        "otpauth://totp/eve?secret=7ELGJSGXNCCTV3O6LKJWYFV2RA&digits=7",
        "7ELGJSGXNCCTV3O6LKJWYFV2RA",
    ),
];

#[test]
fn aegis_export_is_read_by_the_independent_reader() {
    if !python_ready() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let lines: String = ACCOUNTS.iter().map(|(u, _)| format!("{u}\n")).collect();
    ok(h, &["add", "-"], &lines);
    let list: Value = serde_json::from_str(&ok(h, &["list", "--json"], "")).unwrap();
    let id = |i: usize| list[i]["id"].as_str().unwrap().to_owned();
    ok(h, &["group", &id(0), "Work"], "");
    ok(h, &["group", &id(2), "Work"], "");
    ok(h, &["note", &id(1), "codes in the safe"], "");
    ok(h, &["next", &id(2)], "");
    ok(h, &["move", &id(4), "0"], "");
    let list: Value = serde_json::from_str(&ok(h, &["list", "--json"], "")).unwrap();
    let list = list.as_array().unwrap();

    // Without --plaintext or a password nothing is written.
    bad_input(
        &authcore(h, &["export", "--format", "aegis"], ""),
        "an Aegis export holds every secret: add --plaintext for a plain file, or --file-password-stdin to encrypt it",
    );
    bad_input(
        &authcore(
            h,
            &[
                "export",
                "--format",
                "aegis",
                "--plaintext",
                "--file-password-stdin",
            ],
            "pw\n",
        ),
        "give --plaintext or --file-password-stdin, not both",
    );
    bad_input(
        &authcore(
            h,
            &["export", "--format", "aegis", "--file-password-stdin"],
            "\n",
        ),
        "the export password is empty: give one, or export in plain text",
    );

    let password = "Tr0ub4dor & 3 ünïcode";
    let sealed = ok(
        h,
        &["export", "--format", "aegis", "--file-password-stdin"],
        &format!("{password}\n"),
    );
    // The spelling: under `export --format aegis`, --password-stdin is the file's.
    let sealed_too = ok(
        h,
        &["export", "--format", "aegis", "--password-stdin"],
        &format!("{password}\n"),
    );
    let plain = ok(h, &["export", "--format", "aegis", "--plaintext"], "");
    assert!(!sealed.contains("JBSWY3DPEHPK3PXP") && !sealed.contains("alice"));
    for (text, password) in [
        (sealed, Some(password)),
        (sealed_too, Some(password)),
        (plain, None),
    ] {
        let file = home.path().join("export.json");
        std::fs::write(&file, &text).unwrap();
        let got = read_aegis(&file, password);
        assert_eq!(got["version"], 3);
        let entries = got["entries"].as_array().unwrap();
        assert_eq!(entries.len(), list.len());
        for (e, a) in entries.iter().zip(list) {
            let secret = ACCOUNTS
                .iter()
                .find(|(u, _)| {
                    u.contains(&format!(":{}?", a["label"].as_str().unwrap()))
                        || u.contains(&format!("/{}?", a["label"].as_str().unwrap()))
                })
                .unwrap()
                .1;
            let groups: Vec<Value> = a["group"].as_str().map(|g| g.into()).into_iter().collect();
            assert_eq!(e["uuid"], a["id"]);
            assert_eq!(e["type"], a["type"]);
            assert_eq!(e["name"], a["label"]);
            assert_eq!(e["issuer"], a["issuer"]);
            assert_eq!(e["note"], a["note"].as_str().unwrap_or(""), "{e}");
            assert_eq!(e["favorite"], false);
            assert_eq!(e["secret"], secret);
            assert_eq!(e["algo"], a["algorithm"]);
            assert_eq!(e["digits"], a["digits"]);
            assert_eq!(e["period"], a["period"]);
            assert_eq!(e["counter"], a["counter"]);
            assert_eq!(e["groups"], Value::Array(groups), "{e}");
        }
        assert_eq!(entries[3]["counter"], 10301, "the advanced counter");
    }
}

/// What zbar reads from a PNG: exactly one QR code's text. Only the QR decoder is on: zbar's
/// 1-D decoders can "see" a bar code in a dense QR's modules and print it as a second symbol.
fn zbar(png: &Path) -> String {
    let out = Command::new("zbarimg")
        .args(["--raw", "-q", "-Sdisable", "-Sqrcode.enable"])
        .arg(png)
        .output()
        .expect("zbarimg");
    assert!(
        out.status.success(),
        "zbarimg could not read {}",
        png.display()
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let symbols: Vec<&str> = text.lines().collect();
    assert_eq!(
        symbols.len(),
        1,
        "one QR code in {}: {symbols:?}",
        png.display()
    );
    symbols[0].to_owned()
}

/// 21 accounts a transfer QR carries (TOTP and HOTP, 6 and 8 digits, three algorithms), plus
/// a 60 s TOTP and a Steam account it cannot.
fn twenty_three() -> Vec<String> {
    let secret = |i: usize| data_encoding::BASE32_NOPAD.encode(&[i as u8 + 1; 20]);
    let mut uris: Vec<String> = (0..21)
        .map(|i| {
            let algo = ["SHA1", "SHA256", "SHA512"][i % 3];
            let digits = if i % 4 == 0 { 8 } else { 6 };
            if i % 5 == 0 {
                format!("otpauth://hotp/Issuer{i}:user{i}?secret={}&algorithm={algo}&digits={digits}&counter={i}", secret(i))
            } else {
                format!("otpauth://totp/Issuer{i}:user{i}?secret={}&algorithm={algo}&digits={digits}", secret(i))
            }
        })
        .collect();
    uris.insert(
        7,
        format!("otpauth://totp/Slow:minute?secret={}&period=60", secret(30)),
    );
    uris.insert(
        15,
        format!(
            "otpauth://steam/Steam:gamer?secret={}&issuer=Steam",
            secret(31)
        ),
    );
    uris
}

#[test]
fn transfer_qr_pngs_decode_to_the_carried_accounts() {
    if !zbar_ready() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let uris = twenty_three();
    ok(h, &["add", "-"], &uris.join("\n"));
    let carried: Vec<_> = uris
        .iter()
        .filter(|u| !u.contains("Slow:") && !u.contains("Steam:"))
        .map(|u| parse_otpauth(u).unwrap())
        .collect();
    assert_eq!(carried.len(), 21);

    bad_input(
        &authcore(h, &["export", "--format", "migration", "--qr", "x"], ""),
        "export prints every secret in the clear: add --plaintext to confirm",
    );
    // A --qr that cannot be a directory: one line, before any warning.
    let file = h.join("a-file");
    std::fs::write(&file, "").unwrap();
    bad_input(
        &authcore(
            h,
            &[
                "export",
                "--format",
                "migration",
                "--plaintext",
                "--qr",
                file.to_str().unwrap(),
            ],
            "",
        ),
        &format!(
            "cannot create {}: File exists (os error 17)",
            file.display()
        ),
    );
    // Text: one URI per line on stdout, one warning per left-out account on stderr.
    let out = authcore(h, &["export", "--format", "migration", "--plaintext"], "");
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let warnings = String::from_utf8(out.stderr).unwrap();
    let warnings: Vec<&str> = warnings.lines().collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    let listed: Value = serde_json::from_str(&ok(h, &["list", "--json"], "")).unwrap();
    let id_of = |issuer: &str, label: &str| {
        listed
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["issuer"] == issuer && a["label"] == label)
            .and_then(|a| a["id"].as_str())
            .unwrap()
            .to_owned()
    };
    assert_eq!(
        warnings,
        [
            format!(
                "authcore: warning: left out Slow (minute) ({}): a 60 s period cannot be exported to Google Authenticator (30 s only)",
                id_of("Slow", "minute")
            ),
            format!(
                "authcore: warning: left out Steam (gamer) ({}): Steam codes cannot be exported to Google Authenticator",
                id_of("Steam", "gamer")
            ),
        ]
    );

    let dir = h.join("qrs/new");
    let out = authcore(
        h,
        &[
            "export",
            "--format",
            "migration",
            "--plaintext",
            "--qr",
            dir.to_str().unwrap(),
        ],
        "",
    );
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 2);
    let said = String::from_utf8(out.stdout).unwrap();
    assert_eq!(said.lines().count(), 3, "{said}");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(
        files,
        ["migration-1.png", "migration-2.png", "migration-3.png"]
    );

    let text_batches: Vec<_> = text.lines().map(|u| parse_migration(u).unwrap()).collect();
    let mut back = Vec::new();
    let mut ids = Vec::new();
    for (i, name) in files.iter().enumerate() {
        assert!(said.contains(&format!("{name} ({}/3)", i + 1)), "{said}");
        let decoded = zbar(&dir.join(name));
        let batch = parse_migration(&decoded)
            .unwrap_or_else(|e| panic!("{name}: {e}: {decoded:?} (text export: {text})"));
        assert_eq!((batch.batch_index, batch.batch_size), (i as i32, 3));
        assert!(batch.accounts.len() <= 10);
        // The same accounts as the text export's payload of the same index.
        assert_eq!(batch.accounts, text_batches[i].accounts);
        ids.push(batch.batch_id);
        back.extend(batch.accounts);
    }
    assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    assert_eq!(back, carried);

    // The drawing itself is exact: each payload of an export, drawn and decoded, is that payload.
    for (i, payload) in text.lines().enumerate() {
        let file = h.join(format!("exact-{i}.png"));
        std::fs::write(&file, &*authcore::qr_render::png(payload).unwrap()).unwrap();
        assert_eq!(zbar(&file), payload);
    }

    // The terminal drawing: one caption per QR.
    let drawn = ok(
        h,
        &[
            "export",
            "--format",
            "migration",
            "--plaintext",
            "--terminal",
        ],
        "",
    );
    for caption in ["1/3", "2/3", "3/3"] {
        assert!(drawn.lines().any(|l| l == caption), "{caption}");
    }
}

#[test]
fn one_account_qr_decodes_to_its_otpauth_uri() {
    if !zbar_ready() {
        return;
    }
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let lines: String = ACCOUNTS.iter().map(|(u, _)| format!("{u}\n")).collect();
    ok(h, &["add", "-"], &lines);
    let list: Value = serde_json::from_str(&ok(h, &["list", "--json"], "")).unwrap();
    let exported = ok(h, &["export", "--format", "otpauth", "--plaintext"], "");
    let png = h.join("one.png");
    for (i, expected) in exported.lines().enumerate() {
        let id = list[i]["id"].as_str().unwrap();
        bad_input(
            &authcore(h, &["qr", id], ""),
            "a QR code shows the account's secret: add --plaintext to confirm",
        );
        let said = ok(
            h,
            &[
                "qr",
                &id[..8],
                "--png",
                png.to_str().unwrap(),
                "--plaintext",
            ],
            "",
        );
        assert!(said.contains("one.png"), "{said}");
        assert_eq!(zbar(&png), expected);
    }
    let drawn = ok(
        h,
        &["qr", list[0]["id"].as_str().unwrap(), "--plaintext"],
        "",
    );
    assert!(drawn.contains('█') && drawn.contains('▀'));
    bad_input(
        &authcore(h, &["qr", "zzzz", "--plaintext"], ""),
        "no account matches 'zzzz'",
    );
}
