//! What lets secrets leave, with the user's consent: exports as URIs, Google Authenticator
//! transfer QR payloads, Aegis vault files, and the vault's password slot.
//!
//! Push-only accounts have no code and are left out of every export (a push token is bound to
//! its device key; a new phone enrolls afresh).

use zeroize::Zeroizing;

use super::state::Loaded;
use super::{Authenticator, Result};
use crate::account::{AccountId, OtpCredential};
use crate::export::aegis::{self, AegisEntry};
use crate::uri::{self, NotCarried};
use crate::vault::{KdfParams, VaultError};

/// An account a transfer export left out, and why (no secret in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub id: AccountId,
    /// "Issuer (label)", as the account is shown.
    pub name: String,
    pub reason: NotCarried,
}

/// A Google Authenticator transfer export: one `otpauth-migration://` URI per QR code, in
/// order (one batch id, at most ten accounts each; none when no account can be carried), and
/// the accounts the format could not carry. Holds secrets: zeroized on drop, not in `Debug`.
pub struct MigrationExport {
    pub payloads: Vec<Zeroizing<String>>,
    pub left_out: Vec<LeftOut>,
}

impl std::fmt::Debug for MigrationExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MigrationExport")
            .field("payloads", &self.payloads.len())
            .field("left_out", &self.left_out)
            .finish()
    }
}

fn with_code(accounts: &[Loaded]) -> impl Iterator<Item = (&Loaded, &OtpCredential)> {
    accounts
        .iter()
        .filter_map(|l| l.account.otp.as_ref().map(|otp| (l, otp)))
}

impl Authenticator {
    /// Every account with a code as an otpauth URI, in the user's order. Plaintext secrets:
    /// the caller must have the user's explicit consent. Push tokens are not exported: their
    /// device keys are bound to this device, and a new phone enrolls afresh.
    pub fn export_otpauth(&self) -> Result<Vec<Zeroizing<String>>> {
        Ok(with_code(&self.state()?.accounts)
            .map(|(l, otp)| {
                uri::to_otpauth(
                    &l.account.issuer,
                    &l.account.label,
                    otp,
                    &l.account.extra_params,
                )
            })
            .collect())
    }

    /// One account (id or unique prefix) as an otpauth URI, to move it alone (`authcore qr`).
    pub fn export_otpauth_one(&self, id: &str) -> Result<Zeroizing<String>> {
        let state = self.state()?;
        let a = &state.accounts[state.resolve(id)?].account;
        let otp = a.otp.as_ref().ok_or_else(|| VaultError::NoOtp {
            name: a.display_name(),
        })?;
        Ok(uri::to_otpauth(&a.issuer, &a.label, otp, &a.extra_params))
    }

    /// Every account with a code as Google Authenticator transfer payloads, in the user's
    /// order; what the format cannot carry (a period other than 30 s, Steam, digits other than
    /// 6 or 8, a counter above 2^63) is left out and named in `left_out`.
    pub fn export_migration_batch(&self) -> Result<MigrationExport> {
        let state = self.state()?;
        let carried: Vec<_> = with_code(&state.accounts).collect();
        let entries: Vec<_> = carried
            .iter()
            .map(|(l, otp)| {
                (
                    l.account.issuer.clone(),
                    l.account.label.clone(),
                    (*otp).clone(),
                )
            })
            .collect();
        let out = uri::to_migration(&entries)?;
        let left_out = out
            .left_out
            .iter()
            .map(|(index, reason)| LeftOut {
                id: carried[*index].0.account.id.clone(),
                name: carried[*index].0.account.display_name(),
                reason: *reason,
            })
            .collect();
        Ok(MigrationExport {
            payloads: out.payloads,
            left_out,
        })
    }

    /// Every account with a code as an Aegis vault file, in the user's order, with groups and
    /// notes: plain JSON without a password, else encrypted as Aegis does (scrypt N = 2^15,
    /// r = 8, p = 1 password slot; AES-256-GCM). Without a password the text holds every secret.
    pub fn export_aegis(&self, password: Option<&str>) -> Result<Zeroizing<String>> {
        let state = self.state()?;
        let entries: Vec<AegisEntry<'_>> = with_code(&state.accounts)
            .map(|(l, otp)| AegisEntry {
                uuid: l.account.id.as_str(),
                issuer: &l.account.issuer,
                label: &l.account.label,
                otp,
                group: l.account.group.as_deref(),
                note: l.account.note.as_deref(),
            })
            .collect();
        Ok(aegis::write(&entries, password)?)
    }

    pub fn has_password(&self) -> Result<bool> {
        Ok(self.state()?.vault.has_password()?)
    }

    /// Adds or replaces the password slot.
    pub fn set_password(&self, password: &str, params: KdfParams) -> Result<()> {
        Ok(self
            .state()?
            .vault
            .set_password(password, params, self.clock.now())?)
    }

    pub fn remove_password(&self) -> Result<()> {
        Ok(self.state()?.vault.remove_password()?)
    }
}
