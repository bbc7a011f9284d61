//! `authenticator::import`: the facade over [`crate::import`]. `preview_import` reads a file
//! (bytes and an optional password) and says, per entry, what would happen: new, already
//! present, or cannot import and why; nothing changes. `commit_import` adds the previewed
//! entries in one vault transaction (through `add_accounts`), partially (the default: good
//! entries in, bad ones reported) or all or nothing. `add_qr_image` adds what the QR codes of an
//! image carry, like `add_uri`.
//!
//! Plain records without lifetimes, so the FFI can mirror them; the preview keeps the parsed
//! accounts (with their secrets) privately and never shows them in `Debug`.

use crate::account::NewAccount;
use crate::import::{self, Dropped, EntryOutcome, Format, ImportError};

use super::accounts::same_account;
use super::{AccountInfo, Added, AuthError, Authenticator};

/// What importing one entry would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportAction {
    New,
    /// Already in the vault (or earlier in the same file): it will not be added twice.
    AlreadyPresent,
    CannotImport {
        reason: String,
    },
}

/// One entry of a previewed file, in the order it will be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportPreviewEntry {
    /// 1-based position in the file.
    pub position: u32,
    pub issuer: String,
    pub label: String,
    /// `totp`, `hotp`, `steam`, or the unsupported type's name.
    pub otp_type: String,
    pub group: Option<String>,
    pub action: ImportAction,
}

/// A file read and compared with the vault. Commit it with [`Authenticator::commit_import`].
#[derive(Clone)]
pub struct ImportPreview {
    pub format: Format,
    pub entries: Vec<ImportPreviewEntry>,
    /// Icons, PINs, favourite marks and extra groups the vault does not keep.
    pub dropped: Dropped,
    /// The accounts, one per entry (`None` for entries that cannot be imported).
    accounts: Vec<Option<NewAccount>>,
}

impl std::fmt::Debug for ImportPreview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportPreview")
            .field("format", &self.format)
            .field("entries", &self.entries)
            .field("dropped", &self.dropped)
            .finish_non_exhaustive()
    }
}

impl ImportPreview {
    pub fn count(&self, wanted: fn(&ImportAction) -> bool) -> usize {
        self.entries.iter().filter(|e| wanted(&e.action)).count()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// Add every importable entry; report the others.
    #[default]
    Partial,
    /// Add nothing unless every entry can be imported.
    AllOrNothing,
}

/// An entry that was not added, with where it is in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedEntry {
    pub position: u32,
    pub issuer: String,
    pub label: String,
    pub reason: String,
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    pub format: Format,
    pub added: Vec<AccountInfo>,
    /// Entries already present: (issuer, label).
    pub duplicates: Vec<(String, String)>,
    pub skipped: Vec<SkippedEntry>,
    pub dropped: Dropped,
}

/// Why an import call failed; nothing was changed.
#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    /// The file (or its password) is at fault.
    #[error(transparent)]
    File(#[from] ImportError),
    #[error(
        "all-or-nothing import refused: {count} of the entries cannot be imported (first: entry {position}: {reason}); nothing was imported"
    )]
    NotAll {
        count: usize,
        position: u32,
        reason: String,
    },
    #[error(transparent)]
    Vault(#[from] AuthError),
}

impl ImportFailure {
    /// The one classification every error has (see [`crate::error::ErrorKind`]): a wrong
    /// password is its own kind, anything else wrong with the file is bad input.
    pub fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            ImportFailure::File(ImportError::WrongPassword { .. }) => ErrorKind::WrongPassword,
            ImportFailure::File(_) | ImportFailure::NotAll { .. } => ErrorKind::BadInput,
            ImportFailure::Vault(e) => e.kind(),
        }
    }
}

impl Authenticator {
    /// Reads a file and says what importing it would do. `format` overrides recognition from
    /// the content; `password` opens an encrypted file. Nothing is changed.
    pub fn preview_import(
        &self,
        bytes: &[u8],
        format: Option<Format>,
        password: Option<&str>,
    ) -> Result<ImportPreview, ImportFailure> {
        let imported = import::read(bytes, format, password)?;
        let state = self.state()?;
        let mut entries = Vec::with_capacity(imported.entries.len());
        let mut accounts: Vec<Option<NewAccount>> = Vec::with_capacity(imported.entries.len());
        for entry in imported.entries {
            let position = u32::try_from(entry.position).unwrap_or(u32::MAX);
            let (action, group, account) = match entry.outcome {
                EntryOutcome::Account { account, .. } => {
                    let account = *account;
                    let known = state
                        .accounts
                        .iter()
                        .any(|l| same_account(&l.account, &account))
                        || accounts.iter().flatten().any(|a| *a == account);
                    let action = if known {
                        ImportAction::AlreadyPresent
                    } else {
                        ImportAction::New
                    };
                    (action, account.group.clone(), Some(account))
                }
                EntryOutcome::Skipped { reason } => {
                    (ImportAction::CannotImport { reason }, None, None)
                }
            };
            entries.push(ImportPreviewEntry {
                position,
                issuer: entry.issuer,
                label: entry.label,
                otp_type: entry.otp_type,
                group,
                action,
            });
            accounts.push(account);
        }
        Ok(ImportPreview {
            format: imported.format,
            entries,
            dropped: imported.dropped,
            accounts,
        })
    }

    /// Adds a preview's entries in one transaction. Entries already present (by then) are
    /// reported as duplicates, not stored twice.
    pub fn commit_import(
        &self,
        preview: &ImportPreview,
        mode: ImportMode,
    ) -> Result<ImportOutcome, ImportFailure> {
        let skipped: Vec<SkippedEntry> = preview
            .entries
            .iter()
            .filter_map(|e| match &e.action {
                ImportAction::CannotImport { reason } => Some(SkippedEntry {
                    position: e.position,
                    issuer: e.issuer.clone(),
                    label: e.label.clone(),
                    reason: reason.clone(),
                }),
                _ => None,
            })
            .collect();
        if mode == ImportMode::AllOrNothing
            && let Some(first) = skipped.first()
        {
            return Err(ImportFailure::NotAll {
                count: skipped.len(),
                position: first.position,
                reason: first.reason.clone(),
            });
        }
        // The same account twice in one file is added once: the later copies are duplicates.
        let mut batch: Vec<NewAccount> = Vec::new();
        let mut duplicates = Vec::new();
        for account in preview.accounts.iter().flatten() {
            if batch.contains(account) {
                duplicates.push((account.issuer.clone(), account.label.clone()));
            } else {
                batch.push(account.clone());
            }
        }
        let results = self.add_accounts(batch)?;
        let mut added = Vec::new();
        for result in results {
            match result {
                Added::New(info) => added.push(info),
                Added::AlreadyPresent(info) => duplicates.push((info.issuer, info.label)),
            }
        }
        self.log.write(crate::log::LogLevel::Info, "import", || {
            format!(
                "import ({}): {} added, {} already present, {} skipped",
                preview.format,
                added.len(),
                duplicates.len(),
                skipped.len()
            )
        });
        Ok(ImportOutcome {
            format: preview.format,
            added,
            duplicates,
            skipped,
            dropped: preview.dropped,
        })
    }

    /// Adds every account the QR codes in a PNG or JPEG image carry (otpauth or Google
    /// transfer codes), all or nothing, like `add_uri`.
    pub fn add_qr_image(&self, bytes: &[u8]) -> Result<Vec<Added>, ImportFailure> {
        let preview = self.preview_import(bytes, Some(Format::QrImage), None)?;
        if let Some((position, reason)) = preview.entries.iter().find_map(|e| match &e.action {
            ImportAction::CannotImport { reason } => Some((e.position, reason.clone())),
            _ => None,
        }) {
            return Err(ImportFailure::File(ImportError::Damaged {
                format: Format::QrImage,
                part: format!("account {position}"),
                reason,
            }));
        }
        let accounts: Vec<NewAccount> = preview.accounts.into_iter().flatten().collect();
        Ok(self.add_accounts(accounts)?)
    }
}
