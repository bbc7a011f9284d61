//! Push approvals on the facade: enrolling a push token from its QR code, taking requests in
//! (from a notification the shell hands over, or by polling every push account's server),
//! and answering them, with the passwordless gate.
//!
//! Network calls are `async` and go through the app's `HttpTransport`; the core needs no runtime
//! of its own (the caller's executor polls the futures). The facade's lock is never held across
//! an `await`: a call reads what it needs, releases the lock, talks to the
//! server, and takes the lock again to store the outcome.
//!
//! `keys` holds the device keys, `spare` the device keys made ahead of enrollments, `enroll`
//! enrollment and push-token updates, `inbox` taking
//! requests in, `answer` answering them; this file what they share.

mod answer;
mod enroll;
mod inbox;
mod keys;
mod spare;

pub use self::answer::{Decision, UserPresence};
pub use self::inbox::{CheckOutcome, PushRequestInfo};
pub use self::keys::PlatformDeviceKeys;
pub(in crate::authenticator) use self::spare::SpareKeys;
pub use self::spare::{DEFAULT_SPARE_DEVICE_KEYS, MAX_SPARE_DEVICE_KEYS};

use std::collections::HashMap;
use std::sync::Arc;

use crate::account::{Account, AccountId};
use crate::authenticator::{AuthError, Authenticator, Result, State};
use crate::clock;
use crate::push::{ClockOffset, PushClient, PushCredential, PushError};
use crate::vault::Setting;

/// Above this many seconds between the server's clock and the device's, callers should warn:
/// codes would be wrong without the correction.
pub const CLOCK_WARN_SECONDS: i64 = clock::WARN_OFFSET_SECONDS;

/// A push server's clock as last seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerClock {
    /// The server's origin, `https://host:port`.
    pub server: String,
    /// The server's clock minus this device's.
    pub offset_ms: i64,
}

/// The servers' clock offsets as stored (milliseconds by origin). A damaged value is
/// forgotten rather than fatal: the next response from each server restores it.
pub(super) fn load_server_offsets(vault: &crate::vault::Vault) -> Result<HashMap<String, i64>> {
    Ok(vault
        .setting(Setting::PushServerOffsets)?
        .and_then(|json| serde_json::from_str(&json).ok())
        .unwrap_or_default())
}

pub(in crate::authenticator) fn push_error(e: PushError) -> AuthError {
    AuthError::Push(e)
}

pub(in crate::authenticator) fn no_request(nonce: &str) -> AuthError {
    push_error(PushError::NoSuchRequest {
        nonce: nonce.to_owned(),
    })
}

impl State {
    pub(in crate::authenticator) fn push_accounts(&self) -> Vec<(AccountId, PushCredential)> {
        self.accounts
            .iter()
            .filter_map(|l| {
                l.account
                    .push
                    .as_ref()
                    .map(|p| (l.account.id.clone(), p.clone()))
            })
            .collect()
    }

    /// The account holding the push token `serial`, with that token.
    pub(in crate::authenticator) fn push_account(
        &self,
        serial: &str,
    ) -> Option<(&Account, &PushCredential)> {
        self.accounts.iter().find_map(|l| {
            l.account
                .push
                .as_ref()
                .filter(|p| p.serial == serial)
                .map(|p| (&l.account, p))
        })
    }
}

impl Authenticator {
    /// Logs what a call to every push server did (`summary`), then each server's failure.
    pub(in crate::authenticator) fn log_servers(&self, summary: String, problems: &[String]) {
        self.log
            .write(crate::log::LogLevel::Info, "push", || summary);
        for problem in problems {
            self.log
                .write(crate::log::LogLevel::Warn, "push", || problem.clone());
        }
    }

    /// The client, seeded with the servers' clock offsets as the vault holds them now (another
    /// process may have seen a server since).
    pub(in crate::authenticator) fn client(&self, state: &State) -> Arc<PushClient> {
        let client = self.push.client.clone();
        for (origin, ms) in &state.server_offsets {
            client.set_clock_offset(origin, Some(ClockOffset::from_millis(*ms)));
        }
        client
    }

    /// Stores the clock offsets `client` has seen (one setting, a JSON object by origin).
    pub(in crate::authenticator) fn save_server_offsets(
        &self,
        state: &mut State,
        client: &PushClient,
    ) -> Result<()> {
        let seen: HashMap<String, i64> = client
            .clock_offsets()
            .into_iter()
            .map(|(origin, offset)| (origin, offset.as_millis()))
            .collect();
        if seen.is_empty()
            || seen
                .iter()
                .all(|(k, v)| state.server_offsets.get(k) == Some(v))
        {
            return Ok(());
        }
        // The state was brought up to date when it was locked (`data_version`), so its copy is
        // what the vault holds: no second read.
        let mut all = state.server_offsets.clone();
        all.extend(seen);
        let json = serde_json::to_string(&all).map_err(|e| {
            AuthError::Vault(crate::vault::VaultError::Damaged {
                what: format!("server clock offsets: {e}"),
            })
        })?;
        state.vault.set_setting(Setting::PushServerOffsets, &json)?;
        state.server_offsets = all;
        // Codes of accounts whose server checks them follow its clock.
        state.touch();
        Ok(())
    }
}
