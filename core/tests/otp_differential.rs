//! Our generator against totp-rs, an independent implementation, over random parameters.
use authcore::otp::{Algorithm, Generator, OtpParams};
use authcore::secret::Secret;
use authcore::time::UnixTime;
use proptest::prelude::*;

fn reference(algorithm: Algorithm, digits: u8, period: u32, key: &[u8]) -> totp_rs::Totp {
    let algorithm = match algorithm {
        Algorithm::Sha1 => totp_rs::Algorithm::SHA1,
        Algorithm::Sha256 => totp_rs::Algorithm::SHA256,
        Algorithm::Sha512 => totp_rs::Algorithm::SHA512,
    };
    totp_rs::Builder::new()
        .with_algorithm(algorithm)
        .with_digits(digits)
        .with_step_duration(u64::from(period))
        .with_secret(key.to_vec())
        .build_noncompliant()
}

fn algorithm() -> impl Strategy<Value = Algorithm> {
    prop_oneof![
        Just(Algorithm::Sha1),
        Just(Algorithm::Sha256),
        Just(Algorithm::Sha512)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    // totp-rs documents that 10 digits overflow its arithmetic, so the comparison stops at 9.
    #[test]
    fn totp_matches_totp_rs(
        alg in algorithm(),
        digits in 6u8..=9,
        period in 1u32..=300,
        // Up to 200 bytes: longer than every block (64 and 128), so hashed keys are compared too.
        key in proptest::collection::vec(any::<u8>(), 1..200),
        t in 0u64..=40_000_000_000,
    ) {
        let ours = Generator::new(OtpParams::totp(alg, digits, period), &Secret::from_slice(&key)).unwrap();
        let theirs = reference(alg, digits, period, &key);
        let code = ours.totp(UnixTime::from_secs(t as i64)).unwrap();
        prop_assert_eq!(code.code.as_str(), theirs.generate(t).to_string());
        prop_assert_eq!(code.next_code.as_str(), theirs.generate(t + u64::from(period)).to_string());
    }
}
