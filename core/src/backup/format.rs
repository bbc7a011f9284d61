//! The backup file's bytes (docs/backup.md, "File"): a 50-byte header, authenticated as AES-GCM
//! associated data, then the AES-256-GCM ciphertext of the UTF-8 JSON payload and its tag. The
//! key is Argon2id of the password with the salt and parameters the header stores, so the file
//! holds no platform key and restores anywhere.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use super::BackupError;
use crate::secret::Secret;
use crate::vault::KdfParams;
use crate::vault::slots::{SALT_LEN, derive_key};

/// The first 8 bytes of every backup.
pub const MAGIC: &[u8; 8] = b"AUTHCBAK";
/// The format this library writes and the newest it reads.
pub const FORMAT_VERSION: u8 = 1;
/// Argon2id, version 0x13: the only key derivation of format 1.
const KDF_ARGON2ID: u8 = 1;
const HEADER_LEN: usize = 8 + 1 + 1 + 4 + 4 + 4 + SALT_LEN + NONCE_LEN;
const TAG_LEN: usize = 16;
/// Larger files are refused before anything is derived: 64 MiB holds far more accounts than a
/// person has.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;

/// A backup key: Argon2id of a password with `salt` and `params`. Automatic backups derive it
/// once and keep it sealed in the vault, so no backup needs the password.
pub struct BackupKey {
    key: Secret,
    salt: [u8; SALT_LEN],
    params: KdfParams,
}

impl std::fmt::Debug for BackupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupKey")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl BackupKey {
    /// Derives a key from `password` with a fresh random salt.
    pub fn derive(password: &str, params: KdfParams) -> Result<Self, BackupError> {
        check_password(password)?;
        let mut salt = [0u8; SALT_LEN];
        SystemRandom::new()
            .fill(&mut salt)
            .map_err(|_| BackupError::Random)?;
        Self::derive_with_salt(password, salt, params)
    }

    fn derive_with_salt(
        password: &str,
        salt: [u8; SALT_LEN],
        params: KdfParams,
    ) -> Result<Self, BackupError> {
        let key =
            derive_key(password, &salt, params).map_err(|reason| BackupError::BadKdf { reason })?;
        Ok(BackupKey { key, salt, params })
    }

    /// A key kept from an earlier derivation (the automatic backups' sealed key).
    pub fn from_parts(key: Secret, salt: &[u8], params: KdfParams) -> Result<Self, BackupError> {
        let salt: [u8; SALT_LEN] = salt.try_into().map_err(|_| BackupError::BadSetting {
            reason: format!("the key's salt must be {SALT_LEN} bytes"),
        })?;
        if key.len() != 32 {
            return Err(BackupError::BadSetting {
                reason: "the kept backup key must be 32 bytes".into(),
            });
        }
        params
            .validate()
            .map_err(|reason| BackupError::BadKdf { reason })?;
        Ok(BackupKey { key, salt, params })
    }

    pub fn key(&self) -> &Secret {
        &self.key
    }

    pub fn salt(&self) -> &[u8] {
        &self.salt
    }

    pub fn params(&self) -> KdfParams {
        self.params
    }

    fn aead(&self) -> Result<Box<LessSafeKey>, BackupError> {
        crate::vault::crypto::aead_key(&AES_256_GCM, self.key.expose()).map_err(|_| {
            BackupError::BadSetting {
                reason: "the backup key must be 32 bytes".into(),
            }
        })
    }
}

/// The password is the backup's only protection: an empty one is refused.
pub(crate) fn check_password(password: &str) -> Result<(), BackupError> {
    if password.is_empty() {
        return Err(BackupError::BadPassword {
            reason: "must not be empty".into(),
        });
    }
    Ok(())
}

/// Encrypts `payload` (the JSON) into a backup file under `key`, with a fresh random nonce.
pub fn encrypt(key: &BackupKey, payload: &[u8]) -> Result<Vec<u8>, BackupError> {
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new()
        .fill(&mut nonce)
        .map_err(|_| BackupError::Random)?;
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.push(FORMAT_VERSION);
    out.push(KDF_ARGON2ID);
    out.extend_from_slice(&key.params.memory_kib.to_be_bytes());
    out.extend_from_slice(&key.params.iterations.to_be_bytes());
    out.extend_from_slice(&key.params.parallelism.to_be_bytes());
    out.extend_from_slice(&key.salt);
    out.extend_from_slice(&nonce);
    // Encrypted in a buffer of its own, sized so the tag needs no reallocation: the only clear
    // copy is zeroized when it drops.
    let mut body = Zeroizing::new(Vec::with_capacity(payload.len() + TAG_LEN));
    body.extend_from_slice(payload);
    key.aead()?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(&out[..]),
            &mut *body,
        )
        .map_err(|_| BackupError::Random)?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// What the header says, read before any key is derived.
struct Header {
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
}

/// The key-derivation parameters a backup file states, checked as `decrypt` checks them, without
/// deriving anything: what restoring it will cost (and what a fuzzer may afford to try).
pub fn kdf_params(file: &[u8]) -> Result<KdfParams, BackupError> {
    Ok(read_header(file)?.params)
}

fn read_header(file: &[u8]) -> Result<Header, BackupError> {
    if file.len() > MAX_FILE_BYTES {
        return Err(BackupError::Damaged {
            reason: format!(
                "{} bytes is more than a backup can be ({MAX_FILE_BYTES})",
                file.len()
            ),
        });
    }
    if file.len() < MAGIC.len() || &file[..MAGIC.len()] != MAGIC {
        return Err(BackupError::Damaged {
            reason: "it does not start with the authcore backup signature".into(),
        });
    }
    if file.len() < HEADER_LEN + TAG_LEN {
        return Err(BackupError::Damaged {
            reason: format!(
                "truncated: {} bytes, a backup has at least {}",
                file.len(),
                HEADER_LEN + TAG_LEN
            ),
        });
    }
    let version = file[8];
    if version == 0 {
        return Err(BackupError::Damaged {
            reason: "format version 0 does not exist".into(),
        });
    }
    if version > FORMAT_VERSION {
        return Err(BackupError::NewerFormat {
            found: version,
            known: FORMAT_VERSION,
        });
    }
    if file[9] != KDF_ARGON2ID {
        return Err(BackupError::BadKdf {
            reason: format!("kdf={}: only 1 (Argon2id) is known", file[9]),
        });
    }
    let word = |at: usize| u32::from_be_bytes([file[at], file[at + 1], file[at + 2], file[at + 3]]);
    let params = KdfParams {
        memory_kib: word(10),
        iterations: word(14),
        parallelism: word(18),
    };
    params
        .validate()
        .map_err(|reason| BackupError::BadKdf { reason })?;
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&file[22..22 + SALT_LEN]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&file[22 + SALT_LEN..HEADER_LEN]);
    Ok(Header {
        params,
        salt,
        nonce,
    })
}

/// Decrypts a backup file with `password`: the payload's JSON bytes (zeroized on drop).
pub fn decrypt(file: &[u8], password: &str) -> Result<Zeroizing<Vec<u8>>, BackupError> {
    let header = read_header(file)?;
    check_password(password)?;
    let key = BackupKey::derive_with_salt(password, header.salt, header.params)?;
    let mut body = Zeroizing::new(file[HEADER_LEN..].to_vec());
    let plain_len = key
        .aead()?
        .open_in_place(
            Nonce::assume_unique_for_key(header.nonce),
            Aad::from(&file[..HEADER_LEN]),
            &mut body,
        )
        .map_err(|_| BackupError::DoesNotDecrypt)?
        .len();
    body.truncate(plain_len);
    Ok(body)
}
