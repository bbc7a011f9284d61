//! The vault file's life: whether one exists, creating it (built aside and moved into place
//! whole), opening it, and the connection settings every handle uses.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, params};

use super::crypto::{KEY_LEN, SealingKey};
use super::error::explain;
use super::unlock::{
    KEY_CHECK_AAD, KEY_CHECK_PLAIN, check_password, insert_password_slot, unlock_file,
};
use super::{KdfParams, KeyStore, Unlock, Vault, VaultError, files, schema};
use crate::secret::Secret;
use crate::time::UnixTime;

impl Vault {
    /// True when a file exists at `path` (whether or not it is a valid vault).
    pub fn exists(path: &Path) -> bool {
        path.exists()
    }

    /// Creates a vault with a fresh master key wrapped by `key_store`, and by `password` if given.
    /// The file is built beside `path` and appears there only once complete, so a crash during
    /// creation leaves no vault or a whole one, never a file that blocks the next attempt.
    pub fn create(
        path: &Path,
        key_store: &dyn KeyStore,
        password: Option<(&str, KdfParams)>,
        now: UnixTime,
    ) -> Result<Vault, VaultError> {
        if path.exists() {
            return Err(VaultError::AlreadyExists {
                path: path.to_owned(),
            });
        }
        if let Some((pw, params)) = password {
            check_password(pw)?;
            params
                .validate()
                .map_err(|reason| VaultError::BadKdfParams { reason })?;
        }
        let master = Secret::random(KEY_LEN).map_err(|_| VaultError::Random)?;
        let key = SealingKey::new(&master).map_err(|_| VaultError::Random)?;
        let wrapped = key_store.wrap(&master)?;
        let draft = files::draft_path(path);
        // A draft can only be left over from a creation that was killed.
        files::remove_sqlite_files(&draft);
        let placed = build_file(&draft, &key, &master, &wrapped, password, now).and_then(|()| {
            files::place(&draft, path).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => VaultError::AlreadyExists {
                    path: path.to_owned(),
                },
                _ => VaultError::Storage {
                    reason: format!("cannot put the new vault at {}: {e}", path.display()),
                },
            })
        });
        files::remove_sqlite_files(&draft);
        placed?;
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        configure(&mut conn)?;
        Ok(Vault {
            conn,
            key,
            master,
            path: path.to_owned(),
        })
    }

    /// Opens and unlocks an existing vault. Nothing is written unless unlocking succeeds (and then
    /// only a migration, if the file is older than this code).
    pub fn open(path: &Path, unlock: Unlock<'_>) -> Result<Vault, VaultError> {
        if !path.exists() {
            return Err(VaultError::Missing {
                path: path.to_owned(),
            });
        }
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| naming(path, e.into()))?;
        match unlock_file(&mut conn, path, &unlock) {
            Ok((key, master)) => Ok(Vault {
                conn,
                key,
                master,
                path: path.to_owned(),
            }),
            Err(e) => Err(naming(path, explain(&conn, e))),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Builds a complete vault file at `draft` (rollback journal; `configure` turns on WAL when the
/// file is opened at its real path).
pub(super) fn build_file(
    draft: &Path,
    key: &SealingKey,
    master: &Secret,
    wrapped: &[u8],
    password: Option<(&str, KdfParams)>,
    now: UnixTime,
) -> Result<(), VaultError> {
    let mut conn = Connection::open_with_flags(
        draft,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // The file keeps these permissions when it is moved into place.
    restrict_to_owner(draft)?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    let check = key
        .seal(KEY_CHECK_PLAIN, KEY_CHECK_AAD)
        .map_err(|_| VaultError::Random)?;
    let tx = conn.transaction()?;
    tx.pragma_update(None, "application_id", schema::APPLICATION_ID)?;
    schema::migrate(&tx, 0)?;
    tx.execute(
        "INSERT INTO meta(name, value) VALUES ('key_check', ?1)",
        [&check],
    )?;
    tx.execute(
        "INSERT INTO key_slots(kind, wrapped_key, created_at) VALUES ('keystore', ?1, ?2)",
        params![wrapped, now],
    )?;
    if let Some((pw, params)) = password {
        insert_password_slot(&tx, master, pw, params, now)?;
    }
    tx.commit()?;
    conn.close().map_err(|(_, e)| VaultError::from(e))
}

/// Names are stored in the clear, so the file is the owner's alone (SQLite gives its WAL and SHM
/// files the same permissions).
#[cfg(unix)]
pub(super) fn restrict_to_owner(path: &Path) -> Result<(), VaultError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        VaultError::Storage {
            reason: format!("cannot restrict {}: {e}", path.display()),
        }
    })
}

#[cfg(not(unix))]
pub(super) fn restrict_to_owner(_path: &Path) -> Result<(), VaultError> {
    Ok(())
}

pub(super) fn configure(conn: &mut Connection) -> Result<(), VaultError> {
    // Every write transaction takes the write lock at BEGIN. A deferred one that read first
    // would fail at once (not wait) if another handle wrote in between, and its read would
    // be stale for read-modify-write changes such as `edit` and `advance_hotp`.
    conn.set_transaction_behavior(rusqlite::TransactionBehavior::Immediate);
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // WAL keeps readers and the writer apart; FULL syncs the WAL on every commit, so a commit
    // that returned survives power loss, not only a killed process.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

/// A storage failure while opening names the file: SQLite's own words ("unable to open database
/// file", which is what a read-only directory gives, since WAL needs to write beside the file)
/// do not say which.
fn naming(path: &Path, e: VaultError) -> VaultError {
    match e {
        VaultError::Storage { reason } => VaultError::Storage {
            reason: format!("{}: {reason}", path.display()),
        },
        other => other,
    }
}
