//! privacyIDEA smartphone containers as Kotlin and Swift see them: a scanned registration QR
//! code (an object: its one-time nonce never crosses the FFI), the container records, and the
//! container calls of `Authenticator`. Calls that talk to the server are `async` over the app's
//! `HttpTransport`. Counts are `i32` and times `UnixTime` (Unix seconds, an `i64`),
//! so Kotlin sees `Int`/`Long`.
//! Translation only.

use std::sync::{Arc, Mutex};

use authcore::authenticator::{
    ContainerInfo as CoreContainerInfo, PoliciesInfo, SyncReport as CoreSyncReport,
};
use authcore::container::{ContainerRegistration, DeviceInfo};
use zeroize::Zeroizing;

use crate::errors::AuthCoreError;
use crate::{Account, Authenticator};
use authcore::time::UnixTime;

type Result<T> = std::result::Result<T, AuthCoreError>;

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// What a container registration QR code would do, for a confirmation screen.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContainerPreview {
    pub serial: String,
    pub issuer: String,
    /// The server.
    pub url: String,
    /// False only when the server itself said not to verify its certificate.
    pub ssl_verify: bool,
    /// Ask the user for a passphrase before `register_container` (show `passphrase_prompt`).
    pub needs_passphrase: bool,
    pub passphrase_prompt: Option<String>,
    /// The passphrase is the user's password at their organisation (it is sent to the server).
    pub send_passphrase: bool,
    /// The last moment it may be registered (Unix seconds).
    pub expires_at: UnixTime,
}

/// A scanned container QR code, waiting for the user's confirmation; registers once.
#[derive(uniffi::Object)]
pub struct ContainerScan {
    preview: ContainerPreview,
    registration: Mutex<Option<ContainerRegistration>>,
}

impl std::fmt::Debug for ContainerScan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContainerScan")
            .field("preview", &self.preview)
            .finish_non_exhaustive()
    }
}

#[uniffi::export]
impl ContainerScan {
    pub fn preview(&self) -> ContainerPreview {
        self.preview.clone()
    }
}

/// The server's container policies, as it last reported them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct ContainerPolicies {
    /// The user may move the container to a new phone from this one (`transfer_qr`).
    pub client_rollover: bool,
    /// The first sync may take over tokens the phone already had.
    pub initially_add_tokens: bool,
    /// Deleting the container's tokens here is refused.
    pub disable_token_deletion: bool,
    /// Unregistering from the phone is refused.
    pub disable_unregister: bool,
}

impl From<PoliciesInfo> for ContainerPolicies {
    fn from(p: PoliciesInfo) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let PoliciesInfo {
            container_client_rollover,
            initially_add_tokens_to_container,
            disable_client_token_deletion,
            disable_client_container_unregister,
        } = p;
        ContainerPolicies {
            client_rollover: container_client_rollover,
            initially_add_tokens: initially_add_tokens_to_container,
            disable_token_deletion: disable_client_token_deletion,
            disable_unregister: disable_client_container_unregister,
        }
    }
}

/// One of a container's tokens and the account holding it.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContainerToken {
    pub account_id: String,
    /// The account as the list shows it ("issuer (label)").
    pub name: String,
    pub token_serial: String,
    /// `totp`, `hotp`, `daypassword` or `push`.
    pub token_type: String,
}

/// A container registered on this phone.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Container {
    pub serial: String,
    pub issuer: String,
    pub url: String,
    pub ssl_verify: bool,
    /// False while the server has not confirmed the registration.
    pub registered: bool,
    pub policies: ContainerPolicies,
    pub tokens: Vec<ContainerToken>,
    pub registered_at: UnixTime,
    pub last_sync_at: Option<UnixTime>,
    /// How the last exchange with the server failed, if it did.
    pub last_error: Option<String>,
}

impl From<CoreContainerInfo> for Container {
    fn from(c: CoreContainerInfo) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let CoreContainerInfo {
            serial,
            issuer,
            url,
            ssl_verify,
            registered,
            policies,
            tokens,
            registered_at,
            last_sync_at,
            last_error,
        } = c;
        Container {
            serial,
            issuer,
            url,
            ssl_verify,
            registered,
            policies: policies.into(),
            tokens: tokens
                .into_iter()
                .map(|t| ContainerToken {
                    account_id: t.account_id,
                    name: t.name,
                    token_serial: t.token_serial,
                    token_type: t.token_type.to_owned(),
                })
                .collect(),
            registered_at,
            last_sync_at,
            last_error,
        }
    }
}

/// What one sync did.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContainerSyncReport {
    pub serial: String,
    pub added: Vec<Account>,
    /// Accounts whose token came again with a new secret (after a rollover onto this phone).
    pub renewed: Vec<Account>,
    pub taken_over: Vec<Account>,
    pub unchanged: i32,
    /// Accounts removed (their names) because the server no longer lists their token.
    pub removed: Vec<String>,
    /// Tokens that could not be taken in; the next sync tries again.
    pub problems: Vec<String>,
    pub policies: ContainerPolicies,
}

impl From<&CoreSyncReport> for ContainerSyncReport {
    fn from(r: &CoreSyncReport) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let CoreSyncReport {
            serial,
            added,
            rekeyed,
            taken_over,
            unchanged,
            removed,
            problems,
            policies,
        } = r;
        let accounts = |list: &[authcore::authenticator::AccountInfo]| -> Vec<Account> {
            list.iter().map(Into::into).collect()
        };
        ContainerSyncReport {
            serial: serial.clone(),
            added: accounts(added),
            renewed: accounts(rekeyed),
            taken_over: accounts(taken_over),
            unchanged: count(*unchanged),
            removed: removed.clone(),
            problems: problems.clone(),
            policies: (*policies).into(),
        }
    }
}

/// A registration: the container, and its first sync or why that failed (the registration
/// stands; sync again).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContainerRegistered {
    pub container: Container,
    pub sync: Option<ContainerSyncReport>,
    pub sync_error: Option<String>,
}

/// One container's outcome in `sync_all_containers`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContainerSyncOutcome {
    pub serial: String,
    pub report: Option<ContainerSyncReport>,
    pub error: Option<String>,
}

/// What unregistering did. The accounts kept still work at the server: only a rollover (or
/// disabling the tokens there) stops a lost phone's codes; say so to the user.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct ContainerUnregistered {
    pub serial: String,
    pub already_gone: bool,
    pub accounts_kept: i32,
}

#[uniffi::export]
impl Authenticator {
    /// Reads a container registration QR code (`pia://container/...`) just scanned.
    pub fn scan_container(&self, uri: String) -> Result<Arc<ContainerScan>> {
        let uri = Zeroizing::new(uri);
        let registration = self.inner.scan_container(&uri)?;
        let preview = ContainerPreview {
            serial: registration.serial.clone(),
            issuer: registration.issuer.clone(),
            url: registration.url.clone(),
            ssl_verify: registration.ssl_verify,
            needs_passphrase: registration.needs_passphrase(),
            passphrase_prompt: registration.passphrase_prompt.clone(),
            send_passphrase: registration.send_passphrase,
            expires_at: registration.expires_at(),
        };
        Ok(Arc::new(ContainerScan {
            preview,
            registration: Mutex::new(Some(registration)),
        }))
    }

    /// Registers the scanned container (a new P-384 key, kept in the vault) and syncs it:
    /// every token it holds comes to this phone. `device_brand`/`device_model` are shown to the
    /// admin; `push_token` is for the push tokens it delivers.
    pub async fn register_container(
        &self,
        scan: Arc<ContainerScan>,
        passphrase: Option<String>,
        device_brand: Option<String>,
        device_model: Option<String>,
        push_token: Option<String>,
    ) -> Result<ContainerRegistered> {
        let passphrase = passphrase.map(Zeroizing::new);
        let registration = scan
            .registration
            .lock()
            .map_err(|_| AuthCoreError::invalid("the scan is unusable"))?
            .take()
            .ok_or_else(|| {
                AuthCoreError::invalid("this container QR code was already used: scan it again")
            })?;
        let device = DeviceInfo {
            brand: device_brand,
            model: device_model,
        };
        let done = self
            .inner
            .register_container(
                registration,
                passphrase.as_deref().map(String::as_str),
                device,
                push_token.as_deref(),
            )
            .await?;
        Ok(ContainerRegistered {
            container: done.container.into(),
            sync: done.sync.as_ref().map(Into::into),
            sync_error: done.sync_error,
        })
    }

    /// The containers registered here.
    pub fn containers(&self) -> Result<Vec<Container>> {
        Ok(self
            .inner
            .containers()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    /// Syncs one container (on request, pull to refresh).
    pub async fn sync_container(
        &self,
        serial: String,
        push_token: Option<String>,
    ) -> Result<ContainerSyncReport> {
        let report = self
            .inner
            .sync_container(&serial, push_token.as_deref())
            .await?;
        Ok((&report).into())
    }

    /// Syncs every container (at start-up); one failing does not stop the others.
    pub async fn sync_all_containers(
        &self,
        push_token: Option<String>,
    ) -> Result<Vec<ContainerSyncOutcome>> {
        let all = self.inner.sync_containers(push_token.as_deref()).await?;
        Ok(all
            .into_iter()
            .map(|(serial, result)| match result {
                Ok(report) => ContainerSyncOutcome {
                    serial,
                    report: Some((&report).into()),
                    error: None,
                },
                Err(e) => ContainerSyncOutcome {
                    serial,
                    report: None,
                    error: Some(e),
                },
            })
            .collect())
    }

    /// The QR code that moves the container to a new phone (show it; `qr_code_png` draws it).
    /// Once the new phone registers, this phone's next sync throws `ContainerMoved`.
    pub async fn container_transfer_qr(&self, serial: String) -> Result<String> {
        Ok(self.inner.container_transfer_qr(&serial).await?)
    }

    /// Renews every secret of the container on this phone (the old ones stop working).
    pub async fn renew_container(
        &self,
        serial: String,
        passphrase: Option<String>,
        push_token: Option<String>,
    ) -> Result<ContainerSyncReport> {
        let passphrase = passphrase.map(Zeroizing::new);
        let report = self
            .inner
            .renew_container(
                &serial,
                passphrase.as_deref().map(String::as_str),
                push_token.as_deref(),
            )
            .await?;
        Ok((&report).into())
    }

    /// Ends this phone's registration and forgets the container here (its accounts stay).
    /// Does not make a lost phone's codes invalid: roll over for that.
    pub async fn unregister_container(&self, serial: String) -> Result<ContainerUnregistered> {
        let done = self.inner.unregister_container(&serial).await?;
        Ok(ContainerUnregistered {
            serial: done.serial,
            already_gone: done.already_gone,
            accounts_kept: count(done.accounts_kept),
        })
    }

    /// Forgets the container here without the server (it moved to another phone); with
    /// `delete_accounts` its accounts go too. Returns how many accounts held its tokens.
    pub fn forget_container(&self, serial: String, delete_accounts: bool) -> Result<i32> {
        Ok(count(
            self.inner.forget_container(&serial, delete_accounts)?,
        ))
    }
}
