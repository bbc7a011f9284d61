//! Moving in, as Kotlin and Swift see it: a preview of another app's export file (its bytes and
//! an optional password: what each entry would become), the commit of a preview in one vault
//! transaction, and the accounts a QR code image carries. Translation only.

use std::sync::{Arc, Mutex};

use authcore::authenticator::{
    ImportAction as CoreAction, ImportFailure, ImportMode, ImportPreview as CorePreview,
};
use authcore::import::Format;
use zeroize::Zeroizing;

use crate::errors::AuthCoreError;
use crate::{Account, AddedAccount, Authenticator};

type Result<T> = std::result::Result<T, AuthCoreError>;

/// What importing one entry would do.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum ImportAction {
    New,
    /// Already in the vault (or earlier in the same file): not added twice.
    AlreadyPresent,
    /// Cannot be imported, and why (an unsupported type such as mOTP, a bad secret...).
    CannotImport {
        reason: String,
    },
}

/// One entry of a previewed file, in file order.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportEntry {
    /// 1-based position in the file.
    pub position: u32,
    pub issuer: String,
    pub label: String,
    /// `totp`, `hotp`, `steam`, or the unsupported type's name.
    pub otp_type: String,
    pub group: Option<String>,
    pub action: ImportAction,
}

/// What the vault does not keep from the file, counted (never silently lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct DroppedCounts {
    pub icons: u32,
    pub pins: u32,
    pub favourites: u32,
    pub extra_groups: u32,
}

/// A file read and compared with the vault; nothing changed yet. It holds the parsed secrets
/// on the Rust side only; `commit_import` consumes it.
#[derive(uniffi::Object)]
pub struct ImportPreview {
    format: String,
    entries: Vec<ImportEntry>,
    dropped: DroppedCounts,
    preview: Mutex<Option<CorePreview>>,
}

impl std::fmt::Debug for ImportPreview {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ImportPreview")
            .field("format", &self.format)
            .field("entries", &self.entries.len())
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl ImportPreview {
    /// The recognised format, as people call it ("Aegis", "2FAS", "QR code image"): for showing.
    pub fn format(&self) -> String {
        self.format.clone()
    }

    pub fn entries(&self) -> Vec<ImportEntry> {
        self.entries.clone()
    }

    pub fn dropped(&self) -> DroppedCounts {
        self.dropped
    }
}

/// An entry that was not added.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SkippedEntry {
    pub position: u32,
    pub issuer: String,
    pub label: String,
    pub reason: String,
}

/// What a commit did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ImportReport {
    pub format: String,
    pub added: Vec<Account>,
    /// Entries already present, as "issuer (label)".
    pub duplicates: Vec<String>,
    pub skipped: Vec<SkippedEntry>,
    pub dropped: DroppedCounts,
}

fn counts(d: authcore::import::Dropped) -> DroppedCounts {
    let n = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
    DroppedCounts {
        icons: n(d.icons),
        pins: n(d.pins),
        favourites: n(d.favourites),
        extra_groups: n(d.extra_groups),
    }
}

impl From<ImportFailure> for AuthCoreError {
    fn from(e: ImportFailure) -> Self {
        AuthCoreError::of_kind(
            e.kind(),
            e.to_string(),
            authcore::error::ErrorFacts::default(),
        )
    }
}

#[uniffi::export]
impl Authenticator {
    /// Reads another app's export file (its bytes; `password` for an encrypted one; `format`
    /// to override recognition from the content) and says what importing it would do.
    pub fn preview_import(
        &self,
        data: Vec<u8>,
        password: Option<String>,
        format: Option<String>,
    ) -> Result<Arc<ImportPreview>> {
        let data = Zeroizing::new(data);
        let password = password.map(Zeroizing::new);
        let format = format
            .map(|name| Format::parse(&name))
            .transpose()
            .map_err(|e| AuthCoreError::invalid(e.to_string()))?;
        let preview =
            self.inner
                .preview_import(&data, format, password.as_ref().map(|p| p.as_str()))?;
        let entries = preview
            .entries
            .iter()
            .map(|e| ImportEntry {
                position: e.position,
                issuer: e.issuer.clone(),
                label: e.label.clone(),
                otp_type: e.otp_type.clone(),
                group: e.group.clone(),
                action: match &e.action {
                    CoreAction::New => ImportAction::New,
                    CoreAction::AlreadyPresent => ImportAction::AlreadyPresent,
                    CoreAction::CannotImport { reason } => ImportAction::CannotImport {
                        reason: reason.clone(),
                    },
                },
            })
            .collect();
        Ok(Arc::new(ImportPreview {
            format: preview.format.to_string(),
            entries,
            dropped: counts(preview.dropped),
            preview: Mutex::new(Some(preview)),
        }))
    }

    /// Adds a preview's entries in one transaction: every importable one (`all_or_nothing`
    /// false), or none unless all can be imported. A preview is committed once.
    pub fn commit_import(
        &self,
        preview: Arc<ImportPreview>,
        all_or_nothing: bool,
    ) -> Result<ImportReport> {
        let taken = preview
            .preview
            .lock()
            .map_err(|_| AuthCoreError::invalid("the preview is unusable"))?
            .take()
            .ok_or_else(|| {
                AuthCoreError::invalid(
                    "this import preview was already committed: read the file again",
                )
            })?;
        let mode = if all_or_nothing {
            ImportMode::AllOrNothing
        } else {
            ImportMode::Partial
        };
        let outcome = self.inner.commit_import(&taken, mode)?;
        Ok(ImportReport {
            format: outcome.format.to_string(),
            added: outcome.added.iter().map(Into::into).collect(),
            duplicates: outcome
                .duplicates
                .iter()
                .map(|(issuer, label)| format!("{issuer} ({label})"))
                .collect(),
            skipped: outcome
                .skipped
                .into_iter()
                .map(|s| SkippedEntry {
                    position: s.position,
                    issuer: s.issuer,
                    label: s.label,
                    reason: s.reason,
                })
                .collect(),
            dropped: counts(outcome.dropped),
        })
    }

    /// Adds what the QR codes in a PNG or JPEG image carry (a website's setup QR, a Google
    /// Authenticator export screen), all or nothing.
    pub fn add_qr_image(&self, image: Vec<u8>) -> Result<Vec<AddedAccount>> {
        Ok(self
            .inner
            .add_qr_image(&image)?
            .iter()
            .map(Into::into)
            .collect())
    }
}
