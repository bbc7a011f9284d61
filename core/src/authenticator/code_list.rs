//! The code list split for a screen that refreshes every second: what stays (ids, names, kind,
//! period, the clock correction) fetched once per change, and what moves (codes, countdowns)
//! refreshed without a string.
//!
//! A shell asks `code_list()` for the rows and their `version`, then once a second
//! `code_ticks()`, which returns the version and each row's `CodeTick` in the same order. When
//! the versions differ (an account was added, renamed, moved, deleted, imported, restored,
//! synced from a container or enrolled for push, or a clock offset changed, here or through
//! another connection) the shell fetches the list again; until then the ticks line up with its
//! rows. Both read the state under one lock, so a list and the ticks of its version always
//! have the same rows in the same order.

use super::state::{Loaded, State};
use super::{Authenticator, CodeClock, Result};
use crate::account::{AccountId, CredentialKind};
use crate::clock;
use crate::otp::{self, Code, Generator};
use crate::time::UnixTime;

/// What a code list row shows that changes only with the accounts or a clock correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeListRow {
    pub id: AccountId,
    pub issuer: String,
    pub label: String,
    pub kind: CredentialKind,
    pub period: u32,
    pub digits: u8,
    /// The clock correction this row's codes are made with.
    pub clock_offset: CodeClock,
}

/// The time-based accounts in the user's order, as of `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeList {
    pub version: u64,
    pub rows: Vec<CodeListRow>,
}

/// What a row shows that moves with time: no allocation (codes are inline ASCII).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeTick {
    pub code: Code,
    pub next_code: Code,
    /// Seconds until `code` expires (1..=period).
    pub valid_for: u32,
}

/// One row of the list: the accounts `codes()` lists too, in the same order.
pub(in crate::authenticator) struct Timed<'a> {
    pub(in crate::authenticator) loaded: &'a Loaded,
    pub(in crate::authenticator) generator: &'a Generator,
    pub(in crate::authenticator) period: u32,
}

impl State {
    /// The time-based accounts (those with a code and a period), in display order: the rows of
    /// `codes`, `code_list` and `code_ticks` alike.
    pub(in crate::authenticator) fn timed(&self) -> impl Iterator<Item = Timed<'_>> {
        self.accounts.iter().filter_map(|loaded| {
            let otp = loaded.account.otp.as_ref()?;
            let generator = loaded.generator.as_ref()?;
            let period = otp.params.kind.period()?;
            Some(Timed {
                loaded,
                generator,
                period,
            })
        })
    }
}

impl Authenticator {
    /// The version `code_ticks` would report now: a shell holding a list of another version
    /// fetches it again.
    pub fn list_version(&self) -> Result<u64> {
        Ok(self.state()?.list_version)
    }

    /// The stable rows of the code list (every time-based account, in the user's order) and
    /// their version.
    pub fn code_list(&self) -> Result<CodeList> {
        let state = self.state()?;
        let rows = state
            .timed()
            .map(|t| {
                let account = &t.loaded.account;
                CodeListRow {
                    id: account.id.clone(),
                    issuer: account.issuer.clone(),
                    label: account.label.clone(),
                    kind: t.generator.params().kind.into(),
                    period: t.period,
                    digits: t.generator.params().digits,
                    clock_offset: state.code_offset(t.loaded),
                }
            })
            .collect();
        Ok(CodeList {
            version: state.list_version,
            rows,
        })
    }

    /// The moving part of every row of `code_list` (same rows, same order) at the corrected
    /// time, or at `at` (no offset applied) as `codes` takes it, written into
    /// `out` (cleared first, so a caller reusing it allocates nothing). Returns the version the
    /// ticks belong to.
    ///
    /// A row's codes are made when its time step changes and kept until the next one, so a
    /// refresh within a step makes no HMAC at all.
    pub fn code_ticks(&self, at: Option<UnixTime>, out: &mut Vec<CodeTick>) -> Result<u64> {
        let at = at.map(clock::check_code_time).transpose()?;
        let device_now = self.clock.now();
        self.ticks(device_now, at, out)
    }

    /// `code_ticks` at the device time `device_now` (as the clock given at open reads) with
    /// each row's correction applied: for a shell that read the time source
    /// itself and counts the seconds down from the same reading.
    pub fn code_ticks_on(&self, device_now: UnixTime, out: &mut Vec<CodeTick>) -> Result<u64> {
        self.ticks(device_now, None, out)
    }

    fn ticks(
        &self,
        device_now: UnixTime,
        at: Option<UnixTime>,
        out: &mut Vec<CodeTick>,
    ) -> Result<u64> {
        let state = self.state()?;
        out.clear();
        for t in state.timed() {
            let offset = match at {
                Some(_) => CodeClock::User(0),
                None => state.code_offset(t.loaded),
            };
            let unix = at
                .unwrap_or_else(|| clock::corrected(device_now, offset.seconds()))
                .otp_secs();
            let (step, valid_for) = otp::time_step(unix, t.period);
            let (code, next_code) = match t.loaded.step_codes.get() {
                Some((cached, code, next)) if cached == step => (code, next),
                _ => {
                    let code = t.generator.code_for_counter(step);
                    let next = t.generator.code_for_counter(step.wrapping_add(1));
                    t.loaded.step_codes.set(Some((step, code, next)));
                    (code, next)
                }
            };
            out.push(CodeTick {
                code,
                next_code,
                valid_for,
            });
        }
        Ok(state.list_version)
    }
}
