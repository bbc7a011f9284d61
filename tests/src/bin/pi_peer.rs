//! The privacyIDEA peer of the Kotlin and Swift push tests: a real privacyIDEA 3.14 (the
//! `PrivacyIdea` harness) behind two HTTPS fronts, driven through a small control API, so the
//! binding tests meet the real server over TLS instead of `push_stand_in`.
//!
//! Usage: `pi_peer DESCRIPTION.json`. It starts privacyIDEA, the fake FCM gateway, a `trusted`
//! and an `untrusted` TLS front (each with its own throwaway CA; only the trusted one's is
//! published) and the control API on a free 127.0.0.1 port, then writes DESCRIPTION.json
//! atomically (the trusted CA as PEM and DER next to it, so a chroot that sees the directory sees
//! them too). It serves until its stdin reaches EOF (a pipe held by the test script, so it dies
//! with it), then stops everything it started and removes the files it wrote.
//!
//! Control API, JSON in and out, errors as 4xx/5xx `{"error": "<one line>"}`; each request is
//! logged as one stderr line:
//! - `POST /enroll {"front": "trusted"|"untrusted"|"plain", "user"?, "number_matching"?,
//!   "poll_only"?}` -> `{uri, serial, user, pin, front, push_url, sslverify, number_matching,
//!   poll_only}`: a push token for `user` (default: a fresh user per call) whose enrollment URI
//!   names the chosen front, with `sslverify=1` for the TLS fronts and `0` for plain.
//! - `POST /trigger {"user", "pin"?, "serial"?}` -> `{transaction_id, serial, user, nonce,
//!   notification, device_token, answers, correct_answer}`: `/validate/check` with the PIN
//!   (default: the enrolled one), then the FCM `data` map privacyIDEA sent for that challenge
//!   (`null` for a poll-only token); `answers`/`correct_answer` are `null` without number
//!   matching.
//! - `GET /status?transaction_id=` -> `{status, accepted, decline_reason}`: the login page's
//!   view (`/validate/polltransaction`), and the reason a phone declined with, read from the
//!   audit log (`null` for none).
//! - `POST /finalize {"transaction_id", "user"?, "pass"?}` -> `{accepted, authentication,
//!   message}`: the relying party's last step.
//! - `GET /token?serial=` -> `{serial, rollout_state, active, front}`: `clientwait` until a
//!   phone registered.
//! - `POST /container {"front", "user"?}` -> `{qr, container, totp_serial, user, pin}`: a
//!   smartphone container (holding one TOTP token) whose registration QR code names the chosen
//!   front, with `ssl_verify=True` for the TLS fronts.
//! - `POST /check {"user", "pass"}` -> `{accepted}`: `/validate/check` (PIN and code).
//!
//! Policies. privacyIDEA ignores a policy's `user` and `realm` when a request names no user, and
//! a phone's poll names none: plain user policies would then leak into every token's poll (one
//! user's `push_registration_url` and `push_ssl_verify` on another user's challenges, or a
//! conflict between two users' values). So every policy the peer sets carries a condition that
//! is false when its subject is missing: user policies (`pipeer-<user>-enrollment`,
//! `pipeer-<user>-authentication`: the QR's URL and sslverify, FCM or poll only, number
//! matching) match only when the request resolves that user (token init, trigger), and token
//! policies (`pipeer-<serial>-poll-*`: the URL and sslverify of the token's front) only when the
//! request names that serial (polls, answers). The one global setting is the SMS gateway
//! `pipeer-fcm` that carries push messages to the fake FCM. A user's policies are replaced when
//! the same user enrolls again: its latest enrollment decides what later triggers send.
//!
//! Fresh users live in the peer's own flat-file resolver `pipeerusers`, added to the harness's
//! realm next to its users (the realm's resolver list is the other global change);
//! privacyIDEA reads that file on every request, so a user exists as soon as the file is
//! replaced. Their password is unusable: a push trigger takes the token PIN.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use authcore_tests::privacyidea::{PrivacyIdea, REALM, USERS};
use authcore_tests::tls_front::TlsFront;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde_json::{Map, Value, json};
use tiny_http::{Header, Method, Request, Response, Server};

const GATEWAY: &str = "pipeer-fcm";
const RESOLVER: &str = "pipeerusers";
const PUSH_PATH: &str = "/ttype/push";
/// privacyIDEA hands a push message to the gateway within the trigger request; this is slack.
const FCM_WAIT: Duration = Duration::from_secs(20);
const MAX_BODY: u64 = 64 * 1024;
/// First uid of the peer's users (the harness's start at 1001; separate resolvers, but keep them
/// apart for whoever reads a log).
const FIRST_UID: u32 = 5001;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Front {
    Trusted,
    Untrusted,
    Plain,
}

impl Front {
    fn parse(name: &str) -> Option<Self> {
        match name {
            "trusted" => Some(Front::Trusted),
            "untrusted" => Some(Front::Untrusted),
            "plain" => Some(Front::Plain),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Front::Trusted => "trusted",
            Front::Untrusted => "untrusted",
            Front::Plain => "plain",
        }
    }

    /// privacyIDEA's `push_ssl_verify`: verified TLS behind the fronts; plain http cannot be.
    fn sslverify(self) -> &'static str {
        match self {
            Front::Plain => "0",
            Front::Trusted | Front::Untrusted => "1",
        }
    }
}

/// An API failure: HTTP status and one line.
struct ApiError(u16, String);

type ApiResult = Result<Value, ApiError>;

fn bad_request(message: impl Into<String>) -> ApiError {
    ApiError(400, message.into())
}

fn not_found(message: impl Into<String>) -> ApiError {
    ApiError(404, message.into())
}

/// A privacyIDEA call that failed: the harness's message, on one line.
fn upstream(what: &str, e: impl std::fmt::Display) -> ApiError {
    ApiError(502, one_line(&format!("{what}: {e}")))
}

fn internal(message: impl Into<String>) -> ApiError {
    ApiError(500, message.into())
}

/// Newlines folded and the length capped: every log and error line stays one line.
fn one_line(text: &str) -> String {
    let folded = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ");
    if folded.chars().count() > 2000 {
        folded.chars().take(2000).collect::<String>() + " ..."
    } else {
        folded
    }
}

struct EnrolledToken {
    user: String,
    pin: String,
    front: Front,
    poll_only: bool,
}

#[derive(Default)]
struct Tokens {
    by_serial: HashMap<String, EnrolledToken>,
    /// The serial each user enrolled last: what `/trigger` means without a serial.
    latest: HashMap<String, String>,
    /// The user of each triggered transaction, for `/finalize` without a user.
    transactions: HashMap<String, String>,
}

/// The peer's own users file (name:password:uid:gid:gecos::).
struct PeerUsers {
    file: PathBuf,
    lines: Vec<String>,
    known: HashSet<String>,
    next: u32,
}

struct Peer {
    // Dropped in this order: privacyIDEA first, so nothing is served through a closing front.
    pi: PrivacyIdea,
    trusted: TlsFront,
    untrusted: TlsFront,
    users: Mutex<PeerUsers>,
    tokens: Mutex<Tokens>,
    _dir: tempfile::TempDir,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking request thread leaves consistent maps behind (each update is one insert).
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

fn random_hex(bytes: usize) -> String {
    let mut out = String::new();
    while out.len() < bytes * 2 {
        out.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    out.truncate(bytes * 2);
    out
}

/// What privacyIDEA accepts as a login name and what a passwd line can hold.
fn valid_user_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() <= 64
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}

fn text_field<'a>(body: &'a Value, field: &str) -> Result<Option<&'a str>, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(bad_request(format!(
            "{field} must be a string, not {other}"
        ))),
    }
}

/// The request's `front`: required, one of trusted, untrusted, plain.
fn front_field(body: &Value) -> Result<Front, ApiError> {
    let name = text_field(body, "front")?
        .ok_or_else(|| bad_request("front is required: trusted, untrusted or plain"))?;
    Front::parse(name).ok_or_else(|| {
        bad_request(format!(
            "front {name:?}: expected trusted, untrusted or plain"
        ))
    })
}

fn bool_field(body: &Value, field: &str) -> Result<bool, ApiError> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(bad_request(format!(
            "{field} must be a boolean, not {other}"
        ))),
    }
}

/// The `url` and `sslverify` parameters of an enrollment URI.
fn uri_params(uri: &str) -> HashMap<String, String> {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

impl Peer {
    fn start(started: Instant) -> Result<Self, String> {
        let pi = PrivacyIdea::start().map_err(|e| format!("cannot start privacyIDEA: {e}"))?;
        eprintln!(
            "pi_peer: privacyIDEA up at {} in {:.1} s",
            pi.base_url(),
            pi.started_in().as_secs_f64()
        );
        pi.configure_fake_fcm(GATEWAY)
            .map_err(|e| format!("cannot configure the fake FCM gateway: {e}"))?;
        let backend = SocketAddr::from(([127, 0, 0, 1], pi.port()));
        let trusted = TlsFront::start(backend).map_err(|e| e.to_string())?;
        let untrusted = TlsFront::start(backend).map_err(|e| e.to_string())?;

        let dir = tempfile::Builder::new()
            .prefix("authcore-pi-peer-")
            .tempdir()
            .map_err(|e| format!("cannot create a temporary directory: {e}"))?;
        let file = dir.path().join("users.passwd");
        std::fs::write(&file, "").map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        pi.admin_post_form(
            &format!("/resolver/{RESOLVER}"),
            &[
                ("type", "passwdresolver"),
                ("fileName", &file.display().to_string()),
            ],
        )
        .map_err(|e| format!("cannot add the peer's user resolver: {e}"))?;
        // The harness's resolver keeps priority: a name in both would be its user.
        let resolvers = format!("flatfile,{RESOLVER}");
        pi.admin_post_form(
            &format!("/realm/{REALM}"),
            &[
                ("resolvers", &resolvers),
                ("priority.flatfile", "1"),
                (&format!("priority.{RESOLVER}"), "2"),
            ],
        )
        .map_err(|e| format!("cannot add the peer's resolver to {REALM}: {e}"))?;
        eprintln!(
            "pi_peer: fronts and resolver ready after {:.1} s",
            started.elapsed().as_secs_f64()
        );
        Ok(Peer {
            pi,
            trusted,
            untrusted,
            users: Mutex::new(PeerUsers {
                file,
                lines: Vec::new(),
                known: USERS.iter().map(|u| (*u).to_owned()).collect(),
                next: 1,
            }),
            tokens: Mutex::new(Tokens::default()),
            _dir: dir,
        })
    }

    fn push_url(&self, front: Front) -> String {
        match front {
            Front::Trusted => self.trusted.url(PUSH_PATH),
            Front::Untrusted => self.untrusted.url(PUSH_PATH),
            Front::Plain => self.pi.push_url(),
        }
    }

    /// `requested`, or a fresh name; created in the peer's resolver unless it exists.
    fn ensure_user(&self, requested: Option<&str>) -> Result<String, ApiError> {
        let mut users = lock(&self.users);
        let name = match requested {
            Some(name) if !valid_user_name(name) => {
                return Err(bad_request(format!(
                    "user {name:?}: use 1 to 64 of A-Z a-z 0-9 . _ - (starting alphanumeric)"
                )));
            }
            Some(name) if users.known.contains(name) => return Ok(name.to_owned()),
            Some(name) => name.to_owned(),
            None => loop {
                let name = format!("peer{:03}", users.next);
                users.next += 1;
                if !users.known.contains(&name) {
                    break name;
                }
            },
        };
        let uid = FIRST_UID + u32::try_from(users.lines.len()).unwrap_or(u32::MAX - FIRST_UID);
        // "x" is no crypt hash: the password never matches, and push logins use the token PIN.
        users.lines.push(format!("{name}:x:{uid}:{uid}:{name}::"));
        let content = users.lines.join("\n") + "\n";
        // Replaced, not appended: privacyIDEA re-reads the file per request and must never see
        // half a line.
        if let Err(e) = write_atomically(&users.file, content.as_bytes()) {
            users.lines.pop();
            return Err(internal(format!(
                "cannot write {}: {e}",
                users.file.display()
            )));
        }
        users.known.insert(name.clone());
        Ok(name)
    }

    fn set_conditional_policy(
        &self,
        name: &str,
        scope: &str,
        action: &str,
        subject: Subject<'_>,
    ) -> Result<(), ApiError> {
        // condition_is_false: a request without the user (a poll) or without the token (an
        // init or a trigger) does not match.
        let policy = match subject {
            Subject::User(user) => json!({
                "scope": scope, "action": action, "active": true, "priority": 1,
                "realm": REALM, "user": user,
                "conditions": [["userinfo", "username", "equals", user, true, "condition_is_false"]],
            }),
            Subject::Token(serial) => json!({
                "scope": scope, "action": action, "active": true, "priority": 1,
                "conditions": [["token", "serial", "equals", serial, true, "condition_is_false"]],
            }),
        };
        self.pi
            .set_policy_json(name, &policy)
            .map_err(|e| upstream(&format!("setting policy {name}"), e))
    }

    fn enroll(&self, body: &Value) -> ApiResult {
        let front = front_field(body)?;
        let number_matching = bool_field(body, "number_matching")?;
        let poll_only = bool_field(body, "poll_only")?;
        let user = self.ensure_user(text_field(body, "user")?)?;
        let url = self.push_url(front);
        let sslverify = front.sslverify();
        let delivery = if poll_only { "poll only" } else { GATEWAY };
        self.set_conditional_policy(
            &format!("pipeer-{user}-enrollment"),
            "enrollment",
            &format!(
                "push_registration_url={url}, push_ssl_verify={sslverify}, \
                 push_firebase_configuration={delivery}"
            ),
            Subject::User(&user),
        )?;
        let mut authentication = format!("push_ssl_verify={sslverify}");
        if number_matching {
            authentication.push_str(", push_require_presence=1");
        }
        self.set_conditional_policy(
            &format!("pipeer-{user}-authentication"),
            "authentication",
            &authentication,
            Subject::User(&user),
        )?;
        let pin = random_hex(6);
        let init = self
            .pi
            .init_push_token(&user, &pin)
            .map_err(|e| upstream("token init", e))?;
        let params = uri_params(&init.uri);
        if params.get("url") != Some(&url)
            || params.get("sslverify").map(String::as_str) != Some(sslverify)
        {
            return Err(internal(format!(
                "the enrollment URI does not name {url} with sslverify={sslverify}: {}",
                init.uri
            )));
        }
        // The token's own front for requests that name it but no user: polls and answers.
        self.set_conditional_policy(
            &format!("pipeer-{}-poll-enrollment", init.serial),
            "enrollment",
            &format!("push_registration_url={url}"),
            Subject::Token(&init.serial),
        )?;
        self.set_conditional_policy(
            &format!("pipeer-{}-poll-authentication", init.serial),
            "authentication",
            &format!("push_ssl_verify={sslverify}"),
            Subject::Token(&init.serial),
        )?;
        let mut tokens = lock(&self.tokens);
        tokens.latest.insert(user.clone(), init.serial.clone());
        tokens.by_serial.insert(
            init.serial.clone(),
            EnrolledToken {
                user: user.clone(),
                pin: pin.clone(),
                front,
                poll_only,
            },
        );
        Ok(json!({
            "uri": init.uri,
            "serial": init.serial,
            "user": user,
            "pin": pin,
            "front": front.name(),
            "push_url": url,
            "sslverify": sslverify == "1",
            "number_matching": number_matching,
            "poll_only": poll_only,
        }))
    }

    /// The challenge privacyIDEA stored for `serial` in `transaction_id`: its nonce and data.
    fn challenge(&self, serial: &str, transaction_id: &str) -> Result<Value, ApiError> {
        let json = self
            .pi
            .admin_get(
                &format!("/token/challenges/{serial}"),
                &[("transaction_id", transaction_id)],
            )
            .map_err(|e| upstream("reading the challenge", e))?;
        json.pointer("/result/value/challenges")
            .and_then(Value::as_array)
            .and_then(|all| {
                all.iter().find(|c| {
                    c.get("transaction_id").and_then(Value::as_str) == Some(transaction_id)
                })
            })
            .cloned()
            .ok_or_else(|| {
                upstream(
                    "reading the challenge",
                    format!("no challenge for {serial} in transaction {transaction_id}: {json}"),
                )
            })
    }

    fn trigger(&self, body: &Value) -> ApiResult {
        let user = text_field(body, "user")?.ok_or_else(|| bad_request("user is required"))?;
        let (serial, pin, poll_only) = {
            let tokens = lock(&self.tokens);
            let serial = match text_field(body, "serial")? {
                Some(serial) => serial.to_owned(),
                None => tokens.latest.get(user).cloned().ok_or_else(|| {
                    not_found(format!(
                        "user {user:?} has no token enrolled through the peer"
                    ))
                })?,
            };
            let token = tokens.by_serial.get(&serial).ok_or_else(|| {
                not_found(format!("token {serial} was not enrolled through the peer"))
            })?;
            if token.user != user {
                return Err(bad_request(format!(
                    "token {serial} belongs to {}, not {user}",
                    token.user
                )));
            }
            let pin = text_field(body, "pin")?.map_or_else(|| token.pin.clone(), str::to_owned);
            (serial, pin, token.poll_only)
        };
        let check = self
            .pi
            .validate_check(user, &pin)
            .map_err(|e| upstream("/validate/check", e))?;
        if check.authentication.as_deref() != Some("CHALLENGE") {
            let said = check
                .json
                .pointer("/detail/message")
                .or_else(|| check.json.pointer("/result/error/message"))
                .and_then(Value::as_str)
                .unwrap_or("no message");
            return Err(ApiError(
                409,
                one_line(&format!(
                    "privacyIDEA started no challenge for {user} (HTTP {}, {}: {said}); has a phone \
                     registered {serial}, and is the PIN right?",
                    check.http_status,
                    check
                        .authentication
                        .as_deref()
                        .unwrap_or("no authentication result"),
                )),
            ));
        }
        let transaction_id = check
            .transaction()
            .map_err(|e| upstream("/validate/check", e))?;
        let challenge = self.challenge(&serial, &transaction_id)?;
        let nonce = challenge
            .get("challenge")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .ok_or_else(|| upstream("reading the challenge", format!("no nonce in {challenge}")))?
            .to_owned();
        let data = challenge.get("data").cloned().unwrap_or(Value::Null);
        let answers = data
            .get("options")
            .and_then(Value::as_array)
            .map(|options| Value::Array(options.clone()))
            .unwrap_or(Value::Null);
        let correct_answer = check
            .presence_answer
            .clone()
            .map(Value::String)
            .or_else(|| data.get("correct_answer").cloned())
            .unwrap_or(Value::Null);

        let (notification, device_token) = if poll_only {
            (Value::Null, Value::Null)
        } else {
            let message = self
                .pi
                .fake_fcm()
                .wait_for(FCM_WAIT, |m| {
                    m.pointer("/data/nonce").and_then(Value::as_str) == Some(nonce.as_str())
                })
                .ok_or_else(|| {
                    ApiError(
                        504,
                        format!(
                            "no push message for {serial} (nonce {nonce}) reached the fake FCM within {} s",
                            FCM_WAIT.as_secs()
                        ),
                    )
                })?;
            (
                string_map(message.get("data")),
                message.get("device_token").cloned().unwrap_or(Value::Null),
            )
        };
        lock(&self.tokens)
            .transactions
            .insert(transaction_id.clone(), user.to_owned());
        Ok(json!({
            "transaction_id": transaction_id,
            "serial": serial,
            "user": user,
            "nonce": nonce,
            "notification": notification,
            "device_token": device_token,
            "answers": answers,
            "correct_answer": correct_answer,
        }))
    }

    fn status(&self, query: &HashMap<String, String>) -> ApiResult {
        let transaction_id = query
            .get("transaction_id")
            .ok_or_else(|| bad_request("transaction_id is required"))?;
        let status = self
            .pi
            .poll_transaction(transaction_id)
            .map_err(|e| upstream("/validate/polltransaction", e))?;
        let challenge_status = status
            .challenge_status
            .clone()
            .ok_or_else(|| upstream("/validate/polltransaction", status.json.to_string()))?;
        let decline_reason = if matches!(challenge_status.as_str(), "declined" | "cancelled") {
            self.decline_reason(transaction_id)?
        } else {
            None
        };
        Ok(json!({
            "status": challenge_status,
            "accepted": status.value,
            "decline_reason": decline_reason,
        }))
    }

    /// The reason the phone gave, as privacyIDEA noted it in the audit entry of the answer
    /// (`transaction_id: T, status: declined, reason: R`); `None` for a plain decline.
    fn decline_reason(&self, transaction_id: &str) -> Result<Option<String>, ApiError> {
        let pattern = format!("*transaction_id: {transaction_id}, status: *");
        let json = self
            .pi
            .admin_get("/audit/", &[("action_detail", &pattern)])
            .map_err(|e| upstream("reading the audit log", e))?;
        let entries = json
            .pointer("/result/value/auditdata")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        Ok(entries.iter().find_map(|entry| {
            let detail = entry.get("action_detail")?.as_str()?;
            let start = detail.find(&format!("transaction_id: {transaction_id}"))?;
            let rest = &detail[start..];
            let reason = rest
                .split(", ")
                .find_map(|part| part.strip_prefix("reason: "))?;
            Some(reason.trim().to_owned())
        }))
    }

    fn finalize(&self, body: &Value) -> ApiResult {
        let transaction_id = text_field(body, "transaction_id")?
            .ok_or_else(|| bad_request("transaction_id is required"))?;
        let user = match text_field(body, "user")? {
            Some(user) => user.to_owned(),
            None => lock(&self.tokens)
                .transactions
                .get(transaction_id)
                .cloned()
                .ok_or_else(|| {
                    not_found(format!(
                        "transaction {transaction_id} was not triggered through the peer; give user"
                    ))
                })?,
        };
        let pass = text_field(body, "pass")?.unwrap_or("");
        let check = self
            .pi
            .finalize(&user, transaction_id, pass)
            .map_err(|e| upstream("/validate/check", e))?;
        Ok(json!({
            "accepted": check.accepted(),
            "authentication": check.authentication,
            "message": check.json.pointer("/detail/message").cloned().unwrap_or(Value::Null),
        }))
    }

    fn token(&self, query: &HashMap<String, String>) -> ApiResult {
        let serial = query
            .get("serial")
            .ok_or_else(|| bad_request("serial is required"))?;
        let info = self.pi.token_info(serial).map_err(|e| {
            if lock(&self.tokens).by_serial.contains_key(serial) {
                upstream("reading the token", e)
            } else {
                not_found(format!("no token {serial}"))
            }
        })?;
        let front = lock(&self.tokens)
            .by_serial
            .get(serial)
            .map(|t| t.front.name());
        Ok(json!({
            "serial": serial,
            "rollout_state": info.get("rollout_state").cloned().unwrap_or(Value::Null),
            "active": info.get("active").cloned().unwrap_or(Value::Null),
            "front": front,
        }))
    }

    /// A smartphone container for a fresh user (or `user`), holding one TOTP token, reached
    /// through `front`; returns its registration QR code, the token and its PIN.
    fn container(&self, body: &Value) -> ApiResult {
        let front = front_field(body)?;
        let user = self.ensure_user(text_field(body, "user")?)?;
        let base = match front {
            Front::Trusted => self.trusted.url(""),
            Front::Untrusted => self.untrusted.url(""),
            Front::Plain => self.pi.base_url().to_owned(),
        };
        let ssl_verify = if front.sslverify() == "1" {
            "True"
        } else {
            "False"
        };
        self.pi
            .set_policy_json(
                &format!("pipeer-{user}-container"),
                &json!({"scope": "container", "active": true, "priority": 1,
                        "realm": REALM, "user": user,
                        "action": format!("privacyIDEA_server_url={base}, \
                                           container_registration_ttl=10, \
                                           container_challenge_ttl=2, \
                                           container_ssl_verify={ssl_verify}, \
                                           container_client_rollover")}),
            )
            .map_err(|e| upstream("setting the container policy", e))?;
        let pin = random_hex(6);
        let container = self
            .pi
            .init_container(&user)
            .map_err(|e| upstream("container init", e))?;
        let totp = self
            .pi
            .init_totp_token(&user, &pin)
            .map_err(|e| upstream("token init", e))?;
        self.pi
            .add_to_container(&container, &totp.serial)
            .map_err(|e| upstream("adding the token", e))?;
        let qr = self
            .pi
            .container_qr(&container, &[])
            .map_err(|e| upstream("the registration QR code", e))?;
        Ok(json!({
            "qr": qr,
            "container": container,
            "totp_serial": totp.serial,
            "user": user,
            "pin": pin,
        }))
    }

    /// The relying party's check of `pass` (PIN and code) for `user`.
    fn check(&self, body: &Value) -> ApiResult {
        let user = text_field(body, "user")?.ok_or_else(|| bad_request("user is required"))?;
        let pass = text_field(body, "pass")?.unwrap_or("");
        let check = self
            .pi
            .validate_check(user, pass)
            .map_err(|e| upstream("/validate/check", e))?;
        Ok(json!({"accepted": check.accepted()}))
    }

    fn route(&self, method: &Method, path: &str, query: &str, body: &[u8]) -> ApiResult {
        let query: HashMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        let json_body = || -> Result<Value, ApiError> {
            if body.iter().all(u8::is_ascii_whitespace) {
                return Ok(json!({}));
            }
            let value: Value = serde_json::from_slice(body)
                .map_err(|e| bad_request(format!("the body is not JSON: {e}")))?;
            if value.is_object() {
                Ok(value)
            } else {
                Err(bad_request("the body must be a JSON object"))
            }
        };
        match (method, path) {
            (Method::Post, "/enroll") => self.enroll(&json_body()?),
            (Method::Post, "/trigger") => self.trigger(&json_body()?),
            (Method::Get, "/status") => self.status(&query),
            (Method::Post, "/finalize") => self.finalize(&json_body()?),
            (Method::Get, "/token") => self.token(&query),
            (Method::Post, "/container") => self.container(&json_body()?),
            (Method::Post, "/check") => self.check(&json_body()?),
            (
                _,
                "/enroll" | "/trigger" | "/finalize" | "/status" | "/token" | "/container"
                | "/check",
            ) => Err(ApiError(405, format!("{method} {path} is not allowed"))),
            _ => Err(not_found(format!(
                "no {path}: POST /enroll, POST /trigger, GET /status, POST /finalize, GET /token, POST /container, POST /check"
            ))),
        }
    }

    fn handle(&self, mut request: Request) {
        let started = Instant::now();
        let method = request.method().clone();
        let url = request.url().to_owned();
        let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
        let mut body = Vec::new();
        let read = request
            .as_reader()
            .take(MAX_BODY + 1)
            .read_to_end(&mut body);
        let result = match read {
            Err(e) => Err(bad_request(format!("cannot read the body: {e}"))),
            Ok(_) if body.len() as u64 > MAX_BODY => Err(ApiError(
                413,
                format!("the body is larger than {MAX_BODY} bytes"),
            )),
            Ok(_) => self.route(&method, path, query, &body),
        };
        let (status, reply, summary) = match result {
            Ok(value) => {
                let summary = ["user", "serial", "transaction_id", "status"]
                    .iter()
                    .filter_map(|k| value.get(*k).and_then(Value::as_str).map(|v| (k, v)))
                    .fold(String::new(), |mut out, (k, v)| {
                        let _ = write!(out, " {k}={v}");
                        out
                    });
                (200, value, summary)
            }
            Err(ApiError(status, message)) => {
                let line = format!(" error: {message}");
                (status, json!({ "error": message }), line)
            }
        };
        eprintln!(
            "pi_peer: {method} {path} -> {status} in {} ms{summary}",
            started.elapsed().as_millis()
        );
        let response = Response::from_string(reply.to_string())
            .with_status_code(status)
            .with_header(json_header());
        if let Err(e) = request.respond(response) {
            eprintln!("pi_peer: responding to {method} {path} failed: {e}");
        }
    }
}

#[derive(Clone, Copy)]
enum Subject<'a> {
    User(&'a str),
    Token(&'a str),
}

fn json_header() -> Header {
    Header::from_bytes("Content-Type", "application/json")
        .unwrap_or_else(|()| unreachable!("a valid static header"))
}

/// FCM's `data` is a string map; privacyIDEA's values are strings already, and anything else
/// is given as its JSON text, as FCM would deliver it.
fn string_map(data: Option<&Value>) -> Value {
    let Some(Value::Object(map)) = data else {
        return Value::Null;
    };
    let strings: Map<String, Value> = map
        .iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (k.clone(), Value::String(text))
        })
        .collect();
    Value::Object(strings)
}

/// `DIR/STEM.json` -> `DIR/STEM-<suffix>`.
fn beside(out: &Path, suffix: &str) -> PathBuf {
    let stem = out
        .file_stem()
        .map_or_else(|| "pi-peer".into(), |s| s.to_string_lossy().into_owned());
    out.with_file_name(format!("{stem}-{suffix}"))
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn run(out: &Path) -> Result<(), String> {
    let started = Instant::now();
    let out = absolute(out)?;
    let peer = Peer::start(started)?;
    let server = Server::http("127.0.0.1:0")
        .map_err(|e| format!("control API: cannot bind 127.0.0.1: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or("control API: the server has no IP address")?;

    let pem_path = beside(&out, "trusted-ca.pem");
    let der_path = beside(&out, "trusted-ca.der");
    let pem = std::fs::read(peer.trusted.ca_file())
        .map_err(|e| format!("reading {}: {e}", peer.trusted.ca_file().display()))?;
    let der = CertificateDer::from_pem_slice(&pem)
        .map_err(|e| format!("the trusted CA is not PEM: {e}"))?;
    let written = [pem_path.clone(), der_path.clone(), out.clone()];
    let description = json!({
        "control": format!("http://127.0.0.1:{port}"),
        "trusted_ca_pem": pem_path.display().to_string(),
        "trusted_ca_der": der_path.display().to_string(),
        "trusted_push_url": peer.push_url(Front::Trusted),
        "untrusted_push_url": peer.push_url(Front::Untrusted),
        "plain_push_url": peer.push_url(Front::Plain),
        "pid": std::process::id(),
        "startup_seconds": (started.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    });
    let write = || -> std::io::Result<()> {
        write_atomically(&pem_path, &pem)?;
        write_atomically(&der_path, der.as_ref())?;
        // Last: a reader that sees the description finds every file it names.
        write_atomically(&out, format!("{description:#}\n").as_bytes())
    };
    if let Err(e) = write() {
        remove(&written);
        return Err(format!("writing {}: {e}", out.display()));
    }
    eprintln!(
        "pi_peer: ready in {:.1} s: control http://127.0.0.1:{port}, trusted {}, untrusted {}, plain {}",
        started.elapsed().as_secs_f64(),
        peer.push_url(Front::Trusted),
        peer.push_url(Front::Untrusted),
        peer.push_url(Front::Plain),
    );

    std::thread::scope(|scope| {
        let peer = &peer;
        let server = &server;
        scope.spawn(move || {
            for request in server.incoming_requests() {
                scope.spawn(move || peer.handle(request));
            }
        });
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 256];
        while matches!(stdin.read(&mut buf), Ok(n) if n > 0) {}
        eprintln!("pi_peer: stdin closed, stopping");
        // Ends incoming_requests; the scope then waits for requests in flight.
        server.unblock();
    });
    let stopping = Instant::now();
    drop(server);
    drop(peer);
    remove(&written);
    eprintln!(
        "pi_peer: stopped in {:.1} s",
        stopping.elapsed().as_secs_f64()
    );
    Ok(())
}

fn remove(paths: &[PathBuf]) {
    for path in paths {
        let _ = std::fs::remove_file(path);
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out] = args.as_slice() else {
        eprintln!("usage: pi_peer DESCRIPTION.json   (serves until stdin closes)");
        return ExitCode::from(2);
    };
    match run(Path::new(out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("pi_peer: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}
