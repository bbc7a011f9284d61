//! Codes against the RFC 4226/6238 vectors and Steam's, and the bounds of the parameters.

use super::*;

fn generator(params: OtpParams, secret: &[u8]) -> Generator {
    Generator::new(params, &Secret::from_slice(secret)).unwrap()
}

#[test]
fn rfc4226_appendix_d() {
    let g = generator(
        OtpParams::hotp(Algorithm::Sha1, 6, 0),
        b"12345678901234567890",
    );
    let want = [
        "755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871",
        "520489",
    ];
    for (counter, want) in want.iter().enumerate() {
        assert_eq!(g.code_for_counter(counter as u64).as_str(), *want);
    }
}

#[test]
fn rfc6238_appendix_b_all_hashes() {
    let sha1 = generator(
        OtpParams::totp(Algorithm::Sha1, 8, 30),
        b"12345678901234567890",
    );
    let sha256 = generator(
        OtpParams::totp(Algorithm::Sha256, 8, 30),
        b"12345678901234567890123456789012",
    );
    let sha512 = generator(
        OtpParams::totp(Algorithm::Sha512, 8, 30),
        &b"1234567890".repeat(7)[..64],
    );
    let table: [(u64, &str, &str, &str); 6] = [
        (59, "94287082", "46119246", "90693936"),
        (1111111109, "07081804", "68084774", "25091201"),
        (1111111111, "14050471", "67062674", "99943326"),
        (1234567890, "89005924", "91819424", "93441116"),
        (2000000000, "69279037", "90698825", "38618901"),
        (20000000000, "65353130", "77737706", "47863826"),
    ];
    for (t, a, b, c) in table {
        assert_eq!(
            sha1.totp(UnixTime::from_secs(t as i64)).unwrap().code,
            a,
            "SHA1 at {t}"
        );
        assert_eq!(
            sha256.totp(UnixTime::from_secs(t as i64)).unwrap().code,
            b,
            "SHA256 at {t}"
        );
        assert_eq!(
            sha512.totp(UnixTime::from_secs(t as i64)).unwrap().code,
            c,
            "SHA512 at {t}"
        );
    }
}

#[test]
fn steam_vectors() {
    let secret = Secret::from_base32("63BEDWCQZKTQWPESARIERL5DTTQFCJTK").unwrap();
    let g = Generator::new(OtpParams::steam(), &secret).unwrap();
    assert_eq!(
        g.totp(UnixTime::from_secs(1511200518)).unwrap().code,
        "FR8RV"
    );
    assert_eq!(
        g.totp(UnixTime::from_secs(1511200714)).unwrap().code,
        "9P3VP"
    );
}

#[test]
fn google_key_uri_example() {
    let secret = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
    let g = Generator::new(OtpParams::totp(Algorithm::Sha1, 6, 30), &secret).unwrap();
    assert_eq!(
        g.totp(UnixTime::from_secs(1257894000)).unwrap().code,
        "528064"
    );
}

#[test]
fn valid_for_and_next_code() {
    let g = generator(
        OtpParams::totp(Algorithm::Sha1, 8, 30),
        b"12345678901234567890",
    );
    let at = g.totp(UnixTime::from_secs(1111111109)).unwrap();
    assert_eq!(at.valid_for, 1);
    assert_eq!(at.next_code.as_str(), "14050471");
    assert_eq!(
        g.totp(UnixTime::from_secs(1111111110)).unwrap().valid_for,
        30
    );
    assert_eq!(
        g.totp(UnixTime::from_secs(1111111110)).unwrap().code,
        "14050471"
    );
}

#[test]
fn ten_digits_and_one_second_periods() {
    let g = generator(
        OtpParams::totp(Algorithm::Sha1, 10, 1),
        b"12345678901234567890",
    );
    let code = g.totp(UnixTime::from_secs(59)).unwrap();
    assert_eq!(code.code.as_str().len(), 10);
    assert_eq!(code.valid_for, 1);
    assert_eq!(code.time_step, 59);
}

#[test]
fn bad_parameters_are_named() {
    let s = Secret::from_slice(b"k");
    let e = Generator::new(OtpParams::totp(Algorithm::Sha1, 11, 30), &s).unwrap_err();
    assert_eq!(e.to_string(), "digits=11: must be between 6 and 10");
    let e = Generator::new(OtpParams::totp(Algorithm::Sha1, 6, 0), &s).unwrap_err();
    assert_eq!(e.to_string(), "period=0: must be at least 1 second");
    let e = Generator::new(
        OtpParams::totp(Algorithm::Sha1, 6, 30),
        &Secret::new(vec![]),
    )
    .unwrap_err();
    assert_eq!(e, OtpError::EmptySecret);
    let hotp = generator(OtpParams::hotp(Algorithm::Sha1, 6, 0), b"k");
    assert_eq!(
        hotp.totp(UnixTime::from_secs(0)).unwrap_err(),
        OtpError::NotTimeBased
    );
}

#[test]
fn debug_hides_the_keyed_state() {
    let g = generator(OtpParams::totp(Algorithm::Sha1, 6, 30), b"topsecretkey");
    let shown = format!("{g:?}");
    assert!(shown.starts_with("Generator { params:"), "{shown}");
}

#[test]
fn every_length_is_the_last_digits_of_the_truncated_value() {
    // RFC 4226, appendix D: the truncated HMAC of counter 0 under its key is 1284755224.
    for (digits, want) in [
        (6, "755224"),
        (7, "4755224"),
        (8, "84755224"),
        (9, "284755224"),
        (10, "1284755224"),
    ] {
        let g = generator(
            OtpParams::hotp(Algorithm::Sha1, digits, 0),
            b"12345678901234567890",
        );
        assert_eq!(g.code_for_counter(0), want, "{digits} digits");
    }
}

#[test]
fn time_steps_and_countdowns_for_any_period() {
    for period in [1u32, 7, 29, 30, 31, 60, 86_400, u32::MAX] {
        let g = generator(
            OtpParams::totp(Algorithm::Sha1, 6, period),
            b"12345678901234567890",
        );
        for secs in [0i64, 29, 30, 59, 1_111_111_109, 20_000_000_000] {
            let at = UnixTime::from_secs(secs);
            let code = g.totp(at).unwrap();
            let (s, p) = (secs as u64, u64::from(period));
            assert_eq!(code.time_step, s / p, "period {period}, {secs} s");
            assert_eq!(
                u64::from(code.valid_for),
                p - s % p,
                "period {period}, {secs} s"
            );
            assert_eq!(g.time_step(at).unwrap(), s / p, "period {period}, {secs} s");
        }
    }
}
