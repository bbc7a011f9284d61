//! Push requests waiting for an answer, as the vault stores them: `push_requests`, verified
//! requests keyed by nonce, so a request that arrives both by notification and by poll is kept
//! once, and one that was answered is refused when it comes again. Times are Unix milliseconds.
//! Rows are dropped an hour after they stopped being answerable.
//!
//! These two writes commit with `synchronous=NORMAL` (see [`Vault::relaxed`]): they sit between
//! a tap and the sign-in, and what a power cut may take from them is harmless. A lost request
//! comes back with the next poll; a lost answered mark lets a request the server already
//! consumed show again after the power cut, and the server refuses a second answer. A killed
//! process loses neither (the commit is in the WAL), and every other write stays `FULL`.

use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, Row, Transaction, params};

use super::{Vault, VaultError};
use crate::push::{Capabilities, PushRequest};
use crate::time::UnixTime;

/// How long a nonce is remembered after it can no longer be answered.
const ANSWERED_RETENTION: Duration = Duration::from_secs(60 * 60);

/// What [`Vault::store_push_request`] did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushInserted {
    /// Kept: it is new.
    New,
    /// Already kept and still pending (it came by notification and by poll).
    Duplicate,
    /// Its nonce was answered here: a re-delivery or a replay. Not offered again.
    Answered,
    /// Its answer window is over (now, or when it was first seen). Not offered.
    Expired,
}

fn request_from_row(r: &Row<'_>) -> rusqlite::Result<(PushRequest, Option<i64>)> {
    let presence: Option<String> = r.get(6)?;
    Ok((
        PushRequest {
            nonce: r.get(0)?,
            serial: r.get(1)?,
            title: r.get(2)?,
            question: r.get(3)?,
            url: r.get(4)?,
            sslverify: r.get::<_, i64>(5)? != 0,
            require_presence: presence.map(|p| p.split(',').map(str::to_owned).collect()),
            capabilities: Capabilities {
                decline_reason: r.get::<_, i64>(7)? != 0,
                verified: r.get::<_, i64>(7)? != 0,
            },
            received_at: UnixTime::from_millis(r.get(8)?),
            expires_at: UnixTime::from_millis(r.get(9)?),
        },
        r.get(10)?,
    ))
}

const REQUEST_COLUMNS: &str = "nonce, serial, title, question, url, sslverify, require_presence, \
     decline_reason, received_at_ms, expires_at_ms, answered_at_ms";

impl Vault {
    /// Keeps a verified request, unless its nonce is known: a request already kept is a
    /// duplicate (it arrived both by notification and by poll); one answered or expired is not
    /// offered again (a replay). One expired at `now` is not kept.
    pub fn store_push_request(
        &mut self,
        request: &PushRequest,
        now: UnixTime,
    ) -> Result<PushInserted, VaultError> {
        self.relaxed(|conn| store(conn, request, now))
    }

    /// The requests still answerable at `now`, oldest first.
    pub fn pending_push_requests(&mut self, now: UnixTime) -> Result<Vec<PushRequest>, VaultError> {
        let tx = self.conn.transaction()?;
        prune(&tx, now)?;
        let list = {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM push_requests
                 WHERE answered_at_ms IS NULL AND expires_at_ms > ?1
                 ORDER BY received_at_ms, nonce"
            ))?;
            stmt.query_map([now.as_millis()], request_from_row)?
                .map(|r| r.map(|(request, _)| request))
                .collect::<Result<Vec<_>, _>>()?
        };
        tx.commit()?;
        Ok(list)
    }

    /// A kept request and whether it was answered.
    pub fn push_request(&self, nonce: &str) -> Result<Option<(PushRequest, bool)>, VaultError> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {REQUEST_COLUMNS} FROM push_requests WHERE nonce = ?1"
            ))?
            .query_row([nonce], request_from_row)
            .optional()?
            .map(|(request, answered)| (request, answered.is_some())))
    }

    /// Records that `nonce` was answered (whatever the answer), so it is never offered again.
    pub fn mark_push_answered(&mut self, nonce: &str, now: UnixTime) -> Result<(), VaultError> {
        self.relaxed(|conn| {
            conn.execute(
                "UPDATE push_requests SET answered_at_ms = ?2 WHERE nonce = ?1",
                params![nonce, now.as_millis()],
            )?;
            Ok(())
        })
    }

    /// Runs `write` with `synchronous=NORMAL`, then sets `FULL` again: its commit reaches the
    /// WAL (a killed process keeps it) but waits for the next `FULL` commit or checkpoint to be
    /// synced to the disk. Only for rows whose loss in a power cut is harmless.
    pub(super) fn relaxed<T>(
        &mut self,
        write: impl FnOnce(&mut Connection) -> Result<T, VaultError>,
    ) -> Result<T, VaultError> {
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let out = write(&mut self.conn);
        // Back to FULL whatever happened: a failure to do so is the error that matters.
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        out
    }
}

fn store(
    conn: &mut Connection,
    request: &PushRequest,
    now: UnixTime,
) -> Result<PushInserted, VaultError> {
    let tx = conn.transaction()?;
    prune(&tx, now)?;
    let known: Option<(Option<i64>, i64)> = tx
        .query_row(
            "SELECT answered_at_ms, expires_at_ms FROM push_requests WHERE nonce = ?1",
            [&request.nonce],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let inserted = match known {
        Some((Some(_), _)) => PushInserted::Answered,
        Some((None, expires)) if expires <= now.as_millis() => PushInserted::Expired,
        Some((None, _)) => PushInserted::Duplicate,
        None if request.is_expired(now) => PushInserted::Expired,
        None => {
            tx.execute(
                &format!(
                    "INSERT INTO push_requests({REQUEST_COLUMNS})
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL)"
                ),
                params![
                    request.nonce,
                    request.serial,
                    request.title,
                    request.question,
                    request.url,
                    i64::from(request.sslverify),
                    request.require_presence.as_ref().map(|o| o.join(",")),
                    i64::from(request.capabilities.verified && request.capabilities.decline_reason),
                    request.received_at.as_millis(),
                    request.expires_at.as_millis(),
                ],
            )?;
            PushInserted::New
        }
    };
    tx.commit()?;
    Ok(inserted)
}

fn prune(tx: &Transaction<'_>, now: UnixTime) -> Result<(), VaultError> {
    let now = now.as_millis();
    let retention = i64::try_from(ANSWERED_RETENTION.as_millis()).unwrap_or(i64::MAX);
    // Nonces are remembered for a while after they stop being answerable, so a captured
    // request replayed later is recognised (a challenge carries no time of its own).
    tx.execute(
        "DELETE FROM push_requests WHERE MAX(expires_at_ms, COALESCE(answered_at_ms, 0)) + ?2 <= ?1",
        params![now, retention],
    )?;
    Ok(())
}
