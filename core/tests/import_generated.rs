//! Files made from the specs by an independent producer (Python `cryptography`, see
//! `import_generated/make.py`) with random secrets import the same way as the corpus; hostile
//! KDF parameters, damaged files and wrong passwords change nothing; the facade's preview and
//! commit (partial, all or nothing, duplicates) in one transaction.
use std::path::PathBuf;
use std::sync::Arc;

use authcore::authenticator::{Authenticator, Config, ImportAction, ImportFailure, ImportMode};
use authcore::clock::FixedClock;
use authcore::import::{self, Format, ImportError};
use authcore::otp::{Algorithm, OtpKind};
use authcore::vault::FileKeyStore;
use serde_json::Value;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/import_generated")
}

fn expected() -> Value {
    serde_json::from_slice(&std::fs::read(dir().join("expected.json")).unwrap()).unwrap()
}

fn file(name: &str) -> Vec<u8> {
    std::fs::read(dir().join(name)).unwrap()
}

fn open(tmp: &tempfile::TempDir) -> Authenticator {
    let store = FileKeyStore::open_or_create(&tmp.path().join("key")).unwrap();
    Authenticator::open_or_create(
        &tmp.path().join("vault.sqlite"),
        &store,
        Config::offline(Arc::new(FixedClock::new(1_700_000_000))),
    )
    .unwrap()
}

fn check(name: &str, format: Format) {
    let want = expected();
    let password = want["password"].as_str().unwrap();
    let imported =
        import::read(&file(name), None, Some(password)).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(imported.format, format);
    let entries = want["entries"].as_array().unwrap();
    assert_eq!(imported.entries.len(), entries.len(), "{name}");
    for (got, want) in imported.entries.iter().zip(entries) {
        let a = got
            .account()
            .unwrap_or_else(|| panic!("{name}: {:?}", got.skip_reason()));
        assert_eq!(a.issuer, want["issuer"].as_str().unwrap(), "{name}");
        assert_eq!(a.label, want["label"].as_str().unwrap(), "{name}");
        assert_eq!(
            a.otp.secret.to_base32().as_str(),
            want["secret"].as_str().unwrap(),
            "{name}"
        );
        let kind = match want["type"].as_str().unwrap() {
            "totp" => OtpKind::Totp {
                period: want["period"].as_u64().unwrap() as u32,
            },
            "hotp" => OtpKind::Hotp {
                counter: want["counter"].as_u64().unwrap(),
            },
            _ => OtpKind::Steam { period: 30 },
        };
        assert_eq!(a.otp.params.kind, kind, "{name}: {}", a.issuer);
        let algorithm = match want["algorithm"].as_str().unwrap() {
            "SHA1" => Algorithm::Sha1,
            "SHA256" => Algorithm::Sha256,
            _ => Algorithm::Sha512,
        };
        assert_eq!(a.otp.params.algorithm, algorithm, "{name}: {}", a.issuer);
        assert_eq!(
            u64::from(a.otp.params.digits),
            want["digits"].as_u64().unwrap()
        );
        if format != Format::TwoFas {
            assert_eq!(a.group.as_deref(), want["group"].as_str(), "{name}: group");
        }
    }
}

#[test]
fn generated_aegis_encrypted() {
    check("aegis_encrypted.json", Format::Aegis);
}

#[test]
fn generated_twofas_encrypted() {
    check("twofas_encrypted.2fas", Format::TwoFas);
}

#[test]
fn generated_andotp_encrypted() {
    check("andotp_encrypted.bin", Format::AndOtp);
}

fn with_json(name: &str, change: impl FnOnce(&mut Value)) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&file(name)).unwrap();
    change(&mut v);
    serde_json::to_vec(&v).unwrap()
}

#[test]
fn hostile_kdf_parameters_are_refused_by_name() {
    let password = expected()["password"].as_str().unwrap().to_owned();
    let hostile = with_json("aegis_encrypted.json", |v| {
        v["header"]["slots"][1]["n"] = (1u64 << 30).into()
    });
    let err = import::read(&hostile, None, Some(&password)).unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::KdfParameter {
                param: "scrypt N",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "this Aegis file asks for scrypt N = 1073741824, over the limit of 1048576; refusing the work it would cost"
    );

    let ente = br#"{"version":1,"kdfParams":{"memLimit":68719476736,"opsLimit":4,"salt":"oSNHLO3BMxAocxngndY9bw=="},"encryptedData":"AAAAAAAAAAAAAAAAAAAAAAAA","encryptionNonce":"5vxijBdZGPSYdpgcKNI3S6I0kL1Mh48T"}"#;
    let err = import::read(ente, None, Some("x")).unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::KdfParameter {
                param: "Argon2 memory (KiB)",
                ..
            }
        ),
        "{err}"
    );

    let mut andotp = file("andotp_encrypted.bin");
    andotp[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    let err = import::read(&andotp, Some(Format::AndOtp), Some(&password)).unwrap_err();
    assert!(
        matches!(
            err,
            ImportError::KdfParameter {
                param: "PBKDF2 iterations",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn damaged_files_say_which_part() {
    let password = expected()["password"].as_str().unwrap().to_owned();
    let damaged = with_json("aegis_encrypted.json", |v| {
        let db = v["db"].as_str().unwrap().to_owned();
        let mut bytes = data_encoding::BASE64.decode(db.as_bytes()).unwrap();
        bytes[0] ^= 1;
        v["db"] = data_encoding::BASE64.encode(&bytes).into();
    });
    let err = import::read(&damaged, None, Some(&password)).unwrap_err();
    assert!(
        matches!(&err, ImportError::Damaged { part, .. } if part == "db"),
        "{err}"
    );
    let truncated = &file("aegis_encrypted.json")[..200];
    let err = import::read(truncated, Some(Format::Aegis), Some(&password)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this Aegis file is damaged: JSON: EOF while parsing a value at line 9 column 21"
    );
    assert_eq!(
        import::read(b"", None, None).unwrap_err(),
        ImportError::Empty
    );
    assert_eq!(
        import::read(b"hello there", None, None).unwrap_err(),
        ImportError::UnknownFormat
    );
}

#[test]
fn no_input_panics() {
    // Every format fed every file and some noise: errors, never panics.
    let noise: Vec<Vec<u8>> = vec![
        file("aegis_encrypted.json"),
        file("twofas_encrypted.2fas"),
        file("andotp_encrypted.bin"),
        b"{}".to_vec(),
        b"[]".to_vec(),
        b"<map></map>".to_vec(),
        vec![0xAC, 0xED, 0x00, 0x05, 0x73, 0x72, 0xff, 0xff],
        b"SQLite format 3\0".to_vec(),
        b"\x89PNG\r\n\x1a\n\0\0".to_vec(),
        b"AUTHENTICATORPRO".to_vec(),
        b"AuthenticatorPro0123456789".to_vec(),
        b"otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC&x".to_vec(),
        b"otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP&digits=99".to_vec(),
        b"login_totp\nsteam://".to_vec(),
        b"PK\x03\x04\x14\x00\x09\x00".to_vec(),
        b"PK\x05\x06\x00\x00".to_vec(),
        zip_of(&[("winauth.txt", b"otpauth://totp/A?secret=JBSWY3DPEHPK3PXP".as_slice())]),
        vec![0xA5; 2048],
    ];
    for bytes in &noise {
        for format in Format::ALL {
            for password in [None, Some("x")] {
                let _ = import::read(bytes, Some(format), password);
            }
        }
        let _ = import::read(bytes, None, None);
    }
}

#[test]
fn preview_then_commit_in_one_transaction() {
    let tmp = tempfile::tempdir().unwrap();
    let auth = open(&tmp);
    let password = expected()["password"].as_str().unwrap().to_owned();
    let bytes = file("aegis_encrypted.json");
    let err = auth
        .preview_import(&bytes, None, Some("wrong"))
        .unwrap_err();
    assert!(matches!(
        err,
        ImportFailure::File(ImportError::WrongPassword {
            format: Format::Aegis
        })
    ));
    assert_eq!(
        err.to_string(),
        "wrong password for this Aegis file; nothing was imported"
    );
    assert!(auth.accounts().unwrap().is_empty());

    let preview = auth.preview_import(&bytes, None, Some(&password)).unwrap();
    assert!(
        preview
            .entries
            .iter()
            .all(|e| e.action == ImportAction::New)
    );
    assert!(
        auth.accounts().unwrap().is_empty(),
        "a preview changes nothing"
    );
    let outcome = auth.commit_import(&preview, ImportMode::Partial).unwrap();
    assert_eq!(outcome.added.len(), 5);
    assert!(outcome.duplicates.is_empty() && outcome.skipped.is_empty());
    let listed = auth.accounts().unwrap();
    assert_eq!(listed.len(), 5);
    assert_eq!(listed[0].note.as_deref(), Some("note 0"));
    assert_eq!(listed[1].group.as_deref(), Some("Work"));

    // The same file again: everything already present, nothing added.
    let again = auth.preview_import(&bytes, None, Some(&password)).unwrap();
    assert!(
        again
            .entries
            .iter()
            .all(|e| e.action == ImportAction::AlreadyPresent)
    );
    let outcome = auth
        .commit_import(&again, ImportMode::AllOrNothing)
        .unwrap();
    assert!(outcome.added.is_empty());
    assert_eq!(outcome.duplicates.len(), 5);
    assert_eq!(auth.accounts().unwrap().len(), 5);
}

#[test]
fn all_or_nothing_refuses_a_file_with_a_bad_entry() {
    let tmp = tempfile::tempdir().unwrap();
    let auth = open(&tmp);
    let list = b"otpauth://totp/Good:one?secret=JBSWY3DPEHPK3PXP\notpauth://motp/Old:pin?secret=1234abcd\notpauth://totp/Bad:two?secret=JBSWY3DPEHPK3PX1\n";
    let preview = auth.preview_import(list, None, None).unwrap();
    assert_eq!(preview.entries.len(), 3);
    assert!(
        matches!(&preview.entries[1].action, ImportAction::CannotImport { reason } if reason == "mOTP is not supported")
    );
    assert_eq!(
        preview.entries[2].action,
        ImportAction::CannotImport {
            reason: "secret: '1' is not base32 (character 16)".into()
        }
    );
    let err = auth
        .commit_import(&preview, ImportMode::AllOrNothing)
        .unwrap_err();
    assert_eq!(err.kind(), authcore::error::ErrorKind::BadInput);
    assert_eq!(
        err.to_string(),
        "all-or-nothing import refused: 2 of the entries cannot be imported (first: entry 2: \
         mOTP is not supported); nothing was imported"
    );
    assert!(auth.accounts().unwrap().is_empty());
    let outcome = auth.commit_import(&preview, ImportMode::Partial).unwrap();
    assert_eq!(outcome.added.len(), 1);
    assert_eq!(outcome.skipped.len(), 2);
    assert_eq!(outcome.skipped[0].position, 2);
}

#[test]
fn incomplete_transfer_names_the_missing_codes() {
    let tmp = tempfile::tempdir().unwrap();
    let auth = open(&tmp);
    // Two QR codes of a three-code batch (batch id 7): the third is missing.
    let payload = |index: u8| {
        // MigrationPayload { otp_parameters: [{secret, name, type TOTP}], batch_size 3, batch_index, batch_id 7 }
        let mut p = vec![
            0x0A,
            0x0E,
            0x0A,
            0x05,
            1,
            2,
            3,
            4,
            index + 1,
            0x12,
            0x03,
            b'a',
            b'b',
            index + b'c',
            0x30,
            0x02,
        ];
        p.extend([0x18, 0x03, 0x20, index, 0x28, 0x07]);
        format!(
            "otpauth-migration://offline?data={}",
            data_encoding::BASE64.encode(&p)
        )
    };
    let text = format!("{}\n{}\n", payload(0), payload(1));
    let err = auth
        .preview_import(text.as_bytes(), None, None)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "this Google Authenticator transfer has 3 QR codes and QR code 3 is missing: import them \
         all together"
    );
}

/// An unencrypted zip of `files` (the zip crate writes no ZipCrypto; the encrypted files are
/// the corpus's).
fn zip_of(files: &[(&str, &[u8])]) -> Vec<u8> {
    use std::io::Write;
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, data) in files {
        writer.start_file(*name, options).unwrap();
        writer.write_all(data).unwrap();
    }
    writer.finish().unwrap().into_inner()
}

const URIS: &[u8] = b"otpauth://totp/Deno:Mason?secret=4SJHB4GSD43FZBAI7C2HLRJGPQ&issuer=Deno\n\
otpauth://hotp/Issuu:James?secret=YOOMIXWS5GN6RTBPUFFWKTW5M4&issuer=Issuu&counter=1\n";

#[test]
fn zips_without_a_password_and_with_folders() {
    let winauth = import::read(&zip_of(&[("winauth-2024-01-01.txt", URIS)]), None, None).unwrap();
    assert_eq!(winauth.format, Format::WinAuth);
    assert_eq!(winauth.entries.len(), 2);
    assert!(winauth.entries.iter().all(|e| e.account().is_some()));
    let plus = import::read(
        &zip_of(&[("export/", b""), ("export/Accounts.txt", URIS)]),
        None,
        None,
    )
    .unwrap();
    assert_eq!(plus.format, Format::AuthenticatorPlus);
    assert_eq!(plus.entries.len(), 2);
    let err = import::read(&zip_of(&[("notes.md", URIS)]), None, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this WinAuth file is damaged: zip archive: it holds no .txt file"
    );
    let err = import::read(&zip_of(&[("Accounts.txt", b"")]), None, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this Authenticator Plus file is damaged: text: no URI in it"
    );
    let err = import::read(
        &zip_of(&[(
            "Accounts.txt",
            b"otpauth://totp/A?secret=JBSWY3DPEHPK3PXP\nhttp://x\n",
        )]),
        None,
        None,
    )
    .unwrap_err();
    assert!(
        matches!(&err, ImportError::Damaged { format: Format::AuthenticatorPlus, part, .. } if part == "Accounts.txt line 2"),
        "{err}"
    );
}

#[test]
fn zip_bombs_and_crowds_are_refused_within_bounds() {
    // 5 MiB of one byte deflates to a few KiB; it is read up to the 4 MiB bound, no further.
    let bomb = zip_of(&[("winauth.txt", vec![b'A'; 5 * 1024 * 1024].as_slice())]);
    assert!(bomb.len() < 64 * 1024, "{}", bomb.len());
    let err = import::read(&bomb, None, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this WinAuth file is damaged: zip file winauth.txt: it inflates to more than 4194304 \
         bytes (files are read up to 4194304 bytes, 8388608 in all)"
    );
    // Two files under the per-file bound but over the total.
    let half = vec![b'#'; 4 * 1024 * 1024];
    let pair = zip_of(&[
        ("a.txt", half.as_slice()),
        ("b.txt", half.as_slice()),
        ("c.txt", b"x".as_slice()),
    ]);
    let err = import::read(&pair, Some(Format::WinAuth), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this WinAuth file is damaged: zip file c.txt: with the files before it, the archive inflates to more than 8388608 bytes (files \
         are read up to 4194304 bytes, 8388608 in all)"
    );
    // More files than any export has: refused from the declared count.
    let names: Vec<String> = (0..65).map(|i| format!("{i}.txt")).collect();
    let files: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), URIS)).collect();
    let err = import::read(&zip_of(&files), Some(Format::WinAuth), None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this WinAuth file is damaged: zip archive: it declares 65 files; at most 64 are read"
    );
    // Not text.
    let err = import::read(&zip_of(&[("w.txt", b"\xff\xfe".as_slice())]), None, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "this WinAuth file is damaged: zip file w.txt: byte 1: the text is not UTF-8"
    );
}

#[test]
fn a_headerless_andotp_backup_of_whole_pages_still_imports() {
    // andOTP's old format (SHA-256 of the password, AES-256-GCM) sized to whole 1024-byte
    // pages, with a nonce whose first word is no iteration count: taken for an Authenticator
    // Plus database first, then read as andOTP when the password does not open that.
    use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, UnboundKey};
    let entry = r#"[{"secret":"JBSWY3DPEHPK3PXP","issuer":"Deno","label":"Mason","digits":6,"type":"TOTP","algorithm":"SHA1","period":30}]"#;
    let mut json = entry.as_bytes().to_vec();
    json.resize(1024 - 12 - 16, b' ');
    let key = ring::digest::digest(&ring::digest::SHA256, b"pw");
    let key = LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key.as_ref()).unwrap());
    let nonce = [0xF0u8; 12];
    key.seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut json)
        .unwrap();
    let file = [nonce.as_slice(), &json].concat();
    assert_eq!(file.len(), 1024);
    assert_eq!(import::detect(&file), Some(Format::AuthenticatorPlusDb));
    let imported = import::read(&file, None, Some("pw")).unwrap();
    assert_eq!(imported.format, Format::AndOtp);
    assert_eq!(imported.entries[0].account().unwrap().issuer, "Deno");
    // A wrong password for both still names the format it was taken for.
    assert_eq!(
        import::read(&file, None, Some("nope")).unwrap_err(),
        ImportError::WrongPassword {
            format: Format::AuthenticatorPlusDb
        }
    );
}

#[test]
fn format_names_parse_in_any_case_and_a_wrong_one_is_echoed_on_one_line() {
    assert_eq!(Format::parse(" Bitwarden_CSV "), Ok(Format::BitwardenCsv));
    assert_eq!(
        Format::parse("aegis\nsecond line").unwrap_err().to_string(),
        r"'aegis\nsecond line' is not an import format"
    );
}
