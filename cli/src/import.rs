//! `authcore import FILE` (another app's export, previewed and then committed in one vault
//! transaction) and `authcore add --qr IMAGE` (the accounts the QR codes of an image carry).
//!
//! The file's password comes from `--file-password-stdin` (the global `--password-stdin` is the
//! vault's; when both are given, the vault's password is the first line of standard input and
//! the file's the second). Exit status 0 whenever the file was read, even if every entry was a
//! duplicate or skipped; 2 for a bad file, a wrong password or a refused all-or-nothing import.

use std::io::{self, Read};
use std::path::Path;

use authcore::authenticator::{
    Authenticator, ImportAction, ImportFailure, ImportMode, ImportOutcome, ImportPreview,
};
use authcore::import::{Dropped, Format, MAX_INPUT_BYTES};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use crate::{CliError, render};

impl From<ImportFailure> for CliError {
    fn from(e: ImportFailure) -> Self {
        if crate::is_callers_mistake(e.kind()) {
            CliError::BadInput(e.to_string())
        } else {
            CliError::Failed(e.to_string())
        }
    }
}

/// The options of `authcore import`.
pub struct ImportArgs {
    pub file: String,
    pub format: Option<String>,
    pub file_password_stdin: bool,
    pub dry_run: bool,
    pub all_or_nothing: bool,
    pub json: bool,
}

/// Reads `FILE` or standard input (`-`) within the import size cap.
fn read_input(file: &str) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut bytes = Zeroizing::new(Vec::new());
    let limit = MAX_INPUT_BYTES as u64 + 1;
    let result = if file == "-" {
        io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        let f = std::fs::File::open(file)
            .map_err(|e| CliError::BadInput(format!("cannot open {file}: {e}")))?;
        f.take(limit).read_to_end(&mut bytes)
    };
    result.map_err(|e| CliError::Failed(format!("cannot read {file}: {e}")))?;
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(CliError::BadInput(format!(
            "{file}: larger than the import limit of {MAX_INPUT_BYTES} bytes"
        )));
    }
    Ok(bytes)
}

fn read_password_line() -> Result<Zeroizing<String>, CliError> {
    let line = crate::input::stdin_line("the file's password on standard input")?;
    if line.is_empty() {
        return Err(CliError::BadInput(
            "file password: no line for it on standard input".into(),
        ));
    }
    Ok(line)
}

pub fn import(auth: &Authenticator, args: ImportArgs) -> Result<(), CliError> {
    if args.file == "-" && args.file_password_stdin {
        return Err(CliError::BadInput(
            "FILE '-' and --file-password-stdin both need standard input: give the file's path"
                .into(),
        ));
    }
    let format = args
        .format
        .as_deref()
        .map(Format::parse)
        .transpose()
        .map_err(|e| CliError::from(ImportFailure::from(e)))?;
    let password = if args.file_password_stdin {
        Some(read_password_line()?)
    } else {
        None
    };
    let bytes = read_input(&args.file)?;
    let preview = auth.preview_import(&bytes, format, password.as_deref().map(|p| p.as_str()))?;
    let mode = if args.all_or_nothing {
        ImportMode::AllOrNothing
    } else {
        ImportMode::Partial
    };
    if args.dry_run {
        if mode == ImportMode::AllOrNothing
            && let Some(bad) = preview
                .entries
                .iter()
                .find(|e| matches!(e.action, ImportAction::CannotImport { .. }))
        {
            let reason = match &bad.action {
                ImportAction::CannotImport { reason } => reason.as_str(),
                _ => "",
            };
            return Err(CliError::BadInput(format!(
                "all-or-nothing import would be refused: entry {}: {reason}",
                bad.position
            )));
        }
        if args.json {
            render::print_json(&preview_json(&preview));
        } else {
            print!("{}", preview_text(&preview));
        }
        return Ok(());
    }
    let outcome = auth.commit_import(&preview, mode)?;
    if args.json {
        render::print_json(&outcome_json(&outcome));
    } else {
        print!("{}", outcome_text(&outcome));
    }
    Ok(())
}

pub fn add_qr(auth: &Authenticator, image: &Path, json: bool) -> Result<(), CliError> {
    let bytes = read_input(&image.to_string_lossy())?;
    let added = auth.add_qr_image(&bytes)?;
    if json {
        render::print_json(&render::added_json(&added));
    } else {
        let codes = auth.codes(None, None)?;
        print!("{}", render::added_text(&added, &codes));
    }
    Ok(())
}

fn dropped_json(d: &Dropped) -> Value {
    render::record_json(d)
}

fn dropped_text(d: &Dropped) -> Option<String> {
    let parts: Vec<String> = [
        (d.icons, "icon", "icons"),
        (d.pins, "PIN", "PINs"),
        (d.favourites, "favourite mark", "favourite marks"),
        (d.extra_groups, "extra group", "extra groups"),
    ]
    .iter()
    .filter(|(n, _, _)| *n > 0)
    .map(|(n, one, many)| format!("{n} {}", if *n == 1 { one } else { many }))
    .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "Not kept (authcore has no place for them): {}\n",
            parts.join(", ")
        )
    })
}

pub fn preview_json(p: &ImportPreview) -> Value {
    let mut added = Vec::new();
    let mut duplicates = Vec::new();
    let mut skipped = Vec::new();
    for e in &p.entries {
        match &e.action {
            ImportAction::New => added.push(json!({
                "id": null, "issuer": e.issuer, "label": e.label, "type": e.otp_type,
            })),
            ImportAction::AlreadyPresent => {
                duplicates.push(json!({"issuer": e.issuer, "label": e.label}))
            }
            ImportAction::CannotImport { reason } => skipped.push(json!({
                "position": e.position, "issuer": e.issuer, "label": e.label, "reason": reason,
            })),
        }
    }
    json!({
        "format": p.format.id(),
        "dry_run": true,
        "added": added,
        "duplicates": duplicates,
        "skipped": skipped,
        "dropped": dropped_json(&p.dropped),
    })
}

pub fn outcome_json(o: &ImportOutcome) -> Value {
    json!({
        "format": o.format.id(),
        "dry_run": false,
        "added": o.added.iter().map(|a| json!({
            "id": a.id, "issuer": a.issuer, "label": a.label, "type": a.kind,
        })).collect::<Vec<_>>(),
        "duplicates": o.duplicates.iter().map(|(i, l)| json!({"issuer": i, "label": l})).collect::<Vec<_>>(),
        "skipped": o.skipped.iter().map(|s| json!({
            "position": s.position, "issuer": s.issuer, "label": s.label, "reason": s.reason,
        })).collect::<Vec<_>>(),
        "dropped": dropped_json(&o.dropped),
    })
}

fn preview_text(p: &ImportPreview) -> String {
    let mut out = format!(
        "{} file, {} entries (dry run: nothing changed)\n",
        p.format,
        p.entries.len()
    );
    for e in &p.entries {
        let what = match &e.action {
            ImportAction::New => "new".to_owned(),
            ImportAction::AlreadyPresent => "already present".to_owned(),
            ImportAction::CannotImport { reason } => format!("cannot import: {reason}"),
        };
        out.push_str(&format!(
            "  {:>3}  {:<5}  {}  {what}\n",
            e.position,
            e.otp_type,
            render::name(&e.issuer, &e.label)
        ));
    }
    if let Some(d) = dropped_text(&p.dropped) {
        out.push_str(&d);
    }
    out
}

fn outcome_text(o: &ImportOutcome) -> String {
    let mut out = format!(
        "Imported {} {} from {} ({} already present, {} skipped)\n",
        o.added.len(),
        if o.added.len() == 1 {
            "account"
        } else {
            "accounts"
        },
        o.format,
        o.duplicates.len(),
        o.skipped.len()
    );
    for s in &o.skipped {
        out.push_str(&format!(
            "  skipped entry {} ({}): {}\n",
            s.position,
            render::name(&s.issuer, &s.label),
            s.reason
        ));
    }
    if let Some(d) = dropped_text(&o.dropped) {
        out.push_str(&d);
    }
    out
}
