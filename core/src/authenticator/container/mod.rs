//! The facade's containers: registering one from its QR code, listing them, moving one to a
//! new phone (the transfer QR code), renewing every secret on this phone, unregistering, and
//! forgetting one locally. Syncing is in `sync.rs`.
//!
//! Crash safety: the key is stored (state `registering`) before the server is told it, and a
//! renewal's new key is kept as `next_key` until the server confirms it, so a crash at any
//! point leaves a key the server may hold; the next sync finds out which.

mod sync;

pub use self::sync::SyncReport;

use crate::authenticator::{AuthError, Authenticator, Result};
use crate::container::{
    ContainerError, ContainerKey, ContainerPolicies, ContainerRegistration, ContainerServer,
    DeviceInfo, TokenType,
};
use crate::log::LogLevel;
use crate::time::UnixTime;
use crate::vault::StoredContainer;

/// A container registered on this phone, as an app shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerInfo {
    pub serial: String,
    pub issuer: String,
    pub url: String,
    pub ssl_verify: bool,
    /// False while the server has not confirmed the registration.
    pub registered: bool,
    pub policies: PoliciesInfo,
    pub tokens: Vec<ContainerTokenInfo>,
    pub registered_at: UnixTime,
    pub last_sync_at: Option<UnixTime>,
    /// How the last exchange with the server failed, if it did.
    pub last_error: Option<String>,
}

/// The server's container policies (its names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PoliciesInfo {
    pub container_client_rollover: bool,
    pub initially_add_tokens_to_container: bool,
    pub disable_client_token_deletion: bool,
    pub disable_client_container_unregister: bool,
}

impl From<ContainerPolicies> for PoliciesInfo {
    fn from(p: ContainerPolicies) -> Self {
        PoliciesInfo {
            container_client_rollover: p.client_rollover,
            initially_add_tokens_to_container: p.initially_add_tokens,
            disable_client_token_deletion: p.disable_token_deletion,
            disable_client_container_unregister: p.disable_unregister,
        }
    }
}

/// One of a container's tokens and the account holding it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerTokenInfo {
    pub account_id: String,
    pub name: String,
    pub token_serial: String,
    pub token_type: &'static str,
}

/// What a registration did: the container, and its first sync (or why it failed: the
/// registration stands, and `sync_container` tries again).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Registered {
    pub container: ContainerInfo,
    pub sync: Option<SyncReport>,
    pub sync_error: Option<String>,
}

/// What unregistering did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unregistered {
    pub serial: String,
    /// The server had already forgotten the container (ERR3001 / ERR601): done all the same.
    pub already_gone: bool,
    /// Accounts kept here as plain accounts. Their codes still work at the server: only a
    /// rollover (or disabling the tokens there) stops a lost phone's codes.
    pub accounts_kept: usize,
}

impl Authenticator {
    /// Reads a container registration QR code just scanned; its `ttl` runs from now.
    pub fn scan_container(&self, uri: &str) -> Result<ContainerRegistration> {
        Ok(ContainerRegistration::parse(uri, self.clock.now())?)
    }

    /// Registers the scanned container on this phone (a new P-384 key, sealed in the vault),
    /// then syncs it at once. `passphrase` is needed when the QR code asks for one.
    pub async fn register_container(
        &self,
        registration: ContainerRegistration,
        passphrase: Option<&str>,
        device: DeviceInfo,
        push_token: Option<&str>,
    ) -> Result<Registered> {
        let now = self.clock.now();
        registration.check_not_expired(now)?;
        let serial = registration.serial.clone();
        let (key, pkcs8) = new_key()?;
        let client = {
            let mut state = self.state()?;
            if state.vault.container(&serial)?.is_some() {
                return Err(ContainerError::AlreadyHere { serial }.into());
            }
            state.vault.add_container(
                &serial,
                &registration.issuer,
                &registration.url,
                registration.ssl_verify,
                &pkcs8,
                self.clock.now(),
            )?;
            self.client(&state)
        };
        let finalized = client
            .container_finalize(&registration, &key, &device, passphrase, now)
            .await;
        let policies = match finalized {
            Ok(p) => p,
            Err(e) => {
                let mut state = self.state()?;
                if matches!(e.kind(), crate::error::ErrorKind::Network) {
                    // The server may have taken the key: keep it, so a sync can tell.
                    state
                        .vault
                        .set_container_error(&serial, Some(&e.to_string()))?;
                } else {
                    state.vault.remove_container(&serial, false)?;
                }
                return Err(e.into());
            }
        };
        self.state()?
            .vault
            .container_registered(&serial, &policies)?;
        self.log.write(LogLevel::Info, "container", || {
            format!("container {serial} registered with {}", registration.url)
        });
        let (sync, sync_error) = match self.sync_container(&serial, push_token).await {
            Ok(report) => (Some(report), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Ok(Registered {
            container: self.container(&serial)?,
            sync,
            sync_error,
        })
    }

    /// Every container registered here.
    pub fn containers(&self) -> Result<Vec<ContainerInfo>> {
        let state = self.state()?;
        let stored = state.vault.containers()?;
        Ok(stored
            .into_iter()
            .map(|c| container_info(&state, c))
            .collect())
    }

    /// One container by serial.
    pub fn container(&self, serial: &str) -> Result<ContainerInfo> {
        let state = self.state()?;
        let stored = stored_container(&state.vault, serial)?;
        Ok(container_info(&state, stored))
    }

    /// Asks the server to move the container to a new phone and returns the
    /// `pia://container/` QR code for that phone to scan. Nothing changes here: once the new
    /// phone registers, this phone's next sync fails with [`crate::ErrorKind::ContainerMoved`]
    /// and its copies can be removed ([`Authenticator::forget_container`]).
    pub async fn container_transfer_qr(&self, serial: &str) -> Result<String> {
        let (server, key, client) = self.container_server(serial)?;
        let qr = client
            .container_rollover(&server, &key, self.clock.now())
            .await;
        self.record_outcome(serial, qr.as_ref().err())?;
        Ok(qr?)
    }

    /// Renews every secret of the container on this phone: a rollover onto this same phone
    /// with a new key, then a sync that brings every token with a new secret (the old ones stop
    /// working at the server).
    pub async fn renew_container(
        &self,
        serial: &str,
        passphrase: Option<&str>,
        push_token: Option<&str>,
    ) -> Result<SyncReport> {
        let qr = self.container_transfer_qr(serial).await?;
        let now = self.clock.now();
        let registration = ContainerRegistration::parse(&qr, now)?;
        if registration.serial != serial {
            return Err(ContainerError::answer(
                serial,
                "the rollover QR code is for another container",
            )
            .into());
        }
        let (key, pkcs8) = new_key()?;
        let client = {
            let mut state = self.state()?;
            state.vault.set_container_next_key(serial, &pkcs8)?;
            self.client(&state)
        };
        let finalized = client
            .container_finalize(&registration, &key, &DeviceInfo::default(), passphrase, now)
            .await;
        match finalized {
            Ok(policies) => {
                let mut state = self.state()?;
                state.vault.promote_container_next_key(serial)?;
                state.vault.container_registered(serial, &policies)?;
            }
            Err(e) => {
                let mut state = self.state()?;
                if !matches!(e.kind(), crate::error::ErrorKind::Network) {
                    state.vault.drop_container_next_key(serial)?;
                }
                state
                    .vault
                    .set_container_error(serial, Some(&e.to_string()))?;
                return Err(e.into());
            }
        }
        self.sync_container(serial, push_token).await
    }

    /// Ends this phone's registration at the server (a server that already forgot the
    /// container counts as done), then forgets the container here; its accounts stay as plain
    /// accounts. This does not make a lost phone's codes invalid: roll over instead.
    pub async fn unregister_container(&self, serial: &str) -> Result<Unregistered> {
        let stored = stored_container(&self.state()?.vault, serial)?;
        if stored.policies.disable_unregister {
            return Err(ContainerError::ForbiddenByPolicy {
                serial: serial.to_owned(),
                policy: "disable_client_container_unregister".to_owned(),
            }
            .into());
        }
        let (server, key, client) = self.container_server(serial)?;
        let outcome = client
            .container_unregister(&server, &key, self.clock.now())
            .await;
        let already_gone = match outcome {
            Ok(()) => false,
            Err(ContainerError::NotRegistered { .. } | ContainerError::NotOnServer { .. }) => true,
            Err(e) => {
                self.record_outcome(serial, Some(&e))?;
                return Err(e.into());
            }
        };
        let accounts_kept = self.state()?.vault.remove_container(serial, false)?;
        self.log.write(LogLevel::Info, "container", || {
            format!("container {serial} unregistered; {accounts_kept} account(s) kept")
        });
        Ok(Unregistered {
            serial: serial.to_owned(),
            already_gone,
            accounts_kept,
        })
    }

    /// Forgets the container here without asking the server (it moved to another phone, or
    /// the server is gone). With `delete_accounts`, the accounts holding its tokens go too.
    /// Returns how many accounts held its tokens.
    pub fn forget_container(&self, serial: &str, delete_accounts: bool) -> Result<usize> {
        let mut state = self.state()?;
        stored_container(&state.vault, serial)?;
        let n = state.vault.remove_container(serial, delete_accounts)?;
        if delete_accounts {
            state.reload()?;
            self.changed(&mut state);
        }
        Ok(n)
    }

    /// The server, key and client of a registered container.
    fn container_server(
        &self,
        serial: &str,
    ) -> Result<(
        ContainerServer,
        ContainerKey,
        std::sync::Arc<crate::push::PushClient>,
    )> {
        let state = self.state()?;
        let stored = stored_container(&state.vault, serial)?;
        let (pkcs8, _) = state.vault.container_keys(serial)?;
        let key =
            ContainerKey::from_pkcs8(&pkcs8).map_err(|reason| ContainerError::Key { reason })?;
        Ok((
            ContainerServer {
                serial: stored.serial,
                url: stored.url,
                ssl_verify: stored.ssl_verify,
            },
            key,
            self.client(&state),
        ))
    }

    fn record_outcome(&self, serial: &str, error: Option<&ContainerError>) -> Result<()> {
        let text = error.map(ToString::to_string);
        self.state()?
            .vault
            .set_container_error(serial, text.as_deref())?;
        Ok(())
    }
}

/// A new P-384 key and its PKCS#8, for the vault to seal.
fn new_key() -> Result<(ContainerKey, crate::secret::Secret)> {
    let key = ContainerKey::generate().map_err(|reason| ContainerError::Key { reason })?;
    let pkcs8 = key
        .to_pkcs8()
        .map_err(|reason| ContainerError::Key { reason })?;
    Ok((key, pkcs8))
}

fn stored_container(vault: &crate::vault::Vault, serial: &str) -> Result<StoredContainer> {
    vault.container(serial)?.ok_or_else(|| {
        AuthError::Container(ContainerError::Unknown {
            serial: serial.to_owned(),
        })
    })
}

fn container_info(state: &crate::authenticator::state::State, c: StoredContainer) -> ContainerInfo {
    let tokens = c
        .tokens
        .iter()
        .map(|t| ContainerTokenInfo {
            account_id: t.account_id.to_string(),
            name: state
                .accounts
                .iter()
                .find(|l| l.account.id == t.account_id)
                .map(|l| l.account.display_name())
                .unwrap_or_default(),
            token_serial: t.token_serial.clone(),
            token_type: t.token_type.as_str(),
        })
        .collect();
    ContainerInfo {
        serial: c.serial,
        issuer: c.issuer,
        url: c.url,
        ssl_verify: c.ssl_verify,
        registered: c.registered,
        policies: c.policies.into(),
        tokens,
        registered_at: c.registered_at,
        last_sync_at: c.last_sync_at,
        last_error: c.last_error,
    }
}

/// The token type an account's OTP parameters stand for in a container list.
pub(in crate::authenticator) fn otp_token_type(
    account: &crate::account::Account,
) -> Option<TokenType> {
    match account.otp.as_ref()?.params.kind {
        crate::otp::OtpKind::Totp { .. } => Some(TokenType::Totp),
        crate::otp::OtpKind::Hotp { .. } => Some(TokenType::Hotp),
        crate::otp::OtpKind::Steam { .. } => None,
    }
}
