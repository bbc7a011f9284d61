//! Other apps' internal SQLite databases, as a rooted phone gives them up: Google
//! Authenticator (`accounts`: base32 secret, type 0 TOTP / 1 HOTP), Microsoft Authenticator
//! (`accounts`: type 0 a TOTP secret in base32, type 1 a Microsoft account's base64 secret with
//! 8 digits; work accounts hold no OTP secret) and Authenticator Pro (`authenticator`,
//! `category`, `authenticatorcategory`). Opened read-only from the bytes (no temporary file).

use rusqlite::{Connection, MAIN_DB, OpenFlags};
use serde_json::json;

use super::entry::{Draft, SecretIn, Sink};
use super::{ImportError, stratum};
use crate::secret::Secret;

pub(crate) const SQLITE_MAGIC: &[u8] = b"SQLite format 3\0";

pub(crate) fn open(bytes: &[u8], sink: &Sink) -> Result<Connection, ImportError> {
    if !bytes.starts_with(SQLITE_MAGIC) || bytes.len() < 100 {
        return Err(sink.damaged("database", "not an SQLite database"));
    }
    // Zeroized when dropped: it may be a decrypted database (Authenticator Plus).
    let mut copy = zeroize::Zeroizing::new(bytes.to_vec());
    // A WAL-mode header cannot be opened from memory; the WAL itself is not in the file.
    copy[18] = 1;
    copy[19] = 1;
    let mut conn = Connection::open_with_flags(":memory:", OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| sink.damaged("database", e.to_string()))?;
    let len = copy.len();
    conn.deserialize_read_exact(MAIN_DB, copy.as_slice(), len, true)
        .map_err(|e| sink.damaged("database", e.to_string()))?;
    Ok(conn)
}

pub(crate) fn query<T>(
    conn: &Connection,
    sql: &str,
    sink: &Sink,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> Result<Vec<T>, ImportError> {
    let mut stmt = conn
        .prepare(sql)
        .map_err(|e| sink.damaged("database tables", e.to_string()))?;
    let rows = stmt
        .query_map([], row)
        .map_err(|e| sink.damaged("database rows", e.to_string()))?;
    rows.collect::<Result<Vec<T>, _>>()
        .map_err(|e| sink.damaged("database rows", e.to_string()))
}

pub(crate) fn read_google(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let conn = open(bytes, sink)?;
    let rows = query(
        &conn,
        "SELECT email, secret, counter, type, issuer FROM accounts ORDER BY _id",
        sink,
        |r| {
            Ok((
                r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                zeroize::Zeroizing::new(r.get::<_, Option<String>>(1)?.unwrap_or_default()),
                r.get::<_, Option<i64>>(2)?,
                r.get::<_, Option<i64>>(3)?,
                r.get::<_, Option<String>>(4)?.unwrap_or_default(),
            ))
        },
    )?;
    for (email, secret, counter, kind, issuer) in rows {
        let (issuer, label) = match email.split_once(':') {
            Some((i, l)) if issuer.is_empty() || issuer == i => (i.to_owned(), l.to_owned()),
            _ => (issuer, email),
        };
        sink.add(Draft {
            issuer,
            label,
            otp_type: if kind == Some(1) { "hotp" } else { "totp" }.into(),
            counter,
            secret: SecretIn::base32(&secret),
            ..Draft::default()
        });
    }
    Ok(())
}

pub(crate) fn read_microsoft(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let conn = open(bytes, sink)?;
    let rows = query(
        &conn,
        "SELECT name, username, oath_secret_key, account_type FROM accounts ORDER BY ux_position, _id",
        sink,
        |r| {
            Ok((
                r.get::<_, Option<String>>(0)?.unwrap_or_default(),
                r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                zeroize::Zeroizing::new(r.get::<_, Option<String>>(2)?.unwrap_or_default()),
                r.get::<_, Option<i64>>(3)?.unwrap_or(0),
            ))
        },
    )?;
    for (name, username, secret, kind) in rows {
        match kind {
            0 => sink.add(Draft {
                issuer: name,
                label: username,
                otp_type: "totp".into(),
                secret: SecretIn::base32(&secret),
                ..Draft::default()
            }),
            1 => sink.add(Draft {
                issuer: name,
                label: username,
                otp_type: "totp".into(),
                digits: Some(8),
                secret: data_encoding::BASE64
                    .decode(secret.trim().as_bytes())
                    .map_or(SecretIn::Missing, |b| SecretIn::Bytes(Secret::new(b))),
                ..Draft::default()
            }),
            _ => sink.skip(
                &name,
                &username,
                "",
                "a Microsoft work or school sign-in account holds no OTP secret",
            ),
        }
    }
    Ok(())
}

pub(crate) fn read_stratum(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let conn = open(bytes, sink)?;
    let categories = query(
        &conn,
        "SELECT ac.authenticatorSecret, c.name FROM authenticatorcategory ac JOIN category c ON c.id = ac.categoryId ORDER BY ac.ranking",
        sink,
        |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Option<String>>(1)?)),
    )
    .unwrap_or_default();
    let rows = query(
        &conn,
        "SELECT type, issuer, username, secret, pin, algorithm, digits, period, counter, ranking, icon FROM authenticator ORDER BY ranking",
        sink,
        |r| {
            Ok(json!({
                "Type": r.get::<_, Option<i64>>(0)?,
                "Issuer": r.get::<_, Option<String>>(1)?,
                "Username": r.get::<_, Option<String>>(2)?,
                "Secret": r.get::<_, Option<String>>(3)?,
                "Pin": r.get::<_, Option<String>>(4)?,
                "Algorithm": r.get::<_, Option<i64>>(5)?,
                "Digits": r.get::<_, Option<i64>>(6)?,
                "Period": r.get::<_, Option<i64>>(7)?,
                "Counter": r.get::<_, Option<i64>>(8)?,
                "Ranking": r.get::<_, Option<i64>>(9)?,
                "Icon": r.get::<_, Option<String>>(10)?,
            }))
        },
    )?;
    for row in rows {
        let secret = row["Secret"].as_str();
        let groups: Vec<String> = categories
            .iter()
            .filter(|(s, _)| s.as_deref() == secret)
            .filter_map(|(_, n)| n.clone())
            .collect();
        sink.dropped.extra_groups += groups.len().saturating_sub(1);
        if row["Icon"].as_str().is_some_and(|i| !i.is_empty()) {
            sink.dropped.icons += 1;
        }
        if row["Pin"].as_str().is_some_and(|p| !p.is_empty()) {
            sink.dropped.pins += 1;
        }
        stratum::add(&row, groups.into_iter().next(), sink);
    }
    Ok(())
}
