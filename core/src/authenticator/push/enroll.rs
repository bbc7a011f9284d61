//! Enrolling a push token from its QR code (atomic: a token the server registered but this
//! device could not keep deletes its key), and telling the servers a new platform push token.

use std::collections::HashMap;
use std::sync::Arc;

use super::push_error;
use crate::account::{AccountId, Names};
use crate::authenticator::{AccountInfo, AuthError, Authenticator, DeviceKeys, Result};
use crate::log::LogLevel;
use crate::push::{DeviceKey, PushCredential, PushEnrollment};
use crate::vault::StoredDeviceKey;

impl Authenticator {
    /// Reads an enrollment QR code just scanned, for a confirmation screen: its `ttl` runs from
    /// now. Hand the result to [`Authenticator::enroll_push`], which consumes it.
    pub fn scan_push_enrollment(&self, uri: &str) -> Result<PushEnrollment> {
        let now = self.clock.now();
        PushEnrollment::parse(uri, now, now).map_err(push_error)
    }

    /// Enrolls a scanned push token: takes a spare device key (or, with none ready, creates
    /// one), registers it with the server, and stores the token. With `attach_to`, the token joins that existing account (whose code
    /// then is the fallback); otherwise a new account is made. `push_token` is the platform's
    /// FCM/APNs token, if any.
    ///
    /// Atomic: when anything after the server's registration fails, the device key is deleted
    /// and nothing is stored; the error says that the server may keep a stale token.
    pub async fn enroll_push(
        &self,
        enrollment: PushEnrollment,
        push_token: Option<&str>,
        attach_to: Option<&str>,
    ) -> Result<AccountInfo> {
        enrollment
            .check_not_expired(self.clock.now())
            .map_err(push_error)?;
        let attach_id = {
            let state = self.state()?;
            if let Some((account, _)) = state.push_account(&enrollment.serial) {
                return Err(crate::vault::VaultError::PushSerialTaken {
                    serial: enrollment.serial.clone(),
                    id: account.id.to_string(),
                }
                .into());
            }
            match attach_to {
                None => None,
                Some(query) => {
                    let index = state.resolve(query)?;
                    let account = &state.accounts[index].account;
                    if let Some(p) = &account.push {
                        return Err(crate::vault::VaultError::AlreadyHasPush {
                            name: account.display_name(),
                            serial: p.serial.clone(),
                        }
                        .into());
                    }
                    Some(account.id.clone())
                }
            }
        };
        let (id, key, stored) = self.enrollment_key(attach_id.as_ref()).await?;
        let alias = id.to_string();
        let forget_key = || {
            if let DeviceKeys::Platform(keys) = &self.push.device_keys {
                let _ = keys.delete(&alias);
            }
        };
        let client = match self.state() {
            Ok(state) => self.client(&state),
            Err(e) => {
                forget_key();
                return Err(e);
            }
        };
        let credential = match client
            .register(&enrollment, key.as_ref(), push_token, self.clock.now())
            .await
        {
            Ok(c) => c,
            Err(e) => {
                forget_key();
                return Err(push_error(e));
            }
        };
        let origin = crate::push::server_origin(&credential.url);
        let stored_account =
            self.store_enrolled(&enrollment, attach_id, id, credential, stored, &key);
        match stored_account {
            Ok(info) => {
                self.log.write(LogLevel::Info, "push", || {
                    format!(
                        "push token {} enrolled with {origin} as account {}",
                        enrollment.serial, info.id
                    )
                });
                Ok(info)
            }
            Err(e) => {
                self.log.write(LogLevel::Error, "push", || {
                    format!(
                        "push token {} registered with {origin} but not stored: {e}",
                        enrollment.serial
                    )
                });
                forget_key();
                Err(AuthError::EnrollmentNotStored {
                    serial: enrollment.serial.clone(),
                    reason: e.to_string(),
                })
            }
        }
    }

    pub(in crate::authenticator) fn store_enrolled(
        &self,
        enrollment: &PushEnrollment,
        attach_id: Option<AccountId>,
        id: AccountId,
        credential: PushCredential,
        stored: StoredDeviceKey,
        key: &Arc<dyn DeviceKey>,
    ) -> Result<AccountInfo> {
        let mut state = self.state()?;
        let now_s = self.clock.now();
        let account = match attach_id {
            Some(id) => state.vault.attach_push(&id, credential, stored, now_s)?,
            None => state.vault.add_push_account(
                id,
                Names {
                    issuer: enrollment.issuer.clone(),
                    label: enrollment.label.clone(),
                    group: None,
                    note: None,
                },
                credential,
                stored,
                now_s,
            )?,
        };
        state.push_keys.insert(account.id.clone(), key.clone());
        state.reload()?;
        self.changed(&mut state);
        Ok(state.info(&account))
    }

    /// Tells every push account's server the platform's new push token (FCM/APNs rotate them).
    /// Returns the serials updated; one server failing does not stop the others.
    pub async fn update_push_token(&self, token: &str) -> Result<(Vec<String>, Vec<String>)> {
        let now = self.clock.now();
        let (accounts, client) = {
            let mut state = self.state()?;
            let mut list = Vec::new();
            for (id, credential) in state.push_accounts() {
                if credential.poll_only {
                    continue;
                }
                let key = self.device_key(&mut state, &id);
                list.push((id, credential, key));
            }
            (list, self.client(&state))
        };
        let (mut updated, mut problems) = (Vec::new(), Vec::new());
        let mut done: HashMap<AccountId, PushCredential> = HashMap::new();
        for (id, credential, key) in accounts {
            let result = match key {
                Ok(key) => client
                    .update_push_token(&credential, key.as_ref(), token, now)
                    .await
                    .map_err(push_error),
                Err(e) => Err(e),
            };
            match result {
                Ok(()) => {
                    updated.push(credential.serial.clone());
                    done.insert(id, credential);
                }
                Err(e) => problems.push(format!("{}: {e}", credential.serial)),
            }
        }
        let mut state = self.state()?;
        self.save_server_offsets(&mut state, &client)?;
        let now_s = self.clock.now();
        for (id, credential) in done {
            state.vault.update_push_credential(
                &id,
                &credential.url,
                credential.sslverify,
                Some(token),
                now_s,
            )?;
        }
        state.reload()?;
        self.log_servers(
            format!(
                "push token sent to the servers of {} token(s); {} failed",
                updated.len(),
                problems.len()
            ),
            &problems,
        );
        Ok((updated, problems))
    }
}
