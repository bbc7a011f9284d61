//! Properties of otpauth URIs: writing then parsing gives the same account for every valid
//! input, and no string whatsoever makes the parser panic.
use authcore::account::{NewAccount, OtpCredential};
use authcore::otp::{Algorithm, OtpParams};
use authcore::secret::Secret;
use authcore::uri::{parse, parse_otpauth, to_otpauth};
use proptest::prelude::*;

/// Names with the characters that break naive URI handling, and Unicode, but no control
/// characters (which accounts refuse) and no leading/trailing spaces (which are trimmed).
fn name() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 :#&?%+=/@.!'\"\\-_~é橡皮鸭]{0,24}".prop_map(|s| s.trim().to_owned())
}

fn extra_param() -> impl Strategy<Value = (String, String)> {
    ("x[a-zA-Z0-9_]{0,8}", "[a-zA-Z0-9 :#&?%+=/@.é]{0,16}")
}

fn params() -> impl Strategy<Value = OtpParams> {
    let alg = prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ];
    prop_oneof![
        (alg.clone(), 6u8..=10, 1u32..=100_000).prop_map(|(a, d, p)| OtpParams::totp(a, d, p)),
        (alg, 6u8..=10, any::<u64>()).prop_map(|(a, d, c)| OtpParams::hotp(a, d, c)),
        Just(OtpParams::steam()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn write_then_parse_is_identity(
        issuer in name(),
        label in name(),
        params in params(),
        secret in proptest::collection::vec(any::<u8>(), 1..64),
        extra in proptest::collection::vec(extra_param(), 0..4),
    ) {
        prop_assume!(!issuer.is_empty() || !label.is_empty());
        let otp = OtpCredential::new(params, Secret::new(secret)).unwrap();
        let account = NewAccount { issuer, label, otp, group: None, note: None, extra_params: extra }
            .validated()
            .unwrap();
        let written = to_otpauth(&account.issuer, &account.label, &account.otp, &account.extra_params);
        let parsed = parse_otpauth(&written);
        prop_assert_eq!(parsed.as_ref().ok(), Some(&account), "{} -> {:?}", written.as_str(), parsed);
    }

    #[test]
    fn parse_never_panics(text in ".{0,200}") {
        let _ = parse(&text);
    }

    #[test]
    fn parse_never_panics_on_near_uris(
        kind in "(totp|hotp|steam|TOTP|x)",
        label in ".{0,20}",
        query in "[a-z=&%0-9A-Z+/.:#-]{0,80}",
    ) {
        let _ = parse(&format!("otpauth://{kind}/{label}?{query}"));
        let _ = parse(&format!("otpauth-migration://offline?{query}"));
    }
}
