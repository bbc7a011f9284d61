//! What the platform implements (foreign traits), and their adapters to the core's traits.

use std::sync::Arc;

use authcore::clock::{Clock, SystemClock};
use authcore::secret::Secret;
use authcore::time::UnixTime;
use authcore::vault::{KeyStore as CoreKeyStore, KeyStoreError as CoreKeyStoreError};

use crate::errors::KeyStoreError;

// Every moment crosses the FFI as whole Unix seconds, an `i64` (Kotlin `Long`, Swift `Int64`,
// under the name `UnixTime`): the core's one time type, lowered in one place.
uniffi::custom_type!(UnixTime, i64, {
    remote,
    lower: |t| t.as_secs(),
    try_lift: |secs| Ok(UnixTime::from_secs(secs)),
});

/// Wraps and unwraps the vault's 32-byte master key with a key the platform holds (Android
/// Keystore, iOS Keychain / Secure Enclave). The wrapped bytes are stored in the vault as given.
#[uniffi::export(with_foreign)]
pub trait VaultKeyStore: Send + Sync {
    fn wrap(&self, master_key: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
    fn unwrap(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyStoreError>;
}

/// Where "now" comes from (Unix seconds). Apps pass the system clock; tests pass a fixed one.
#[uniffi::export(with_foreign)]
pub trait TimeSource: Send + Sync {
    fn now_unix_seconds(&self) -> UnixTime;
}

struct SystemTimeSource;

impl TimeSource for SystemTimeSource {
    fn now_unix_seconds(&self) -> UnixTime {
        SystemClock.now()
    }
}

/// The device's wall clock, for apps that need nothing else.
#[uniffi::export]
pub fn system_time_source() -> Arc<dyn TimeSource> {
    Arc::new(SystemTimeSource)
}

pub(crate) struct ForeignKeyStore(pub Arc<dyn VaultKeyStore>);

impl CoreKeyStore for ForeignKeyStore {
    fn wrap(&self, master_key: &Secret) -> Result<Vec<u8>, CoreKeyStoreError> {
        self.0.wrap(master_key.expose().to_vec()).map_err(to_core)
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Secret, CoreKeyStoreError> {
        self.0
            .unwrap(wrapped.to_vec())
            .map(Secret::new)
            .map_err(to_core)
    }
}

fn to_core(e: KeyStoreError) -> CoreKeyStoreError {
    match e {
        KeyStoreError::WrongKey => CoreKeyStoreError::WrongKey,
        other => CoreKeyStoreError::Refused {
            reason: other.to_string(),
        },
    }
}

struct ForeignClock(Arc<dyn TimeSource>);

impl Clock for ForeignClock {
    fn now(&self) -> UnixTime {
        self.0.now_unix_seconds()
    }
}

pub(crate) fn clock(source: Arc<dyn TimeSource>) -> Arc<dyn Clock> {
    Arc::new(ForeignClock(source))
}
