//! The vault's SQL schema as numbered migrations. `PRAGMA user_version` holds the number of the
//! last one applied; each runs in the transaction that records it, so a crash never leaves a
//! half-migrated file. Add a migration by appending to `MIGRATIONS`; never edit a shipped one.

use rusqlite::{Connection, Transaction};

/// `PRAGMA application_id`: "ATHC". Tells our vaults from other SQLite files.
pub const APPLICATION_ID: i32 = 0x4154_4843;

pub const MIGRATIONS: &[&str] = &[
    // 1: the first format.
    "CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value BLOB NOT NULL
    ) STRICT;
    CREATE TABLE key_slots (
        id              INTEGER PRIMARY KEY,
        kind            TEXT NOT NULL CHECK (kind IN ('keystore', 'password')),
        wrapped_key     BLOB NOT NULL,
        kdf_memory_kib  INTEGER,
        kdf_iterations  INTEGER,
        kdf_parallelism INTEGER,
        kdf_salt        BLOB,
        created_at      INTEGER NOT NULL
    ) STRICT;
    CREATE UNIQUE INDEX one_password_slot ON key_slots(kind) WHERE kind = 'password';
    CREATE TABLE accounts (
        id           TEXT PRIMARY KEY,
        issuer       TEXT NOT NULL,
        label        TEXT NOT NULL,
        otp_type     TEXT NOT NULL CHECK (otp_type IN ('totp', 'hotp', 'steam')),
        algorithm    TEXT NOT NULL CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
        digits       INTEGER NOT NULL,
        period       INTEGER,
        counter      INTEGER,
        secret       BLOB NOT NULL,
        sort_order   INTEGER NOT NULL,
        group_name   TEXT,
        note         TEXT,
        extra_params TEXT NOT NULL DEFAULT '[]',
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX accounts_order ON accounts(sort_order, created_at);
    CREATE TABLE settings (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT;",
    // 2: passwordless (phone sign-in) per account; which platform rule allows it is policy's.
    "ALTER TABLE accounts ADD COLUMN passwordless INTEGER NOT NULL DEFAULT 0;",
];

/// The columns format 1 created, which every later format keeps (a migration that drops or
/// renames one must change this list).
const FORMAT_1_COLUMNS: &[(&str, &str)] = &[
    ("meta", "name, value"),
    (
        "key_slots",
        "id, kind, wrapped_key, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, created_at",
    ),
    (
        "accounts",
        "id, issuer, label, otp_type, algorithm, digits, period, counter, secret, sort_order, \
         group_name, note, extra_params, created_at, updated_at",
    ),
    ("settings", "name, value"),
];

/// Checks that every table the vault reads exists with its columns, by compiling a query on
/// each: microseconds, no rows read.
pub fn check_tables(conn: &Connection) -> rusqlite::Result<()> {
    for (table, columns) in FORMAT_1_COLUMNS {
        conn.prepare(&format!("SELECT {columns} FROM {table} LIMIT 0"))?;
    }
    Ok(())
}

pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

pub fn application_id(conn: &Connection) -> rusqlite::Result<i32> {
    conn.query_row("PRAGMA application_id", [], |r| r.get(0))
}

/// Applies every migration after `from`, each with its version bump in `tx`.
pub fn migrate(tx: &Transaction<'_>, from: u32) -> rusqlite::Result<()> {
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (index + 1) as u32)?;
    }
    Ok(())
}

pub fn latest() -> u32 {
    MIGRATIONS.len() as u32
}
