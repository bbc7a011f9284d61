//! A real eduMFA 2.9.5 on 127.0.0.1 for interop tests: the privacyIDEA fork whose push token is
//! `edupush`, the second push server the core is tested against.
//!
//! [`EduMfa::start`] starts the server through the harness it shares with privacyIDEA
//! ([`crate::server`]: cached venv from `tests/edumfa/install.sh`, or `AUTHCORE_EDUMFA_VENV`; a
//! fresh configuration; the users of [`USERS`] in the default realm [`REALM`]) and sets the base
//! policies for `edupush` tokens: enrollment with polling only and `sslverify=0` (plain http
//! here), polling allowed, and challenge texts [`PUSH_TITLE`] / [`PUSH_QUESTION`]. It derefs to
//! the [`Server`] for the admin and relying-party calls.
//!
//! What eduMFA does differently from privacyIDEA 3.14, as the harness sees it: the admin's JWT
//! goes in `Authorization` (not `PI-Authorization`), a policy must name a realm (empty: all),
//! there is no `/healthz/`, config keys start with `EDUMFA_`, the management program is
//! `edumfa-manage` with flat commands (`create_tables`, `runserver`), and the push policies are
//! the `edupush_*` actions. The token's wire protocol is privacyIDEA's, minus number matching,
//! code-to-phone and decline reasons (docs/push.md, "eduMFA").
//!
//! The server is stopped when the harness is dropped, and also when the test process dies without
//! dropping it: `serve.py` watches its parent pid and exits with it. Every failure is an error with
//! the server's message: a test that cannot reach the server fails, it never skips.

use std::ops::Deref;
use std::path::Path;

use serde_json::json;

pub use crate::server::{
    BASE_PRIORITY, CheckResponse, HarnessError, REALM, Result, TokenInit, TransactionStatus, USERS,
    user_password,
};
use crate::server::{Product, PushServer, Server};

/// `edupush_title_on_mobile` of the base authentication policy.
pub const PUSH_TITLE: &str = "eduMFA Test";
/// Names of the base policies set by [`EduMfa::start`].
pub const BASE_ENROLLMENT_POLICY: &str = "authcore-base-enrollment";
pub const BASE_AUTHENTICATION_POLICY: &str = "authcore-base-authentication";
/// The config key of an `edupush` challenge's validity in seconds (eduMFA looks up
/// `<Tokentype>ChallengeValidityTime`, then `DefaultChallengeValidityTime`, then 120).
pub const CHALLENGE_VALIDITY_KEY: &str = "EdupushChallengeValidityTime";

/// `edupush_text_on_mobile` of the base authentication policy: the challenge's question. eduMFA
/// 2.9.5 sends it as it is (privacyIDEA 3.14 would fill in a `{user}` tag; eduMFA does not).
pub const PUSH_QUESTION: &str = "Sign in at the authcore test server?";

/// eduMFA 2.9.5 as [`Server`] runs it.
pub static EDUMFA: Product = Product {
    label: "eduMFA 2.9.5",
    name: "edumfa",
    venv_var: "AUTHCORE_EDUMFA_VENV",
    manage: "edumfa-manage",
    config_var: "EDUMFA_CONFIGFILE",
    config_prefix: "EDUMFA_",
    extra_config: no_extra_config,
    auth_header: "Authorization",
    // The web UI's start page: no health endpoint in eduMFA.
    ready_path: "/",
    policy_needs_realm: true,
};

fn no_extra_config(_dir: &Path, _base_url: &str) -> Vec<(&'static str, String)> {
    Vec::new()
}

/// A running eduMFA with its base policies. Stops it on drop.
#[derive(Debug)]
pub struct EduMfa {
    server: Server,
}

impl Deref for EduMfa {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

impl PushServer for EduMfa {
    fn push_url(&self) -> String {
        EduMfa::push_url(self)
    }

    fn init_push_token(&self, user: &str, pin: &str) -> Result<TokenInit> {
        EduMfa::init_push_token(self, user, pin)
    }
}

impl EduMfa {
    /// Installs (if needed), configures and starts a fresh server with users, realm and base
    /// policies. About 10 s when the venv is cached.
    pub fn start() -> Result<Self> {
        let server = Server::start(&EDUMFA, |server| {
            let push_url = format!("{}/ttype/edupush", server.base_url());
            // Without edupush_firebase_configuration or edupush_registration_url, /token/init
            // of an edupush token fails (ERR303, a missing enrollment policy).
            server.set_policy_json(
                BASE_ENROLLMENT_POLICY,
                &json!({"scope": "enrollment", "active": true, "priority": BASE_PRIORITY,
                "action": format!(
                    "edupush_firebase_configuration=poll only, \
                     edupush_registration_url={push_url}, edupush_ssl_verify=0, edupush_ttl=10"
                )}),
            )?;
            server.set_policy_json(
                BASE_AUTHENTICATION_POLICY,
                &json!({"scope": "authentication", "active": true, "priority": BASE_PRIORITY,
                "action": format!(
                    "edupush_allow_polling=allow, edupush_ssl_verify=0, \
                     edupush_text_on_mobile={PUSH_QUESTION}, \
                     edupush_title_on_mobile={PUSH_TITLE}"
                )}),
            )
        })?;
        Ok(EduMfa { server })
    }

    /// The `edupush` endpoint the enrollment QR codes name:
    /// `http://127.0.0.1:PORT/ttype/edupush`.
    pub fn push_url(&self) -> String {
        format!("{}/ttype/edupush", self.base_url())
    }

    /// Enrollment step 1 of an `edupush` token for `user` with token PIN `pin`: returns the
    /// serial (`EDUP...`) and the QR's URI (`detail.pushurl.value`, `edumfa-push://edumfa/...`).
    pub fn init_push_token(&self, user: &str, pin: &str) -> Result<TokenInit> {
        self.init_token(user, pin, &[("type", "edupush")], "/detail/pushurl/value")
    }
}
