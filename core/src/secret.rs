//! `Secret`: key material that zeroizes on drop and never prints itself.
//!
//! Every OTP seed, master key and private key in the core lives in a `Secret`. It has no `Display`,
//! its `Debug` shows only the length, and the only way to the bytes is the explicit `expose()`.

use std::fmt;

use data_encoding::{BASE32_NOPAD, Specification};
use zeroize::{Zeroize, Zeroizing};

use crate::error::Echo;

/// Bytes that must not leak: zeroized on drop, redacted in `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    /// Takes ownership of `bytes`; the caller's buffer is moved, not copied.
    pub fn new(bytes: Vec<u8>) -> Self {
        Secret(Zeroizing::new(bytes))
    }

    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        Secret(Zeroizing::new(bytes.to_vec()))
    }

    /// `len` random bytes from the system CSPRNG (ring's `SystemRandom`).
    pub fn random(len: usize) -> Result<Self, ring::error::Unspecified> {
        use ring::rand::SecureRandom;
        let mut bytes = Zeroizing::new(vec![0u8; len]);
        ring::rand::SystemRandom::new().fill(&mut bytes)?;
        Ok(Secret(bytes))
    }

    /// The raw bytes. Callers must not copy them into anything that outlives the call unzeroized.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Parses base32 the way real QR codes write it: case-insensitive, with spaces, `-` and `=`
    /// padding tolerated (padding may be missing or partial). The error names the first offending
    /// character by its 1-based position in the input, without echoing the whole input.
    pub fn from_base32(input: &str) -> Result<Self, Base32Error> {
        let mut cleaned = Zeroizing::new(String::with_capacity(input.len()));
        for (index, ch) in input.chars().enumerate() {
            match ch {
                ' ' | '-' | '\t' => {}
                'a'..='z' | 'A'..='Z' | '2'..='7' => cleaned.push(ch.to_ascii_uppercase()),
                '=' => {}
                other => {
                    return Err(Base32Error::InvalidCharacter {
                        character: other,
                        position: index + 1,
                    });
                }
            }
        }
        // `=` is only legal as trailing padding.
        let trimmed = input.trim_end_matches(['=', ' ']);
        if let Some(index) = trimmed.chars().position(|c| c == '=') {
            return Err(Base32Error::InvalidCharacter {
                character: '=',
                position: index + 1,
            });
        }
        if cleaned.is_empty() {
            return Err(Base32Error::Empty);
        }
        // A trailing group of 1, 3 or 6 characters cannot come from whole bytes.
        if matches!(cleaned.len() % 8, 1 | 3 | 6) {
            return Err(Base32Error::BadLength {
                length: cleaned.len(),
            });
        }
        let decoded =
            lenient_base32()
                .decode(cleaned.as_bytes())
                .map_err(|_| Base32Error::BadLength {
                    length: cleaned.len(),
                })?;
        Ok(Secret::new(decoded))
    }

    /// Upper-case base32 without padding, as otpauth URIs carry it. Zeroized when dropped.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(BASE32_NOPAD.encode(&self.0))
    }
}

/// How much stack [`scrub_stack`] overwrites: more than a key schedule or an HMAC keying takes
/// below the function that asked for it (a few KiB in a release build, more in a debug one).
const STACK_SCRUB_BYTES: usize = 32 * 1024;

/// Overwrites with zeros the stack just below the caller's frame, where the functions it has
/// just called left their locals: ring builds an AES key schedule there before it is moved into
/// place, and HMAC pads its key into a block there. Call it right after such a call, from the
/// function that keeps the result. (Zeroizing the heap does nothing for these copies; the
/// memory check found them after a close, scripts/memory-check.sh.)
#[inline(never)]
pub(crate) fn scrub_stack() {
    let area = [0u8; STACK_SCRUB_BYTES];
    // The zeros must be written although nothing reads them.
    std::hint::black_box(&area);
}

/// Base32 without padding that accepts non-canonical trailing bits: some issuers' secrets (e.g.
/// `VKVKVKVKVKVKVKVKVKVKVKQ`) have them, and every authenticator app accepts them.
fn lenient_base32() -> data_encoding::Encoding {
    let mut spec = Specification::new();
    spec.symbols.push_str("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
    spec.check_trailing_bits = false;
    // The specification is a constant; building it cannot fail.
    spec.encoding().unwrap_or_else(|_| BASE32_NOPAD.clone())
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<redacted, {} bytes>)", self.0.len())
    }
}

impl Zeroize for Secret {
    fn zeroize(&mut self) {
        self.0.zeroize();
    }
}

/// Why a base32 secret was refused. Never contains the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Base32Error {
    #[error("is empty")]
    Empty,
    #[error("'{}' is not base32 (character {position})", Echo(&character.to_string()))]
    InvalidCharacter { character: char, position: usize },
    #[error("{length} base32 characters cannot encode whole bytes")]
    BadLength { length: usize },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_bytes() {
        let s = Secret::from_slice(b"hunter2hunter2");
        let shown = format!("{s:?}");
        assert_eq!(shown, "Secret(<redacted, 14 bytes>)");
        assert!(!shown.contains("hunter"));
    }

    #[test]
    fn base32_is_lenient_about_case_spaces_dashes_and_padding() {
        let want = Secret::from_base32("JBSWY3DPEHPK3PXP").unwrap();
        for form in [
            "jbswy3dpehpk3pxp",
            "JBSW Y3DP EHPK 3PXP",
            "JBSW-Y3DP-EHPK-3PXP",
            "JBSWY3DPEHPK3PXP====",
        ] {
            assert_eq!(Secret::from_base32(form).unwrap(), want, "{form}");
        }
        assert_eq!(want.expose(), b"Hello!\xde\xad\xbe\xef");
    }

    #[test]
    fn base32_accepts_unaligned_lengths_seen_in_the_wild() {
        let s = Secret::from_base32("VKVKVKVKVKVKVKVKVKVKVKQ").unwrap();
        assert_eq!(s.len(), 14);
    }

    #[test]
    fn base32_errors_name_the_character_and_position() {
        assert_eq!(
            Secret::from_base32("Q1").unwrap_err().to_string(),
            "'1' is not base32 (character 2)"
        );
        assert_eq!(Secret::from_base32("").unwrap_err(), Base32Error::Empty);
        assert_eq!(Secret::from_base32("  ").unwrap_err(), Base32Error::Empty);
        assert!(matches!(
            Secret::from_base32("AB=CD").unwrap_err(),
            Base32Error::InvalidCharacter {
                character: '=',
                position: 3
            }
        ));
        assert!(matches!(
            Secret::from_base32("A").unwrap_err(),
            Base32Error::BadLength { length: 1 }
        ));
    }

    #[test]
    fn base32_round_trips() {
        let s = Secret::from_slice(&[0, 1, 2, 250, 251, 252, 253]);
        assert_eq!(Secret::from_base32(&s.to_base32()).unwrap(), s);
    }
}
