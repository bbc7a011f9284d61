//! The facade as an app uses it: adding from URIs (including multi-QR transfers), codes at the
//! injected time plus the stored offset, and calls from many threads at once.
use std::sync::Arc;

use authcore::account::OtpCredential;
use authcore::authenticator::Config;
use authcore::authenticator::{AuthError, Authenticator, ErrorKind};
use authcore::clock::FixedClock;
use authcore::otp::{Algorithm, OtpParams};
use authcore::secret::Secret;
use authcore::uri::to_migration;
use authcore::vault::FileKeyStore;

const EXAMPLE: &str =
    "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example";

fn open(dir: &tempfile::TempDir, clock: Arc<FixedClock>) -> Authenticator {
    let store = FileKeyStore::open_or_create(&dir.path().join("key")).unwrap();
    Authenticator::open_or_create(
        &dir.path().join("vault.sqlite"),
        &store,
        Config::offline(clock),
    )
    .unwrap()
}

fn transfer(n: usize) -> Vec<String> {
    let accounts: Vec<_> = (0..n)
        .map(|i| {
            (
                format!("Issuer{i}"),
                format!("user{i}"),
                OtpCredential::new(
                    OtpParams::totp(Algorithm::Sha1, 6, 30),
                    Secret::from_slice(&[i as u8 + 1; 20]),
                )
                .unwrap(),
            )
        })
        .collect();
    to_migration(&accounts)
        .unwrap()
        .payloads
        .iter()
        .map(|u| u.as_str().to_owned())
        .collect()
}

#[test]
fn a_multi_qr_transfer_is_imported_only_when_complete() {
    let dir = tempfile::tempdir().unwrap();
    let auth = open(&dir, Arc::new(FixedClock::new(0)));
    let qrs = transfer(25);
    assert_eq!(qrs.len(), 3);
    let partial = format!("{}\n{}", qrs[0], qrs[2]);
    let err = auth.add_uri_lines(&partial).unwrap_err();
    assert!(matches!(err, AuthError::Transfer { .. }));
    assert_eq!(
        err.to_string(),
        "transfer QR codes: this transfer has 3 QR codes and QR 2 is missing: add them all together"
    );
    assert_eq!(err.kind(), ErrorKind::BadInput);
    assert!(auth.accounts().unwrap().is_empty(), "nothing added");
    let err = auth.add_uri(&qrs[1]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "transfer QR codes: this transfer has 3 QR codes and QR 1 is missing: add them all together"
    );
    let added = auth.add_uri_lines(&qrs.join("\n")).unwrap();
    assert_eq!(added.len(), 25);
    assert_eq!(auth.accounts().unwrap().len(), 25);
    // A single-QR transfer goes through add_uri directly.
    let one = transfer(1);
    assert_eq!(auth.add_uri(&one[0]).unwrap().len(), 1);
}

#[test]
fn codes_use_the_clock_and_the_stored_offset() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(1257894000 + 30));
    let auth = open(&dir, clock.clone());
    auth.add_uri(EXAMPLE).unwrap();
    assert_ne!(auth.codes(None, None).unwrap()[0].code, "528064");
    auth.set_clock_offset(-30).unwrap();
    assert_eq!(auth.codes(None, None).unwrap()[0].code, "528064");
    drop(auth);
    let auth = open(&dir, clock);
    assert_eq!(auth.clock_offset().unwrap(), -30, "the offset is persisted");
    assert_eq!(auth.codes(Some("alice"), None).unwrap()[0].code, "528064");
    assert!(auth.set_clock_offset(100_000).is_err());
    assert_eq!(auth.clock_offset().unwrap(), -30);
}

#[test]
fn many_threads_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let auth = Arc::new(open(&dir, Arc::new(FixedClock::new(1_700_000_000))));
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let auth = Arc::clone(&auth);
            std::thread::spawn(move || {
                for i in 0..10 {
                    auth.add_uri(&format!(
                        "otpauth://totp/T{t}:u{i}?secret=JBSWY3DPEHPK3PXP&issuer=T{t}"
                    ))
                    .unwrap();
                    assert!(!auth.codes(None, None).unwrap().is_empty());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(auth.accounts().unwrap().len(), 80);
}

#[test]
fn ids_resolve_by_unique_prefix() {
    let dir = tempfile::tempdir().unwrap();
    let auth = open(&dir, Arc::new(FixedClock::new(0)));
    let id = auth.add_uri(EXAMPLE).unwrap()[0].info().id.to_string();
    assert_eq!(auth.account(&id[..6]).unwrap().id.as_str(), id);
    assert!(matches!(
        auth.account("zzzz"),
        Err(AuthError::NoMatch { .. })
    ));
    assert!(matches!(auth.account(""), Err(AuthError::NoMatch { .. })));
}
