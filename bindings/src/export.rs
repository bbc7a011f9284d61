//! What lets secrets leave, as Kotlin and Swift see it: only on the user's explicit request
//! (the app asks and confirms first). otpauth URIs (all, or one account's for its QR code),
//! Google Authenticator transfer payloads (ten accounts per QR, what the format cannot carry
//! left out and named), Aegis vault files (plain or password-encrypted), and a QR code as PNG
//! for an app that does not draw its own. Translation only.

use zeroize::Zeroizing;

use crate::Authenticator;
use crate::errors::AuthCoreError;

type Result<T> = std::result::Result<T, AuthCoreError>;

/// An account a Google Authenticator transfer cannot carry: left out, the others exported.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct LeftOutAccount {
    pub account_id: String,
    /// "Issuer (label)".
    pub name: String,
    /// Why, for the person ("a 60 s period cannot be exported to Google Authenticator (30 s only)").
    pub reason: String,
}

/// Google Authenticator transfer payloads: one `otpauth-migration://` URI per QR code to show,
/// in order (one batch; at most ten accounts each), and what was left out.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct MigrationExport {
    pub payloads: Vec<String>,
    pub left_out: Vec<LeftOutAccount>,
}

impl std::fmt::Debug for MigrationExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationExport")
            .field("payloads", &self.payloads.len())
            .field("left_out", &self.left_out)
            .finish()
    }
}

fn clear(text: Zeroizing<String>) -> String {
    text.as_str().to_owned()
}

#[uniffi::export]
impl Authenticator {
    /// EXPLICIT EXPORT: every account with a code as an otpauth URI, secrets in the clear.
    pub fn export_otpauth_uris(&self) -> Result<Vec<String>> {
        Ok(self
            .inner
            .export_otpauth()?
            .into_iter()
            .map(clear)
            .collect())
    }

    /// EXPLICIT EXPORT: one account as an otpauth URI (to show as a QR code and move it alone).
    pub fn export_account_uri(&self, id: String) -> Result<String> {
        Ok(clear(self.inner.export_otpauth_one(&id)?))
    }

    /// EXPLICIT EXPORT: Google Authenticator transfer payloads (one per QR code to show, in
    /// order); accounts the format cannot carry are left out and listed, never silently.
    pub fn export_migration(&self) -> Result<MigrationExport> {
        let out = self.inner.export_migration_batch()?;
        Ok(MigrationExport {
            payloads: out.payloads.into_iter().map(clear).collect(),
            left_out: out
                .left_out
                .into_iter()
                .map(|l| LeftOutAccount {
                    account_id: l.id.to_string(),
                    name: l.name,
                    reason: l.reason.to_string(),
                })
                .collect(),
        })
    }

    /// EXPLICIT EXPORT: an Aegis vault file (JSON): encrypted as Aegis does (scrypt, AES-256-GCM)
    /// under `password`, or plain when it is `None` (every secret in the clear). Encrypting
    /// takes about a tenth of a second (scrypt): call it off the main thread.
    pub fn export_aegis(&self, password: Option<String>) -> Result<String> {
        let password = password.map(Zeroizing::new);
        Ok(clear(
            self.inner
                .export_aegis(password.as_ref().map(|p| p.as_str()))?,
        ))
    }
}

/// A QR code of `text` as PNG bytes (8-pixel modules, a quiet zone): for an app that does not
/// draw QR codes itself. `text` may be a secret (an export): the bytes are the caller's to
/// protect.
#[uniffi::export]
pub fn qr_code_png(text: String) -> Result<Vec<u8>> {
    let text = Zeroizing::new(text);
    authcore::qr_render::png(&text)
        .map(|png| png.to_vec())
        .map_err(|e| {
            AuthCoreError::of_kind(
                e.kind(),
                e.to_string(),
                authcore::error::ErrorFacts::default(),
            )
        })
}
