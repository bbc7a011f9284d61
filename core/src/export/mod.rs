//! Exports for other apps: files another authenticator reads, written from the facade's
//! accounts. Pure: the accounts come in, text comes out; randomness from the OS.
//!
//! `aegis` writes Aegis's vault file, plain or password-encrypted. Google Authenticator's
//! transfer QR lives with the URIs (`crate::uri::migration`), the QR images in `crate::qr_render`.

pub mod aegis;

/// Why an export could not be written. No secret in it.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("the export password is empty: give one, or export in plain text")]
    EmptyPassword,
    #[error("no system randomness for the export's keys")]
    Random,
    #[error("the export could not be written: {what}")]
    Write { what: &'static str },
}

impl ExportError {
    pub fn kind(&self) -> crate::error::ErrorKind {
        use crate::error::ErrorKind;
        match self {
            ExportError::EmptyPassword => ErrorKind::BadInput,
            ExportError::Random | ExportError::Write { .. } => ErrorKind::Internal,
        }
    }
}
