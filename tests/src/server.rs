//! What the privacyIDEA and eduMFA harnesses share: eduMFA is a fork of privacyIDEA, so the two
//! install, set up, start and answer alike, and a [`Product`] lists where they differ (names of
//! the programs, config keys and env vars, the admin token's header, the readiness path).
//!
//! [`Server::start`] installs the product into its cached venv when needed
//! (`tests/<name>/install.sh`, the steps shared in `tests/servers/install-venv.sh`; the product's
//! venv variable points at an existing venv instead), writes a configuration into a fresh
//! temporary directory, runs the setup and the server (`tests/servers/serve.py`) on 127.0.0.1 on
//! a free port, logs in as admin and creates the users of [`USERS`] in the flat-file realm
//! [`REALM`] (the default realm). The product's harness (`privacyidea.rs`, `edumfa.rs`) sets its
//! push policies on top and derefs to the [`Server`] for everything else: admin calls, policies,
//! tokens and the relying party's `/validate/...` calls.
//!
//! The server is stopped when the [`Server`] is dropped, and also when the test process dies
//! without dropping it (panic with abort, kill -9): `serve.py` watches its parent pid and exits
//! with it.
//!
//! Every failure is an error with the server's message (and the tail of its log when it did not
//! come up): a test that cannot reach the server fails, it never skips.

use std::fmt;
use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The users created at start, each in [`REALM`]. Give every test case its own user (and so its
/// own tokens and user-scoped policies) so cases cannot see each other's challenges.
pub const USERS: [&str; 22] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "xavier", "yvonne",
    "zoe",
];
/// The flat-file realm holding [`USERS`]; also the default realm.
pub const REALM: &str = "testrealm";
/// The priority of the harnesses' base policies. The server applies, per action, only the
/// matching policies of the best (lowest) priority, so [`Server::set_user_policy`] (priority 1)
/// overrides them.
pub const BASE_PRIORITY: u32 = 10;

/// The password of a user from [`USERS`] in the flat-file resolver.
pub fn user_password(user: &str) -> String {
    format!("{user}-password")
}

/// Writes the flat-file resolver's users (`name:sha512_crypt:uid:gid:gecos::`, the format of
/// `privacyidea-create-pwidresolver-user` and `edumfa-create-pwidresolver-user`) from
/// `name password uid` triples. One process and 5000 rounds instead of that tool's 656000: test
/// passwords need no key stretching, and start-up CPU goes to the server.
const MAKE_USERS_PY: &str = r#"
import sys
from passlib.hash import sha512_crypt
crypt = sha512_crypt.using(rounds=5000)
args = sys.argv[1:]
for name, password, uid in zip(args[0::3], args[1::3], args[2::3]):
    print(f"{name}:{crypt.hash(password)}:{uid}:{uid}:{name}::")
"#;

const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
const HTTP_TIMEOUT: Duration = Duration::from_secs(60);

/// A harness failure, with what the server said.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HarnessError(pub String);

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HarnessError {}

pub type Result<T> = std::result::Result<T, HarnessError>;

pub(crate) fn err<T>(message: impl Into<String>) -> Result<T> {
    Err(HarnessError(message.into()))
}

/// Where the servers of the privacyIDEA family differ, as far as the harness is concerned.
#[derive(Debug)]
pub struct Product {
    /// What messages call it: `privacyIDEA 3.14`.
    pub label: &'static str,
    /// Its folder under `tests/` (`install.sh`, `constraints.txt`), `serve.py --server` and the
    /// name of its log file (`<name>.log`).
    pub name: &'static str,
    /// The env var naming an existing venv to use instead of installing.
    pub venv_var: &'static str,
    /// The management program in the venv's `bin/`: proves a venv is this product's.
    pub manage: &'static str,
    /// The env var the server reads its config file's path from.
    pub config_var: &'static str,
    /// The prefix of the server's own config keys (`PI_`, `EDUMFA_`).
    pub config_prefix: &'static str,
    /// Config lines of this product alone: `(key, value)` from the server directory and base URL.
    pub extra_config: fn(dir: &Path, base_url: &str) -> Vec<(&'static str, String)>,
    /// The request header carrying the admin's JWT.
    pub auth_header: &'static str,
    /// A `GET` path that answers 200 once the server serves.
    pub ready_path: &'static str,
    /// `POST /policy/<name>` needs a `realm` (an empty one means every realm).
    pub policy_needs_realm: bool,
}

/// A token created by `/token/init`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInit {
    pub serial: String,
    /// The QR code's content: `detail.pushurl.value` for push tokens, `detail.googleurl.value`
    /// for TOTP/HOTP.
    pub uri: String,
    pub json: Value,
}

/// What `/validate/check` answered.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResponse {
    pub http_status: u16,
    /// `result.status`: the request was processed.
    pub status: bool,
    /// `result.value`: the user is authenticated.
    pub value: bool,
    /// `result.authentication`: `ACCEPT`, `REJECT` or `CHALLENGE`.
    pub authentication: Option<String>,
    /// `detail.transaction_id` of a triggered challenge.
    pub transaction_id: Option<String>,
    /// Number matching: `detail.presence_answer`, the option the login page shows.
    pub presence_answer: Option<String>,
    pub json: Value,
}

impl CheckResponse {
    pub fn accepted(&self) -> bool {
        self.authentication.as_deref() == Some("ACCEPT") && self.value
    }

    /// The transaction id, or an error with the whole response.
    pub fn transaction(&self) -> Result<String> {
        self.transaction_id
            .clone()
            .ok_or_else(|| HarnessError(format!("no transaction_id in {}", self.json)))
    }
}

/// What `/validate/polltransaction` answered.
#[derive(Debug, Clone, PartialEq)]
pub struct TransactionStatus {
    /// `result.value`: the challenge was answered positively.
    pub value: bool,
    /// `detail.challenge_status`: `accept`, `declined`, `cancelled` or `pending`.
    pub challenge_status: Option<String>,
    pub json: Value,
}

/// A server with a push token type: what a phone of the tests ([`crate::phone::Phone`]) needs of
/// it.
pub trait PushServer: std::ops::Deref<Target = Server> {
    /// The push endpoint the enrollment QR codes name (`.../ttype/push`, `.../ttype/edupush`).
    fn push_url(&self) -> String;
    /// Enrollment step 1 of a push token for `user` with token PIN `pin`.
    fn init_push_token(&self, user: &str, pin: &str) -> Result<TokenInit>;
}

/// A running server of the privacyIDEA family. Stops it on drop.
pub struct Server {
    product: &'static Product,
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
    base_url: String,
    agent: ureq::Agent,
    admin_password: String,
    /// Valid for an hour; renewed when the server answers 401.
    admin_jwt: Mutex<String>,
    started_in: Duration,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("product", &self.product.label)
            .field("base_url", &self.base_url)
            .field("dir", &self.dir.path())
            .finish_non_exhaustive()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // Ignore "already exited"; wait so no zombie is left and the port is free again.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The product's cached venv: its venv variable, or what `tests/<name>/install.sh` prints (it
/// installs on the first run).
pub fn venv(product: &Product) -> Result<PathBuf> {
    let is_venv = |dir: &Path| dir.join("bin").join(product.manage).is_file();
    if let Some(dir) = std::env::var_os(product.venv_var) {
        let dir = PathBuf::from(dir);
        if !is_venv(&dir) {
            return err(format!(
                "{}={} has no bin/{}: not a venv of {}",
                product.venv_var,
                dir.display(),
                product.manage,
                product.label
            ));
        }
        return Ok(dir);
    }
    let script = tests_dir().join(product.name).join("install.sh");
    // stderr is inherited: a cold install (about half a minute) shows its progress in the test
    // output.
    let output = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| HarnessError(format!("cannot run {}: {e}", script.display())))?;
    if !output.status.success() {
        return err(format!(
            "installing {} failed ({}): see the output of {} above; it needs python3 with venv \
             (scripts/install-deps.sh) and access to PyPI",
            product.label,
            output.status,
            script.display()
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some(last) = stdout.lines().rev().find(|l| !l.trim().is_empty()) else {
        return err(format!("{} printed no venv path", script.display()));
    };
    let dir = PathBuf::from(last.trim());
    if !is_venv(&dir) {
        return err(format!(
            "{} printed {}, which has no bin/{}",
            script.display(),
            dir.display(),
            product.manage
        ));
    }
    Ok(dir)
}

/// This crate's directory, `tests/`.
fn tests_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| HarnessError(format!("no free port on 127.0.0.1: {e}")))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| HarnessError(format!("local_addr: {e}")))
}

fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A Python string literal for the config file.
fn py_str(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| unreachable!("a str always serializes"))
}

/// The config file: Python assignments, the product's own keys with its prefix.
fn config_file_text(product: &Product, dir: &Path, base_url: &str) -> String {
    let at = |name: &str| dir.join(name).display().to_string();
    let own = |key: &str| format!("{}{key}", product.config_prefix);
    let mut entries = vec![
        (
            "SQLALCHEMY_DATABASE_URI".to_owned(),
            format!("sqlite:///{}", at("server.sqlite")),
        ),
        ("SECRET_KEY".to_owned(), random_token()),
        (own("PEPPER"), random_token()),
        (own("ENCFILE"), at("enckey")),
        (own("AUDIT_KEY_PRIVATE"), at("audit-private.pem")),
        (own("AUDIT_KEY_PUBLIC"), at("audit-public.pem")),
        (own("LOGFILE"), at(&format!("{}.log", product.name))),
        (own("NODE"), "authcore-test".to_owned()),
    ];
    entries.extend(
        (product.extra_config)(dir, base_url)
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value)),
    );
    let mut text: String = entries
        .iter()
        .map(|(key, value)| format!("{key} = {}\n", py_str(value)))
        .collect();
    text.push_str(&format!(
        "{} = True\n{} = 20\n",
        own("AUDIT_SQL_TRUNCATE"),
        own("LOGLEVEL")
    ));
    text
}

impl Server {
    /// Installs (if needed), configures and starts a fresh `product` with users and realm, then
    /// runs `setup` (the product's base policies) on it. About 10 s when the venv is cached.
    pub fn start(
        product: &'static Product,
        setup: impl FnOnce(&Server) -> Result<()>,
    ) -> Result<Self> {
        let started = Instant::now();
        let venv = venv(product)?;
        let dir = tempfile::Builder::new()
            .prefix(&format!("authcore-{}-", product.name))
            .tempdir()
            .map_err(|e| HarnessError(format!("cannot create a temporary directory: {e}")))?;
        let path = dir.path();
        let port = free_port()?;
        let base_url = format!("http://127.0.0.1:{port}");
        let admin_password = random_token();

        let config_file = path.join("server.cfg");
        fs::write(&config_file, config_file_text(product, path, &base_url))
            .map_err(|e| HarnessError(format!("cannot write {}: {e}", config_file.display())))?;

        // The users file, hashed by the server's own passlib while the server sets itself up.
        let mut user_args = Vec::new();
        for (i, user) in USERS.iter().enumerate() {
            user_args.extend([
                user.to_string(),
                user_password(user),
                (1001 + i).to_string(),
            ]);
        }
        let user_tool = Command::new(venv.join("bin/python"))
            .args(["-c", MAKE_USERS_PY])
            .args(&user_args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| HarnessError(format!("cannot run the venv's python: {e}")))?;

        let log_file = path.join("server.log");
        let log = fs::File::create(&log_file)
            .map_err(|e| HarnessError(format!("cannot create {}: {e}", log_file.display())))?;
        let log_err = log
            .try_clone()
            .map_err(|e| HarnessError(format!("cannot dup the log file: {e}")))?;
        let child = Command::new(venv.join("bin/python"))
            .arg(tests_dir().join("servers/serve.py"))
            .args(["--server", product.name])
            .args(["--parent-pid", &std::process::id().to_string()])
            .args(["--port", &port.to_string()])
            .arg("--remove-when-orphaned")
            .arg(path)
            .env(product.config_var, &config_file)
            .env("AUTHCORE_SERVER_ADMIN_PASSWORD", &admin_password)
            .current_dir(path)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err)
            .spawn()
            .map_err(|e| HarnessError(format!("cannot start serve.py: {e}")))?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(HTTP_TIMEOUT))
            .build()
            .into();
        let mut server = Server {
            product,
            child,
            dir,
            port,
            base_url,
            agent,
            admin_password,
            admin_jwt: Mutex::new(String::new()),
            started_in: Duration::ZERO,
        };

        let out = user_tool
            .wait_with_output()
            .map_err(|e| HarnessError(format!("creating the users file: {e}")))?;
        if !out.status.success() {
            return err(format!(
                "creating the users file failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let passwd = String::from_utf8_lossy(&out.stdout).into_owned();
        let users_file = server.dir.path().join("users.passwd");
        fs::write(&users_file, passwd)
            .map_err(|e| HarnessError(format!("cannot write {}: {e}", users_file.display())))?;

        server.wait_until_up()?;
        server.renew_admin_jwt()?;
        server.admin_post_form(
            "/resolver/flatfile",
            &[
                ("type", "passwdresolver"),
                ("fileName", &users_file.display().to_string()),
            ],
        )?;
        server.admin_post_form(&format!("/realm/{REALM}"), &[("resolvers", "flatfile")])?;
        server.admin_post_form(&format!("/defaultrealm/{REALM}"), &[])?;
        let users = server.admin_get("/user/", &[("realm", REALM)])?;
        let found = users
            .pointer("/result/value")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if found != USERS.len() {
            return err(format!(
                "the realm {REALM} has {found} users, expected {}: {users}",
                USERS.len()
            ));
        }
        setup(&server)?;
        server.started_in = started.elapsed();
        Ok(server)
    }

    fn wait_until_up(&mut self) -> Result<()> {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        let url = format!("{}{}", self.base_url, self.product.ready_path);
        let label = self.product.label;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return err(format!(
                    "{label} exited during start-up ({status}); its log:\n{}",
                    self.log_tail()
                ));
            }
            if let Ok(response) = self.agent.get(&url).call()
                && response.status().as_u16() == 200
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return err(format!(
                    "{label} did not answer {url} within {} s; its log:\n{}",
                    STARTUP_TIMEOUT.as_secs(),
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines of the server's stdout/stderr and of its log file.
    pub fn log_tail(&self) -> String {
        let mut out = String::new();
        for name in [
            "server.log".to_owned(),
            format!("{}.log", self.product.name),
        ] {
            let text = fs::read_to_string(self.dir.path().join(&name)).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            out.push_str(&format!("--- {name} ---\n"));
            for line in &lines[lines.len().saturating_sub(40)..] {
                out.push_str(line);
                out.push('\n');
            }
        }
        out
    }

    /// Which server this is.
    pub fn product(&self) -> &'static Product {
        self.product
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// How long [`Server::start`] took (install check, setup, start, users, policies).
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    fn renew_admin_jwt(&self) -> Result<String> {
        let jwt = self.login(&self.admin_password)?;
        *self.admin_jwt.lock().unwrap_or_else(|p| p.into_inner()) = jwt.clone();
        Ok(jwt)
    }

    fn login(&self, password: &str) -> Result<String> {
        let (status, body) = self.send(
            "POST",
            "/auth",
            None,
            Body::Form(&[("username", "admin"), ("password", password)]),
        )?;
        body.pointer("/result/value/token")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| HarnessError(format!("admin login failed (HTTP {status}): {body}")))
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        jwt: Option<&str>,
        body: Body<'_>,
    ) -> Result<(u16, Value)> {
        let url = format!("{}{path}", self.base_url);
        let header = self.product.auth_header;
        let fail = |e: ureq::Error| HarnessError(format!("{method} {path}: {e}"));
        let response = match (method, body) {
            ("GET", Body::Query(query)) => {
                let mut request = self.agent.get(&url).query_pairs(query.iter().copied());
                if let Some(jwt) = jwt {
                    request = request.header(header, jwt);
                }
                request.call().map_err(fail)?
            }
            ("DELETE", Body::Query(query)) => {
                let mut request = self.agent.delete(&url).query_pairs(query.iter().copied());
                if let Some(jwt) = jwt {
                    request = request.header(header, jwt);
                }
                request.call().map_err(fail)?
            }
            ("POST", Body::Form(form)) => {
                let mut request = self.agent.post(&url);
                if let Some(jwt) = jwt {
                    request = request.header(header, jwt);
                }
                request.send_form(form.iter().copied()).map_err(fail)?
            }
            ("POST", Body::Json(value)) => {
                let mut request = self
                    .agent
                    .post(&url)
                    .header("Content-Type", "application/json");
                if let Some(jwt) = jwt {
                    request = request.header(header, jwt);
                }
                request.send(value.to_string()).map_err(fail)?
            }
            _ => return err(format!("harness bug: {method} with this body kind")),
        };
        let status = response.status().as_u16();
        let text = response
            .into_body()
            .read_to_string()
            .map_err(|e| HarnessError(format!("{method} {path}: reading the body: {e}")))?;
        let json: Value = serde_json::from_str(&text).map_err(|e| {
            HarnessError(format!(
                "{method} {path}: HTTP {status}, not JSON ({e}): {}",
                text.chars().take(500).collect::<String>()
            ))
        })?;
        Ok((status, json))
    }

    /// An admin call that must succeed (`result.status == true`); returns the whole JSON.
    fn admin(&self, method: &str, path: &str, body: Body<'_>) -> Result<Value> {
        let jwt = self
            .admin_jwt
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let (mut status, mut json) = self.send(method, path, Some(&jwt), body)?;
        if status == 401 {
            let jwt = self.renew_admin_jwt()?;
            (status, json) = self.send(method, path, Some(&jwt), body)?;
        }
        if status != 200 || json.pointer("/result/status") != Some(&Value::Bool(true)) {
            return err(format!("{method} {path} failed (HTTP {status}): {json}"));
        }
        Ok(json)
    }

    /// `GET path?query` as admin.
    pub fn admin_get(&self, path: &str, query: &[(&str, &str)]) -> Result<Value> {
        self.admin("GET", path, Body::Query(query))
    }

    /// A form `POST` as admin.
    pub fn admin_post_form(&self, path: &str, form: &[(&str, &str)]) -> Result<Value> {
        self.admin("POST", path, Body::Form(form))
    }

    /// A JSON `POST` as admin.
    pub fn admin_post_json(&self, path: &str, body: &Value) -> Result<Value> {
        self.admin("POST", path, Body::Json(body))
    }

    /// `DELETE path` as admin.
    pub fn admin_delete(&self, path: &str) -> Result<Value> {
        self.admin("DELETE", path, Body::Query(&[]))
    }

    /// Creates or replaces a policy for every user of every realm (the server's default
    /// priority, 1).
    pub fn set_policy(&self, name: &str, scope: &str, action: &str) -> Result<()> {
        self.set_policy_json(
            name,
            &json!({"scope": scope, "action": action, "active": true}),
        )
    }

    /// Creates or replaces a policy for one user of [`REALM`], with priority 1: where it sets
    /// an action the base policies set too, it wins (theirs is [`BASE_PRIORITY`]).
    pub fn set_user_policy(&self, name: &str, scope: &str, action: &str, user: &str) -> Result<()> {
        self.set_policy_json(
            name,
            &json!({"scope": scope, "action": action, "active": true, "realm": REALM,
                    "user": user, "priority": 1}),
        )
    }

    /// Creates or replaces a policy from its JSON (`scope`, `action`, `active`, `user`, ...).
    /// Where the product needs a realm and the policy names none, it is for every realm.
    pub fn set_policy_json(&self, name: &str, policy: &Value) -> Result<()> {
        let mut policy = policy.clone();
        if self.product.policy_needs_realm
            && let Some(fields) = policy.as_object_mut()
        {
            fields.entry("realm").or_insert_with(|| Value::from(""));
        }
        self.admin_post_json(&format!("/policy/{name}"), &policy)
            .map(drop)
    }

    pub fn delete_policy(&self, name: &str) -> Result<()> {
        self.admin_delete(&format!("/policy/{name}")).map(drop)
    }

    /// `POST /system/setConfig key=value` (e.g. `PushChallengeValidityTime`).
    pub fn set_config(&self, key: &str, value: &str) -> Result<()> {
        self.admin_post_form("/system/setConfig", &[(key, value)])
            .map(drop)
    }

    /// A TOTP token (SHA-1, 6 digits, 30 s, key generated by the server) for `user`; the URI
    /// is the server's `detail.googleurl.value`.
    pub fn init_totp_token(&self, user: &str, pin: &str) -> Result<TokenInit> {
        let settings = [
            ("type", "totp"),
            ("otplen", "6"),
            ("timeStep", "30"),
            ("hashlib", "sha1"),
        ];
        self.init_token(user, pin, &settings, "/detail/googleurl/value")
    }

    /// An HOTP token (SHA-1, 6 digits, key generated by the server) for `user`.
    pub fn init_hotp_token(&self, user: &str, pin: &str) -> Result<TokenInit> {
        let settings = [("type", "hotp"), ("otplen", "6"), ("hashlib", "sha1")];
        self.init_token(user, pin, &settings, "/detail/googleurl/value")
    }

    /// `/token/init` with a server-generated key for `user` (in [`REALM`]) with `pin`; the QR
    /// code's content is at `uri_pointer` in the response.
    pub fn init_token(
        &self,
        user: &str,
        pin: &str,
        settings: &[(&str, &str)],
        uri_pointer: &str,
    ) -> Result<TokenInit> {
        let mut form = settings.to_vec();
        form.extend([
            ("genkey", "1"),
            ("user", user),
            ("realm", REALM),
            ("pin", pin),
        ]);
        let json = self.admin_post_form("/token/init", &form)?;
        let serial = json.pointer("/detail/serial").and_then(Value::as_str);
        let uri = json.pointer(uri_pointer).and_then(Value::as_str);
        match (serial, uri) {
            (Some(serial), Some(uri)) => Ok(TokenInit {
                serial: serial.to_owned(),
                uri: uri.to_owned(),
                json: json.clone(),
            }),
            _ => err(format!(
                "/token/init: no detail.serial or {uri_pointer}: {json}"
            )),
        }
    }

    /// The token's entry from `GET /token/?serial=` (`tokeninfo`, `rollout_state`, ...).
    pub fn token_info(&self, serial: &str) -> Result<Value> {
        let json = self.admin_get("/token/", &[("serial", serial)])?;
        json.pointer("/result/value/tokens/0")
            .cloned()
            .ok_or_else(|| HarnessError(format!("no token {serial}: {json}")))
    }

    pub fn delete_token(&self, serial: &str) -> Result<()> {
        self.admin_delete(&format!("/token/{serial}")).map(drop)
    }

    /// The relying party's `POST /validate/check user= realm= pass=`; for push tokens `pass`
    /// is the token PIN and this triggers the challenge.
    pub fn validate_check(&self, user: &str, pass: &str) -> Result<CheckResponse> {
        self.check(&[("user", user), ("realm", REALM), ("pass", pass)])
    }

    /// Finishes a push login: `/validate/check` with the `transaction_id` and `pass` (empty,
    /// or the code-to-phone code).
    pub fn finalize(&self, user: &str, transaction_id: &str, pass: &str) -> Result<CheckResponse> {
        self.check(&[
            ("user", user),
            ("realm", REALM),
            ("pass", pass),
            ("transaction_id", transaction_id),
        ])
    }

    fn check(&self, form: &[(&str, &str)]) -> Result<CheckResponse> {
        let (http_status, json) = self.send("POST", "/validate/check", None, Body::Form(form))?;
        let text = |pointer: &str| {
            json.pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(CheckResponse {
            http_status,
            status: json.pointer("/result/status") == Some(&Value::Bool(true)),
            value: json.pointer("/result/value") == Some(&Value::Bool(true)),
            authentication: text("/result/authentication"),
            transaction_id: text("/detail/transaction_id"),
            presence_answer: text("/detail/presence_answer"),
            json,
        })
    }

    /// `GET /validate/polltransaction?transaction_id=`: what the login page polls.
    pub fn poll_transaction(&self, transaction_id: &str) -> Result<TransactionStatus> {
        let (status, json) = self.send(
            "GET",
            "/validate/polltransaction",
            None,
            Body::Query(&[("transaction_id", transaction_id)]),
        )?;
        if status != 200 || json.pointer("/result/status") != Some(&Value::Bool(true)) {
            return err(format!("polltransaction failed (HTTP {status}): {json}"));
        }
        Ok(TransactionStatus {
            value: json.pointer("/result/value") == Some(&Value::Bool(true)),
            challenge_status: json
                .pointer("/detail/challenge_status")
                .and_then(Value::as_str)
                .map(str::to_owned),
            json,
        })
    }

    /// Starts a push login for `user` (`pass`: the token PIN) and checks that it is a challenge,
    /// not yet a sign-in. Returns its transaction id and, with number matching, the option the
    /// login page shows.
    pub fn trigger(&self, user: &str, pass: &str) -> Result<(String, Option<String>)> {
        let check = self.validate_check(user, pass)?;
        if check.http_status != 200
            || !check.status
            || check.value
            || check.authentication.as_deref() != Some("CHALLENGE")
        {
            return err(format!(
                "expected a pending challenge for {user} (HTTP 200, status true, value false, CHALLENGE), got HTTP {}: {}",
                check.http_status, check.json
            ));
        }
        Ok((check.transaction()?, check.presence_answer))
    }

    /// What the login page sees of a transaction: `accept`, `declined`, `cancelled` or
    /// `pending`.
    pub fn challenge_status(&self, transaction_id: &str) -> Result<String> {
        let status = self.poll_transaction(transaction_id)?;
        match status.challenge_status {
            Some(challenge_status) => Ok(challenge_status),
            None => err(format!("no challenge_status: {}", status.json)),
        }
    }
}

#[derive(Clone, Copy)]
enum Body<'a> {
    Query(&'a [(&'a str, &'a str)]),
    Form(&'a [(&'a str, &'a str)]),
    Json(&'a Value),
}
