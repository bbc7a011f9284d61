//! Text of URIs, one a line (`#` comments and blank lines skipped): plain otpauth lists, Google
//! Authenticator transfer exports (`otpauth-migration://` lines, checked for a complete batch),
//! Ente Auth's plain export (otpauth with its `codeDisplay` parameter), and the same lines
//! decoded from QR codes in an image.

use std::collections::{BTreeMap, BTreeSet};

use super::ImportError;
use super::entry::{Sink, UriExtra};
use crate::uri;

pub(crate) fn text(bytes: &[u8], sink: &Sink) -> Result<String, ImportError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        sink.damaged(
            format!("byte {}", e.valid_up_to() + 1),
            "the text is not UTF-8",
        )
    })?;
    Ok(text.trim_start_matches('\u{feff}').to_owned())
}

pub(crate) fn read_list(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let text = zeroize::Zeroizing::new(text(bytes, sink)?);
    let lines: Vec<(usize, &str)> = text.lines().enumerate().map(|(i, l)| (i + 1, l)).collect();
    read_lines(&lines, "line", sink)
}

/// Google transfer QR codes seen, by batch id: (batch size, indexes seen).
#[derive(Default)]
struct Batches(BTreeMap<i32, (i32, BTreeSet<i32>)>);

impl Batches {
    fn missing(&self) -> Option<String> {
        for (size, seen) in self.0.values() {
            let missing: Vec<String> = (0..*size)
                .filter(|i| !seen.contains(i))
                .map(|i| (i + 1).to_string())
                .collect();
            if !missing.is_empty() {
                return Some(format!(
                    "this Google Authenticator transfer has {size} QR codes and {} {} missing: import them all together",
                    if missing.len() == 1 {
                        "QR code"
                    } else {
                        "QR codes"
                    },
                    if missing.len() == 1 {
                        format!("{} is", missing[0])
                    } else {
                        format!("{} are", missing.join(", "))
                    }
                ));
            }
        }
        None
    }
}

/// `lines` are (number, text); `unit` names them in errors (`line`, `QR code`).
pub(crate) fn read_lines(
    lines: &[(usize, &str)],
    unit: &str,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let mut batches = Batches::default();
    let mut any = false;
    for &(number, raw) in lines {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        any = true;
        let scheme = line
            .split_once("://")
            .map(|(s, _)| s.to_ascii_lowercase())
            .unwrap_or_default();
        match scheme.as_str() {
            "otpauth-migration" => {
                let batch = uri::parse_migration(line)
                    .map_err(|e| sink.damaged(format!("{unit} {number}"), e.to_string()))?;
                let size = batch.batch_size.max(1);
                let entry = batches
                    .0
                    .entry(batch.batch_id)
                    .or_insert((size, BTreeSet::new()));
                if entry.0 != size || !(0..size).contains(&batch.batch_index) {
                    return Err(sink.damaged(
                        format!("{unit} {number}"),
                        format!(
                            "transfer QR code {} of {size} does not belong with the others of its batch",
                            batch.batch_index + 1
                        ),
                    ));
                }
                entry.1.insert(batch.batch_index);
                for account in batch.accounts {
                    sink.add_built(account);
                }
            }
            "otpauth" | "motp" | "yaotp" => add_otpauth(line, sink),
            _ => {
                return Err(sink.damaged(
                    format!("{unit} {number}"),
                    format!(
                        "'{}' is not an otpauth:// or otpauth-migration:// URI",
                        line.chars().take(24).collect::<String>()
                    ),
                ));
            }
        }
    }
    if !any {
        return Err(sink.damaged("text", "no URI in it"));
    }
    if let Some(reason) = batches.missing() {
        return Err(ImportError::IncompleteTransfer { reason });
    }
    Ok(())
}

/// Ente's `codeDisplay` (JSON: pinned, trashed, tags) is read and taken off the URI.
fn add_otpauth(line: &str, sink: &mut Sink) {
    let mut extra = UriExtra::default();
    let Some((base, query)) = line.split_once('?') else {
        sink.add_uri(line, extra);
        return;
    };
    let mut kept = Vec::new();
    let mut trashed = false;
    for part in query.split('&') {
        let (name, value) = part.split_once('=').unwrap_or((part, ""));
        if name.eq_ignore_ascii_case("codeDisplay") {
            let decoded = percent_encoding::percent_decode_str(value).decode_utf8_lossy();
            if let Ok(display) = serde_json::from_str::<serde_json::Value>(&decoded) {
                extra.favourite = display["pinned"].as_bool().unwrap_or(false);
                trashed = display["trashed"].as_bool().unwrap_or(false);
                if let Some(tags) = display["tags"].as_array() {
                    extra.group = tags.first().and_then(|t| t.as_str()).map(str::to_owned);
                    sink.dropped.extra_groups += tags.len().saturating_sub(1);
                }
                extra.note = display["note"].as_str().map(str::to_owned);
            }
        } else {
            kept.push(part);
        }
    }
    let rebuilt = zeroize::Zeroizing::new(format!("{base}?{}", kept.join("&")));
    sink.add_uri(&rebuilt, extra);
    if trashed {
        // Parsed first so that the skip report has the entry's names.
        sink.mark_last_skipped("in Ente's trash");
    }
}
