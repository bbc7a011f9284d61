//! What lets secrets leave, with the user's consent: exports as URIs, and the vault's
//! password slot.

use zeroize::Zeroizing;

use super::{Authenticator, Result};
use crate::uri;
use crate::vault::KdfParams;

impl Authenticator {
    /// Every account with a code as an otpauth URI, in the user's order. Plaintext secrets:
    /// the caller must have the user's explicit consent. Push tokens are not exported: their
    /// device keys are bound to this device, and a new phone enrolls afresh.
    pub fn export_otpauth(&self) -> Result<Vec<Zeroizing<String>>> {
        Ok(self
            .state()?
            .accounts
            .iter()
            .filter_map(|l| {
                let a = &l.account;
                a.otp
                    .as_ref()
                    .map(|otp| uri::to_otpauth(&a.issuer, &a.label, otp, &a.extra_params))
            })
            .collect())
    }

    /// Every account as Google Authenticator transfer QR payloads (refused, naming the account,
    /// when one cannot be carried by that format).
    pub fn export_migration(&self) -> Result<Vec<Zeroizing<String>>> {
        let state = self.state()?;
        let entries: Vec<_> = state
            .accounts
            .iter()
            .filter_map(|l| {
                l.account.otp.as_ref().map(|otp| {
                    (
                        l.account.issuer.clone(),
                        l.account.label.clone(),
                        otp.clone(),
                    )
                })
            })
            .collect();
        Ok(uri::to_migration(&entries)?)
    }

    pub fn has_password(&self) -> Result<bool> {
        Ok(self.state()?.vault.has_password()?)
    }

    /// Adds or replaces the password slot.
    pub fn set_password(&self, password: &str, params: KdfParams) -> Result<()> {
        Ok(self.state()?.vault.set_password(password, params)?)
    }

    pub fn remove_password(&self) -> Result<()> {
        Ok(self.state()?.vault.remove_password()?)
    }
}
