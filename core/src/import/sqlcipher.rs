//! SQLCipher 3 databases decrypted page by page into plain SQLite bytes, for Authenticator
//! Plus's `authplus.db` backup.
//!
//! Why by hand rather than with SQLCipher: rusqlite's `bundled-sqlcipher` features replace the
//! SQLite build the vault uses on every platform (and bring OpenSSL or a platform crypto
//! library), for one importer; no well-kept pure-Rust SQLCipher reader exists on crates.io (the
//! one there, `sqlcrypto`, is yanked and says it is not production ready). The format is
//! small and documented (SQLCipher's design notes); the primitives are ring's PBKDF2 and HMAC
//! and RustCrypto's AES-CBC (`crypto.rs`), none written here. The plaintext is then opened
//! with rusqlite's `deserialize`, as the other apps' databases are.
//!
//! SQLCipher 3's defaults (`PRAGMA cipher_compatibility = 3`, which Authenticator Plus
//! uses, as Stratum's reader of these files sets): 1024-byte pages; the first 16 bytes of the
//! file are the salt, in the clear, where SQLite's header magic would be; key =
//! PBKDF2-HMAC-SHA1(password, salt, 64 000 iterations, 32 bytes); each page ends with 48
//! reserved bytes, a random IV (16) then HMAC-SHA1 (20) and padding, the HMAC keyed with
//! PBKDF2-HMAC-SHA1(key, salt XOR 0x3a, 2 iterations, 32 bytes) over the page's ciphertext,
//! its IV and its page number (4 bytes, little-endian); the rest of the page (after the salt on
//! page 1) is AES-256-CBC without padding. Checked by decrypting the corpus file, whose
//! decrypted header says 1024-byte pages with 48 reserved bytes.
//!
//! Every page's HMAC is checked before anything is decrypted: page 1's failing means a wrong
//! password (or settings other than these); a later page's failing, a damaged file.

use zeroize::Zeroizing;

use super::ImportError;
use super::crypto::{self, Hash};
use super::entry::Sink;
use super::sqlite::SQLITE_MAGIC;

pub const PAGE_SIZE: usize = 1024;
const SALT_LEN: usize = 16;
const IV_LEN: usize = 16;
const HMAC_LEN: usize = 20;
/// IV and HMAC-SHA1, rounded up to whole AES blocks.
const RESERVED: usize = 48;
const KDF_ITERATIONS: u64 = 64_000;
const HMAC_KDF_ITERATIONS: u64 = 2;
const HMAC_SALT_MASK: u8 = 0x3a;

/// Plausibly a SQLCipher database of 1024-byte pages (for detection: the content is random).
pub(crate) fn may_be(bytes: &[u8]) -> bool {
    bytes.len() >= PAGE_SIZE && bytes.len().is_multiple_of(PAGE_SIZE)
}

/// The plain SQLite bytes of a SQLCipher 3 database, or a wrong password, or the damaged page.
pub(crate) fn decrypt_v3(
    bytes: &[u8],
    password: &str,
    sink: &Sink,
) -> Result<Zeroizing<Vec<u8>>, ImportError> {
    if !may_be(bytes) {
        return Err(sink.damaged(
            "database",
            format!(
                "{} bytes is not a whole number of {PAGE_SIZE}-byte SQLCipher pages",
                bytes.len()
            ),
        ));
    }
    let salt = &bytes[..SALT_LEN];
    let key = crypto::pbkdf2(
        sink.format,
        Hash::Sha1,
        password.as_bytes(),
        salt,
        KDF_ITERATIONS,
        32,
    )?;
    let hmac_salt: Vec<u8> = salt.iter().map(|b| b ^ HMAC_SALT_MASK).collect();
    let hmac_key = crypto::pbkdf2(
        sink.format,
        Hash::Sha1,
        &key,
        &hmac_salt,
        HMAC_KDF_ITERATIONS,
        32,
    )?;
    let pages: Vec<(u32, &[u8])> = bytes
        .chunks_exact(PAGE_SIZE)
        .zip(1u32..)
        .map(|(page, number)| (number, page))
        .collect();
    for &(number, page) in &pages {
        let (content, iv, tag) = split(page, number);
        if !crypto::hmac_sha1_verify(&hmac_key, &[content, iv, &number.to_le_bytes()], tag) {
            return Err(if number == 1 {
                sink.wrong_password()
            } else {
                sink.damaged(
                    format!("database page {number}"),
                    "it fails its HMAC check (altered or truncated)",
                )
            });
        }
    }
    // Exactly the input's length, so the buffer never reallocates (leaving unzeroized copies).
    let mut plain = Zeroizing::new(Vec::with_capacity(bytes.len()));
    for &(number, page) in &pages {
        let (content, iv, _) = split(page, number);
        let decrypted = crypto::aes256_cbc_decrypt_unpadded(&key, iv, content)
            .ok_or_else(|| sink.damaged(format!("database page {number}"), "not whole blocks"))?;
        if number == 1 {
            plain.extend_from_slice(SQLITE_MAGIC);
        }
        plain.extend_from_slice(&decrypted);
        // The reserved bytes stay reserved (the header says so); SQLite ignores them.
        plain.extend_from_slice(&[0u8; RESERVED]);
    }
    // SQLite's header, now in the clear: the page size (big-endian at 16) and the reserved
    // bytes per page (at 20) must be SQLCipher 3's.
    let page_size = u16::from_be_bytes([plain[16], plain[17]]);
    if usize::from(page_size) != PAGE_SIZE || usize::from(plain[20]) != RESERVED {
        return Err(sink.damaged(
            "database header",
            format!(
                "{page_size}-byte pages with {} reserved bytes, not SQLCipher 3's {PAGE_SIZE} and {RESERVED}",
                plain[20]
            ),
        ));
    }
    Ok(plain)
}

/// A page's encrypted content, IV and HMAC.
fn split(page: &[u8], number: u32) -> (&[u8], &[u8], &[u8]) {
    let start = if number == 1 { SALT_LEN } else { 0 };
    let end = PAGE_SIZE - RESERVED;
    (
        &page[start..end],
        &page[end..end + IV_LEN],
        &page[end + IV_LEN..end + IV_LEN + HMAC_LEN],
    )
}
