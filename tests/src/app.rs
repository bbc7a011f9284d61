//! An app of the interop tests: an `Authenticator` (the facade the CLI and the FFI use) over its
//! own vault in a temporary directory, with software device keys and the reqwest transport,
//! enrolling from any server of the privacyIDEA family ([`PushServer`]). Its checks panic with
//! what was found, as the cases' asserts do.

use std::sync::Arc;

use authcore::account::CredentialKind;
use authcore::authenticator::{
    AccountInfo, AnswerOutcome, AuthError, Authenticator, Config, Decision, DeviceKeys,
    HttpTransport, PushRequestInfo, UserPresence,
};
use authcore::clock::SystemClock;
use authcore::log::NoLogger;
use authcore::policy::Platform;
use authcore::vault::FileKeyStore;
use authcore_http::ReqwestTransport;
use libtest_mimic::Failed;

use crate::server::PushServer;
use crate::suite::block_on;

/// A phone: an app's vault with the core on top.
pub struct App {
    _dir: tempfile::TempDir,
    pub auth: Authenticator,
}

impl App {
    pub fn new(bits: usize) -> Result<App, Failed> {
        Self::on(Platform::Desktop, bits)
    }

    /// An app on `platform` with software device keys of `bits`, over the reqwest transport.
    pub fn on(platform: Platform, bits: usize) -> Result<App, Failed> {
        Self::with_spare_keys(platform, bits, 0)
    }

    /// The same keeping `spare` device keys ready in the background, as a phone app does.
    pub fn with_spare_keys(platform: Platform, bits: usize, spare: usize) -> Result<App, Failed> {
        Self::with_transport(platform, bits, spare, Arc::new(ReqwestTransport::new()?))
    }

    /// The same over `transport`.
    pub fn with_transport(
        platform: Platform,
        bits: usize,
        spare: usize,
        transport: Arc<dyn HttpTransport>,
    ) -> Result<App, Failed> {
        let dir = tempfile::tempdir()?;
        let store = FileKeyStore::create(&dir.path().join("key"))?;
        let config = Config {
            clock: Arc::new(SystemClock),
            platform,
            device_keys: DeviceKeys::Software { bits },
            transport,
            logger: Arc::new(NoLogger),
            spare_device_keys: spare,
        };
        let auth = Authenticator::create(&dir.path().join("vault.sqlite"), &store, None, config)?;
        Ok(App { _dir: dir, auth })
    }

    /// Scans and enrolls, as an app does after the user confirmed the preview.
    pub fn enroll_uri(
        &self,
        uri: &str,
        push_token: Option<&str>,
        attach_to: Option<&str>,
    ) -> Result<AccountInfo, AuthError> {
        let scanned = self.auth.scan_push_enrollment(uri)?;
        block_on(self.auth.enroll_push(scanned, push_token, attach_to))
    }

    /// Enrolls a push token of `server` for `user` with token PIN `<user>-pin`; returns the
    /// account's id.
    pub fn enroll(
        &self,
        server: &impl PushServer,
        user: &str,
        push_token: Option<&str>,
    ) -> Result<String, Failed> {
        let init = server.init_push_token(user, &format!("{user}-pin"))?;
        let info = self.enroll_uri(&init.uri, push_token, None)?;
        assert_eq!(info.push_serial.as_deref(), Some(init.serial.as_str()));
        assert_eq!(info.kind, CredentialKind::Push);
        Ok(info.id.to_string())
    }

    /// "Check for notifications", expecting exactly `n` requests and no problem.
    pub fn check(&self, n: usize) -> Result<Vec<PushRequestInfo>, Failed> {
        let outcome = block_on(self.auth.check_pending())?;
        assert!(outcome.problems.is_empty(), "{:?}", outcome.problems);
        assert_eq!(outcome.requests.len(), n, "{:?}", outcome.requests);
        // One server: its Date header gives its clock, and it is this machine's.
        assert_eq!(
            outcome.server_clocks.len(),
            1,
            "{:?}",
            outcome.server_clocks
        );
        let offset = outcome.server_clocks[0].offset_ms;
        assert!(
            offset.abs() <= 2000,
            "same machine, same clock: {offset} ms"
        );
        Ok(outcome.requests)
    }

    pub fn answer(&self, nonce: &str, decision: Decision) -> Result<AnswerOutcome, AuthError> {
        block_on(
            self.auth
                .answer_push(nonce, decision, UserPresence::NotVerified),
        )
    }
}
