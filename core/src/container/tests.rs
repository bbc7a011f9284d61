//! The protocol's offline pieces against what a live privacyIDEA 3.14 sent and accepted: its
//! QR codes, an encrypted sync answer captured with its key, and signatures checked by ring.

use std::time::Duration;

use super::crypto::{ContainerKey, EncryptedAnswer, decrypt};
use super::sync::{ClientToken, client_dict, parse_delivery};
use super::{ContainerError, ContainerRegistration, TokenType, endpoint_url};
use crate::error::ErrorKind;
use crate::time::UnixTime;

const QR: &str = "pia://container/SMPH00006AB6?issuer=privacyIDEA&ttl=10&nonce=543d23858442d6c19c50fbc71de823aeb52d203d&time=2026-12-01T08%3A06%3A23.115369%2B00%3A00&url=http%3A//127.0.0.1%3A5012&serial=SMPH00006AB6&key_algorithm=secp384r1&hash_algorithm=SHA256&ssl_verify=False&passphrase=&send_passphrase=False";

fn scanned() -> UnixTime {
    UnixTime::from_secs(1_796_000_000)
}

#[test]
fn a_real_qr_code_parses_with_its_time_kept_verbatim() {
    let r = ContainerRegistration::parse(QR, scanned()).expect("parses");
    assert_eq!(r.serial, "SMPH00006AB6");
    assert_eq!(r.issuer, "privacyIDEA");
    assert_eq!(r.ttl_minutes, 10);
    assert_eq!(r.nonce, "543d23858442d6c19c50fbc71de823aeb52d203d");
    assert_eq!(r.time, "2026-12-01T08:06:23.115369+00:00");
    assert_eq!(r.url, "http://127.0.0.1:5012");
    assert!(!r.ssl_verify);
    assert_eq!(r.passphrase_prompt, None);
    assert!(!r.send_passphrase && !r.needs_passphrase());
    assert_eq!(r.expires_at(), scanned() + Duration::from_secs(600));
    assert!(
        !format!("{r:?}").contains(&r.nonce),
        "the nonce stays out of Debug"
    );
}

#[test]
fn passphrase_variants_and_extra_parameters() {
    let fixed = QR.replace(
        "passphrase=&",
        "passphrase=Your%20PIN%20letter%20%E2%82%AC&",
    );
    let r = ContainerRegistration::parse(&fixed, scanned()).expect("parses");
    assert_eq!(r.passphrase_prompt.as_deref(), Some("Your PIN letter €"));
    assert!(r.needs_passphrase() && !r.send_passphrase);
    let user = QR.replace(
        "passphrase=&send_passphrase=False",
        "passphrase=Please%20enter%20the%20passphrase%20of%20your%20user%20store.&send_passphrase=True&site=a+b",
    );
    let r = ContainerRegistration::parse(&user, scanned()).expect("parses");
    assert!(r.send_passphrase);
    // quote() never writes `+` for a space: a `+` is a plus.
    assert_eq!(r.extra, vec![("site".to_owned(), "a+b".to_owned())]);
}

#[test]
fn bad_qr_codes_name_the_parameter() {
    let cases: [(&str, String); 8] = [
        ("scheme", QR.replace("pia://container/", "pia://pipush/")),
        (
            "nonce",
            QR.replace("nonce=543d23858442d6c19c50fbc71de823aeb52d203d&", ""),
        ),
        (
            "time",
            QR.replace("time=2026-12-01T08%3A06%3A23.115369%2B00%3A00&", "time=&"),
        ),
        ("url", QR.replace("ssl_verify=False", "ssl_verify=True")),
        ("key_algorithm", QR.replace("secp384r1", "secp256r1")),
        ("hash_algorithm", QR.replace("SHA256", "SHA1")),
        (
            "serial",
            QR.replace("serial=SMPH00006AB6", "serial=SMPH00000000"),
        ),
        ("ttl", QR.replace("ttl=10", "ttl=-1")),
    ];
    for (param, uri) in cases {
        let e = ContainerRegistration::parse(&uri, scanned()).expect_err(param);
        let text = e.to_string();
        assert!(
            matches!(&e, ContainerError::Qr { param: p, .. } if p == param),
            "{param}: {text}"
        );
        assert!(!text.contains('\n'));
        assert_eq!(e.kind(), ErrorKind::BadPush);
    }
    let newline = QR.replace("nonce=543d", "nonce=%0A543d");
    let e = ContainerRegistration::parse(&newline, scanned()).expect_err("control");
    assert_eq!(
        e.to_string(),
        "container QR code: nonce: contains a control character"
    );
}

#[test]
fn the_captured_sync_answer_decrypts_to_the_token_list() {
    let key = hex("907e2ab50b7166397668128cdad4750b9d2ca6acb89cb2224f1961c3439f516d");
    let ciphertext = include_str!("../../testdata/container-sync-answer.b64");
    let answer = EncryptedAnswer {
        server_public_key: "",
        init_vector: "0D95T2S6Z3-cIoK64kTWjA==",
        tag: "fewQlqv4uzShx7kROq3Kbg==",
        ciphertext,
    };
    let plain = decrypt(&key, &answer).expect("decrypts");
    let delivery = parse_delivery("SMPH00006AB6", &plain).expect("parses");
    assert_eq!(delivery.add.len(), 3);
    assert!(
        delivery.add[0]
            .starts_with("otpauth://totp/TOTP0001?secret=E5QMIAQYWEPTZDWL74QCFM65DE6IDMTJ&")
    );
    assert!(delivery.add[1].starts_with("otpauth://hotp/HOTP0001?"));
    assert!(delivery.add[2].starts_with("otpauth://pipush/PIPU0000EC71?"));
    assert!(delivery.update.is_empty());

    // One flipped bit of the tag, or another key: refused, and the error says so in one line.
    let tampered = EncryptedAnswer {
        tag: "gewQlqv4uzShx7kROq3Kbg==",
        ..answer
    };
    let e = decrypt(&key, &tampered).expect_err("tampered");
    assert_eq!(
        e,
        "container_dict_server: does not decrypt with the agreed key (altered, or not for this request)"
    );
    let mut other = key.clone();
    other[0] ^= 1;
    assert!(decrypt(&other, &answer).is_err());
}

#[test]
fn signatures_verify_with_ring_as_p384_over_sha256() {
    let key = ContainerKey::generate().expect("key");
    let message =
        "543d|2026-12-01T08:06:23.115369+00:00|SMPH1|http://h/container/register/finalize|Grüße €";
    let signature = key.sign(message).expect("signs");
    // Padded base64 (the server refuses it unpadded): whole 4-character groups, which the
    // strict decoder below also insists on. (A DER signature of 102 bytes needs no `=`.)
    assert_eq!(signature.len() % 4, 0, "padded base64: {signature}");
    let der = data_encoding::BASE64
        .decode(signature.as_bytes())
        .expect("base64");
    let spki = key.public_der().expect("spki");
    // The SPKI's last 97 bytes are the uncompressed point ring wants.
    let point = &spki[spki.len() - 97..];
    let verifier =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P384_SHA256_ASN1, point);
    verifier
        .verify(message.as_bytes(), &der)
        .expect("verifies as UTF-8");
    assert!(verifier.verify(b"other", &der).is_err());
    let pem = key.public_pem().expect("pem");
    assert!(
        pem.starts_with("-----BEGIN PUBLIC KEY-----\n")
            && pem.ends_with("-----END PUBLIC KEY-----\n")
    );
    // PKCS#8 round trip: the same key signs after the vault gives it back.
    let again = ContainerKey::from_pkcs8(&key.to_pkcs8().expect("pkcs8")).expect("loads");
    assert_eq!(again.public_der().expect("spki"), spki);
    assert!(ContainerKey::from_pkcs8(&crate::secret::Secret::new(vec![1, 2, 3])).is_err());
    assert_eq!(format!("{key:?}"), "ContainerKey(P-384, redacted)");
}

#[test]
fn the_client_list_is_what_the_server_reads() {
    let dict = client_dict(
        "SMPH1",
        &[
            ClientToken::Listed {
                serial: "TOTP0001".to_owned(),
                token_type: TokenType::Totp,
            },
            ClientToken::ByCodes {
                token_type: TokenType::Hotp,
                codes: ["504140".to_owned(), "250087".to_owned()],
            },
        ],
    );
    assert_eq!(
        dict,
        r#"{"container_serial":"SMPH1","type":"smartphone","tokens":[{"serial":"TOTP0001","tokentype":"totp"},{"tokentype":"hotp","otp":["504140","250087"]}]}"#
    );
    assert_eq!(
        client_dict("SMPH1", &[]),
        r#"{"container_serial":"SMPH1","type":"smartphone","tokens":[]}"#
    );
}

#[test]
fn endpoints_are_composed_as_the_server_composes_scopes() {
    assert_eq!(
        endpoint_url("http://127.0.0.1:5012", "container/synchronize"),
        "http://127.0.0.1:5012/container/synchronize"
    );
    assert_eq!(
        endpoint_url("https://h/pi/", "container/synchronize"),
        "https://h/pi/container/synchronize"
    );
}

#[test]
fn server_error_codes_become_distinct_errors() {
    use super::client::parse_envelope;
    let body = |code: i64| {
        format!(
            r#"{{"result":{{"status":false,"error":{{"code":{code},"message":"ERR{code}: text\nmore"}}}}}}"#
        )
    };
    let kinds = [
        (3002, ErrorKind::ContainerMoved),
        (3001, ErrorKind::ContainerGone),
        (601, ErrorKind::ContainerGone),
        (3000, ErrorKind::ServerRefused),
        (905, ErrorKind::ServerRefused),
        (303, ErrorKind::ServerRefused),
        (42, ErrorKind::ServerRefused),
    ];
    let mut texts = Vec::new();
    for (code, kind) in kinds {
        let e = parse_envelope("SMPH1", 400, body(code).as_bytes()).expect_err("error");
        assert_eq!(e.kind(), kind, "{code}");
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        if code != 42 {
            assert_eq!(e.facts().server_code, Some(code));
        }
        assert_eq!(e.facts().serial.as_deref(), Some("SMPH1"));
        texts.push(text);
    }
    texts.dedup();
    assert_eq!(texts.len(), kinds.len(), "every code reads differently");
    assert!(parse_envelope("SMPH1", 200, b"not json").is_err());
    assert_eq!(
        parse_envelope(
            "SMPH1",
            200,
            br#"{"result":{"status":true,"value":{"a":1}}}"#
        )
        .expect("ok")["a"],
        1
    );
}

#[test]
fn hostile_token_lists_are_refused() {
    let many = format!(
        r#"{{"tokens":{{"add":[{}],"update":[]}}}}"#,
        vec!["\"otpauth://totp/x?secret=AA\""; 1001].join(",")
    );
    assert!(parse_delivery("S", many.as_bytes()).is_err());
    assert!(parse_delivery("S", br#"{"tokens":{"add":"x"}}"#).is_err());
    assert!(
        parse_delivery(
            "S",
            br#"{"tokens":{"update":[{"serial":"","tokentype":"totp"}]}}"#
        )
        .is_err()
    );
    let ok = parse_delivery("S", br#"{"tokens":{"update":[{"serial":"T1","tokentype":"hotp","counter":7,"offline":false,"otp":["1","2"]}]}}"#)
        .expect("ok");
    assert_eq!(ok.update[0].counter, Some(7));
}

fn hex(text: &str) -> Vec<u8> {
    data_encoding::HEXLOWER
        .decode(text.as_bytes())
        .expect("hex")
}
