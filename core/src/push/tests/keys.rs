use data_encoding::{BASE32, BASE64};
use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};

use super::support::{device_key, pkcs1_of, server_key};
use crate::push::keys::{
    decode_signature, parse_server_public_key, pubkey_param, server_signature_valid, sign_b32,
    spki_from_pkcs1,
};
use crate::push::{DeviceKey, PushError, SoftwareDeviceKey};
use crate::secret::Secret;

#[test]
fn a_generated_key_signs_what_ring_verifies_with_its_pkcs1_public_key() {
    let key = device_key();
    assert_eq!(key.bits(), 2048);
    let signature = key.sign_pkcs1_sha256(b"nonce|serial").unwrap();
    assert_eq!(signature.len(), 256);
    let pkcs1 = pkcs1_of(key);
    assert!(server_signature_valid(&pkcs1, b"nonce|serial", &signature));
    assert!(!server_signature_valid(
        &pkcs1,
        b"nonce|serial2",
        &signature
    ));
    assert!(!server_signature_valid(
        &pkcs1_of(server_key()),
        b"nonce|serial",
        &signature
    ));
}

#[test]
fn a_key_reloaded_from_pkcs8_is_the_same_key() {
    let key = device_key();
    let reloaded = SoftwareDeviceKey::from_pkcs8(key.pkcs8().clone()).unwrap();
    assert_eq!(
        reloaded.public_key_spki_der().unwrap(),
        key.public_key_spki_der().unwrap()
    );
    // PKCS#1 v1.5 signatures are deterministic.
    assert_eq!(
        reloaded.sign_pkcs1_sha256(b"m").unwrap(),
        key.sign_pkcs1_sha256(b"m").unwrap()
    );
    assert!(!format!("{reloaded:?}").contains(&format!("{:?}", key.pkcs8().expose())));
}

#[test]
fn the_public_key_is_spki_der() {
    let spki = device_key().public_key_spki_der().unwrap();
    let parsed = rsa::RsaPublicKey::from_public_key_der(&spki).unwrap();
    assert_eq!(
        parsed.to_public_key_der().unwrap().as_bytes(),
        spki.as_slice()
    );
    assert_eq!(spki_from_pkcs1(&pkcs1_of(device_key())).unwrap(), spki);
    assert_eq!(pubkey_param(device_key()).unwrap(), BASE64.encode(&spki));
}

#[test]
fn unsupported_sizes_and_bad_pkcs8_are_refused() {
    let err = SoftwareDeviceKey::generate(1024).unwrap_err();
    assert_eq!(
        err.to_string(),
        "device key: 1024 bits is not supported (use 2048, 3072 or 4096)"
    );
    assert!(SoftwareDeviceKey::generate(8192).is_err());
    let err = SoftwareDeviceKey::from_pkcs8(Secret::from_slice(b"not a key")).unwrap_err();
    assert!(matches!(err, PushError::DeviceKey { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "device key: the stored key is not a usable RSA PKCS#8 key (InvalidEncoding)"
    );
}

/// A platform key store that hands over PKCS#1 instead of SPKI.
struct Pkcs1Exporter;

impl DeviceKey for Pkcs1Exporter {
    fn public_key_spki_der(&self) -> Result<Vec<u8>, PushError> {
        Ok(pkcs1_of(device_key()))
    }
    fn sign_pkcs1_sha256(&self, message: &[u8]) -> Result<Vec<u8>, PushError> {
        device_key().sign_pkcs1_sha256(message)
    }
}

#[test]
fn a_non_spki_public_key_is_caught_before_registration() {
    let err = pubkey_param(&Pkcs1Exporter).unwrap_err();
    assert_eq!(
        err.to_string(),
        "device key: the public key is not a DER SubjectPublicKeyInfo RSA key"
    );
}

#[test]
fn signatures_are_padded_upper_case_base32() {
    let b32 = sign_b32(device_key(), "x").unwrap();
    assert!(b32.ends_with('='));
    assert_eq!(b32, b32.to_ascii_uppercase());
    assert_eq!(BASE32.decode(b32.as_bytes()).unwrap().len(), 256);
    assert_eq!(decode_signature("signature", &b32).unwrap().len(), 256);
    for bad in [
        b32.to_ascii_lowercase(),
        b32.trim_end_matches('=').to_owned(),
        String::new(),
    ] {
        let err = decode_signature("signature", &bad).unwrap_err();
        assert!(
            matches!(&err, PushError::Challenge { field, .. } if field == "signature"),
            "{err:?}"
        );
    }
}

/// privacyIDEA writes base64 with a newline every 64 characters.
fn wrapped(der: &[u8]) -> String {
    let b64 = BASE64.encode(der);
    b64.as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_server_key_is_read_from_wrapped_base64_pkcs1_or_spki() {
    let pkcs1 = pkcs1_of(server_key());
    assert_eq!(parse_server_public_key(&wrapped(&pkcs1)).unwrap(), pkcs1);
    let spki = server_key().public_key_spki_der().unwrap();
    assert_eq!(parse_server_public_key(&wrapped(&spki)).unwrap(), pkcs1);
}

#[test]
fn unusable_server_keys_are_refused() {
    let small = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 1024).unwrap();
    let small_der = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(&small.to_public_key()).unwrap();
    for (text, expected) in [
        ("", "is empty"),
        ("!!!", "is not base64"),
        ("AAAA", "is not a DER RSA public key (PKCS#1 or SPKI)"),
        (
            &BASE64.encode(small_der.as_bytes()),
            "1024 bits is outside 2048..8192 bits",
        ),
    ] {
        let err = parse_server_public_key(text).unwrap_err();
        assert!(matches!(err, PushError::ServerKey { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            format!("server public key: {expected}"),
            "{text}"
        );
    }
}
