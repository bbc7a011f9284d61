//! The container's cryptography, byte for byte as privacyIDEA 3.14 speaks it:
//! - the phone's long-lived key: ECDSA P-384, signing the UTF-8 bytes of a `|`-joined message
//!   hashed with SHA-256 (the container's `hash_algorithm`), DER `SEQUENCE{r, s}`, standard
//!   base64 with padding (the server refuses unpadded base64); the public key goes out as a PEM
//!   SubjectPublicKeyInfo; the private key is kept as PKCS#8, sealed in the vault;
//! - each sync: a fresh X25519 key pair on each side; the raw 32-byte shared secret is the
//!   AES-256-GCM key (no KDF), with the server's 16-byte IV and separate 16-byte tag, no
//!   associated data; every server field is URL-safe base64 with padding.
//!
//! p384 (RustCrypto) signs, since ring signs P-384 only with SHA-384; aes-gcm with a 16-byte
//! nonce opens the answer, since ring's AEAD takes 12-byte nonces only; ring does X25519.

use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::array::Array;
use aes_gcm::aead::consts::U16;
use aes_gcm::aes::Aes256;
use aes_gcm::{AesGcm, KeyInit};
use data_encoding::{BASE64, BASE64URL};
use p384::ecdsa::signature::hazmat::PrehashSigner;
use p384::ecdsa::{DerSignature, SigningKey};
use p384::elliptic_curve::Generate;
use p384::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey, LineEnding};
use ring::agreement;
use ring::rand::SystemRandom;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::secret::Secret;

/// The phone's key for one container registration.
pub struct ContainerKey {
    key: SigningKey,
}

impl std::fmt::Debug for ContainerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ContainerKey(P-384, redacted)")
    }
}

impl ContainerKey {
    /// A new random key from the operating system's generator.
    pub fn generate() -> Result<Self, String> {
        let key = SigningKey::try_generate()
            .map_err(|_| "the system random generator failed".to_owned())?;
        Ok(ContainerKey { key })
    }

    /// The key stored as PKCS#8 DER.
    pub fn from_pkcs8(der: &Secret) -> Result<Self, String> {
        SigningKey::from_pkcs8_der(der.expose())
            .map(|key| ContainerKey { key })
            .map_err(|_| "the stored container key is not a P-384 PKCS#8 key".to_owned())
    }

    /// PKCS#8 DER, for the vault to seal.
    pub fn to_pkcs8(&self) -> Result<Secret, String> {
        let document = self
            .key
            .to_pkcs8_der()
            .map_err(|_| "the container key cannot be encoded".to_owned())?;
        Ok(Secret::new(document.as_bytes().to_vec()))
    }

    /// The public key as the server wants it: PEM SubjectPublicKeyInfo with `\n` line ends.
    pub fn public_pem(&self) -> Result<String, String> {
        self.key
            .verifying_key()
            .to_public_key_pem(LineEnding::LF)
            .map_err(|_| "the container's public key cannot be encoded".to_owned())
    }

    /// The public key as DER SubjectPublicKeyInfo (for tests that verify with another library).
    pub fn public_der(&self) -> Result<Vec<u8>, String> {
        self.key
            .verifying_key()
            .to_public_key_der()
            .map(|d| d.as_bytes().to_vec())
            .map_err(|_| "the container's public key cannot be encoded".to_owned())
    }

    /// Signs the UTF-8 bytes of `message` (ECDSA P-384 over SHA-256), as padded base64 of DER.
    pub fn sign(&self, message: &str) -> Result<String, String> {
        let digest = Sha256::digest(message.as_bytes());
        let signature: DerSignature = self
            .key
            .sign_prehash(&digest)
            .map_err(|_| "signing with the container key failed".to_owned())?;
        Ok(BASE64.encode(signature.as_bytes()))
    }
}

/// The phone's half of one sync's key agreement: made fresh, used once, never stored.
pub struct SyncKeyPair {
    private: agreement::EphemeralPrivateKey,
    public_b64: String,
}

impl SyncKeyPair {
    pub fn generate() -> Result<Self, String> {
        let rng = SystemRandom::new();
        let private = agreement::EphemeralPrivateKey::generate(&agreement::X25519, &rng)
            .map_err(|_| "the system random generator failed".to_owned())?;
        let public = private
            .compute_public_key()
            .map_err(|_| "the sync key cannot be made".to_owned())?;
        Ok(SyncKeyPair {
            public_b64: BASE64.encode(public.as_ref()),
            private,
        })
    }

    /// The raw 32-byte public key, standard base64 with padding: `public_enc_key_client`.
    pub fn public_b64(&self) -> &str {
        &self.public_b64
    }

    /// Agrees with the server's key and opens its encrypted answer.
    pub fn open(self, answer: &EncryptedAnswer<'_>) -> Result<Zeroizing<Vec<u8>>, String> {
        let server = decode_b64("public_server_key", answer.server_public_key)?;
        if server.len() != 32 {
            return Err("public_server_key: is not a 32-byte X25519 key".to_owned());
        }
        let peer = agreement::UnparsedPublicKey::new(&agreement::X25519, server);
        agreement::agree_ephemeral(self.private, &peer, |shared| decrypt(shared, answer))
            .map_err(|_| "public_server_key: the key agreement failed".to_owned())?
    }
}

/// The encrypted fields of a sync answer, as received.
pub struct EncryptedAnswer<'a> {
    pub server_public_key: &'a str,
    pub init_vector: &'a str,
    pub tag: &'a str,
    pub ciphertext: &'a str,
}

/// AES-256-GCM with a 16-byte IV, no associated data, the tag apart.
pub fn decrypt(key: &[u8], answer: &EncryptedAnswer<'_>) -> Result<Zeroizing<Vec<u8>>, String> {
    let iv = decode_b64("init_vector", answer.init_vector)?;
    let tag = decode_b64("tag", answer.tag)?;
    let mut buffer = Zeroizing::new(decode_b64("container_dict_server", answer.ciphertext)?);
    let iv: Array<u8, U16> =
        Array::try_from(iv.as_slice()).map_err(|_| "init_vector: is not 16 bytes".to_owned())?;
    let tag: Array<u8, U16> =
        Array::try_from(tag.as_slice()).map_err(|_| "tag: is not 16 bytes".to_owned())?;
    let cipher = AesGcm::<Aes256, U16>::new_from_slice(key)
        .map_err(|_| "the shared key is not 32 bytes".to_owned())?;
    cipher
        .decrypt_inout_detached(&iv, &[], buffer.as_mut_slice().into(), &tag)
        .map_err(|_| {
            "container_dict_server: does not decrypt with the agreed key (altered, or not for this request)"
                .to_owned()
        })?;
    Ok(buffer)
}

/// Server fields are URL-safe base64; the standard alphabet is accepted too.
fn decode_b64(field: &str, text: &str) -> Result<Vec<u8>, String> {
    let text = text.trim();
    BASE64URL
        .decode(text.as_bytes())
        .or_else(|_| BASE64.decode(text.as_bytes()))
        .map_err(|_| format!("{field}: is not base64"))
}
