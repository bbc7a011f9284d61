//! Key slots: the ways the vault's master key is stored wrapped.
//!
//! - A key-store slot: the platform (Android Keystore, iOS Keychain, or the desktop key file)
//!   wraps and unwraps the master key; the core never sees the wrapping key.
//! - A password slot: Argon2id turns the password into a key that seals the master key; the KDF
//!   parameters and salt are stored beside it so they can change per vault.

use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use argon2::{Algorithm as Argon2Algorithm, Argon2, Params, Version};

use super::crypto::{CryptoError, KEY_LEN, SealingKey};
use super::files;
use crate::secret::Secret;

/// The platform's key store. Implementations must be thread-safe: the facade may call them from
/// any thread. `wrap` output is opaque to the core and stored as-is.
pub trait KeyStore: Send + Sync {
    fn wrap(&self, master_key: &Secret) -> Result<Vec<u8>, KeyStoreError>;
    fn unwrap(&self, wrapped: &[u8]) -> Result<Secret, KeyStoreError>;
}

/// Why a key store could not wrap or unwrap. Texts come from the platform and must not hold keys.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyStoreError {
    #[error("the key store refused: {reason}")]
    Refused { reason: String },
    #[error("the key store's key does not unwrap this vault's key")]
    WrongKey,
    #[error("key file {path}: {reason}")]
    KeyFile { path: PathBuf, reason: String },
}

const KEY_FILE_AAD: &[u8] = b"authcore/keyfile-slot/v1";

/// The desktop key store: 32 random bytes in a file only its owner may read (0600).
pub struct FileKeyStore {
    path: PathBuf,
    key: SealingKey,
}

impl std::fmt::Debug for FileKeyStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileKeyStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileKeyStore {
    /// Reads an existing key file, refusing one that others can read or that has the wrong size.
    pub fn open(path: &Path) -> Result<Self, KeyStoreError> {
        let fail = |reason: String| KeyStoreError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        let mut file = fs::File::open(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
        // Checked on the open file, so a swap of the path after the check cannot slip by.
        check_private(&file).map_err(fail)?;
        let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(KEY_LEN + 1));
        file.read_to_end(&mut bytes)
            .map_err(|e| fail(format!("cannot read it: {e}")))?;
        if bytes.len() != KEY_LEN {
            return Err(fail(format!(
                "holds {} bytes, a key file holds {KEY_LEN}",
                bytes.len()
            )));
        }
        let key = SealingKey::new(&Secret::from_slice(&bytes)).map_err(|e| fail(e.to_string()))?;
        Ok(FileKeyStore {
            path: path.to_owned(),
            key,
        })
    }

    /// Creates a new key file (never overwriting one) with owner-only permissions. It is written
    /// under a draft name and appears at `path` only when complete, so a crash never leaves a
    /// short key file there.
    pub fn create(path: &Path) -> Result<Self, KeyStoreError> {
        let fail = |reason: String| KeyStoreError::KeyFile {
            path: path.to_owned(),
            reason,
        };
        if path.exists() {
            return Err(fail("cannot create it: it already exists".into()));
        }
        let key = Secret::random(KEY_LEN).map_err(|_| fail("no system randomness".into()))?;
        let draft = files::draft_path(path);
        // A draft can only be left over from a creation that was killed.
        let _ = fs::remove_file(&draft);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let written = options
            .open(&draft)
            .and_then(|mut file| file.write_all(key.expose()))
            .and_then(|()| files::place(&draft, path));
        let _ = fs::remove_file(&draft);
        written.map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => fail("cannot create it: it already exists".into()),
            _ => fail(format!("cannot create it: {e}")),
        })?;
        let key = SealingKey::new(&key).map_err(|e| fail(e.to_string()))?;
        Ok(FileKeyStore {
            path: path.to_owned(),
            key,
        })
    }

    pub fn open_or_create(path: &Path) -> Result<Self, KeyStoreError> {
        if path.exists() {
            Self::open(path)
        } else {
            Self::create(path)
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(unix)]
fn check_private(file: &fs::File) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .map_err(|e| format!("cannot read it: {e}"))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "permissions {:o} let others read it; run `chmod 600` on it",
            mode & 0o777
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_file: &fs::File) -> Result<(), String> {
    Ok(())
}

impl KeyStore for FileKeyStore {
    fn wrap(&self, master_key: &Secret) -> Result<Vec<u8>, KeyStoreError> {
        self.key
            .seal(master_key.expose(), KEY_FILE_AAD)
            .map_err(|e| KeyStoreError::Refused {
                reason: e.to_string(),
            })
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Secret, KeyStoreError> {
        self.key.open(wrapped, KEY_FILE_AAD).map_err(|e| match e {
            CryptoError::Open => KeyStoreError::WrongKey,
            other => KeyStoreError::Refused {
                reason: other.to_string(),
            },
        })
    }
}

/// Argon2id cost parameters, stored with each password slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane: RFC 9106's second recommended option, about a quarter second on
    /// a current phone and still within a low-end phone's memory.
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

impl KdfParams {
    /// Checks the parameters are ones Argon2 accepts and that are not absurdly weak or large.
    pub fn validate(&self) -> Result<Params, String> {
        // Lanes first: the memory's lower bound depends on them (and must not overflow).
        if !(1..=16).contains(&self.parallelism) {
            return Err(format!(
                "parallelism={}: must be between 1 and 16",
                self.parallelism
            ));
        }
        let least = 8 * self.parallelism;
        if self.memory_kib < least || self.memory_kib > 4 * 1024 * 1024 {
            return Err(format!(
                "memory_kib={}: must be between {least} and 4194304",
                self.memory_kib
            ));
        }
        if !(1..=100).contains(&self.iterations) {
            return Err(format!(
                "iterations={}: must be between 1 and 100",
                self.iterations
            ));
        }
        Params::new(
            self.memory_kib,
            self.iterations,
            self.parallelism,
            Some(KEY_LEN),
        )
        .map_err(|e| format!("Argon2 parameters: {e}"))
    }
}

pub const SALT_LEN: usize = 16;
const PASSWORD_AAD: &[u8] = b"authcore/password-slot/v1";

/// Derives the password slot's key. Errors are texts that name the parameter.
pub fn password_key(password: &str, salt: &[u8], params: KdfParams) -> Result<SealingKey, String> {
    SealingKey::new(&derive_key(password, salt, params)?).map_err(|e| e.to_string())
}

/// Argon2id (version 0x13) of the password's UTF-8 bytes: a 32-byte key. Errors are texts that
/// name the parameter. Used by the password slot and by backups.
pub fn derive_key(password: &str, salt: &[u8], params: KdfParams) -> Result<Secret, String> {
    let argon = Argon2::new(
        Argon2Algorithm::Argon2id,
        Version::V0x13,
        params.validate()?,
    );
    let mut out = zeroize::Zeroizing::new([0u8; KEY_LEN]);
    argon
        .hash_password_into(password.as_bytes(), salt, out.as_mut())
        .map_err(|e| format!("Argon2: {e}"))?;
    Ok(Secret::from_slice(out.as_ref()))
}

pub fn seal_with_password_key(key: &SealingKey, master: &Secret) -> Result<Vec<u8>, CryptoError> {
    key.seal(master.expose(), PASSWORD_AAD)
}

pub fn open_with_password_key(key: &SealingKey, wrapped: &[u8]) -> Result<Secret, CryptoError> {
    key.open(wrapped, PASSWORD_AAD)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_private_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let store = FileKeyStore::create(&path).unwrap();
        let master = Secret::random(32).unwrap();
        let wrapped = store.wrap(&master).unwrap();
        let reopened = FileKeyStore::open(&path).unwrap();
        assert_eq!(reopened.unwrap(&wrapped).unwrap(), master);
        assert!(FileKeyStore::create(&path).is_err(), "never overwrites");
        let other = FileKeyStore::create(&dir.path().join("k2")).unwrap();
        assert_eq!(other.unwrap(&wrapped).unwrap_err(), KeyStoreError::WrongKey);
    }

    #[test]
    fn a_draft_left_by_a_killed_creation_is_replaced_and_never_left_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        let draft = files::draft_path(&path);
        fs::write(&draft, b"half").unwrap();
        let store = FileKeyStore::create(&path).unwrap();
        assert!(!draft.exists());
        let master = Secret::random(32).unwrap();
        let wrapped = store.wrap(&master).unwrap();
        let before = fs::read(&path).unwrap();
        assert!(FileKeyStore::create(&path).is_err());
        assert_eq!(fs::read(&path).unwrap(), before, "never overwrites");
        assert_eq!(
            FileKeyStore::open(&path).unwrap().unwrap(&wrapped).unwrap(),
            master
        );
    }

    #[cfg(unix)]
    #[test]
    fn key_file_readable_by_others_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        FileKeyStore::create(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let err = FileKeyStore::open(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "key file {}: permissions 644 let others read it; run `chmod 600` on it",
                path.display()
            )
        );
    }

    #[test]
    fn short_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        FileKeyStore::create(&path).unwrap();
        let mut f = OpenOptions::new().write(true).open(&path).unwrap();
        f.set_len(5).unwrap();
        f.write_all(b"x").unwrap();
        let err = FileKeyStore::open(&path).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "key file {}: holds 5 bytes, a key file holds 32",
                path.display()
            )
        );
    }

    #[test]
    fn kdf_params_are_checked() {
        let bad = KdfParams {
            memory_kib: 1,
            iterations: 1,
            parallelism: 1,
        };
        assert_eq!(
            bad.validate().unwrap_err(),
            "memory_kib=1: must be between 8 and 4194304"
        );
        let bad = KdfParams {
            iterations: 0,
            ..KdfParams::default()
        };
        assert_eq!(
            bad.validate().unwrap_err(),
            "iterations=0: must be between 1 and 100"
        );
        KdfParams::default().validate().unwrap();
    }
}
