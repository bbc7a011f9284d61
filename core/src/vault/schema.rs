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
    // 3: push approvals. An account holds an OTP credential, a push credential, or both, so the
    // OTP columns become optional (SQLite cannot relax NOT NULL in place: the table is rebuilt
    // with the same columns, rows and order). Push credentials and the requests waiting for an
    // answer get their own tables.
    "CREATE TABLE accounts_v3 (
        id           TEXT PRIMARY KEY,
        issuer       TEXT NOT NULL,
        label        TEXT NOT NULL,
        otp_type     TEXT CHECK (otp_type IN ('totp', 'hotp', 'steam')),
        algorithm    TEXT CHECK (algorithm IN ('SHA1', 'SHA256', 'SHA512')),
        digits       INTEGER,
        period       INTEGER,
        counter      INTEGER,
        secret       BLOB,
        sort_order   INTEGER NOT NULL,
        group_name   TEXT,
        note         TEXT,
        extra_params TEXT NOT NULL DEFAULT '[]',
        created_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL,
        passwordless INTEGER NOT NULL DEFAULT 0,
        CHECK ((otp_type IS NULL) = (secret IS NULL)),
        CHECK ((otp_type IS NULL) = (algorithm IS NULL)),
        CHECK ((otp_type IS NULL) = (digits IS NULL))
    ) STRICT;
    INSERT INTO accounts_v3 (id, issuer, label, otp_type, algorithm, digits, period, counter,
        secret, sort_order, group_name, note, extra_params, created_at, updated_at, passwordless)
        SELECT id, issuer, label, otp_type, algorithm, digits, period, counter, secret,
        sort_order, group_name, note, extra_params, created_at, updated_at, passwordless
        FROM accounts ORDER BY rowid;
    DROP TABLE accounts;
    ALTER TABLE accounts_v3 RENAME TO accounts;
    CREATE INDEX accounts_order ON accounts(sort_order, created_at);
    CREATE TABLE push_credentials (
        account_id        TEXT PRIMARY KEY,
        serial            TEXT NOT NULL UNIQUE,
        url               TEXT NOT NULL,
        sslverify         INTEGER NOT NULL,
        server_public_key BLOB NOT NULL,
        poll_only         INTEGER NOT NULL,
        fb_token          TEXT,
        app_force_unlock  TEXT CHECK (app_force_unlock IN ('any', 'biometric', 'pin')),
        device_key_kind   TEXT NOT NULL CHECK (device_key_kind IN ('software', 'platform')),
        device_key        BLOB,
        enrolled_at_ms    INTEGER NOT NULL,
        CHECK ((device_key_kind = 'software') = (device_key IS NOT NULL))
    ) STRICT;
    CREATE TABLE push_requests (
        nonce            TEXT PRIMARY KEY,
        serial           TEXT NOT NULL,
        title            TEXT NOT NULL,
        question         TEXT NOT NULL,
        url              TEXT NOT NULL,
        sslverify        INTEGER NOT NULL,
        require_presence TEXT,
        decline_reason   INTEGER NOT NULL,
        received_at_ms   INTEGER NOT NULL,
        expires_at_ms    INTEGER NOT NULL,
        answered_at_ms   INTEGER
    ) STRICT;
    CREATE INDEX push_requests_serial ON push_requests(serial);",
    // 4: privacyIDEA smartphone containers. A container holds the phone's P-384 key (sealed like
    // every secret), the server's policies as last reported, and which accounts hold which of
    // its tokens. `next_key` is a key being registered (a renewal) until the server confirms
    // it; `rekey_pending` says the server re-keys every token at the next sync (after a
    // rollover onto this phone), so that sync lists none.
    "CREATE TABLE containers (
        serial        TEXT PRIMARY KEY,
        issuer        TEXT NOT NULL,
        url           TEXT NOT NULL,
        ssl_verify    INTEGER NOT NULL,
        signing_key   BLOB NOT NULL,
        next_key      BLOB,
        state         TEXT NOT NULL CHECK (state IN ('registering', 'registered')),
        policies      TEXT NOT NULL,
        synced_once   INTEGER NOT NULL,
        rekey_pending INTEGER NOT NULL,
        registered_at INTEGER NOT NULL,
        last_sync_at  INTEGER,
        last_error    TEXT
    ) STRICT;
    CREATE TABLE container_tokens (
        account_id       TEXT PRIMARY KEY,
        container_serial TEXT NOT NULL,
        token_serial     TEXT NOT NULL,
        token_type       TEXT NOT NULL CHECK (token_type IN ('totp', 'hotp', 'daypassword', 'push')),
        UNIQUE (container_serial, token_serial)
    ) STRICT;",
    // 5: push device keys made ahead of an enrollment (spares), so enrolling does not wait
    // seconds for an RSA key. A software spare's PKCS#8 is sealed like every secret (bound to
    // the row's id and its size); a platform spare is only named here (its alias, which the
    // account enrolled with it takes as its id, and its public key).
    "CREATE TABLE spare_device_keys (
        id         TEXT PRIMARY KEY,
        kind       TEXT NOT NULL CHECK (kind IN ('software', 'platform')),
        bits       INTEGER,
        device_key BLOB,
        public_key BLOB,
        created_at INTEGER NOT NULL,
        CHECK ((kind = 'software') = (device_key IS NOT NULL)),
        CHECK ((kind = 'software') = (bits IS NOT NULL)),
        CHECK ((kind = 'platform') = (public_key IS NOT NULL))
    ) STRICT;",
];

/// The columns each format added, by the version that added them; every later format keeps
/// them (a migration that drops or renames one must change this list).
const COLUMNS: &[(u32, &str, &str)] = &[
    (1, "meta", "name, value"),
    (
        1,
        "key_slots",
        "id, kind, wrapped_key, kdf_memory_kib, kdf_iterations, kdf_parallelism, kdf_salt, created_at",
    ),
    (
        1,
        "accounts",
        "id, issuer, label, otp_type, algorithm, digits, period, counter, secret, sort_order, \
         group_name, note, extra_params, created_at, updated_at",
    ),
    (1, "settings", "name, value"),
    (2, "accounts", "passwordless"),
    (
        3,
        "push_credentials",
        "account_id, serial, url, sslverify, server_public_key, poll_only, fb_token, \
         app_force_unlock, device_key_kind, device_key, enrolled_at_ms",
    ),
    (
        3,
        "push_requests",
        "nonce, serial, title, question, url, sslverify, require_presence, decline_reason, \
         received_at_ms, expires_at_ms, answered_at_ms",
    ),
    (
        4,
        "containers",
        "serial, issuer, url, ssl_verify, signing_key, next_key, state, policies, synced_once, \
         rekey_pending, registered_at, last_sync_at, last_error",
    ),
    (
        4,
        "container_tokens",
        "account_id, container_serial, token_serial, token_type",
    ),
    (
        5,
        "spare_device_keys",
        "id, kind, bits, device_key, public_key, created_at",
    ),
];

/// Checks that every table a vault of format `version` has exists with its columns, by
/// compiling a query on each: microseconds, no rows read.
pub fn check_tables(conn: &Connection, version: u32) -> rusqlite::Result<()> {
    for (_, table, columns) in COLUMNS.iter().filter(|(since, _, _)| *since <= version) {
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
