//! The facade's records: what an app shows for an account, a code, a HOTP step and an added
//! account. None holds a secret.
//!
//! Their `Serialize` is the CLI's `--json` output (field names documented in README.md and pinned
//! by `cli/src/render.rs`'s tests), so the JSON follows the record instead of a hand copy; a field
//! the JSON leaves out is marked `skip` where it is declared.

use crate::account::{Account, AccountId, CredentialKind};
use crate::otp::{Algorithm, Code};
use crate::time::UnixTime;

/// What an app shows in an account list: everything but the secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountInfo {
    pub id: AccountId,
    pub issuer: String,
    pub label: String,
    /// The code's kind; `Push` for an account with a push token and no code.
    #[serde(rename = "type")]
    pub kind: CredentialKind,
    pub algorithm: Option<Algorithm>,
    pub digits: Option<u8>,
    pub period: Option<u32>,
    pub counter: Option<u64>,
    /// The push token's serial when the account has one (the code, if any, is its fallback).
    pub push_serial: Option<String>,
    /// When the push token's server registered it (a token's details screen). Not in the CLI's
    /// JSON.
    #[serde(skip)]
    pub push_enrolled_at: Option<UnixTime>,
    pub group: Option<String>,
    pub note: Option<String>,
    /// The list's order is the JSON array's order; the number itself is not shown.
    #[serde(skip)]
    pub sort_order: i64,
    #[serde(skip)]
    pub created_at: UnixTime,
    #[serde(skip)]
    pub updated_at: UnixTime,
    /// Passwordless (phone sign-in) is on for this account.
    pub passwordless: bool,
}

impl From<&Account> for AccountInfo {
    fn from(a: &Account) -> Self {
        let params = a.otp.as_ref().map(|o| o.params);
        let kind = params.map(|p| p.kind);
        AccountInfo {
            id: a.id.clone(),
            issuer: a.issuer.clone(),
            label: a.label.clone(),
            kind: kind.map_or(CredentialKind::Push, CredentialKind::from),
            algorithm: params.map(|p| p.algorithm),
            digits: params.map(|p| p.digits),
            period: kind.and_then(|k| k.period()),
            counter: kind.and_then(|k| k.counter()),
            push_serial: a.push.as_ref().map(|p| p.serial.clone()),
            push_enrolled_at: a.push.as_ref().map(|p| p.enrolled_at),
            group: a.group.clone(),
            note: a.note.clone(),
            sort_order: a.sort_order,
            created_at: a.created_at,
            updated_at: a.updated_at,
            passwordless: false,
        }
    }
}

/// A time-based account's current code, as a list row shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CodeInfo {
    pub id: AccountId,
    pub issuer: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: CredentialKind,
    /// Inline (no allocation per row): a list of a thousand accounts makes two thousand.
    pub code: Code,
    /// Seconds until `code` expires.
    pub valid_for: u32,
    pub next_code: Code,
    pub period: u32,
    /// The clock correction this code was made with.
    #[serde(rename = "clock")]
    pub clock_offset: CodeClock,
}

/// The correction of the device clock a code was made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "source", content = "seconds", rename_all = "snake_case")]
pub enum CodeClock {
    /// The user's own offset (`set_clock_offset`; 0 unless set), or none for an explicit time.
    User(i64),
    /// The clock offset of the account's push server, which also checks its codes.
    Server(i64),
}

impl CodeClock {
    pub fn seconds(self) -> i64 {
        match self {
            CodeClock::User(s) | CodeClock::Server(s) => s,
        }
    }
}

/// A HOTP code produced by advancing the counter.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HotpCode {
    pub id: AccountId,
    pub code: String,
    /// The counter value this code was made with; the stored counter is now one more.
    pub counter: u64,
}

/// The outcome of adding one account from a URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Added {
    New(AccountInfo),
    /// The vault already held an account with the same names, parameters and secret.
    AlreadyPresent(AccountInfo),
}

impl Added {
    pub fn info(&self) -> &AccountInfo {
        match self {
            Added::New(i) | Added::AlreadyPresent(i) => i,
        }
    }
}

/// `(issuer, label)` pairs as the CLI's JSON shows names: `[{"issuer", "label"}]`.
pub(crate) fn names_json<S: serde::Serializer>(
    names: &[(String, String)],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    use serde::ser::SerializeSeq;
    #[derive(serde::Serialize)]
    struct Name<'a> {
        issuer: &'a str,
        label: &'a str,
    }
    let mut seq = s.serialize_seq(Some(names.len()))?;
    for (issuer, label) in names {
        seq.serialize_element(&Name { issuer, label })?;
    }
    seq.end()
}
