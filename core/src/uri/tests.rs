use super::*;
use crate::account::OtpCredential;
use crate::otp::{Algorithm, Generator, OtpKind, OtpParams};
use crate::time::UnixTime;

fn one(uri: &str) -> NewAccount {
    parse_otpauth(uri).unwrap_or_else(|e| panic!("{uri}: {e}"))
}

fn err(uri: &str) -> String {
    parse(uri).map(|_| ()).unwrap_err().to_string()
}

#[test]
fn google_example_and_its_code() {
    let a = one("otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example");
    assert_eq!(
        (a.issuer.as_str(), a.label.as_str()),
        ("Example", "alice@google.com")
    );
    assert_eq!(a.otp.params, OtpParams::totp(Algorithm::Sha1, 6, 30));
    let g = Generator::new(a.otp.params, &a.otp.secret).unwrap();
    assert_eq!(
        g.totp(UnixTime::from_secs(1257894000)).unwrap().code,
        "528064"
    );
}

#[test]
fn labels_as_real_qr_codes_write_them() {
    let cases = [
        (
            "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co",
            "ACME Co",
            "john.doe@email.com",
        ),
        (
            "otpauth://totp/Example%3Aalice?secret=JBSWY3DPEHPK3PXP",
            "Example",
            "alice",
        ),
        (
            "otpauth://totp/Example:%20%20alice?secret=JBSWY3DPEHPK3PXP",
            "Example",
            "alice",
        ),
        (
            "otpauth://totp/example%20finance%3Aee%40ff.gg?secret=JBSWY3DPEHPK3PXP",
            "example finance",
            "ee@ff.gg",
        ),
        (
            "otpauth://totp/%E6%A9%A1%E7%9A%AE%E9%B8%AD?secret=JBSWY3DPEHPK3PXP",
            "",
            "橡皮鸭",
        ),
        (
            "otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP&issuer=Big+Corp",
            "Big Corp",
            "alice",
        ),
        (
            "otpauth://totp/Other:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example",
            "Example",
            "alice",
        ),
        (
            "otpauth://totp/!@%23 x?secret=JBSWY3DPEHPK3PXP",
            "",
            "!@# x",
        ),
        (
            "otpauth://totp/Issuer:has#hash?secret=JBSWY3DPEHPK3PXP",
            "Issuer",
            "has#hash",
        ),
        (
            "otpauth://totp/?secret=JBSWY3DPEHPK3PXP&issuer=OnlyIssuer",
            "OnlyIssuer",
            "",
        ),
        (
            "OTPAUTH://TOTP/Example:alice?SECRET=JBSWY3DPEHPK3PXP&Issuer=Example",
            "Example",
            "alice",
        ),
    ];
    for (uri, issuer, label) in cases {
        let a = one(uri);
        assert_eq!(
            (a.issuer.as_str(), a.label.as_str()),
            (issuer, label),
            "{uri}"
        );
    }
}

#[test]
fn sloppy_values_that_are_still_unambiguous() {
    let a =
        one("otpauth://totp/x?secret=jbsw y3dp-ehpk3pxp===&algorithm=sha256&digits=8&period=60");
    assert_eq!(a.otp.params, OtpParams::totp(Algorithm::Sha256, 8, 60));
    for alg in ["SHA-512", "algorithm.sha512", "Sha512", "sha_512"] {
        assert_eq!(
            one(&format!("otpauth://totp/x?secret=JBSWY3DP&algorithm={alg}"))
                .otp
                .params
                .algorithm,
            Algorithm::Sha512
        );
    }
    one("otpauth://totp/x?secret=VKVKVKVKVKVKVKVKVKVKVKQ");
    one(" otpauth://totp/x?secret=JBSWY3DP&&& ");
}

#[test]
fn hotp_and_steam() {
    let h =
        one("otpauth://hotp/Issuu:James?secret=YOOMIXWS5GN6RTBPUFFWKTW5M4&counter=1&issuer=Issuu");
    assert_eq!(h.otp.params.kind, OtpKind::Hotp { counter: 1 });
    let s = one("otpauth://steam/Steam:me?secret=63BEDWCQZKTQWPESARIERL5DTTQFCJTK");
    assert_eq!(s.otp.params, OtpParams::steam());
    let by_issuer =
        one("otpauth://totp/Steam:me?secret=63BEDWCQZKTQWPESARIERL5DTTQFCJTK&issuer=Steam");
    assert_eq!(by_issuer.otp.params, OtpParams::steam());
    let g = Generator::new(by_issuer.otp.params, &by_issuer.otp.secret).unwrap();
    assert_eq!(
        g.totp(UnixTime::from_secs(1511200518)).unwrap().code,
        "FR8RV"
    );
    // An explicit six digits keeps a "Steam"-named account a plain TOTP.
    let plain = one("otpauth://totp/Steam:me?secret=JBSWY3DP&issuer=Steam&digits=6");
    assert_eq!(plain.otp.params, OtpParams::totp(Algorithm::Sha1, 6, 30));
}

#[test]
fn unknown_parameters_are_kept_in_order() {
    let a = one(
        "otpauth://totp/x?image=https%3A%2F%2Fa.example%2Fi.png&secret=JBSWY3DP&color=%23ff0000&codeDisplay=%7B%22x%22%3A1%7D&pin=True",
    );
    let names: Vec<_> = a.extra_params.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["image", "color", "codeDisplay", "pin"]);
    assert_eq!(a.extra_params[0].1, "https://a.example/i.png");
    assert_eq!(a.extra_params[1].1, "#ff0000");
    let back = to_otpauth(&a.issuer, &a.label, &a.otp, &a.extra_params);
    assert_eq!(one(&back), a);
}

#[test]
fn rejected_uris_name_the_parameter() {
    let cases = [
        (
            "otpauth://totp/x?secret=JBSWY3DP&digits=11",
            "digits=11: must be between 6 and 10",
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DP&digits=0",
            "digits=0: must be between 6 and 10",
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DP&digits=test",
            "digits=test: not a number",
        ),
        (
            "otpauth://totp/x?secret=Q1",
            "secret: '1' is not base32 (character 2)",
        ),
        ("otpauth://totp/x?issuer=a", "secret: missing"),
        ("otpauth://totp/x?secret=", "secret: is empty"),
        (
            "otpauth://totp/x?secret=JBSWY3DP&algorithm=MD5",
            "algorithm=MD5: must be SHA1, SHA256 or SHA512",
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DP&period=0",
            "period=0: must be at least 1 second",
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DP&period=4294967296",
            "period=4294967296: too long (at most 4294967295 seconds)",
        ),
        (
            "otpauth://hotp/x?secret=JBSWY3DP",
            "counter: required for hotp",
        ),
        (
            "otpauth://hotp/x?secret=JBSWY3DP&counter=-1",
            "counter=-1: must be a whole number from 0 to 18446744073709551615",
        ),
        (
            "otpauth://hotp/x?secret=JBSWY3DP&counter=18446744073709551616",
            "counter=18446744073709551616: must be a whole number from 0 to 18446744073709551615",
        ),
        (
            "otpauth://motp/x?secret=JBSWY3DP",
            "type: 'motp' is not totp, hotp or steam",
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DP&secret=JBSWY3DP",
            "secret: given more than once",
        ),
        (
            "otpauth://steam/x?secret=JBSWY3DP&digits=6",
            "digits=6: Steam codes have exactly 5 characters",
        ),
        (
            "http://example.com",
            "scheme: 'http' is not otpauth:// or otpauth-migration://",
        ),
        (
            "JBSWY3DP",
            "scheme: 'JBSWY3DP' is not otpauth:// or otpauth-migration://",
        ),
        (
            "otpauth://totp/?secret=JBSWY3DP",
            "label: an account needs an issuer or a label",
        ),
        (
            "otpauth://totp/a%FFb?secret=JBSWY3DP",
            "label: is not UTF-8 once percent-decoded",
        ),
        (
            "otpauth://totp/a%07b?secret=JBSWY3DP",
            "label: control character U+0007 at character 2",
        ),
        (
            "otpauth://totp/a?secret=JBSWY3DP&issuer=x%07y",
            "issuer: control character U+0007 at character 2",
        ),
    ];
    for (uri, want) in cases {
        assert_eq!(err(uri), want, "{uri}");
    }
}

#[test]
fn errors_never_echo_the_secret() {
    let secret = "JBSWY3DPEHPK3PXP1ABCDEFG";
    let got = err(&format!("otpauth://totp/x?secret={secret}"));
    assert!(!got.contains("JBSWY3DP"), "{got}");
}

#[test]
fn writing_then_parsing_gives_the_same_account() {
    for uri in [
        "otpauth://totp/ACME%20Co:john?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&digits=8&period=45&algorithm=SHA512",
        "otpauth://hotp/a:b:c?secret=JBSWY3DP&counter=42",
        "otpauth://totp/no-issuer%3Awith-colon?secret=JBSWY3DP",
        "otpauth://steam/Steam:me?secret=63BEDWCQZKTQWPESARIERL5DTTQFCJTK",
    ] {
        let a = one(uri);
        let written = to_otpauth(&a.issuer, &a.label, &a.otp, &a.extra_params);
        assert_eq!(one(&written), a, "{uri} -> {}", written.as_str());
    }
}

// The worked example of the transfer format: one TOTP, "Example:alice@google.com".
const MIGRATION_EXAMPLE: &str = "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC";

#[test]
fn migration_worked_example() {
    let batch = parse_migration(MIGRATION_EXAMPLE).unwrap();
    assert_eq!(batch.accounts.len(), 1);
    let a = &batch.accounts[0];
    assert_eq!(
        (a.issuer.as_str(), a.label.as_str()),
        ("Example", "alice@google.com")
    );
    assert_eq!(a.otp.secret.to_base32().as_str(), "JBSWY3DPEHPK3PXP");
    assert_eq!(a.otp.params, OtpParams::totp(Algorithm::Sha1, 6, 30));
    assert_eq!(parse(MIGRATION_EXAMPLE).unwrap(), batch.accounts);
}

#[test]
fn migration_base64_leniency() {
    let data = "CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC";
    let want = parse_migration(MIGRATION_EXAMPLE).unwrap().accounts;
    for form in [
        format!("otpauth-migration://offline?data={data}%3D%3D"),
        format!(
            "otpauth-migration://offline?data={}",
            data.replace('+', " ")
        ),
        format!(
            "otpauth-migration://offline?data={}",
            data.replace('+', "-").replace('/', "_")
        ),
    ] {
        assert_eq!(parse_migration(&form).unwrap().accounts, want, "{form}");
    }
}

#[test]
fn migration_round_trip_in_batches() {
    let accounts: Vec<(String, String, OtpCredential)> = (0..23)
        .map(|i| {
            let params = if i % 3 == 0 {
                OtpParams::hotp(Algorithm::Sha256, 8, i)
            } else {
                OtpParams::totp(Algorithm::Sha1, 6, 30)
            };
            (
                format!("Issuer {i}"),
                format!("user{i}@example.com"),
                OtpCredential::new(
                    params,
                    crate::secret::Secret::from_slice(&[i as u8 + 1; 20]),
                )
                .unwrap(),
            )
        })
        .collect();
    let uris = to_migration(&accounts).unwrap().payloads;
    assert_eq!(uris.len(), 3);
    let mut back = Vec::new();
    let mut ids = Vec::new();
    for (index, uri) in uris.iter().enumerate() {
        let batch = parse_migration(uri).unwrap();
        assert_eq!((batch.batch_index, batch.batch_size), (index as i32, 3));
        ids.push(batch.batch_id);
        back.extend(batch.accounts);
    }
    assert!(ids.iter().all(|id| *id == ids[0]));
    assert_eq!(back.len(), 23);
    for (a, (issuer, label, otp)) in back.iter().zip(&accounts) {
        assert_eq!((&a.issuer, &a.label, &a.otp), (issuer, label, otp));
    }
}

#[test]
fn migration_leaves_out_what_it_cannot_carry_and_exports_the_rest() {
    let cred =
        |params| OtpCredential::new(params, crate::secret::Secret::from_slice(b"k")).unwrap();
    let accounts = vec![
        (
            "A".into(),
            "60".into(),
            cred(OtpParams::totp(Algorithm::Sha1, 6, 60)),
        ),
        (
            "A".into(),
            "ok".into(),
            cred(OtpParams::totp(Algorithm::Sha1, 6, 30)),
        ),
        (
            "A".into(),
            "7".into(),
            cred(OtpParams::totp(Algorithm::Sha1, 7, 30)),
        ),
        ("S".into(), "b".into(), cred(OtpParams::steam())),
        (
            "H".into(),
            "big".into(),
            cred(OtpParams::hotp(Algorithm::Sha1, 6, u64::MAX)),
        ),
        (
            "H".into(),
            "ok".into(),
            cred(OtpParams::hotp(Algorithm::Sha1, 8, 5)),
        ),
    ];
    let out = to_migration(&accounts).unwrap();
    assert_eq!(
        out.left_out,
        [
            (0, NotCarried::Period(60)),
            (2, NotCarried::Digits(7)),
            (3, NotCarried::Steam),
            (4, NotCarried::CounterTooLarge),
        ]
    );
    assert_eq!(
        NotCarried::Period(60).to_string(),
        "a 60 s period cannot be exported to Google Authenticator (30 s only)"
    );
    assert_eq!(
        NotCarried::Digits(7).to_string(),
        "7 digits cannot be exported to Google Authenticator (6 or 8 only)"
    );
    assert_eq!(
        NotCarried::Steam.to_string(),
        "Steam codes cannot be exported to Google Authenticator"
    );
    assert_eq!(out.payloads.len(), 1);
    let batch = parse_migration(&out.payloads[0]).unwrap();
    assert_eq!((batch.batch_index, batch.batch_size), (0, 1));
    let labels: Vec<_> = batch.accounts.iter().map(|a| a.label.as_str()).collect();
    assert_eq!(labels, ["ok", "ok"]);
    assert!(
        !format!("{out:?}").contains("otpauth"),
        "Debug shows no payload"
    );
    // Nothing carried: no payload at all.
    let none = to_migration(&accounts[3..4]).unwrap();
    assert!(none.payloads.is_empty());
    assert_eq!(none.left_out.len(), 1);
}

#[test]
fn exactly_ten_fit_one_payload() {
    let accounts: Vec<_> = (0..10)
        .map(|i| {
            (
                String::new(),
                format!("u{i}"),
                OtpCredential::new(
                    OtpParams::totp(Algorithm::Sha1, 6, 30),
                    crate::secret::Secret::from_slice(&[i as u8 + 1; 10]),
                )
                .unwrap(),
            )
        })
        .collect();
    assert_eq!(to_migration(&accounts).unwrap().payloads.len(), 1);
    assert_eq!(to_migration(&accounts[..0]).unwrap().payloads.len(), 0);
}

#[test]
fn malformed_migration_payloads_are_named() {
    assert_eq!(err("otpauth-migration://offline"), "data: missing");
    assert_eq!(
        err("otpauth-migration://offline?data=ab!c"),
        "data: '!' is not base64 (character 3)"
    );
    assert_eq!(
        err("otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4"),
        "data: not a Google Authenticator transfer payload"
    );
    assert_eq!(
        err("otpauth-migration://offline?data=A"),
        "data: base64 of an impossible length"
    );
    // An MD5 entry: secret "k", algorithm 4.
    let md5 = prost::Message::encode_to_vec(&migration_payload_with_algorithm(4));
    let uri = format!(
        "otpauth-migration://offline?data={}",
        data_encoding::BASE64.encode(&md5)
    );
    assert_eq!(
        err(&uri),
        "entry 1: uses MD5, which no server accepts for OTP"
    );
}

fn migration_payload_with_algorithm(algorithm: i32) -> impl prost::Message {
    #[derive(Clone, PartialEq, prost::Message)]
    struct P {
        #[prost(message, repeated, tag = "1")]
        e: Vec<E>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    struct E {
        #[prost(bytes = "vec", tag = "1")]
        secret: Vec<u8>,
        #[prost(string, tag = "2")]
        name: String,
        #[prost(int32, tag = "4")]
        algorithm: i32,
    }
    P {
        e: vec![E {
            secret: b"k".to_vec(),
            name: "x".into(),
            algorithm,
        }],
    }
}

#[test]
fn negative_batch_id_decodes() {
    let accounts = vec![(
        "A".to_string(),
        "b".to_string(),
        OtpCredential::new(
            OtpParams::totp(Algorithm::Sha1, 6, 30),
            crate::secret::Secret::from_slice(b"k"),
        )
        .unwrap(),
    )];
    // Encode with a known negative id to check the 10-byte varint path.
    let uri = to_migration(&accounts).unwrap().payloads.remove(0);
    let raw = migration::decode_data_param(&uri);
    assert!(!raw.is_empty());
    let batch = parse_migration(&uri).unwrap();
    assert_eq!(batch.accounts.len(), 1);
}

#[test]
fn input_quoted_in_an_error_stays_on_one_line() {
    let cases = [
        (
            "otp\nauth://totp/x?secret=JBSWY3DP",
            "scheme: 'otp\\nauth' is not otpauth:// or otpauth-migration://",
        ),
        (
            "otpauth://to\ntp/x?secret=JBSWY3DP",
            "type: 'to\\ntp' is not totp, hotp or steam",
        ),
        (
            "otpauth://totp/x?secret=JBSW\rY3DP",
            "secret: '\\r' is not base32 (character 5)",
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DP&digits=6\n7",
            "digits=6\\n7: not a number",
        ),
        (
            "otpauth://totp/x?secret=JBSWY3DP&algorithm=\u{1b}[2J",
            "algorithm=\\u{1b}[2J: must be SHA1, SHA256 or SHA512",
        ),
    ];
    for (uri, expected) in cases {
        let message = err(uri);
        assert_eq!(message, expected, "{uri:?}");
        assert!(!message.chars().any(char::is_control), "{message:?}");
    }
}

#[test]
fn privacyidea_day_passwords_are_totp_of_a_day() {
    // privacyIDEA's documented DayPassword URI, as a container delivers it.
    let a = one(
        "otpauth://daypassword/DayPassword0000536F?secret=NW6IT27XNRXOAZEP4GILXB3GCKCANVQR&issuer=privacyIDEA&algorithm=SHA256&digits=6&period=86400",
    );
    assert_eq!(a.otp.params, OtpParams::totp(Algorithm::Sha256, 6, 86_400));
    assert_eq!(a.issuer, "privacyIDEA");
    // Without a period, a day.
    let b = one("otpauth://daypassword/D1?secret=NW6IT27XNRXOAZEP4GILXB3GCKCANVQR");
    assert_eq!(b.otp.params.kind, OtpKind::Totp { period: 86_400 });
    // The same code all day (UTC), another the next.
    let g = Generator::new(b.otp.params, &b.otp.secret).expect("generator");
    let day = 20_000 * 86_400;
    let morning = g
        .code_at(UnixTime::from_secs(day + 60))
        .expect("code")
        .as_str()
        .to_owned();
    assert_eq!(
        g.code_at(UnixTime::from_secs(day + 86_399))
            .expect("code")
            .as_str(),
        morning
    );
    assert_ne!(
        g.code_at(UnixTime::from_secs(day + 86_400))
            .expect("code")
            .as_str(),
        morning
    );
}
