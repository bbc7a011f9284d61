//! The primitives encrypted exports use, behind bounds: every key-derivation parameter a file
//! names is checked against a limit (an error naming the parameter) before any work is done.
//! The limits sit above every real file (Aegis scrypt N = 2^15, Ente's Argon2id 1 GiB x 4 passes,
//! andOTP ~150 000 and Bitwarden 600 000 PBKDF2 iterations) and below what would stall a phone.
//!
//! AES-GCM, PBKDF2, HMAC and HKDF come from ring; scrypt, Argon2id, AES-CBC and libsodium's
//! secretstream from RustCrypto crates. Nothing here is a hand-written primitive.

use std::num::NonZeroU32;

use zeroize::Zeroizing;

use super::{Format, ImportError};

/// scrypt: at most N = 2^20 and 128 * r * N <= 1 GiB of memory.
pub const MAX_SCRYPT_LOG_N: u8 = 20;
const MAX_SCRYPT_R: u64 = 32;
const MAX_SCRYPT_P: u64 = 16;
const MAX_SCRYPT_BYTES: u64 = 1 << 30;
/// Argon2: at most 1 GiB (Ente's strongest setting), 64 passes, 16 lanes, and no more than
/// 4 GiB-passes in all (Ente's 1 GiB x 4).
pub const MAX_ARGON2_MEMORY_KIB: u64 = 1024 * 1024;
pub const MAX_ARGON2_ITERATIONS: u64 = 64;
const MAX_ARGON2_PARALLELISM: u64 = 16;
const MAX_ARGON2_WORK_KIB: u64 = 4 * MAX_ARGON2_MEMORY_KIB;
/// PBKDF2: at most five million iterations (a few seconds of SHA-1 on a phone).
pub const MAX_PBKDF2_ITERATIONS: u64 = 5_000_000;

pub type Key = Zeroizing<Vec<u8>>;

fn bound(
    format: Format,
    param: &'static str,
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), ImportError> {
    if value < min {
        return Err(ImportError::damaged(
            format,
            "key derivation parameters",
            format!("{param} = {value} is below {min}"),
        ));
    }
    if value > max {
        return Err(ImportError::KdfParameter {
            format,
            param,
            value,
            max,
        });
    }
    Ok(())
}

pub fn scrypt(
    format: Format,
    password: &[u8],
    salt: &[u8],
    n: u64,
    r: u64,
    p: u64,
    len: usize,
) -> Result<Key, ImportError> {
    bound(format, "scrypt N", n, 2, 1 << MAX_SCRYPT_LOG_N)?;
    if !n.is_power_of_two() {
        return Err(ImportError::damaged(
            format,
            "key derivation parameters",
            format!("scrypt N = {n} is not a power of two"),
        ));
    }
    bound(format, "scrypt r", r, 1, MAX_SCRYPT_R)?;
    bound(format, "scrypt p", p, 1, MAX_SCRYPT_P)?;
    bound(
        format,
        "scrypt memory (128 * r * N bytes)",
        128 * r * n,
        1,
        MAX_SCRYPT_BYTES,
    )?;
    let log_n = n.trailing_zeros() as u8;
    let params = scrypt::Params::new(log_n, r as u32, p as u32).map_err(|_| {
        ImportError::damaged(format, "key derivation parameters", "scrypt refuses them")
    })?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    scrypt::scrypt(password, salt, &params, &mut out)
        .map_err(|_| ImportError::damaged(format, "key derivation", "bad key length"))?;
    Ok(out)
}

pub fn argon2id(
    format: Format,
    password: &[u8],
    salt: &[u8],
    memory_kib: u64,
    iterations: u64,
    parallelism: u64,
    len: usize,
) -> Result<Key, ImportError> {
    bound(
        format,
        "Argon2 memory (KiB)",
        memory_kib,
        8,
        MAX_ARGON2_MEMORY_KIB,
    )?;
    bound(
        format,
        "Argon2 iterations",
        iterations,
        1,
        MAX_ARGON2_ITERATIONS,
    )?;
    bound(
        format,
        "Argon2 parallelism",
        parallelism,
        1,
        MAX_ARGON2_PARALLELISM,
    )?;
    bound(
        format,
        "Argon2 memory x iterations (KiB)",
        memory_kib * iterations,
        1,
        MAX_ARGON2_WORK_KIB,
    )?;
    let params = argon2::Params::new(
        memory_kib as u32,
        iterations as u32,
        parallelism as u32,
        Some(len),
    )
    .map_err(|e| {
        ImportError::damaged(format, "key derivation parameters", format!("Argon2: {e}"))
    })?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut out = Zeroizing::new(vec![0u8; len]);
    argon
        .hash_password_into(password, salt, &mut out)
        .map_err(|e| ImportError::damaged(format, "key derivation", format!("Argon2: {e}")))?;
    Ok(out)
}

#[derive(Clone, Copy)]
pub enum Hash {
    Sha1,
    Sha256,
    Sha512,
}

pub fn pbkdf2(
    format: Format,
    hash: Hash,
    password: &[u8],
    salt: &[u8],
    iterations: u64,
    len: usize,
) -> Result<Key, ImportError> {
    bound(
        format,
        "PBKDF2 iterations",
        iterations,
        1,
        MAX_PBKDF2_ITERATIONS,
    )?;
    let iterations = NonZeroU32::new(iterations as u32).ok_or_else(|| {
        ImportError::damaged(format, "key derivation parameters", "0 PBKDF2 iterations")
    })?;
    let algorithm = match hash {
        Hash::Sha1 => ring::pbkdf2::PBKDF2_HMAC_SHA1,
        Hash::Sha256 => ring::pbkdf2::PBKDF2_HMAC_SHA256,
        Hash::Sha512 => ring::pbkdf2::PBKDF2_HMAC_SHA512,
    };
    let mut out = Zeroizing::new(vec![0u8; len]);
    ring::pbkdf2::derive(algorithm, iterations, salt, password, &mut out);
    Ok(out)
}

pub fn sha256(data: &[u8]) -> Key {
    Zeroizing::new(
        ring::digest::digest(&ring::digest::SHA256, data)
            .as_ref()
            .to_vec(),
    )
}

/// AES-GCM (128- or 256-bit key, 12-byte nonce, 16-byte tag appended). `None` when the tag does
/// not verify: a wrong key, or a damaged ciphertext.
pub fn aes_gcm_open(key: &[u8], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Key> {
    let algorithm = match key.len() {
        16 => &ring::aead::AES_128_GCM,
        32 => &ring::aead::AES_256_GCM,
        _ => return None,
    };
    let key = crate::vault::crypto::aead_key(algorithm, key).ok()?;
    let nonce = ring::aead::Nonce::try_assume_unique_for_key(nonce).ok()?;
    let mut buffer = Zeroizing::new(sealed.to_vec());
    let plain_len = key
        .open_in_place(nonce, ring::aead::Aad::from(aad), &mut buffer)
        .ok()?
        .len();
    buffer.truncate(plain_len);
    Some(buffer)
}

/// AES-CBC with PKCS#7 padding (128- or 256-bit key). `None` when the padding is wrong, which
/// is what a wrong key usually gives.
pub fn aes_cbc_open(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Key> {
    use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::Pkcs7};
    if iv.len() != 16 || ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return None;
    }
    let plain = match key.len() {
        16 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .ok()?,
        32 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .ok()?
            .decrypt_padded_vec_mut::<Pkcs7>(ciphertext)
            .ok()?,
        _ => return None,
    };
    Some(Zeroizing::new(plain))
}

/// AES-256-CBC without padding (SQLCipher pages fill whole blocks). `None` when the key or IV
/// has the wrong length or the data is not whole blocks.
pub fn aes256_cbc_decrypt_unpadded(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Option<Key> {
    use cbc::cipher::{BlockDecryptMut, KeyIvInit, block_padding::NoPadding};
    if key.len() != 32 || iv.len() != 16 || !ciphertext.len().is_multiple_of(16) {
        return None;
    }
    let plain = cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
        .ok()?
        .decrypt_padded_vec_mut::<NoPadding>(ciphertext)
        .ok()?;
    Some(Zeroizing::new(plain))
}

/// HMAC-SHA1, as SQLCipher 3 authenticates its pages (not a signature: a MAC keyed by the
/// password, where SHA-1's collisions do not matter).
pub fn hmac_sha1_verify(key: &[u8], data: &[&[u8]], tag: &[u8]) -> bool {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, key);
    // ring compares the tags in constant time.
    ring::hmac::verify(&key, &data.concat(), tag).is_ok()
}

pub fn hmac_sha256_verify(key: &[u8], data: &[&[u8]], tag: &[u8]) -> bool {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    // ring compares the tags in constant time.
    ring::hmac::verify(&key, &data.concat(), tag).is_ok()
}

/// HKDF-Expand with SHA-256 (RFC 5869, no extract step): `key` is used as the PRK.
pub fn hkdf_expand_sha256(key: &[u8], info: &[u8], len: usize) -> Option<Key> {
    struct Len(usize);
    impl ring::hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let prk = ring::hkdf::Prk::new_less_safe(ring::hkdf::HKDF_SHA256, key);
    let info = [info];
    let okm = prk.expand(&info, Len(len)).ok()?;
    let mut out = Zeroizing::new(vec![0u8; len]);
    okm.fill(&mut out).ok()?;
    Some(out)
}

/// libsodium `crypto_secretstream_xchacha20poly1305`, one message after the header (what Ente
/// writes). `None` when it does not authenticate.
pub fn secretstream_open(key: &[u8], header: &[u8], message: &[u8]) -> Option<Key> {
    use crypto_secretstream::{Header, Key as StreamKey, PullStream};
    let key = StreamKey::try_from(key).ok()?;
    let header = Header::try_from(header).ok()?;
    let mut pull = PullStream::init(header, &key);
    let mut buffer = Zeroizing::new(message.to_vec());
    // Ente tags its one message MESSAGE, not FINAL: any tag is accepted.
    pull.pull(&mut *buffer, &[]).ok()?;
    Some(buffer)
}
