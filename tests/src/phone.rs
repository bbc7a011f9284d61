//! A phone of the interop tests: the core's push client with one enrolled token, against any
//! server of the privacyIDEA family ([`PushServer`]: privacyIDEA's `push` token, eduMFA's
//! `edupush` token). Its checks panic with what was found, as the cases' asserts do.

use std::sync::Arc;

use authcore::push::{
    AnswerOutcome, DeviceKey, PollOutcome, PushAnswer, PushClient, PushClientConfig,
    PushCredential, PushEnrollment, PushError, PushRequest, SoftwareDeviceKey,
};
use authcore_http::ReqwestTransport;
use data_encoding::BASE64;
use libtest_mimic::Failed;

use crate::server::PushServer;
use crate::server::TokenInit;
use crate::suite::block_on;
use authcore::clock::{Clock, SystemClock};

/// A push client over the reqwest transport, as the CLI has.
pub fn new_client() -> Result<PushClient, PushError> {
    let transport = ReqwestTransport::new().map_err(|e| PushError::Network {
        reason: e.to_string(),
    })?;
    Ok(PushClient::new(
        Arc::new(transport),
        PushClientConfig::default(),
    ))
}

/// One phone with one enrolled push token.
pub struct Phone {
    pub key: SoftwareDeviceKey,
    pub credential: PushCredential,
    pub client: PushClient,
    pub init: TokenInit,
}

impl Phone {
    /// Enrolls a push token for `user` (token PIN `pin`) with a fresh `bits`-bit device key:
    /// step 1 by the admin, then the QR parsed and registered by authcore.
    pub fn enroll(
        server: &impl PushServer,
        user: &str,
        pin: &str,
        bits: usize,
        fb_token: Option<&str>,
    ) -> Result<Phone, Failed> {
        let init = server.init_push_token(user, pin)?;
        let now = SystemClock.now();
        let enrollment = PushEnrollment::parse(&init.uri, now, now)?;
        assert_eq!(
            enrollment.serial, init.serial,
            "the QR names the token's serial"
        );
        assert_eq!(
            enrollment.url,
            server.push_url(),
            "the QR names the registration URL of the policy"
        );
        assert!(!enrollment.sslverify, "the policy says ssl_verify=0");
        let key = SoftwareDeviceKey::generate(bits)?;
        let client = new_client()?;
        let credential = block_on(client.register(&enrollment, &key, fb_token, SystemClock.now()))?;
        assert_eq!(credential.serial, init.serial);
        assert_eq!(credential.fb_token.as_deref(), fb_token);
        Ok(Phone {
            key,
            credential,
            client,
            init,
        })
    }

    pub fn serial(&self) -> &str {
        &self.credential.serial
    }

    pub fn poll(&self) -> Result<PollOutcome, PushError> {
        block_on(
            self.client
                .poll(&self.credential, &self.key, SystemClock.now()),
        )
    }

    /// Polls and expects exactly one verified request and nothing rejected.
    pub fn poll_one(&self) -> Result<PushRequest, Failed> {
        let outcome = self.poll()?;
        assert!(
            outcome.rejected.is_empty(),
            "no poll entry may fail verification: {:?}",
            outcome.rejected
        );
        assert_eq!(
            outcome.requests.len(),
            1,
            "exactly one open challenge for {}: {:?}",
            self.serial(),
            outcome.requests
        );
        Ok(outcome
            .requests
            .into_iter()
            .next()
            .unwrap_or_else(|| unreachable!()))
    }

    pub fn answer(
        &self,
        request: &PushRequest,
        answer: &PushAnswer,
    ) -> Result<AnswerOutcome, PushError> {
        block_on(self.client.answer(
            &self.credential,
            &self.key,
            request,
            answer,
            SystemClock.now(),
        ))
    }

    /// Checks what the registration left at `server`: a `tokentype` token, enrolled, holding
    /// our key (the SPKI we sent, base64 without PEM armour) and no push token; the enrollment
    /// credential spent (a second registration is refused); nothing open (a poll succeeds and
    /// is empty).
    pub fn assert_registered(
        &self,
        server: &impl PushServer,
        tokentype: &str,
    ) -> Result<(), Failed> {
        let token = server.token_info(self.serial())?;
        assert_eq!(token["rollout_state"], "enrolled", "{token}");
        assert_eq!(token["tokentype"], tokentype, "{token}");
        let spki = self.key.public_key_spki_der()?;
        assert_eq!(
            token["info"]["public_key_smartphone"],
            BASE64.encode(&spki),
            "{token}"
        );
        assert_eq!(
            token["info"]["firebase_token"], "no_firebase_token",
            "{token}"
        );
        let now = SystemClock.now();
        let enrollment = PushEnrollment::parse(&self.init.uri, now, now)?;
        match block_on(self.client.register(&enrollment, &self.key, None, now)) {
            Err(PushError::Server { status, .. }) => assert!(status >= 400, "status {status}"),
            other => panic!("a second registration must fail with a server error: {other:?}"),
        }
        let outcome = self.poll()?;
        assert!(
            outcome.requests.is_empty() && outcome.rejected.is_empty(),
            "{outcome:?}"
        );
        Ok(())
    }

    /// Checks that `server` checks our signatures while `transaction` is open: a poll signed by
    /// another key is refused (HTTP 400, which never says whether the serial exists), and an
    /// answer signed by it is `"value": false`, surfaced as `Rejected`, leaving the challenge
    /// pending. Returns the open request, polled with our key.
    pub fn assert_other_keys_refused(
        &self,
        server: &impl PushServer,
        transaction: &str,
    ) -> Result<PushRequest, Failed> {
        let intruder = SoftwareDeviceKey::generate(2048)?;
        match block_on(
            self.client
                .poll(&self.credential, &intruder, SystemClock.now()),
        ) {
            Err(PushError::Server { status: 400, .. }) => {}
            other => panic!("a poll signed by another key must fail with HTTP 400: {other:?}"),
        }
        let request = self.poll_one()?;
        let forged = block_on(self.client.answer(
            &self.credential,
            &intruder,
            &request,
            &PushAnswer::Accept,
            SystemClock.now(),
        ));
        assert!(
            matches!(forged, Err(PushError::Rejected { .. })),
            "{forged:?}"
        );
        assert_eq!(server.challenge_status(transaction)?, "pending");
        Ok(request)
    }
}
