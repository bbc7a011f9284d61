//! What is fixed when a vault is opened (`Config`: clock, platform, device keys, transport,
//! logger, spare device keys),
//! and opening or creating one.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::{
    AuthError, Authenticator, HttpTransport, PlatformDeviceKeys, PushError, Result, SpareKeys,
    State,
};
use crate::clock::Clock;
use crate::log::{Log, LogLevel, Logger, NoLogger};
use crate::policy::Platform;
use crate::vault::{KdfParams, KeyStore, Unlock, Vault};

/// Where new push tokens keep their RSA device key. There is no default: a software key on a
/// phone must be a choice, not what happens when the platform store was forgotten.
#[derive(Clone)]
pub enum DeviceKeys {
    /// The platform key store (Android Keystore, iOS Keychain): the private key never leaves it.
    Platform(Arc<dyn PlatformDeviceKeys>),
    /// Software keys of `bits` (2048, 3072 or 4096), sealed in the vault like OTP secrets.
    Software { bits: usize },
}

impl DeviceKeys {
    /// Software RSA-4096 keys, as privacyIDEA's own app makes them.
    pub fn software() -> Self {
        DeviceKeys::Software {
            bits: crate::push::SoftwareDeviceKey::DEFAULT_BITS,
        }
    }
}

impl std::fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DeviceKeys::Platform(_) => f.write_str("DeviceKeys::Platform"),
            DeviceKeys::Software { bits } => write!(f, "DeviceKeys::Software({bits})"),
        }
    }
}

/// What is set once, when a vault is opened, and never changes while it is open.
#[derive(Clone)]
pub struct Config {
    /// The time source of codes and push timestamps.
    pub clock: Arc<dyn Clock>,
    /// Whose passwordless rule gates approvals.
    pub platform: Platform,
    pub device_keys: DeviceKeys,
    /// Carries every push request: the platform's HTTP stack on a phone.
    pub transport: Arc<dyn HttpTransport>,
    /// Receives the core's diagnostics (never a secret: see [`crate::log`]).
    pub logger: Arc<dyn Logger>,
    /// How many push device keys a background thread keeps ready in the vault, so that
    /// enrolling does not wait for an RSA key (software keys of `device_keys`' size, sealed;
    /// platform keys when the store makes keys ahead). 0 turns the thread off; keys already
    /// ready are still used. At most [`super::MAX_SPARE_DEVICE_KEYS`]; apps use
    /// [`super::DEFAULT_SPARE_DEVICE_KEYS`].
    pub spare_device_keys: usize,
}

impl Config {
    /// The desktop's set-up: the desktop rule, software device keys, the given transport, no
    /// spare device keys made in the background (the CLI opens the vault for one command, so a
    /// key started at open would be abandoned at close; a desktop app that stays open sets
    /// [`Config::with_spare_device_keys`]).
    pub fn desktop(clock: Arc<dyn Clock>, transport: Arc<dyn HttpTransport>) -> Self {
        Config {
            clock,
            platform: Platform::Desktop,
            device_keys: DeviceKeys::software(),
            transport,
            logger: Arc::new(NoLogger),
            spare_device_keys: 0,
        }
    }

    /// The same keeping `count` spare device keys ready.
    pub fn with_spare_device_keys(mut self, count: usize) -> Self {
        self.spare_device_keys = count;
        self
    }

    /// The same with `logger` receiving the diagnostics.
    pub fn with_logger(mut self, logger: Arc<dyn Logger>) -> Self {
        self.logger = logger;
        self
    }

    /// A desktop set-up without network (push calls fail saying so): for code-only use.
    pub fn offline(clock: Arc<dyn Clock>) -> Self {
        Self::desktop(clock, Arc::new(crate::push::NoNetwork))
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("platform", &self.platform)
            .field("device_keys", &self.device_keys)
            .field("spare_device_keys", &self.spare_device_keys)
            .finish_non_exhaustive()
    }
}

/// What push calls share apart from the vault, fixed at open.
pub(in crate::authenticator) struct PushRuntime {
    pub(in crate::authenticator) client: Arc<crate::push::PushClient>,
    pub(in crate::authenticator) device_keys: DeviceKeys,
    pub(in crate::authenticator) platform: Platform,
}

impl Config {
    /// Refuses a configuration that cannot work, before any file is touched.
    fn check(&self) -> Result<()> {
        if let DeviceKeys::Software { bits } = self.device_keys
            && !crate::push::SoftwareDeviceKey::SUPPORTED_BITS.contains(&bits)
        {
            return Err(AuthError::Push(PushError::InvalidArgument {
                param: "software_key_bits".into(),
                reason: format!("{bits} is not supported (use 2048, 3072 or 4096)"),
            }));
        }
        if self.spare_device_keys > super::MAX_SPARE_DEVICE_KEYS {
            return Err(AuthError::Push(PushError::InvalidArgument {
                param: "spare_device_keys".into(),
                reason: format!(
                    "{} is more than {}",
                    self.spare_device_keys,
                    super::MAX_SPARE_DEVICE_KEYS
                ),
            }));
        }
        Ok(())
    }
}

impl Authenticator {
    /// Opens an existing vault.
    pub fn open(path: &Path, unlock: Unlock<'_>, config: Config) -> Result<Self> {
        config.check()?;
        let vault = Vault::open(path, unlock)?;
        Self::with_vault(vault, config)
    }

    /// Creates a new vault whose master key `key_store` wraps, with an optional password slot.
    pub fn create(
        path: &Path,
        key_store: &dyn KeyStore,
        password: Option<(&str, KdfParams)>,
        config: Config,
    ) -> Result<Self> {
        // Before the file exists: a refused configuration leaves nothing behind.
        config.check()?;
        let vault = Vault::create(path, key_store, password, config.clock.now())?;
        Self::with_vault(vault, config)
    }

    /// Opens the vault at `path` with `key_store`, creating it first if there is none: the
    /// no-set-up path of the CLI and of an app's first launch.
    pub fn open_or_create(path: &Path, key_store: &dyn KeyStore, config: Config) -> Result<Self> {
        if Vault::exists(path) {
            Self::open(path, Unlock::KeyStore(key_store), config)
        } else {
            Self::create(path, key_store, None, config)
        }
    }

    pub(in crate::authenticator) fn with_vault(vault: Vault, config: Config) -> Result<Self> {
        config.check()?;
        let log = Log::new(config.logger);
        let client = crate::push::PushClient::new(
            config.transport,
            crate::push::PushClientConfig::default(),
        )
        .with_log(log.clone());
        let state = State::load(vault)?;
        log.write(LogLevel::Info, "vault", || {
            format!("vault opened: {} account(s)", state.accounts.len())
        });
        let state = Arc::new(Mutex::new(state));
        // Started now, on a thread of its own: opening does not wait for it.
        let spare_keys = SpareKeys::start(
            &state,
            &config.device_keys,
            config.spare_device_keys,
            config.clock.clone(),
            log.clone(),
        );
        let auth = Authenticator {
            state,
            spare_keys,
            auto_backup: Default::default(),
            backup_writing: Default::default(),
            log,
            clock: config.clock,
            push: PushRuntime {
                client: Arc::new(client),
                device_keys: config.device_keys,
                platform: config.platform,
            },
        };
        // A change a crash (or another process without automatic backups) left unbacked-up
        // is caught here: the worker writes only when the accounts differ from the newest
        // backup.
        if let Ok(state) = auth.state.lock()
            && state.auto_backup_on
        {
            auth.auto_backup.changed(&auth.shared());
        }
        Ok(auth)
    }

    /// The platform whose passwordless rule gates approvals, as given at open.
    pub fn platform(&self) -> Platform {
        self.push.platform
    }
}
