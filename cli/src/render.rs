//! How the CLI shows things: aligned text for people, JSON (stable field names) for scripts.

use authcore::account::CredentialKind;
use authcore::authenticator::{AccountInfo, Added, CodeClock, CodeInfo, HotpCode, PushRequestInfo};
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

pub fn name(issuer: &str, label: &str) -> String {
    match (issuer.is_empty(), label.is_empty()) {
        (false, false) => format!("{issuer} ({label})"),
        (false, true) => issuer.to_owned(),
        _ => label.to_owned(),
    }
}

fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

pub fn account_json(a: &AccountInfo) -> Value {
    json!({
        "id": a.id,
        "issuer": a.issuer,
        "label": a.label,
        "type": a.kind.as_str(),
        "algorithm": a.algorithm,
        "digits": a.digits,
        "period": a.period,
        "counter": a.counter,
        "group": a.group,
        "note": a.note,
        "passwordless": a.passwordless,
        "push_serial": a.push_serial,
    })
}

pub fn push_request_json(r: &PushRequestInfo) -> Value {
    json!({
        "nonce": r.nonce,
        "account_id": r.account_id,
        "serial": r.serial,
        "issuer": r.issuer,
        "label": r.label,
        "title": r.title,
        "question": r.question,
        "answers": r.answers,
        "received_at": r.received_at,
        "expires_at": r.expires_at,
        "decline_reasons": r.decline_reasons,
        "passwordless": r.passwordless,
    })
}

pub fn push_request_text(r: &PushRequestInfo, now: u64) -> String {
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
        r.expires_at.saturating_sub(now),
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
    json!({
        "id": c.id,
        "issuer": c.issuer,
        "label": c.label,
        "type": c.kind.as_str(),
        "code": c.code,
        "valid_for": c.valid_for,
        "next_code": c.next_code,
        "period": c.period,
        "clock": c.clock_offset,
    })
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
    json!({ "id": h.id, "code": h.code, "counter": h.counter })
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
    let width = accounts
        .iter()
        .map(|a| name(&a.issuer, &a.label).chars().count())
        .max()
        .unwrap_or(0);
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
    let width = codes
        .iter()
        .map(|c| name(&c.issuer, &c.label).chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for c in codes {
        out.push_str(&format!(
            "{:<width$}  {:>11}  {:>2}s  next {}{}\n",
            name(&c.issuer, &c.label),
            grouped(&c.code),
            c.valid_for,
            grouped(&c.next_code),
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
        grouped(&c.code),
        "#".repeat(filled),
        " ".repeat(BAR - filled),
        c.valid_for,
        grouped(&c.next_code),
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
                grouped(&c.code),
                c.valid_for,
                grouped(&c.next_code)
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
    use super::*;

    #[test]
    fn codes_are_grouped_like_apps_show_them() {
        assert_eq!(grouped("528064"), "528 064");
        assert_eq!(grouped("94287082"), "9428 7082");
        assert_eq!(grouped("9993814"), "999 3814");
        assert_eq!(grouped("FR8RV"), "FR8RV");
        assert_eq!(grouped("1234567890"), "12345 67890");
    }
}
