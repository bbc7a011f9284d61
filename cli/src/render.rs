//! How the CLI shows things: aligned text for people, JSON (stable field names) for scripts.

use authcore::account::CredentialKind;
use authcore::authenticator::{AccountInfo, Added, CodeClock, CodeInfo, HotpCode, PushRequestInfo};
use authcore::time::UnixTime;
use serde_json::{Value, json};

/// Splits a code into groups as authenticator apps show it: `528 064`, `9428 7082`.
pub fn grouped(code: &str) -> String {
    let n = code.chars().count();
    let cuts: &[usize] = match n {
        6 => &[3],
        7 => &[3],
        8 => &[4],
        9 => &[3, 6],
        10 => &[5],
        _ => &[],
    };
    let mut out = String::with_capacity(n + 2);
    for (i, ch) in code.chars().enumerate() {
        if cuts.contains(&i) {
            out.push(' ');
        }
        out.push(ch);
    }
    out
}

/// "Issuer (label)", as the core names accounts to people.
pub use authcore::account::display_name as name;

/// The widest [`name`] among `names` (issuer, label), in characters: a table's first column.
pub fn name_width<'a>(names: impl Iterator<Item = (&'a str, &'a str)>) -> usize {
    names
        .map(|(issuer, label)| name(issuer, label).chars().count())
        .max()
        .unwrap_or(0)
}

fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// The stable JSON of a facade record: its `Serialize` (core/src/authenticator/records.rs),
/// whose field names are the ones README.md documents.
pub fn record_json<T: serde::Serialize>(record: &T) -> Value {
    // These records hold strings, numbers, options and plain enums: serializing cannot fail,
    // and null is the harmless answer should a future field change that.
    serde_json::to_value(record).unwrap_or(Value::Null)
}

pub fn account_json(a: &AccountInfo) -> Value {
    record_json(a)
}

pub fn push_request_json(r: &PushRequestInfo) -> Value {
    record_json(r)
}

pub fn push_request_text(r: &PushRequestInfo, now: UnixTime) -> String {
    let mut out = format!(
        "{}  {}\n  {}\n  {}\n",
        r.nonce,
        name(&r.issuer, &r.label),
        r.title,
        r.question
    );
    if let Some(answers) = &r.answers {
        out.push_str(&format!(
            "  number matching: pick the one the sign-in page shows: {}\n",
            answers.join("  ")
        ));
    }
    out.push_str(&format!(
        "  expires in {} s; `authcore push approve {}`{} or `authcore push deny {}`\n",
        r.expires_at.since(now).as_secs(),
        r.nonce,
        if r.answers.is_some() {
            " --answer X"
        } else {
            ""
        },
        r.nonce
    ));
    out
}

pub fn added_json(added: &[Added]) -> Value {
    Value::Array(
        added
            .iter()
            .map(|a| {
                let mut v = account_json(a.info());
                v["status"] = json!(match a {
                    Added::New(_) => "added",
                    Added::AlreadyPresent(_) => "already_present",
                });
                v
            })
            .collect(),
    )
}

pub fn code_json(c: &CodeInfo) -> Value {
    record_json(c)
}

/// The clock correction of a code when it is not the user's plain device time.
fn clock_note(c: &CodeInfo) -> String {
    match c.clock_offset {
        CodeClock::User(0) => String::new(),
        CodeClock::User(s) => format!("  (clock {s:+} s)"),
        CodeClock::Server(s) => format!("  (server clock {s:+} s)"),
    }
}

pub fn hotp_json(h: &HotpCode) -> Value {
    record_json(h)
}

/// A moment as UTC, `2026-12-01T14:40:36Z` (1970's first second for a clock set before it,
/// which humantime cannot show).
pub fn unix_time(at: UnixTime) -> String {
    at.rfc3339_seconds()
}

pub fn print_json(value: &Value) {
    // Serializing a Value cannot fail; an empty line is the safe fallback regardless.
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

pub fn accounts_table(accounts: &[AccountInfo]) -> String {
    if accounts.is_empty() {
        return "The vault is empty. Add an account with `authcore add <otpauth URI>`.\n".into();
    }
    let width = name_width(
        accounts
            .iter()
            .map(|a| (a.issuer.as_str(), a.label.as_str())),
    );
    let mut out = String::new();
    for a in accounts {
        let params = match (a.algorithm, a.digits) {
            (Some(algorithm), Some(digits)) => format!("{algorithm} {digits} digits"),
            _ => String::new(),
        };
        let mut kind = match (a.period, a.counter) {
            (_, Some(counter)) => format!("hotp {params}, counter {counter}"),
            (Some(period), _) if a.kind == CredentialKind::Steam => format!("steam {period}s"),
            (Some(period), _) => format!("totp {params}, {period}s"),
            (None, None) => a.kind.as_str().to_owned(),
        };
        if let Some(serial) = &a.push_serial {
            if a.kind == CredentialKind::Push {
                kind = format!("push {serial}");
            } else {
                kind.push_str(&format!(" + push {serial}"));
            }
        }
        let group = a
            .group
            .as_deref()
            .map(|g| format!("  [{g}]"))
            .unwrap_or_default();
        out.push_str(&format!(
            "{}  {:<width$}  {kind}{group}\n",
            short_id(a.id.as_str()),
            name(&a.issuer, &a.label),
        ));
    }
    out
}

pub fn codes_table(codes: &[CodeInfo]) -> String {
    let width = name_width(codes.iter().map(|c| (c.issuer.as_str(), c.label.as_str())));
    let mut out = String::new();
    for c in codes {
        out.push_str(&format!(
            "{:<width$}  {:>11}  {:>2}s  next {}{}\n",
            name(&c.issuer, &c.label),
            grouped(c.code.as_str()),
            c.valid_for,
            grouped(c.next_code.as_str()),
            clock_note(c),
        ));
    }
    out
}

/// One line per account for `watch`, with a bar that empties as the period runs out.
pub fn watch_row(c: &CodeInfo, width: usize) -> String {
    const BAR: usize = 10;
    let filled = (c.valid_for as usize * BAR)
        .div_ceil(c.period.max(1) as usize)
        .min(BAR);
    format!(
        "{:<width$}  {:>11}  [{}{}] {:>2}s  next {}",
        name(&c.issuer, &c.label),
        grouped(c.code.as_str()),
        "#".repeat(filled),
        " ".repeat(BAR - filled),
        c.valid_for,
        grouped(c.next_code.as_str()),
    )
}

pub fn added_text(added: &[Added], codes: &[CodeInfo]) -> String {
    let mut out = String::new();
    for a in added {
        let info = a.info();
        let what = match a {
            Added::New(_) => "Added",
            Added::AlreadyPresent(_) => "Already in the vault:",
        };
        out.push_str(&format!(
            "{what} {}  id {}\n",
            name(&info.issuer, &info.label),
            short_id(info.id.as_str())
        ));
        if let Some(c) = codes.iter().find(|c| c.id == info.id) {
            out.push_str(&format!(
                "  code {}  valid {}s  next {}\n",
                grouped(c.code.as_str()),
                c.valid_for,
                grouped(c.next_code.as_str())
            ));
        } else if info.counter.is_some() {
            out.push_str(&format!(
                "  HOTP: `authcore next {}` shows a code\n",
                short_id(info.id.as_str())
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use authcore::account::AccountId;
    use authcore::otp::{Algorithm, Code};

    use super::*;

    fn keys(v: &Value) -> Vec<&str> {
        let mut keys: Vec<&str> = v
            .as_object()
            .map(|o| o.keys().map(String::as_str).collect())
            .unwrap_or_default();
        keys.sort_unstable();
        keys
    }

    fn sorted(mut names: Vec<&str>) -> Vec<&str> {
        names.sort_unstable();
        names
    }

    /// The JSON comes from the records' `Serialize`: a field added to a record must not reach
    /// scripts unnoticed, so each list is pinned exactly (README.md documents them).
    #[test]
    fn json_fields_are_exactly_the_documented_ones() {
        let id = AccountId::random();
        let account = AccountInfo {
            id: id.clone(),
            issuer: "Example".into(),
            label: "alice".into(),
            kind: CredentialKind::Totp,
            algorithm: Some(Algorithm::Sha1),
            digits: Some(6),
            period: Some(30),
            counter: None,
            push_serial: None,
            push_enrolled_at: None,
            group: None,
            note: None,
            sort_order: 3,
            created_at: UnixTime::from_secs(1),
            updated_at: UnixTime::from_secs(2),
            passwordless: false,
        };
        let v = account_json(&account);
        assert_eq!(
            keys(&v),
            sorted(vec![
                "id",
                "issuer",
                "label",
                "type",
                "algorithm",
                "digits",
                "period",
                "counter",
                "group",
                "note",
                "passwordless",
                "push_serial",
            ])
        );
        assert_eq!(v["type"], "totp");
        assert_eq!(v["algorithm"], "SHA1");
        assert_eq!(v["id"], id.as_str());

        let code = CodeInfo {
            id: id.clone(),
            issuer: "Example".into(),
            label: "alice".into(),
            kind: CredentialKind::Steam,
            code: Code::from_text("FR8RV").unwrap(),
            valid_for: 12,
            next_code: Code::from_text("2BC4D").unwrap(),
            period: 30,
            clock_offset: CodeClock::Server(-4),
        };
        let v = code_json(&code);
        assert_eq!(
            keys(&v),
            sorted(vec![
                "id",
                "issuer",
                "label",
                "type",
                "code",
                "valid_for",
                "next_code",
                "period",
                "clock",
            ])
        );
        assert_eq!(v["type"], "steam");
        assert_eq!(v["clock"], json!({"source": "server", "seconds": -4}));

        let request = PushRequestInfo {
            nonce: "N".into(),
            account_id: id.clone(),
            serial: "PIPU1".into(),
            issuer: "privacyIDEA".into(),
            label: "alice".into(),
            title: "T".into(),
            question: "Q".into(),
            answers: Some(vec!["12".into(), "34".into()]),
            received_at: UnixTime::from_secs(10),
            expires_at: UnixTime::from_secs(130),
            decline_reasons: true,
            passwordless: false,
            unlock_required: true,
        };
        let v = push_request_json(&request);
        assert_eq!(
            keys(&v),
            sorted(vec![
                "nonce",
                "account_id",
                "serial",
                "issuer",
                "label",
                "title",
                "question",
                "answers",
                "received_at",
                "expires_at",
                "decline_reasons",
                "passwordless",
            ])
        );
        assert_eq!(v["expires_at"], 130);

        let hotp = HotpCode {
            id,
            code: "755224".into(),
            counter: 0,
        };
        assert_eq!(
            keys(&hotp_json(&hotp)),
            sorted(vec!["id", "code", "counter"])
        );
    }

    #[test]
    fn codes_are_grouped_like_apps_show_them() {
        assert_eq!(grouped("528064"), "528 064");
        assert_eq!(grouped("94287082"), "9428 7082");
        assert_eq!(grouped("9993814"), "999 3814");
        assert_eq!(grouped("FR8RV"), "FR8RV");
        assert_eq!(grouped("1234567890"), "12345 67890");
    }
}
