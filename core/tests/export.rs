//! Exports for other apps through the facade: an Aegis vault file (plain and encrypted) read
//! back by authcore's own importer gives the same accounts, and a transfer QR export leaves out
//! and names what Google Authenticator cannot carry.
use std::sync::Arc;

use authcore::authenticator::{Authenticator, Config, ImportAction, ImportMode};
use authcore::clock::FixedClock;
use authcore::import::Format;
use authcore::uri::{NotCarried, parse_migration};
use authcore::vault::FileKeyStore;

fn open(dir: &tempfile::TempDir) -> Authenticator {
    let store = FileKeyStore::open_or_create(&dir.path().join("key")).unwrap();
    Authenticator::open_or_create(
        &dir.path().join("vault.sqlite"),
        &store,
        Config::offline(Arc::new(FixedClock::new(1_700_000_000))),
    )
    .unwrap()
}

const URIS: [&str; 5] = [
    "otpauth://totp/ACME:alice?secret=JBSWY3DPEHPK3PXP&issuer=ACME",
    "otpauth://totp/Slow:bob?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&algorithm=SHA256&digits=8&period=60",
    "otpauth://hotp/Counter:carol?secret=KUVJJOM753IHTNDSZVCNKL7GII&algorithm=SHA512&counter=10300",
    "otpauth://steam/Steam:dave?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&issuer=Steam",
    "otpauth://totp/eve?secret=7ELGJSGXNCCTV3O6LKJWYFV2RA&digits=7",
];

fn filled(dir: &tempfile::TempDir) -> Authenticator {
    let auth = open(dir);
    for uri in URIS {
        auth.add_uri(uri).unwrap();
    }
    let ids: Vec<String> = auth
        .accounts()
        .unwrap()
        .iter()
        .map(|a| a.id.to_string())
        .collect();
    auth.set_group(&ids[0], Some("Work".into())).unwrap();
    auth.set_group(&ids[2], Some("Work".into())).unwrap();
    auth.set_group(&ids[3], Some("Games".into())).unwrap();
    auth.set_note(&ids[1], Some("recovery codes in the safe".into()))
        .unwrap();
    // The user's order, not the adding order.
    auth.move_to(&ids[4], 0).unwrap();
    auth
}

fn comparable(auth: &Authenticator) -> Vec<String> {
    auth.accounts()
        .unwrap()
        .iter()
        .map(|a| {
            format!(
                "{}|{}|{}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
                a.issuer,
                a.label,
                a.kind.as_str(),
                a.algorithm,
                a.digits,
                a.period,
                a.counter,
                a.group,
                a.note
            )
        })
        .collect()
}

fn reimported(text: &str, password: Option<&str>) -> Authenticator {
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    let copy = open(dir);
    let preview = copy
        .preview_import(text.as_bytes(), None, password)
        .unwrap();
    assert_eq!(preview.format, Format::Aegis);
    assert!(
        preview
            .entries
            .iter()
            .all(|e| e.action == ImportAction::New)
    );
    assert!(preview.dropped.is_empty(), "{:?}", preview.dropped);
    copy.commit_import(&preview, ImportMode::AllOrNothing)
        .unwrap();
    copy
}

#[test]
fn aegis_export_reads_back_as_the_same_accounts() {
    let dir = tempfile::tempdir().unwrap();
    let auth = filled(&dir);
    for password in [None, Some("correct horse battery staple")] {
        let text = auth.export_aegis(password).unwrap();
        let copy = reimported(&text, password);
        assert_eq!(comparable(&copy), comparable(&auth), "{password:?}");
        // Same secrets and parameters: the otpauth URIs (with their secrets) are equal.
        let uris = |a: &Authenticator| {
            a.export_otpauth()
                .unwrap()
                .iter()
                .map(|u| u.as_str().to_owned())
                .collect::<Vec<_>>()
        };
        assert_eq!(uris(&copy), uris(&auth));
        if password.is_some() {
            assert!(!text.contains("JBSWY3DPEHPK3PXP") && !text.contains("alice"));
            let wrong = copy.preview_import(text.as_bytes(), None, Some("nope"));
            assert!(wrong.is_err());
        }
    }
    assert!(auth.export_aegis(Some("")).is_err());
}

#[test]
fn transfer_export_leaves_out_and_names_what_it_cannot_carry() {
    let dir = tempfile::tempdir().unwrap();
    let auth = filled(&dir);
    let out = auth.export_migration_batch().unwrap();
    let names: Vec<(&str, NotCarried)> = out
        .left_out
        .iter()
        .map(|l| (l.name.as_str(), l.reason))
        .collect();
    assert_eq!(
        names,
        [
            ("eve", NotCarried::Digits(7)),
            ("Slow (bob)", NotCarried::Period(60)),
            ("Steam (dave)", NotCarried::Steam),
        ]
    );
    let ids: Vec<_> = auth.accounts().unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(out.left_out[0].id, ids[0]);
    assert_eq!(out.payloads.len(), 1);
    let batch = parse_migration(&out.payloads[0]).unwrap();
    let labels: Vec<_> = batch.accounts.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(labels, ["alice", "carol"]);
    assert!(!format!("{out:?}").contains("otpauth-migration"));
    assert_eq!(
        out.left_out[0].reason.to_string(),
        "7 digits cannot be exported to Google Authenticator (6 or 8 only)"
    );
}

#[test]
fn one_account_as_an_otpauth_uri() {
    let dir = tempfile::tempdir().unwrap();
    let auth = filled(&dir);
    let id = auth.accounts().unwrap()[1].id.to_string();
    let uri = auth.export_otpauth_one(&id[..8]).unwrap();
    assert!(uri.starts_with("otpauth://totp/ACME:alice?"), "{}", *uri);
    assert!(auth.export_otpauth_one("zzzz").is_err());
}
