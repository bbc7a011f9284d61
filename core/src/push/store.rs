//! `PushRequestStore`: the verified requests waiting for the user, keyed by nonce.
//!
//! The same challenge can arrive twice (a notification and a poll, or a poll repeated every few
//! seconds): it is kept once, with the time it first arrived. Expired requests are dropped.
//! Answered nonces are remembered for [`ANSWERED_RETENTION`] so a re-delivered or replayed
//! challenge is refused instead of asking the user again. In memory only; the vault will persist
//! what must survive a restart.

use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use super::PushError;
use super::challenge::PushRequest;

/// How long an answered nonce is remembered: well beyond any server's answer window.
pub const ANSWERED_RETENTION: Duration = Duration::from_secs(60 * 60);

/// Whether [`PushRequestStore::insert`] added a request or already had it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    New,
    Duplicate,
}

#[derive(Debug, Default)]
pub struct PushRequestStore {
    pending: HashMap<String, PushRequest>,
    /// nonce -> when it may be forgotten.
    answered: HashMap<String, SystemTime>,
}

impl PushRequestStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Keeps a verified request. Refuses one already answered here or already expired at `now`.
    pub fn insert(&mut self, request: PushRequest, now: SystemTime) -> Result<Inserted, PushError> {
        self.prune(now);
        if self.answered.contains_key(&request.nonce) {
            return Err(PushError::Replayed {
                nonce: request.nonce,
            });
        }
        if request.is_expired(now) {
            return Err(PushError::Expired {
                validity: request.validity(),
                nonce: request.nonce,
            });
        }
        if self.pending.contains_key(&request.nonce) {
            return Ok(Inserted::Duplicate);
        }
        self.pending.insert(request.nonce.clone(), request);
        Ok(Inserted::New)
    }

    /// The requests still answerable at `now`, oldest first.
    pub fn pending(&mut self, now: SystemTime) -> Vec<PushRequest> {
        self.prune(now);
        let mut list: Vec<PushRequest> = self.pending.values().cloned().collect();
        list.sort_by(|a, b| {
            a.received_at
                .cmp(&b.received_at)
                .then(a.nonce.cmp(&b.nonce))
        });
        list
    }

    /// The request to answer, if it is still answerable at `now`.
    pub fn get_answerable(&self, nonce: &str, now: SystemTime) -> Result<&PushRequest, PushError> {
        if self.answered.contains_key(nonce) {
            return Err(PushError::Replayed {
                nonce: nonce.to_owned(),
            });
        }
        match self.pending.get(nonce) {
            None => Err(PushError::NoSuchRequest {
                nonce: nonce.to_owned(),
            }),
            Some(request) if request.is_expired(now) => Err(PushError::Expired {
                nonce: nonce.to_owned(),
                validity: request.validity(),
            }),
            Some(request) => Ok(request),
        }
    }

    /// Records that `nonce` was answered (whatever the answer) so it is never shown again.
    pub fn mark_answered(&mut self, nonce: &str, now: SystemTime) {
        self.pending.remove(nonce);
        self.answered
            .insert(nonce.to_owned(), now + ANSWERED_RETENTION);
    }

    pub fn is_answered(&self, nonce: &str) -> bool {
        self.answered.contains_key(nonce)
    }

    fn prune(&mut self, now: SystemTime) {
        self.pending.retain(|_, r| !r.is_expired(now));
        self.answered.retain(|_, forget_at| *forget_at > now);
    }
}
