//! What an app fixes when it opens a vault: the platform (whose passwordless rule applies), where
//! push device keys live, the HTTP transport, the time source and the logger (`logging.rs`). Passed to the constructors,
//! never set later, so an app cannot forget one or change it under a running call.

use std::sync::Arc;

use authcore::authenticator::{Config, DeviceKeys as CoreDeviceKeys};

use crate::Platform;
use crate::errors::AuthCoreError;
use crate::logging::{ForeignLogger, LogSink};
use crate::platform::{self, TimeSource};
use crate::push::{DeviceKeyStore, ForeignDeviceKeys};
use crate::transport::{ForeignTransport, HttpTransport};

/// Where new push tokens keep their RSA device key.
#[derive(uniffi::Enum)]
pub enum DeviceKeys {
    /// The platform key store (Android Keystore, iOS Keychain): the private key stays there.
    PlatformStore { store: Arc<dyn DeviceKeyStore> },
    /// Software keys of `bits` (2048, 3072 or 4096) sealed in the vault: an explicit choice
    /// (desktop, tests), never a fallback.
    Software { bits: i32 },
}

/// Fixed for as long as the vault is open.
#[derive(uniffi::Record)]
pub struct OpenOptions {
    /// The platform the app runs on: its passwordless rule gates approvals.
    pub platform: Platform,
    pub device_keys: DeviceKeys,
    /// Carries every push request (the platform's HTTP stack).
    pub transport: Arc<dyn HttpTransport>,
    /// Asked for the time whenever codes or push timestamps are made.
    pub time_source: Arc<dyn TimeSource>,
    /// Receives the core's diagnostics (never a secret); none by default.
    #[uniffi(default = None)]
    pub logger: Option<Arc<dyn LogSink>>,
}

impl TryFrom<OpenOptions> for Config {
    type Error = AuthCoreError;

    fn try_from(o: OpenOptions) -> Result<Self, AuthCoreError> {
        Ok(Config {
            clock: platform::clock(o.time_source),
            platform: o.platform.into(),
            device_keys: match o.device_keys {
                DeviceKeys::PlatformStore { store } => {
                    CoreDeviceKeys::Platform(Arc::new(ForeignDeviceKeys(store)))
                }
                DeviceKeys::Software { bits } => CoreDeviceKeys::Software {
                    bits: usize::try_from(bits).map_err(|_| {
                        AuthCoreError::invalid(format!(
                            "software_key_bits: {bits} is not supported (use 2048, 3072 or 4096)"
                        ))
                    })?,
                },
            },
            transport: Arc::new(ForeignTransport(o.transport)),
            // The app's sink also hears of a panic (where it happened) before the phone
            // library aborts or the desktop one turns it into an internal error.
            logger: match o.logger {
                Some(sink) => {
                    let logger: Arc<dyn authcore::log::Logger> = Arc::new(ForeignLogger(sink));
                    authcore::log::report_panics_to(logger.clone());
                    logger
                }
                None => Arc::new(authcore::log::NoLogger),
            },
            // An app stays open: one software key is made ahead after open, so an enrollment
            // does not wait for it (platform stores through this FFI make keys at enrollment:
            // `DeviceKeyStore` has no way to say it makes them ahead yet).
            spare_device_keys: authcore::authenticator::DEFAULT_SPARE_DEVICE_KEYS,
        })
    }
}
