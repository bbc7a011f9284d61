//! `ImportError`: why a whole file cannot be read. Each text names the format and the part at
//! fault; none holds a secret or a password. (A single bad entry is not an error: it becomes a
//! skipped [`super::ImportEntry`] with its reason.)

use super::Format;
use crate::error::Echo;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    #[error("the file is {size} bytes; imports are limited to {max} bytes")]
    TooLarge { size: usize, max: usize },
    #[error("the file is empty")]
    Empty,
    #[error("the file's format was not recognised (name it with --format)")]
    UnknownFormat,
    #[error("'{}' is not an import format", Echo(name))]
    UnknownFormatName { name: String },
    #[error("this {format} file is encrypted: give its password")]
    PasswordNeeded { format: Format },
    #[error("wrong password for this {format} file; nothing was imported")]
    WrongPassword { format: Format },
    #[error("this {format} file is damaged: {part}: {reason}")]
    Damaged {
        format: Format,
        part: String,
        reason: String,
    },
    /// A key-derivation parameter beyond what any real file uses: refused before any work.
    #[error(
        "this {format} file asks for {param} = {value}, over the limit of {max}; refusing the work it would cost"
    )]
    KdfParameter {
        format: Format,
        param: &'static str,
        value: u64,
        max: u64,
    },
    #[error("this {format} file cannot be imported: {reason}")]
    Refused { format: Format, reason: String },
    #[error("{reason}")]
    IncompleteTransfer { reason: String },
    #[error("no QR code was found in the image")]
    NoQrCode,
}

impl ImportError {
    pub(crate) fn damaged(
        format: Format,
        part: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        ImportError::Damaged {
            format,
            part: part.into(),
            reason: reason.into(),
        }
    }
}
