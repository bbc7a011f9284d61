//! A real privacyIDEA 3.14 on 127.0.0.1 for interop tests, and the calls around it that only
//! privacyIDEA has.
//!
//! [`PrivacyIdea::start`] starts the server through the harness it shares with eduMFA
//! ([`crate::server`]: cached venv from `tests/privacyidea/install.sh`, or
//! `AUTHCORE_PRIVACYIDEA_VENV`; a fresh configuration; the users of [`USERS`] in the default
//! realm [`REALM`]) and sets the base policies: PUSH enrollment with polling and `sslverify=0`
//! (plain http here), and challenge texts [`PUSH_TITLE`] / "Login for {user}?". It derefs to the
//! [`Server`] for the admin and relying-party calls.
//!
//! The server is stopped when the harness is dropped, and also when the test process dies without
//! dropping it (panic with abort, kill -9): `serve.py` watches its parent pid and exits with it.
//!
//! Every failure is an error with the server's message (and the tail of its log when it did not
//! come up): a test that cannot reach the server fails, it never skips.

use std::fmt;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::ops::Deref;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

pub use crate::server::{
    BASE_PRIORITY, CheckResponse, HarnessError, REALM, Result, TokenInit, TransactionStatus, USERS,
    user_password,
};
use crate::server::{Product, PushServer, Server};

/// `push_title_on_mobile` of the base authentication policy.
pub const PUSH_TITLE: &str = "PI Test";
/// Names of the base policies set by [`PrivacyIdea::start`].
pub const BASE_ENROLLMENT_POLICY: &str = "authcore-base-enrollment";
pub const BASE_AUTHENTICATION_POLICY: &str = "authcore-base-authentication";

/// The challenge question the base policy makes privacyIDEA send for `user`.
pub fn push_question(user: &str) -> String {
    format!("Login for {user}?")
}

/// privacyIDEA 3.14 as [`Server`] runs it.
pub static PRIVACYIDEA: Product = Product {
    label: "privacyIDEA 3.14",
    name: "privacyidea",
    venv_var: "AUTHCORE_PRIVACYIDEA_VENV",
    manage: "pi-manage",
    config_var: "PRIVACYIDEA_CONFIGFILE",
    config_prefix: "PI_",
    extra_config: privacyidea_config,
    auth_header: "PI-Authorization",
    ready_path: "/healthz/",
    policy_needs_realm: false,
};

/// 3.10+ warns without its own base URL, and keeps its node's UUID in a file.
fn privacyidea_config(dir: &Path, base_url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("PI_BASE_URL", base_url.to_owned()),
        ("PI_UUID_FILE", dir.join("uuid.txt").display().to_string()),
    ]
}

/// A running privacyIDEA with its base policies, and the fake FCM its HTTP gateway can deliver
/// to. Stops both on drop.
pub struct PrivacyIdea {
    server: Server,
    fcm: FakeFcm,
}

impl fmt::Debug for PrivacyIdea {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PrivacyIdea")
            .field("server", &self.server)
            .field("fcm", &self.fcm)
            .finish()
    }
}

impl Deref for PrivacyIdea {
    type Target = Server;

    fn deref(&self) -> &Server {
        &self.server
    }
}

impl PushServer for PrivacyIdea {
    fn push_url(&self) -> String {
        PrivacyIdea::push_url(self)
    }

    fn init_push_token(&self, user: &str, pin: &str) -> Result<TokenInit> {
        PrivacyIdea::init_push_token(self, user, pin)
    }
}

impl PrivacyIdea {
    /// Installs (if needed), configures and starts a fresh server with users, realm and base
    /// policies. About 10 s when the venv is cached.
    pub fn start() -> Result<Self> {
        let fcm = FakeFcm::start()?;
        let server = Server::start(&PRIVACYIDEA, |server| {
            // Priority BASE_PRIORITY: a user policy (priority 1) setting the same action wins
            // instead of conflicting (ERR303).
            let push_url = format!("{}/ttype/push", server.base_url());
            server.set_policy_json(
                BASE_ENROLLMENT_POLICY,
                &json!({"scope": "enrollment", "active": true, "priority": BASE_PRIORITY,
                "action": format!(
                    "push_firebase_configuration=poll only, push_registration_url={push_url}, \
                     push_ssl_verify=0, push_ttl=10"
                )}),
            )?;
            server.set_policy_json(
                BASE_AUTHENTICATION_POLICY,
                &json!({"scope": "authentication", "active": true, "priority": BASE_PRIORITY,
                "action": format!(
                    "push_allow_polling=allow, push_ssl_verify=0, \
                     push_text_on_mobile=Login for {{user}}?, push_title_on_mobile={PUSH_TITLE}"
                )}),
            )
        })?;
        Ok(PrivacyIdea { server, fcm })
    }

    /// The PUSH endpoint the enrollment QR codes name: `http://127.0.0.1:PORT/ttype/push`.
    pub fn push_url(&self) -> String {
        format!("{}/ttype/push", self.base_url())
    }

    /// The fake FCM endpoint that records what the HTTP gateway sends.
    pub fn fake_fcm(&self) -> &FakeFcm {
        &self.fcm
    }

    /// Enrollment step 1 of a PUSH token for `user` with token PIN `pin`: returns the serial
    /// and the QR's URI (`detail.pushurl.value`).
    pub fn init_push_token(&self, user: &str, pin: &str) -> Result<TokenInit> {
        self.init_token(user, pin, &[("type", "push")], "/detail/pushurl/value")
    }

    /// Creates the HTTP SMS gateway `gateway` that delivers push messages as JSON to the
    /// [`FakeFcm`] listener. Tokens enrolled under an enrollment policy
    /// `push_firebase_configuration=<gateway>` (see [`PrivacyIdea::use_fake_fcm_for_user`]) get
    /// every challenge through it.
    pub fn configure_fake_fcm(&self, gateway: &str) -> Result<()> {
        let url = format!("{}/push", self.fcm.base_url());
        self.admin_post_form(
            "/smsgateway",
            &[
                ("name", gateway),
                (
                    "module",
                    "privacyidea.lib.smsprovider.HttpSMSProvider.HttpSMSProvider",
                ),
                ("option.URL", &url),
                ("option.HTTP_METHOD", "POST"),
                ("option.SEND_DATA_AS_JSON", "yes"),
                ("option.ALLOW_PUSH", "yes"),
                ("option.device_token", "{phone}"),
                ("option.data", "{message}"),
            ],
        )
        .map(drop)
    }

    /// Creates the gateway `gateway` (as [`PrivacyIdea::configure_fake_fcm`]) and a policy
    /// `<gateway>-<user>` so `user`'s new PUSH tokens use it instead of polling only.
    pub fn use_fake_fcm_for_user(&self, gateway: &str, user: &str) -> Result<()> {
        self.configure_fake_fcm(gateway)?;
        self.set_user_policy(
            &format!("{gateway}-{user}"),
            "enrollment",
            &format!("push_firebase_configuration={gateway}"),
            user,
        )
    }
}

/// A stand-in for FCM on 127.0.0.1: records the JSON body of every POST
/// (`{"device_token": ..., "data": {...}}` from privacyIDEA's HTTP gateway) and answers 200.
/// Stopped on drop.
pub struct FakeFcm {
    port: u16,
    received: Arc<(Mutex<Vec<Value>>, Condvar)>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl fmt::Debug for FakeFcm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FakeFcm")
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

impl FakeFcm {
    pub fn start() -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| HarnessError(format!("fake FCM: cannot listen on 127.0.0.1: {e}")))?;
        let port = listener
            .local_addr()
            .map_err(|e| HarnessError(format!("fake FCM: {e}")))?
            .port();
        let received = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let received = received.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("fake-fcm".into())
                .spawn(move || {
                    for stream in listener.incoming() {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let Ok(stream) = stream else { continue };
                        let recorded = match read_request(stream) {
                            Ok(body) => serde_json::from_slice(&body).unwrap_or_else(|e| {
                                Value::String(format!(
                                    "not JSON ({e}): {}",
                                    String::from_utf8_lossy(&body)
                                ))
                            }),
                            Err(e) => Value::String(format!("bad request: {e}")),
                        };
                        let (list, signal) = &*received;
                        list.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push(recorded);
                        signal.notify_all();
                    }
                })
                .map_err(|e| HarnessError(format!("fake FCM: cannot spawn its thread: {e}")))?
        };
        Ok(FakeFcm {
            port,
            received,
            stop,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`; it takes POSTs at any path.
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every body received so far, oldest first (a body that was not JSON is recorded as a
    /// string saying so).
    pub fn messages(&self) -> Vec<Value> {
        self.received
            .0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Waits up to `timeout` for a message matching `matches` (looking at earlier ones too).
    pub fn wait_for(&self, timeout: Duration, matches: impl Fn(&Value) -> bool) -> Option<Value> {
        self.wait_until(timeout, |all| all.iter().find(|m| matches(m)).cloned())
    }

    /// Waits up to `timeout` for the `nth` (from 0) message addressed to token `serial`.
    pub fn wait_for_serial(&self, serial: &str, nth: usize, timeout: Duration) -> Option<Value> {
        self.wait_until(timeout, |all| {
            all.iter()
                .filter(|m| m.pointer("/data/serial").and_then(Value::as_str) == Some(serial))
                .nth(nth)
                .cloned()
        })
    }

    fn wait_until(
        &self,
        timeout: Duration,
        found: impl Fn(&[Value]) -> Option<Value>,
    ) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        let (list, signal) = &*self.received;
        let mut guard = list.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if let Some(message) = found(&guard) {
                return Some(message);
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            guard = signal
                .wait_timeout(guard, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }
}

impl Drop for FakeFcm {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        if let Ok(stream) = TcpStream::connect(("127.0.0.1", self.port)) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Reads one HTTP/1.1 request with a Content-Length body and answers `200 {}`.
fn read_request(stream: TcpStream) -> std::io::Result<Vec<u8>> {
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other(
                "connection closed inside the headers",
            ));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("content-length")
        {
            length = value
                .trim()
                .parse()
                .map_err(|_| std::io::Error::other("bad Content-Length"))?;
        }
    }
    if length > 1024 * 1024 {
        return Err(std::io::Error::other("body larger than 1 MiB"));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    let mut stream = stream;
    stream.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
    )?;
    stream.flush()?;
    Ok(body)
}
