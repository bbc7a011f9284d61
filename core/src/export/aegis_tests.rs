use super::*;
use crate::import::{self, Format};
use crate::otp::OtpParams;
use crate::secret::Secret;

fn creds() -> Vec<OtpCredential> {
    vec![
        OtpCredential::new(
            OtpParams::totp(Algorithm::Sha256, 8, 60),
            Secret::from_slice(b"12345678901234567890"),
        )
        .unwrap(),
        OtpCredential::new(
            OtpParams::hotp(Algorithm::Sha512, 6, 42),
            Secret::from_slice(b"abcdefghij"),
        )
        .unwrap(),
        OtpCredential::new(OtpParams::steam(), Secret::from_slice(b"steamsteam")).unwrap(),
    ]
}

fn entries(creds: &[OtpCredential]) -> Vec<AegisEntry<'_>> {
    let ids = [
        "00000000-0000-4000-8000-000000000001",
        "00000000-0000-4000-8000-000000000002",
        "00000000-0000-4000-8000-000000000003",
    ];
    creds
        .iter()
        .zip(ids)
        .enumerate()
        .map(|(i, (otp, uuid))| AegisEntry {
            uuid,
            issuer: ["ACME", "", "Steam"][i],
            label: ["alice", "bob", "carol"][i],
            otp,
            group: [Some("Work"), None, Some("Work")][i],
            note: [None, Some("a note"), None][i],
        })
        .collect()
}

fn read_back(text: &str, password: Option<&str>) -> Vec<crate::account::NewAccount> {
    let imported = import::read(text.as_bytes(), None, password).unwrap();
    assert_eq!(imported.format, Format::Aegis);
    assert!(imported.dropped.is_empty(), "{:?}", imported.dropped);
    imported
        .entries
        .iter()
        .map(|e| e.account().cloned().unwrap())
        .collect()
}

fn check(back: &[crate::account::NewAccount], creds: &[OtpCredential]) {
    assert_eq!(back.len(), 3);
    for (a, (otp, e)) in back.iter().zip(creds.iter().zip(entries(creds))) {
        assert_eq!(&a.otp, otp);
        assert_eq!((a.issuer.as_str(), a.label.as_str()), (e.issuer, e.label));
        assert_eq!(a.group.as_deref(), e.group);
        assert_eq!(a.note.as_deref(), e.note);
    }
}

#[test]
fn plain_file_reads_back_through_the_importer() {
    let creds = creds();
    let text = write(&entries(&creds), None).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["version"], 1);
    assert!(json["header"]["slots"].is_null() && json["header"]["params"].is_null());
    assert_eq!(json["db"]["version"], 3);
    assert_eq!(
        json["db"]["groups"].as_array().unwrap().len(),
        1,
        "one Work group"
    );
    let e = &json["db"]["entries"];
    assert_eq!(e[0]["groups"], e[2]["groups"]);
    assert_eq!(e[0]["groups"][0], json["db"]["groups"][0]["uuid"]);
    assert_eq!(e[1]["info"]["counter"], 42);
    assert!(e[1]["info"].get("period").is_none());
    assert_eq!(e[2]["type"], "steam");
    assert_eq!(e[2]["info"]["digits"], 5);
    assert_eq!(e[0]["uuid"], "00000000-0000-4000-8000-000000000001");
    check(&read_back(&text, None), &creds);
}

#[test]
fn encrypted_file_opens_only_with_its_password() {
    let creds = creds();
    let text = write(&entries(&creds), Some("correct horse")).unwrap();
    assert!(!text.contains("alice") && !text.contains("GEZDGNBV"));
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let slot = &json["header"]["slots"][0];
    assert_eq!(slot["type"], 1);
    assert_eq!(
        (slot["n"].as_u64(), slot["r"].as_u64(), slot["p"].as_u64()),
        (Some(32768), Some(8), Some(1))
    );
    assert_eq!(slot["salt"].as_str().unwrap().len(), 64);
    assert_eq!(slot["key"].as_str().unwrap().len(), 64);
    assert_eq!(slot["key_params"]["nonce"].as_str().unwrap().len(), 24);
    assert_eq!(slot["key_params"]["tag"].as_str().unwrap().len(), 32);
    assert_eq!(json["header"]["params"]["tag"].as_str().unwrap().len(), 32);
    assert!(json["db"].is_string());
    check(&read_back(&text, Some("correct horse")), &creds);
    let wrong = import::read(text.as_bytes(), None, Some("wrong")).unwrap_err();
    assert!(
        matches!(wrong, import::ImportError::WrongPassword { .. }),
        "{wrong}"
    );
    // Each export draws new keys.
    let again = write(&entries(&creds), Some("correct horse")).unwrap();
    assert_ne!(*again, *text);
}

#[test]
fn an_empty_password_is_refused() {
    let creds = creds();
    let e = write(&entries(&creds), Some("")).unwrap_err();
    assert!(matches!(e, ExportError::EmptyPassword));
    assert_eq!(e.kind(), crate::error::ErrorKind::BadInput);
}
