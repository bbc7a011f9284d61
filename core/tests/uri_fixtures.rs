//! Aegis's own list of otpauth URIs (from its test suite, in the shared interop corpus): every
//! line parses to the expected account and gives the published check codes.
use std::path::PathBuf;

use authcore::otp::{Algorithm, Generator, OtpKind};
use authcore::time::UnixTime;
use authcore::uri::parse_otpauth;

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
    eprintln!(
        "NOTE: interop corpus not found at {}; set AUTHCORE_FIXTURES to run this test",
        dir.display()
    );
    None
}

#[test]
fn aegis_plain_txt() {
    let Some(dir) = fixtures() else { return };
    let text = std::fs::read_to_string(dir.join("aegis/importers/plain.txt")).expect("plain.txt");
    let accounts: Vec<_> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| parse_otpauth(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    assert_eq!(accounts.len(), 7);
    // (issuer, name, secret, algorithm, digits, kind, expected code at t=1700000000 or counter)
    let want: [(&str, &str, &str, Algorithm, u8, OtpKind, &str); 7] = [
        (
            "Deno",
            "Mason",
            "4SJHB4GSD43FZBAI7C2HLRJGPQ",
            Algorithm::Sha1,
            6,
            OtpKind::Totp { period: 30 },
            "790195",
        ),
        (
            "SPDX",
            "James",
            "5OM4WOOGPLQEF6UGN3CPEOOLWU",
            Algorithm::Sha256,
            7,
            OtpKind::Totp { period: 20 },
            "9993814",
        ),
        (
            "Airbnb",
            "Elijah",
            "7ELGJSGXNCCTV3O6LKJWYFV2RA",
            Algorithm::Sha512,
            8,
            OtpKind::Totp { period: 50 },
            "65516786",
        ),
        (
            "Issuu",
            "James",
            "YOOMIXWS5GN6RTBPUFFWKTW5M4",
            Algorithm::Sha1,
            6,
            OtpKind::Hotp { counter: 1 },
            "253717",
        ),
        (
            "Air Canada",
            "Benjamin",
            "KUVJJOM753IHTNDSZVCNKL7GII",
            Algorithm::Sha256,
            7,
            OtpKind::Hotp { counter: 50 },
            "4444976",
        ),
        (
            "WWE",
            "Mason",
            "5VAML3X35THCEBVRLV24CGBKOY",
            Algorithm::Sha512,
            8,
            OtpKind::Hotp { counter: 10300 },
            "24622277",
        ),
        (
            "Boeing",
            "Sophia",
            "JRZCL47CMXVOQMNPZR2F7J4RGI",
            Algorithm::Sha1,
            5,
            OtpKind::Steam { period: 30 },
            "747JR",
        ),
    ];
    for (a, (issuer, name, secret, alg, digits, kind, code)) in accounts.iter().zip(want) {
        assert_eq!((a.issuer.as_str(), a.label.as_str()), (issuer, name));
        assert_eq!(a.otp.secret.to_base32().as_str(), secret, "{issuer}");
        assert_eq!(a.otp.params.algorithm, alg, "{issuer}");
        assert_eq!(a.otp.params.digits, digits, "{issuer}");
        assert_eq!(a.otp.params.kind, kind, "{issuer}");
        let g = Generator::new(a.otp.params, &a.otp.secret).unwrap();
        let got = match kind {
            OtpKind::Hotp { counter } => g.code_for_counter(counter),
            _ => g.totp(UnixTime::from_secs(1_700_000_000)).unwrap().code,
        };
        assert_eq!(got.as_str(), code, "{issuer}");
    }
}
