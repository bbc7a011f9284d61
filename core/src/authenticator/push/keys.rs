//! Device keys of push tokens: the platform's key store behind `PlatformDeviceKeys`, or software
//! keys sealed in the vault; made off the caller's thread, loaded once and kept.

use std::sync::Arc;

use super::push_error;
use crate::account::AccountId;
use crate::authenticator::{Authenticator, DeviceKeys, Result, State};
use crate::push::{DeviceKey, PushError, SoftwareDeviceKey};
use crate::vault::StoredDeviceKey;

/// A device key store the platform provides (Android Keystore, iOS Keychain / Secure Enclave):
/// it creates an RSA key under an alias (the account id), signs with it, and deletes it. The
/// private key never leaves the platform. Without one, the core keeps software keys sealed in
/// the vault.
pub trait PlatformDeviceKeys: Send + Sync {
    /// Creates an RSA key pair for `alias` (replacing any old one) and returns its public key
    /// as a DER SubjectPublicKeyInfo.
    fn generate(&self, alias: &str) -> std::result::Result<Vec<u8>, PushError>;
    /// RSASSA-PKCS#1 v1.5 with SHA-256 over `message`, with the key of `alias`.
    fn sign(&self, alias: &str, message: &[u8]) -> std::result::Result<Vec<u8>, PushError>;
    /// Forgets the key of `alias` (the account was deleted). Missing keys are not an error.
    fn delete(&self, alias: &str) -> std::result::Result<(), PushError>;
    /// Whether the core may have this store make keys ahead of an enrollment: when `true`, a
    /// background thread calls [`generate`](Self::generate) after the vault is opened (and
    /// after each enrollment that took a key) under an alias the core picks, a fresh account
    /// id, which the next new push account then takes as its id, so the user does not wait for
    /// the key after the scan. `generate` is then called from a thread of the core's, outside
    /// any user interaction, and a key so made lives in the store until an enrollment uses it
    /// (a crash between making it and recording it leaves it there unused, under an alias no
    /// account has). The default is `false`: keys are made at enrollment, under the account's
    /// id, as for a store that shows UI or binds keys to a user's authentication.
    fn prepare_ahead(&self) -> bool {
        false
    }
}

pub(in crate::authenticator) struct PlatformKey {
    pub(in crate::authenticator) keys: Arc<dyn PlatformDeviceKeys>,
    pub(in crate::authenticator) alias: String,
    /// Known right after generation, which is the only time the protocol sends it.
    pub(in crate::authenticator) spki: Option<Vec<u8>>,
}

impl DeviceKey for PlatformKey {
    fn public_key_spki_der(&self) -> std::result::Result<Vec<u8>, PushError> {
        self.spki
            .clone()
            .ok_or_else(|| PushError::device_key("the platform key's public half is not at hand"))
    }

    fn sign_pkcs1_sha256(&self, message: &[u8]) -> std::result::Result<Vec<u8>, PushError> {
        self.keys.sign(&self.alias, message)
    }
}

/// Runs `work` on a thread of its own and awaits it without blocking the caller's executor
/// (the core has no runtime of its own; the app's or the CLI's polls this future).
pub(in crate::authenticator) async fn off_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T> {
    let (done, result) = futures_channel::oneshot::channel();
    std::thread::Builder::new()
        .name("authcore-keygen".into())
        .spawn(move || {
            let _ = done.send(work());
        })
        .map_err(|e| {
            push_error(PushError::device_key(format!(
                "no thread for key generation: {e}"
            )))
        })?;
    result
        .await
        .map_err(|_| push_error(PushError::device_key("key generation stopped unexpectedly")))
}

impl Authenticator {
    /// A new device key under `alias`, made off the caller's thread: RSA-4096 generation
    /// takes about a second, and the caller's thread may be an app's UI or executor thread.
    pub(in crate::authenticator) async fn new_device_key(
        &self,
        alias: &str,
    ) -> Result<(Arc<dyn DeviceKey>, StoredDeviceKey)> {
        match &self.push.device_keys {
            DeviceKeys::Platform(keys) => {
                let (keys2, alias2) = (keys.clone(), alias.to_owned());
                let spki = off_thread(move || keys2.generate(&alias2))
                    .await?
                    .map_err(push_error)?;
                Ok((
                    Arc::new(PlatformKey {
                        keys: keys.clone(),
                        alias: alias.to_owned(),
                        spki: Some(spki),
                    }),
                    StoredDeviceKey::Platform,
                ))
            }
            DeviceKeys::Software { bits } => {
                let bits = *bits;
                let key = off_thread(move || SoftwareDeviceKey::generate(bits))
                    .await?
                    .map_err(push_error)?;
                let stored = StoredDeviceKey::Software(key.pkcs8().clone());
                Ok((Arc::new(key), stored))
            }
        }
    }

    /// The device key of a push account, loaded once and kept.
    pub(in crate::authenticator) fn device_key(
        &self,
        state: &mut State,
        id: &AccountId,
    ) -> Result<Arc<dyn DeviceKey>> {
        if let Some(key) = state.push_keys.get(id) {
            return Ok(key.clone());
        }
        let key: Arc<dyn DeviceKey> = match state.vault.push_device_key(id)? {
            StoredDeviceKey::Software(pkcs8) => {
                Arc::new(SoftwareDeviceKey::from_pkcs8(pkcs8).map_err(push_error)?)
            }
            StoredDeviceKey::Platform => {
                let DeviceKeys::Platform(keys) = &self.push.device_keys else {
                    return Err(push_error(PushError::device_key(
                        "this account's key is in the platform key store, and this authenticator was opened with software device keys",
                    )));
                };
                let keys = keys.clone();
                Arc::new(PlatformKey {
                    keys,
                    alias: id.to_string(),
                    spki: None,
                })
            }
        };
        state.push_keys.insert(id.clone(), key.clone());
        Ok(key)
    }
}
