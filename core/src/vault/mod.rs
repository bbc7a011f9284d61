//! `vault`: the encrypted account store, and the only module that speaks SQL.
//!
//! One SQLite file (WAL, `synchronous=FULL`), one transaction per change, numbered migrations.
//! OTP secrets are sealed with AES-256-GCM under a random master key; the master key is stored
//! only wrapped by key slots (the platform key store, and optionally a password). The format is
//! documented in docs/vault.md.

pub mod crypto;
mod files;
mod push;
mod schema;
pub mod slots;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, Row, Transaction, params};

pub use self::crypto::CryptoError;
use self::crypto::{KEY_LEN, SealingKey};
pub use self::push::{PushInserted, StoredDeviceKey};
pub use self::slots::{FileKeyStore, KdfParams, KeyStore, KeyStoreError};
use crate::account::{Account, AccountError, AccountId, Names, NewAccount, OtpCredential};
use crate::error::ErrorKind;
use crate::otp::{Algorithm, OtpKind, OtpParams};
use crate::secret::Secret;

const KEY_CHECK_AAD: &[u8] = b"authcore/key-check/v1";
const KEY_CHECK_PLAIN: &[u8] = b"authcore vault key check";

/// How to unlock an existing vault.
pub enum Unlock<'a> {
    KeyStore(&'a dyn KeyStore),
    Password(&'a str),
}

/// Why a vault operation failed. No variant carries secret material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("no vault at {path}")]
    Missing { path: PathBuf },
    #[error("{path} already exists; refusing to overwrite it")]
    AlreadyExists { path: PathBuf },
    #[error("{path} is not an authcore vault")]
    NotAVault { path: PathBuf },
    #[error(
        "the vault was written by a newer authcore (format {found}, this one knows up to {known}); update the app"
    )]
    NewerFormat { found: u32, known: u32 },
    #[error("the vault is damaged: {what}; nothing was changed")]
    Damaged { what: String },
    #[error("the key store's key does not open this vault")]
    WrongKey,
    #[error("wrong password")]
    WrongPassword,
    #[error("this vault has no password slot")]
    NoPassword,
    #[error("password: {reason}")]
    BadPassword { reason: String },
    #[error("KDF parameters: {reason}")]
    BadKdfParams { reason: String },
    #[error(transparent)]
    KeyStore(#[from] KeyStoreError),
    #[error("no account with id {id}")]
    NotFound { id: String },
    #[error("{name} is not a HOTP account")]
    NotHotp { name: String },
    #[error("the HOTP counter of {name} cannot go past 2^64-1")]
    CounterExhausted { name: String },
    #[error("{name} has no OTP credential (it is a push-only account)")]
    NoOtp { name: String },
    #[error("the push token {serial} is already enrolled here (account {id})")]
    PushSerialTaken { serial: String, id: String },
    #[error("{name} already has a push token ({serial}); delete the account to enroll another")]
    AlreadyHasPush { name: String, serial: String },
    #[error("{name} has no push token")]
    NoPush { name: String },
    #[error(transparent)]
    Invalid(#[from] AccountError),
    #[error("storage error: {reason}")]
    Storage { reason: String },
    #[error("the system random number generator failed")]
    Random,
}

impl VaultError {
    /// What kind of failure this is (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            VaultError::Missing { .. }
            | VaultError::AlreadyExists { .. }
            | VaultError::NotAVault { .. }
            | VaultError::NewerFormat { .. }
            | VaultError::Damaged { .. }
            | VaultError::Storage { .. }
            | VaultError::Random => ErrorKind::Vault,
            VaultError::WrongKey | VaultError::KeyStore(_) => ErrorKind::KeyStore,
            VaultError::WrongPassword => ErrorKind::WrongPassword,
            VaultError::NotFound { .. } => ErrorKind::NotFound,
            VaultError::NoPassword
            | VaultError::BadPassword { .. }
            | VaultError::BadKdfParams { .. }
            | VaultError::NotHotp { .. }
            | VaultError::CounterExhausted { .. }
            | VaultError::NoOtp { .. }
            | VaultError::PushSerialTaken { .. }
            | VaultError::AlreadyHasPush { .. }
            | VaultError::NoPush { .. }
            | VaultError::Invalid(_) => ErrorKind::BadInput,
        }
    }
}

impl From<rusqlite::Error> for VaultError {
    fn from(e: rusqlite::Error) -> Self {
        // SQLite's messages name tables and constraints, never bound values, so no secret leaks.
        // (rusqlite's out-of-range message shows the integer; no secret is stored as one.)
        let damage = matches!(
            e.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
        ) || matches!(
            // Every table is STRICT, so only damage can put a value of another type in a column.
            e,
            rusqlite::Error::InvalidColumnType(..)
                | rusqlite::Error::Utf8Error(..)
                | rusqlite::Error::FromSqlConversionFailure(..)
                | rusqlite::Error::IntegralValueOutOfRange(..)
        );
        if damage {
            VaultError::Damaged {
                what: e.to_string(),
            }
        } else {
            VaultError::Storage {
                reason: e.to_string(),
            }
        }
    }
}

/// An open, unlocked vault. `Send`; callers that share it wrap it in a lock.
pub struct Vault {
    conn: Connection,
    key: SealingKey,
    master: Secret,
    path: PathBuf,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

struct StoredRow {
    id: String,
    issuer: String,
    label: String,
    otp_type: Option<String>,
    algorithm: Option<String>,
    digits: Option<i64>,
    period: Option<i64>,
    counter: Option<i64>,
    secret: Option<Vec<u8>>,
    sort_order: i64,
    group: Option<String>,
    note: Option<String>,
    extra: String,
    created_at: i64,
    updated_at: i64,
}

const ACCOUNT_COLUMNS: &str = "id, issuer, label, otp_type, algorithm, digits, period, counter, \
     secret, sort_order, group_name, note, extra_params, created_at, updated_at";

impl StoredRow {
    fn from_row(r: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(StoredRow {
            id: r.get(0)?,
            issuer: r.get(1)?,
            label: r.get(2)?,
            otp_type: r.get(3)?,
            algorithm: r.get(4)?,
            digits: r.get(5)?,
            period: r.get(6)?,
            counter: r.get(7)?,
            secret: r.get(8)?,
            sort_order: r.get(9)?,
            group: r.get(10)?,
            note: r.get(11)?,
            extra: r.get(12)?,
            created_at: r.get(13)?,
            updated_at: r.get(14)?,
        })
    }
}

/// Records `now` as the account's last change (inside the change's transaction).
fn touch(tx: &rusqlite::Transaction<'_>, id: &AccountId, now: i64) -> Result<(), VaultError> {
    tx.execute(
        "UPDATE accounts SET updated_at = ?2 WHERE id = ?1",
        params![id.as_str(), now],
    )?;
    Ok(())
}

fn damaged(what: impl Into<String>) -> VaultError {
    VaultError::Damaged { what: what.into() }
}

/// The associated data that binds a sealed secret to its account and to the parameters that
/// decide its codes: moving it to another row, or editing `digits` on disk, makes it fail to open.
fn secret_aad(id: &str, params: &OtpParams) -> Vec<u8> {
    let period = params
        .kind
        .period()
        .map_or_else(|| "-".to_owned(), |p| p.to_string());
    format!(
        "authcore/account-secret/v1|{id}|{}|{}|{}|{period}",
        params.kind.type_name(),
        params.algorithm.as_str(),
        params.digits
    )
    .into_bytes()
}

/// HOTP counters are u64; SQLite integers are i64. The bit pattern is stored unchanged.
fn counter_to_sql(counter: u64) -> i64 {
    i64::from_ne_bytes(counter.to_ne_bytes())
}

fn counter_from_sql(stored: i64) -> u64 {
    u64::from_ne_bytes(stored.to_ne_bytes())
}

type ParamsColumns = (
    Option<&'static str>,
    Option<&'static str>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

fn params_columns(params: Option<&OtpParams>) -> ParamsColumns {
    match params {
        None => (None, None, None, None, None),
        Some(params) => (
            Some(params.kind.type_name()),
            Some(params.algorithm.as_str()),
            Some(i64::from(params.digits)),
            params.kind.period().map(i64::from),
            params.kind.counter().map(counter_to_sql),
        ),
    }
}

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
        now: i64,
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
        )?;
        match unlock_file(&mut conn, path, &unlock) {
            Ok((key, master)) => Ok(Vault {
                conn,
                key,
                master,
                path: path.to_owned(),
            }),
            Err(e) => Err(explain(&conn, e)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds one account at the end of the list.
    pub fn add(&mut self, new: NewAccount, now: i64) -> Result<Account, VaultError> {
        let mut added = self.add_many(vec![new], now)?;
        added
            .pop()
            .ok_or_else(|| damaged("the added account vanished"))
    }

    /// Adds accounts in one transaction: all of them, or (on any error) none.
    pub fn add_many(&mut self, new: Vec<NewAccount>, now: i64) -> Result<Vec<Account>, VaultError> {
        let validated = new
            .into_iter()
            .map(NewAccount::validated)
            .collect::<Result<Vec<_>, _>>()?;
        let tx = self.conn.transaction()?;
        let last: i64 = tx.query_row(
            "SELECT COALESCE(MAX(sort_order), -1) FROM accounts",
            [],
            |r| r.get(0),
        )?;
        let mut out = Vec::with_capacity(validated.len());
        for (order, n) in (last + 1..).zip(validated) {
            let account = Account {
                id: AccountId::random(),
                issuer: n.issuer,
                label: n.label,
                otp: Some(n.otp),
                push: None,
                group: n.group,
                note: n.note,
                sort_order: order,
                created_at: now,
                updated_at: now,
                extra_params: n.extra_params,
            };
            insert_account(&tx, &self.key, &account)?;
            out.push(account);
        }
        tx.commit()?;
        Ok(out)
    }

    /// Every account, decrypted, in the user's order.
    pub fn accounts(&self) -> Result<Vec<Account>, VaultError> {
        self.read_all().map_err(|e| explain(&self.conn, e))
    }

    fn read_all(&self) -> Result<Vec<Account>, VaultError> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY sort_order, created_at, rowid"
        ))?;
        let rows = stmt.query_map([], StoredRow::from_row)?;
        let mut push = push::all_credentials(&self.conn)?;
        let mut out = Vec::new();
        for row in rows {
            let mut account = decode(&self.key, row?)?;
            account.push = push.remove(account.id.as_str());
            push::with_names(&mut account);
            check_has_credential(&account)?;
            out.push(account);
        }
        Ok(out)
    }

    pub fn get(&self, id: &AccountId) -> Result<Account, VaultError> {
        read_account(&self.conn, &self.key, id).map_err(|e| explain(&self.conn, e))
    }

    /// Replaces the names; `None` keeps a name as it is. Validated like a new account.
    pub fn rename(
        &mut self,
        id: &AccountId,
        issuer: Option<String>,
        label: Option<String>,
        now: i64,
    ) -> Result<Account, VaultError> {
        self.edit(id, now, |a| {
            if let Some(issuer) = issuer {
                a.issuer = issuer;
            }
            if let Some(label) = label {
                a.label = label;
            }
        })
    }

    pub fn set_group(
        &mut self,
        id: &AccountId,
        group: Option<String>,
        now: i64,
    ) -> Result<Account, VaultError> {
        self.edit(id, now, |a| a.group = group)
    }

    pub fn set_note(
        &mut self,
        id: &AccountId,
        note: Option<String>,
        now: i64,
    ) -> Result<Account, VaultError> {
        self.edit(id, now, |a| a.note = note)
    }

    /// Applies a change to the names, group or note, validates the result as a whole, and stores it.
    fn edit(
        &mut self,
        id: &AccountId,
        now: i64,
        change: impl FnOnce(&mut Names),
    ) -> Result<Account, VaultError> {
        // Read inside the write transaction, so an edit from another handle is never undone.
        let tx = self.conn.transaction()?;
        let current = read_account(&tx, &self.key, id)?;
        let mut draft = Names {
            issuer: current.issuer.clone(),
            label: current.label.clone(),
            group: current.group.clone(),
            note: current.note.clone(),
        };
        change(&mut draft);
        let draft = draft.validated()?;
        tx.execute(
            "UPDATE accounts SET issuer = ?2, label = ?3, group_name = ?4, note = ?5, updated_at = ?6
             WHERE id = ?1",
            params![id.as_str(), draft.issuer, draft.label, draft.group, draft.note, now],
        )?;
        tx.commit()?;
        Ok(Account {
            issuer: draft.issuer,
            label: draft.label,
            group: draft.group,
            note: draft.note,
            updated_at: now,
            ..current
        })
    }

    /// Moves an account to `position` (0-based, clamped to the end) and renumbers the order.
    pub fn move_to(&mut self, id: &AccountId, position: usize, now: i64) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        let mut ids: Vec<String> = {
            let mut stmt =
                tx.prepare("SELECT id FROM accounts ORDER BY sort_order, created_at, rowid")?;
            stmt.query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?
        };
        let from = ids
            .iter()
            .position(|i| i == id.as_str())
            .ok_or_else(|| VaultError::NotFound { id: id.to_string() })?;
        let moved = ids.remove(from);
        ids.insert(position.min(ids.len()), moved);
        {
            let mut update = tx.prepare("UPDATE accounts SET sort_order = ?2 WHERE id = ?1")?;
            for (order, account) in ids.iter().enumerate() {
                update.execute(params![account, order as i64])?;
            }
            touch(&tx, id, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn delete(&mut self, id: &AccountId) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        push::delete_credential(&tx, id)?;
        let n = tx.execute("DELETE FROM accounts WHERE id = ?1", [id.as_str()])?;
        if n == 0 {
            return Err(VaultError::NotFound { id: id.to_string() });
        }
        tx.commit()?;
        Ok(())
    }

    /// Reserves the next HOTP counter value: the stored counter is incremented and committed
    /// before this returns, so a code is never produced twice even if the app dies right after.
    /// Returns the counter to generate the code with and the account as now stored.
    pub fn advance_hotp(&mut self, id: &AccountId, now: i64) -> Result<(u64, Account), VaultError> {
        // The write lock is held from the read on, so no other handle can use the same value.
        let tx = self.conn.transaction()?;
        let account = read_account(&tx, &self.key, id)?;
        let Some(OtpKind::Hotp { counter }) = account.otp.as_ref().map(|o| o.params.kind) else {
            return Err(VaultError::NotHotp {
                name: account.display_name(),
            });
        };
        let next = counter
            .checked_add(1)
            .ok_or_else(|| VaultError::CounterExhausted {
                name: account.display_name(),
            })?;
        // The counter is not in the secret's associated data, so the sealed secret stays valid.
        tx.execute(
            "UPDATE accounts SET counter = ?2, updated_at = ?3 WHERE id = ?1",
            params![id.as_str(), counter_to_sql(next), now],
        )?;
        tx.commit()?;
        let mut updated = account;
        if let Some(otp) = updated.otp.as_mut() {
            otp.params.kind = OtpKind::Hotp { counter: next };
        }
        updated.updated_at = now;
        Ok((counter, updated))
    }

    /// The accounts with passwordless sign-in on, in the user's order.
    pub fn passwordless_ids(&self) -> Result<Vec<AccountId>, VaultError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM accounts WHERE passwordless = 1 ORDER BY sort_order, created_at, rowid",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        ids.iter()
            .map(|id| AccountId::parse(id).map_err(|_| damaged("an account id is malformed")))
            .collect()
    }

    /// SQLite's `data_version`: it changes when another connection commits, so a cache of the
    /// vault knows when to reload.
    pub fn data_version(&self) -> Result<i64, VaultError> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    /// Like [`Vault::set_passwordless`], with `check` run inside the write transaction on the
    /// accounts holding passwordless and the stored rule set (JSON) as they are then: the
    /// transaction takes the write lock first, so two processes cannot both pass a limit.
    pub fn set_passwordless_checked<E: From<VaultError>>(
        &mut self,
        changes: &[(AccountId, bool)],
        now: i64,
        check: impl FnOnce(&[AccountId], Option<&str>) -> Result<(), E>,
    ) -> Result<(), E> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(VaultError::from)?;
        let holders = {
            let mut stmt = tx
                .prepare_cached("SELECT id FROM accounts WHERE passwordless = 1")
                .map_err(VaultError::from)?;
            let ids = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
                .map_err(VaultError::from)?;
            ids.iter()
                .map(|id| AccountId::parse(id).map_err(|_| damaged("an account id is malformed")))
                .collect::<Result<Vec<_>, _>>()?
        };
        let rules: Option<String> = tx
            .query_row(
                "SELECT value FROM settings WHERE name = ?1",
                [crate::policy::POLICY_SETTING],
                |r| r.get(0),
            )
            .optional()
            .map_err(VaultError::from)?;
        check(&holders, rules.as_deref())?;
        for (id, on) in changes {
            let n = tx
                .execute(
                    "UPDATE accounts SET passwordless = ?2, updated_at = ?3 WHERE id = ?1",
                    params![id.as_str(), i64::from(*on), now],
                )
                .map_err(VaultError::from)?;
            if n == 0 {
                return Err(VaultError::NotFound { id: id.to_string() }.into());
            }
        }
        tx.commit().map_err(VaultError::from)?;
        Ok(())
    }

    /// Turns passwordless on or off for several accounts in one transaction (so moving it from
    /// one account to another never leaves both, or neither, holding it).
    pub fn set_passwordless(
        &mut self,
        changes: &[(AccountId, bool)],
        now: i64,
    ) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        for (id, on) in changes {
            let n = tx.execute(
                "UPDATE accounts SET passwordless = ?2, updated_at = ?3 WHERE id = ?1",
                params![id.as_str(), i64::from(*on), now],
            )?;
            if n == 0 {
                return Err(VaultError::NotFound { id: id.to_string() });
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn setting(&self, name: &str) -> Result<Option<String>, VaultError> {
        Ok(self
            .conn
            .prepare_cached("SELECT value FROM settings WHERE name = ?1")?
            .query_row([name], |r| r.get(0))
            .optional()?)
    }

    pub fn set_setting(&mut self, name: &str, value: &str) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "INSERT INTO settings(name, value) VALUES (?1, ?2)
             ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            params![name, value],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn has_password(&self) -> Result<bool, VaultError> {
        Ok(self.conn.query_row(
            "SELECT COUNT(*) FROM key_slots WHERE kind = 'password'",
            [],
            |r| r.get::<_, i64>(0),
        )? > 0)
    }

    /// Adds the password slot, or replaces it (a new salt every time).
    pub fn set_password(&mut self, password: &str, params: KdfParams) -> Result<(), VaultError> {
        check_password(password)?;
        params
            .validate()
            .map_err(|reason| VaultError::BadKdfParams { reason })?;
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM key_slots WHERE kind = 'password'", [])?;
        insert_password_slot(&tx, &self.master, password, params, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Removes the password slot; the key-store slot always remains, so the vault stays openable.
    pub fn remove_password(&mut self) -> Result<(), VaultError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM key_slots WHERE kind = 'password'", [])?;
        if n == 0 {
            return Err(VaultError::NoPassword);
        }
        tx.commit()?;
        Ok(())
    }

    /// Re-wraps the master key with a (new) platform key store, replacing the key-store slot:
    /// for a new phone's Keystore after a restore that was opened with the password.
    pub fn replace_key_store(
        &mut self,
        key_store: &dyn KeyStore,
        now: i64,
    ) -> Result<(), VaultError> {
        let wrapped = key_store.wrap(&self.master)?;
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM key_slots WHERE kind = 'keystore'", [])?;
        tx.execute(
            "INSERT INTO key_slots(kind, wrapped_key, created_at) VALUES ('keystore', ?1, ?2)",
            params![wrapped, now],
        )?;
        tx.commit()?;
        Ok(())
    }
}

/// Builds a complete vault file at `draft` (rollback journal; `configure` turns on WAL when the
/// file is opened at its real path).
fn build_file(
    draft: &Path,
    key: &SealingKey,
    master: &Secret,
    wrapped: &[u8],
    password: Option<(&str, KdfParams)>,
    now: i64,
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
fn restrict_to_owner(path: &Path) -> Result<(), VaultError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(|e| {
        VaultError::Storage {
            reason: format!("cannot restrict {}: {e}", path.display()),
        }
    })
}

#[cfg(not(unix))]
fn restrict_to_owner(_path: &Path) -> Result<(), VaultError> {
    Ok(())
}

fn configure(conn: &mut Connection) -> Result<(), VaultError> {
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

fn check_password(password: &str) -> Result<(), VaultError> {
    if password.is_empty() {
        return Err(VaultError::BadPassword {
            reason: "is empty".into(),
        });
    }
    if password.chars().count() > 1024 {
        return Err(VaultError::BadPassword {
            reason: "longer than 1024 characters".into(),
        });
    }
    Ok(())
}

fn insert_password_slot(
    tx: &Transaction<'_>,
    master: &Secret,
    password: &str,
    params: KdfParams,
    now: i64,
) -> Result<(), VaultError> {
    let salt = Secret::random(slots::SALT_LEN).map_err(|_| VaultError::Random)?;
    let kek = slots::password_key(password, salt.expose(), params)
        .map_err(|reason| VaultError::BadKdfParams { reason })?;
    let wrapped = slots::seal_with_password_key(&kek, master).map_err(|_| VaultError::Random)?;
    tx.execute(
        "INSERT INTO key_slots(kind, wrapped_key, kdf_memory_kib, kdf_iterations, kdf_parallelism,
                               kdf_salt, created_at)
         VALUES ('password', ?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            wrapped,
            params.memory_kib,
            params.iterations,
            params.parallelism,
            salt.expose(),
            now
        ],
    )?;
    Ok(())
}

/// Checks that `conn` holds a vault this code can read, unlocks its master key, and brings the
/// schema up to date.
fn unlock_file(
    conn: &mut Connection,
    path: &Path,
    unlock: &Unlock<'_>,
) -> Result<(SealingKey, Secret), VaultError> {
    let not_a_vault = || VaultError::NotAVault {
        path: path.to_owned(),
    };
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let app_id = schema::application_id(conn).map_err(|e| match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) => not_a_vault(),
        _ => VaultError::from(e),
    })?;
    if app_id != schema::APPLICATION_ID {
        return Err(not_a_vault());
    }
    let version = schema::version(conn)?;
    if version > schema::latest() {
        return Err(VaultError::NewerFormat {
            found: version,
            known: schema::latest(),
        });
    }
    if version == 0 {
        return Err(damaged("it has no tables"));
    }
    // Before any slot is read, so that a damaged table is reported as damage.
    schema::check_tables(conn, version).map_err(|e| {
        let mismatch = matches!(e, rusqlite::Error::SqlInputError { .. })
            || e.sqlite_error_code() == Some(rusqlite::ErrorCode::Unknown);
        if mismatch {
            damaged(format!("its tables do not match format {version} ({e})"))
        } else {
            VaultError::from(e)
        }
    })?;
    let master = unlock_master(conn, unlock)?;
    let key = SealingKey::new(&master).map_err(|_| damaged("the master key has the wrong size"))?;
    let check: Vec<u8> = conn
        .query_row("SELECT value FROM meta WHERE name = 'key_check'", [], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| damaged("the key check is missing"))?;
    key.open(&check, KEY_CHECK_AAD).map_err(|_| match unlock {
        // A platform key store need not authenticate what it unwraps: a wrong key shows here.
        Unlock::KeyStore(_) => VaultError::WrongKey,
        // The password slot is authenticated, so its key is right and the check was altered.
        Unlock::Password(_) => damaged("the key check does not decrypt"),
    })?;
    configure(conn)?;
    if version < schema::latest() {
        let tx = conn.transaction()?;
        // Another process may have migrated the file while this one waited for the lock.
        let current = schema::version(&tx)?;
        schema::migrate(&tx, current)?;
        tx.commit()?;
    }
    Ok((key, master))
}

/// A storage error while reading can come from damage that SQLite did not name as such (a
/// damaged length field makes it run out of memory, for one). An integrity check, run only on
/// this error path, tells the two apart.
fn explain(conn: &Connection, e: VaultError) -> VaultError {
    if !matches!(e, VaultError::Storage { .. }) {
        return e;
    }
    match conn.query_row("PRAGMA quick_check(1)", [], |r| r.get::<_, String>(0)) {
        Ok(verdict) if verdict != "ok" => damaged(verdict.replace('\n', " ")),
        Err(check) => match VaultError::from(check) {
            damage @ VaultError::Damaged { .. } => damage,
            _ => e,
        },
        Ok(_) => e,
    }
}

fn unlock_master(conn: &Connection, unlock: &Unlock<'_>) -> Result<Secret, VaultError> {
    match unlock {
        Unlock::KeyStore(store) => {
            let wrapped: Vec<u8> = conn
                .query_row(
                    "SELECT wrapped_key FROM key_slots WHERE kind = 'keystore' ORDER BY id LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| damaged("it has no key-store slot"))?;
            match store.unwrap(&wrapped) {
                Ok(master) if master.len() == KEY_LEN => Ok(master),
                Ok(_) | Err(KeyStoreError::WrongKey) => Err(VaultError::WrongKey),
                Err(other) => Err(other.into()),
            }
        }
        Unlock::Password(password) => {
            let slot = conn
                .query_row(
                    "SELECT wrapped_key, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt
                     FROM key_slots WHERE kind = 'password'",
                    [],
                    |r| {
                        Ok((
                            r.get::<_, Vec<u8>>(0)?,
                            r.get::<_, u32>(1)?,
                            r.get::<_, u32>(2)?,
                            r.get::<_, u32>(3)?,
                            r.get::<_, Vec<u8>>(4)?,
                        ))
                    },
                )
                .optional()?
                .ok_or(VaultError::NoPassword)?;
            let (wrapped, memory_kib, iterations, parallelism, salt) = slot;
            let params = KdfParams {
                memory_kib,
                iterations,
                parallelism,
            };
            let kek = slots::password_key(password, &salt, params)
                .map_err(|reason| damaged(format!("the password slot's {reason}")))?;
            slots::open_with_password_key(&kek, &wrapped).map_err(|_| VaultError::WrongPassword)
        }
    }
}

/// Reads one account in `conn` (which may be a transaction in progress).
fn read_account(
    conn: &Connection,
    key: &SealingKey,
    id: &AccountId,
) -> Result<Account, VaultError> {
    let row = conn
        .prepare_cached(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = ?1"
        ))?
        .query_row([id.as_str()], StoredRow::from_row)
        .optional()?;
    let mut account = match row {
        Some(row) => decode(key, row)?,
        None => return Err(VaultError::NotFound { id: id.to_string() }),
    };
    account.push = push::credential(conn, id)?;
    push::with_names(&mut account);
    check_has_credential(&account)?;
    Ok(account)
}

/// An account without any credential can only come from an altered file.
fn check_has_credential(account: &Account) -> Result<(), VaultError> {
    if account.otp.is_none() && account.push.is_none() {
        return Err(damaged(format!(
            "account {} has neither an OTP nor a push credential",
            account.id
        )));
    }
    Ok(())
}

fn decode(key: &SealingKey, row: StoredRow) -> Result<Account, VaultError> {
    let id = AccountId::parse(&row.id).map_err(|_| damaged("an account id is malformed"))?;
    let otp = decode_otp(key, &row)?;
    let bad = |field: &str| damaged(format!("account {}: field {field} is invalid", row.id));
    let extra_params: Vec<(String, String)> =
        serde_json::from_str(&row.extra).map_err(|_| bad("extra_params"))?;
    Ok(Account {
        id,
        issuer: row.issuer,
        label: row.label,
        otp,
        push: None,
        group: row.group,
        note: row.note,
        sort_order: row.sort_order,
        created_at: row.created_at,
        updated_at: row.updated_at,
        extra_params,
    })
}

/// The OTP credential of a row, or `None` for a push-only account.
fn decode_otp(key: &SealingKey, row: &StoredRow) -> Result<Option<OtpCredential>, VaultError> {
    let bad = |field: &str| damaged(format!("account {}: field {field} is invalid", row.id));
    let (Some(otp_type), Some(algorithm), Some(digits), Some(sealed)) =
        (&row.otp_type, &row.algorithm, row.digits, &row.secret)
    else {
        return match (&row.otp_type, &row.secret) {
            (None, None) => Ok(None),
            _ => Err(bad("otp_type")),
        };
    };
    let algorithm = match algorithm.as_str() {
        "SHA1" => Algorithm::Sha1,
        "SHA256" => Algorithm::Sha256,
        "SHA512" => Algorithm::Sha512,
        _ => return Err(bad("algorithm")),
    };
    let digits = u8::try_from(digits).map_err(|_| bad("digits"))?;
    let period = || {
        row.period
            .and_then(|p| u32::try_from(p).ok())
            .ok_or_else(|| bad("period"))
    };
    let kind = match otp_type.as_str() {
        "totp" => OtpKind::Totp { period: period()? },
        "steam" => OtpKind::Steam { period: period()? },
        "hotp" => OtpKind::Hotp {
            counter: counter_from_sql(row.counter.ok_or_else(|| bad("counter"))?),
        },
        _ => return Err(bad("otp_type")),
    };
    let params = OtpParams {
        kind,
        algorithm,
        digits,
    };
    let secret = key
        .open(sealed, &secret_aad(&row.id, &params))
        .map_err(|_| {
            damaged(format!(
                "the secret of account {} does not decrypt (altered on disk?)",
                row.id
            ))
        })?;
    OtpCredential::new(params, secret)
        .map(Some)
        .map_err(|_| bad("parameters"))
}

fn insert_account(tx: &Transaction<'_>, key: &SealingKey, a: &Account) -> Result<(), VaultError> {
    let sealed = match &a.otp {
        None => None,
        Some(otp) => Some(
            key.seal(otp.secret.expose(), &secret_aad(a.id.as_str(), &otp.params))
                .map_err(|_| VaultError::Random)?,
        ),
    };
    let (otp_type, algorithm, digits, period, counter) =
        params_columns(a.otp.as_ref().map(|o| &o.params));
    let extra = serde_json::to_string(&a.extra_params).map_err(|e| VaultError::Storage {
        reason: e.to_string(),
    })?;
    tx.prepare_cached(&format!(
        "INSERT INTO accounts({ACCOUNT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    ))?
    .execute(params![
        a.id.as_str(),
        a.issuer,
        a.label,
        otp_type,
        algorithm,
        digits,
        period,
        counter,
        sealed,
        a.sort_order,
        a.group,
        a.note,
        extra,
        a.created_at,
        a.updated_at
    ])?;
    Ok(())
}

#[cfg(test)]
mod hardening_tests;
#[cfg(test)]
mod tests;
