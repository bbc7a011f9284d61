//! AES-256-GCM sealing (ring) for everything the vault keeps secret.
//!
//! A sealed value is `version (1 byte) || nonce (12) || ciphertext || tag (16)`. Every seal draws a
//! fresh random nonce, and the associated data names what the value is and whose it is, so a
//! ciphertext moved to another row, another account or another purpose fails to open.

use ring::aead::{AES_256_GCM, Aad, Algorithm, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

use crate::secret::{Secret, scrub_stack};

pub const KEY_LEN: usize = 32;
const VERSION: u8 = 1;
const TAG_LEN: usize = 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Wrong key, or the bytes or their context were altered.
    #[error("does not decrypt (wrong key, or altered data)")]
    Open,
    #[error("sealed value is malformed ({0})")]
    Malformed(&'static str),
    #[error("the system random number generator failed")]
    Random,
    #[error("a key must be {KEY_LEN} bytes")]
    KeyLength,
}

/// An AES-256-GCM key ready to seal and open. Built from a `Secret`; ring keeps its own expanded
/// copy (whose first 32 bytes are the key itself), which lives only as long as this value: it is
/// built on the heap with the stack it was built on scrubbed ([`aead_key`]), and overwritten
/// when dropped (ring clears nothing itself).
pub struct SealingKey(Box<LessSafeKey>);

/// A ring AEAD key on the heap, with the stack its schedule was built on overwritten: ring
/// expands the key on the stack and moves it (a debug build leaves a dozen copies), and nothing
/// else would clear those copies. Every AES-GCM key of the core is made here.
pub(crate) fn aead_key(
    algorithm: &'static Algorithm,
    key: &[u8],
) -> Result<Box<LessSafeKey>, ring::error::Unspecified> {
    let key = expand(algorithm, key);
    scrub_stack();
    key
}

#[inline(never)]
fn expand(
    algorithm: &'static Algorithm,
    key: &[u8],
) -> Result<Box<LessSafeKey>, ring::error::Unspecified> {
    Ok(Box::new(LessSafeKey::new(UnboundKey::new(algorithm, key)?)))
}

impl Drop for SealingKey {
    /// Overwrites the schedule in place with the all-zero key's, so the key is gone even where
    /// the allocator does not zero what is freed (core/src/allocator.rs), then runs the zero key
    /// through AES-GCM so that the SIMD registers ring's assembly left holding this key's blocks
    /// hold the zero key's instead.
    fn drop(&mut self) {
        if let Ok(zero) = aead_key(&AES_256_GCM, &[0u8; KEY_LEN]) {
            *self.0 = *zero;
        }
        std::hint::black_box(&*self.0);
        let mut blocks = [0u8; 1024];
        let _ = self.0.seal_in_place_separate_tag(
            Nonce::assume_unique_for_key([0u8; NONCE_LEN]),
            Aad::empty(),
            &mut blocks,
        );
        std::hint::black_box(&blocks);
    }
}

impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(<redacted>)")
    }
}

impl SealingKey {
    pub fn new(key: &Secret) -> Result<Self, CryptoError> {
        if key.len() != KEY_LEN {
            return Err(CryptoError::KeyLength);
        }
        aead_key(&AES_256_GCM, key.expose())
            .map(SealingKey)
            .map_err(|_| CryptoError::KeyLength)
    }

    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| CryptoError::Random)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        let body_start = out.len();
        out.extend_from_slice(plaintext);
        let mut body = out.split_off(body_start);
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut body,
            )
            .map_err(|_| CryptoError::Random)?;
        out.extend_from_slice(&body);
        zeroize::Zeroize::zeroize(&mut body);
        Ok(out)
    }

    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Secret, CryptoError> {
        let (&version, rest) = sealed
            .split_first()
            .ok_or(CryptoError::Malformed("empty"))?;
        if version != VERSION {
            return Err(CryptoError::Malformed("unknown version"));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed("too short"));
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let nonce =
            Nonce::try_assume_unique_for_key(nonce).map_err(|_| CryptoError::Malformed("nonce"))?;
        let mut buffer = zeroize::Zeroizing::new(body.to_vec());
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(aad), &mut buffer)
            .map_err(|_| CryptoError::Open)?;
        Ok(Secret::from_slice(plain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealingKey {
        SealingKey::new(&Secret::random(KEY_LEN).unwrap()).unwrap()
    }

    #[test]
    fn round_trip_with_fresh_nonces() {
        let k = key();
        let a = k.seal(b"seed", b"ctx").unwrap();
        let b = k.seal(b"seed", b"ctx").unwrap();
        assert_ne!(a, b, "each seal uses a new nonce");
        assert_eq!(k.open(&a, b"ctx").unwrap().expose(), b"seed");
    }

    #[test]
    fn other_context_other_key_or_flipped_bit_fail() {
        let k = key();
        let sealed = k.seal(b"seed", b"account-1").unwrap();
        assert_eq!(
            k.open(&sealed, b"account-2").unwrap_err(),
            CryptoError::Open
        );
        assert_eq!(
            key().open(&sealed, b"account-1").unwrap_err(),
            CryptoError::Open
        );
        let mut flipped = sealed.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        assert_eq!(
            k.open(&flipped, b"account-1").unwrap_err(),
            CryptoError::Open
        );
        assert!(matches!(
            k.open(&sealed[..10], b"account-1"),
            Err(CryptoError::Malformed(_))
        ));
        assert!(matches!(k.open(&[], b"x"), Err(CryptoError::Malformed(_))));
    }

    #[test]
    fn keys_must_be_256_bits() {
        assert_eq!(
            SealingKey::new(&Secret::from_slice(&[0; 16])).unwrap_err(),
            CryptoError::KeyLength
        );
    }
}
