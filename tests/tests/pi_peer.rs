//! The `pi_peer` binary works without any app: started as the Kotlin/Swift scripts start it, its
//! description file, its TLS fronts (the trusted CA verifies the trusted front and nothing else)
//! and its control API, with a minimal phone written here (RSA key, registration, poll,
//! answers, by the wire format) instead of the core's push client, which is being rewritten.
//! Closing its stdin must stop it.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use data_encoding::{BASE32, BASE64};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, RootCertStore, StreamOwned};
use serde_json::{Value, json};

/// Generous: a cold privacyIDEA install takes about 25 s before the server's own start.
const START_TIMEOUT: Duration = Duration::from_secs(240);

/// The running peer; killed if a failed assertion leaves it running.
struct PeerProcess {
    child: Child,
    stdin: Option<ChildStdin>,
    log: PathBuf,
}

impl PeerProcess {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for PeerProcess {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn start_peer(dir: &Path) -> (PeerProcess, Value) {
    let description = dir.join("pi-peer.json");
    let log = dir.join("pi-peer.log");
    let child = Command::new(env!("CARGO_BIN_EXE_pi_peer"))
        .arg(&description)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).expect("create the peer's log"))
        .spawn()
        .expect("start pi_peer");
    let mut peer = PeerProcess {
        child,
        stdin: None,
        log,
    };
    peer.stdin = peer.child.stdin.take();
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(&description)
            && !text.is_empty()
        {
            let value: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("the description is written whole: {e}: {text}"));
            return (peer, value);
        }
        if let Ok(Some(status)) = peer.child.try_wait() {
            panic!("pi_peer exited during start-up ({status}):\n{}", peer.log());
        }
        assert!(
            Instant::now() < deadline,
            "no description within {START_TIMEOUT:?}:\n{}",
            peer.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn text<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is a string in {value}"))
}

/// The control API: plain http on 127.0.0.1.
struct Control {
    base: String,
    agent: ureq::Agent,
}

impl Control {
    fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Control {
            base: base.to_owned(),
            agent,
        }
    }

    fn reply(response: ureq::http::Response<ureq::Body>) -> (u16, Value) {
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .read_to_string()
            .expect("read the control API's reply");
        let json = serde_json::from_str(&body)
            .unwrap_or_else(|e| panic!("the control API answers JSON ({e}): {body}"));
        (status, json)
    }

    fn post_status(&self, path: &str, body: &Value) -> (u16, Value) {
        let response = self
            .agent
            .post(format!("{}{path}", self.base))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .expect("reach the control API");
        Self::reply(response)
    }

    fn post(&self, path: &str, body: &Value) -> Value {
        let (status, json) = self.post_status(path, body);
        assert_eq!(status, 200, "POST {path} {body}: {json}");
        json
    }

    fn get(&self, path: &str, query: &[(&str, &str)]) -> Value {
        let response = self
            .agent
            .get(format!("{}{path}", self.base))
            .query_pairs(query.iter().copied())
            .call()
            .expect("reach the control API");
        let (status, json) = Self::reply(response);
        assert_eq!(status, 200, "GET {path} {query:?}: {json}");
        json
    }
}

fn ring_provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn client_config(roots: &[CertificateDer<'static>]) -> Arc<ClientConfig> {
    let mut store = RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).expect("a CA certificate");
    }
    Arc::new(
        ClientConfig::builder_with_provider(ring_provider())
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(store)
            .with_no_client_auth(),
    )
}

fn port_of(url: &str) -> u16 {
    let authority = url
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        .unwrap_or("");
    authority
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_else(|| panic!("no port in {url}"))
}

/// A TLS handshake with `127.0.0.1:port` under `config`; the error is rustls's.
fn handshake(port: u16, config: Arc<ClientConfig>) -> Result<(), String> {
    let mut tcp = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let mut tls = ClientConnection::new(config, name).map_err(|e| e.to_string())?;
    while tls.is_handshaking() {
        tls.complete_io(&mut tcp).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Records the chain a server presents and accepts it: only to learn the untrusted front's CA,
/// which the peer tells nobody.
#[derive(Debug)]
struct RecordChain {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for RecordChain {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = self.chain.lock().unwrap_or_else(|p| p.into_inner());
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// The CA a TLS front sends after its server certificate.
fn presented_ca(port: u16) -> CertificateDer<'static> {
    let recorder = Arc::new(RecordChain {
        chain: Mutex::new(Vec::new()),
        algorithms: ring_provider().signature_verification_algorithms,
    });
    let config = ClientConfig::builder_with_provider(ring_provider())
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone())
        .with_no_client_auth();
    handshake(port, Arc::new(config)).expect("a handshake that accepts any certificate");
    let chain = recorder.chain.lock().expect("the recorded chain").clone();
    assert_eq!(chain.len(), 2, "the front sends its certificate and its CA");
    chain[1].clone()
}

/// One request to a push URL, over TLS verified with `roots` for https, as a phone sends it:
/// form-encoded `params` in the body (POST) or the query (GET).
fn phone_request(
    url: &str,
    roots: &[CertificateDer<'static>],
    method: &str,
    params: &[(&str, &str)],
) -> (u16, Value) {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    if url.starts_with("http://") {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let response = if method == "GET" {
            agent.get(format!("{url}?{form}")).call()
        } else {
            agent
                .post(url)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .send(form)
        }
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
        return Control::reply(response);
    }
    let port = port_of(url);
    let path = url
        .splitn(4, '/')
        .nth(3)
        .map(|p| format!("/{p}"))
        .unwrap_or_default();
    let (target, body) = if method == "GET" {
        (format!("{path}?{form}"), String::new())
    } else {
        (path, form)
    };
    let tcp = TcpStream::connect(("127.0.0.1", port)).expect("connect to the front");
    tcp.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("a timeout");
    let name = ServerName::IpAddress(std::net::Ipv4Addr::LOCALHOST.into());
    let connection = ClientConnection::new(client_config(roots), name).expect("a TLS client");
    let mut tls = StreamOwned::new(connection, tcp);
    let request = format!(
        "{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    tls.write_all(request.as_bytes())
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let mut response = Vec::new();
    if let Err(e) = tls.read_to_end(&mut response) {
        // The front closes after its close_notify; anything else is a failure.
        assert!(
            e.kind() == std::io::ErrorKind::UnexpectedEof && !response.is_empty(),
            "{method} {url}: {e}"
        );
    }
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("an HTTP response: {response}"));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    let json = serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON ({e}): {body}"));
    (status, json)
}

/// The phone side of one token: its RSA key, what it knows of the server, the CA it trusts.
struct Phone {
    key: RsaKeyPair,
    spki_b64: String,
    serial: String,
    url: String,
    roots: Vec<CertificateDer<'static>>,
}

impl Phone {
    /// Registers (enrollment step 2) the token of `enrolled` with a fresh 2048-bit key.
    fn register(enrolled: &Value, roots: &[CertificateDer<'static>], fbtoken: &str) -> Phone {
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("RSA key");
        let pkcs8 = private.to_pkcs8_der().expect("PKCS#8");
        let spki = private
            .to_public_key()
            .to_public_key_der()
            .expect("SubjectPublicKeyInfo");
        let uri = text(enrolled, "uri");
        let query = uri.split_once('?').map_or("", |(_, q)| q);
        let params: std::collections::HashMap<String, String> =
            url::form_urlencoded::parse(query.as_bytes())
                .into_owned()
                .collect();
        let phone = Phone {
            key: RsaKeyPair::from_pkcs8(pkcs8.as_bytes()).expect("ring loads the key"),
            spki_b64: BASE64.encode(spki.as_bytes()),
            serial: params["serial"].clone(),
            url: params["url"].clone(),
            roots: roots.to_vec(),
        };
        let (status, reply) = phone_request(
            &phone.url,
            roots,
            "POST",
            &[
                ("enrollment_credential", &params["enrollment_credential"]),
                ("serial", &phone.serial),
                ("fbtoken", fbtoken),
                ("pubkey", &phone.spki_b64),
            ],
        );
        assert_eq!(status, 200, "registration: {reply}");
        assert_eq!(reply["detail"]["rollout_state"], "enrolled", "{reply}");
        phone
    }

    fn sign(&self, message: &str) -> String {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &SystemRandom::new(),
                message.as_bytes(),
                &mut signature,
            )
            .expect("sign");
        BASE32.encode(&signature)
    }

    fn poll(&self) -> Vec<Value> {
        let timestamp = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
        let signature = self.sign(&format!("{}|{timestamp}", self.serial));
        let (status, reply) = phone_request(
            &self.url,
            &self.roots,
            "GET",
            &[
                ("serial", &self.serial),
                ("timestamp", &timestamp),
                ("signature", &signature),
            ],
        );
        assert_eq!(status, 200, "poll: {reply}");
        reply["result"]["value"]
            .as_array()
            .cloned()
            .unwrap_or_else(|| panic!("a list of challenges: {reply}"))
    }

    /// Sends an answer; returns privacyIDEA's `result.value`.
    fn answer(&self, nonce: &str, extra: &[(&str, &str)], signed_suffix: &str) -> bool {
        let signature = self.sign(&format!("{nonce}|{}{signed_suffix}", self.serial));
        let mut params = vec![
            ("serial", self.serial.as_str()),
            ("nonce", nonce),
            ("signature", signature.as_str()),
        ];
        params.extend_from_slice(extra);
        let (status, reply) = phone_request(&self.url, &self.roots, "POST", &params);
        assert_eq!(status, 200, "answer: {reply}");
        reply["result"]["value"] == true
    }
}

fn check_notification(notification: &Value, phone: &Phone, sslverify: &str) -> String {
    let map = notification
        .as_object()
        .unwrap_or_else(|| panic!("a notification map: {notification}"));
    assert!(
        map.values().all(Value::is_string),
        "FCM data is a string map: {notification}"
    );
    for field in [
        "nonce",
        "question",
        "serial",
        "title",
        "sslverify",
        "url",
        "signature",
    ] {
        assert!(map.contains_key(field), "{field} in {notification}");
    }
    assert_eq!(text(notification, "serial"), phone.serial);
    assert_eq!(text(notification, "url"), phone.url);
    assert_eq!(text(notification, "sslverify"), sslverify);
    text(notification, "nonce").to_owned()
}

#[test]
fn the_peer_serves_privacyidea_through_its_fronts_and_stops_with_stdin() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let started = Instant::now();
    let (mut peer, description) = start_peer(dir.path());
    eprintln!(
        "pi_peer ready in {:.1} s: {description}",
        started.elapsed().as_secs_f64()
    );

    // The description.
    let control = text(&description, "control");
    assert!(control.starts_with("http://127.0.0.1:"), "{control}");
    let trusted_url = text(&description, "trusted_push_url");
    let untrusted_url = text(&description, "untrusted_push_url");
    let plain_url = text(&description, "plain_push_url");
    for (url, scheme) in [
        (trusted_url, "https"),
        (untrusted_url, "https"),
        (plain_url, "http"),
    ] {
        assert!(
            url.starts_with(&format!("{scheme}://127.0.0.1:")) && url.ends_with("/ttype/push"),
            "{url}"
        );
    }
    let pem_path = PathBuf::from(text(&description, "trusted_ca_pem"));
    let der_path = PathBuf::from(text(&description, "trusted_ca_der"));
    let trusted_ca = CertificateDer::from_pem_file(&pem_path).expect("the trusted CA as PEM");
    let der = std::fs::read(&der_path).expect("the trusted CA as DER");
    assert_eq!(der, trusted_ca.as_ref(), "the DER is the PEM's certificate");

    // The trusted CA verifies the trusted front and only that; the untrusted front's own CA
    // verifies it, so it is a second, independent CA and not a broken certificate.
    let (trusted_port, untrusted_port) = (port_of(trusted_url), port_of(untrusted_url));
    let trusting = client_config(std::slice::from_ref(&trusted_ca));
    handshake(trusted_port, trusting.clone()).expect("the trusted CA verifies the trusted front");
    let refused = handshake(untrusted_port, trusting).expect_err("the untrusted front is refused");
    assert_eq!(refused, "invalid peer certificate: UnknownIssuer");
    let untrusted_ca = presented_ca(untrusted_port);
    assert_ne!(untrusted_ca, trusted_ca);
    let only_untrusted = client_config(std::slice::from_ref(&untrusted_ca));
    handshake(untrusted_port, only_untrusted.clone()).expect("its own CA verifies it");
    let refused = handshake(trusted_port, only_untrusted)
        .expect_err("the untrusted CA does not verify the trusted front");
    assert_eq!(refused, "invalid peer certificate: UnknownIssuer");

    let api = Control::new(control);
    let roots = vec![trusted_ca.clone()];

    // Trusted front, FCM: enroll, register over verified TLS, trigger, approve, finalize.
    let enrolled = api.post("/enroll", &json!({"front": "trusted"}));
    for field in ["uri", "serial", "user", "pin"] {
        assert!(!text(&enrolled, field).is_empty(), "{field} in {enrolled}");
    }
    let uri = text(&enrolled, "uri");
    assert!(uri.starts_with("otpauth://pipush/"), "{uri}");
    assert!(uri.contains("sslverify=1"), "{uri}");
    assert!(text(&enrolled, "serial").starts_with("PIPU"), "{enrolled}");
    let user = text(&enrolled, "user").to_owned();
    let token = api.get("/token", &[("serial", text(&enrolled, "serial"))]);
    assert_eq!(token["rollout_state"], "clientwait", "{token}");
    let phone = Phone::register(&enrolled, &roots, "fcm-token-1");
    assert_eq!(phone.url, trusted_url, "the QR names the trusted front");
    let token = api.get("/token", &[("serial", &phone.serial)]);
    assert_eq!(token["rollout_state"], "enrolled", "{token}");

    let triggered = api.post("/trigger", &json!({"user": user, "pin": enrolled["pin"]}));
    let transaction = text(&triggered, "transaction_id").to_owned();
    assert_eq!(text(&triggered, "serial"), phone.serial);
    assert_eq!(triggered["answers"], Value::Null, "{triggered}");
    assert_eq!(triggered["correct_answer"], Value::Null, "{triggered}");
    assert_eq!(triggered["device_token"], "fcm-token-1", "{triggered}");
    let nonce = check_notification(&triggered["notification"], &phone, "1");
    assert_eq!(text(&triggered, "nonce"), nonce);
    assert_eq!(
        api.get("/status", &[("transaction_id", &transaction)])["status"],
        "pending"
    );
    assert!(phone.answer(&nonce, &[], ""), "the approval is accepted");
    let status = api.get("/status", &[("transaction_id", &transaction)]);
    assert_eq!(status["status"], "accept", "{status}");
    assert_eq!(status["decline_reason"], Value::Null, "{status}");
    let finished = api.post("/finalize", &json!({"transaction_id": transaction}));
    assert_eq!(finished["accepted"], true, "{finished}");

    // Plain http, sslverify=0, poll only, number matching, for a named user, while the trusted
    // token's policies exist: its poll must show its own URL and sslverify.
    let plain = api.post(
        "/enroll",
        &json!({"front": "plain", "user": "alice", "number_matching": true, "poll_only": true}),
    );
    assert_eq!(plain["user"], "alice");
    assert!(text(&plain, "uri").contains("sslverify=0"), "{plain}");
    let plain_phone = Phone::register(&plain, &[], "no_firebase_token");
    assert_eq!(plain_phone.url, plain_url);
    let triggered = api.post("/trigger", &json!({"user": "alice"}));
    assert_eq!(
        triggered["notification"],
        Value::Null,
        "poll only: {triggered}"
    );
    let answers: Vec<String> = triggered["answers"]
        .as_array()
        .unwrap_or_else(|| panic!("number matching lists answers: {triggered}"))
        .iter()
        .map(|a| a.as_str().expect("answers are strings").to_owned())
        .collect();
    let correct = text(&triggered, "correct_answer").to_owned();
    assert!(answers.contains(&correct), "{correct} among {answers:?}");
    let transaction = text(&triggered, "transaction_id").to_owned();
    let polled = plain_phone.poll();
    let challenge = polled
        .iter()
        .find(|c| c["nonce"] == triggered["nonce"])
        .unwrap_or_else(|| panic!("the poll lists the challenge: {polled:?}"));
    assert_eq!(challenge["url"], plain_url, "{challenge}");
    assert_eq!(challenge["sslverify"], "0", "{challenge}");
    assert_eq!(
        challenge["require_presence"],
        answers.join(","),
        "{challenge}"
    );
    let nonce = text(&triggered, "nonce");
    let wrong = answers
        .iter()
        .find(|a| **a != correct)
        .expect("more than one option");
    assert!(
        !plain_phone.answer(nonce, &[("presence_answer", wrong)], &format!("|{wrong}")),
        "a wrong choice is refused"
    );
    assert_eq!(
        api.get("/status", &[("transaction_id", &transaction)])["status"],
        "pending"
    );
    assert!(plain_phone.answer(
        nonce,
        &[("presence_answer", &correct)],
        &format!("|{correct}")
    ));
    assert_eq!(
        api.get("/status", &[("transaction_id", &transaction)])["status"],
        "accept"
    );

    // The trusted token again: found by polling through the trusted front (its own URL and
    // sslverify despite alice's policies), declined with each reason.
    for (reason, expected) in [("unknown_trigger", "declined"), ("cancelled", "cancelled")] {
        let triggered = api.post("/trigger", &json!({"user": user}));
        let transaction = text(&triggered, "transaction_id");
        let polled = phone.poll();
        let challenge = polled
            .iter()
            .find(|c| c["nonce"] == triggered["nonce"])
            .unwrap_or_else(|| panic!("the poll lists the challenge: {polled:?}"));
        assert_eq!(challenge["url"], trusted_url, "{challenge}");
        assert_eq!(challenge["sslverify"], "1", "{challenge}");
        let nonce = text(challenge, "nonce");
        assert!(phone.answer(
            nonce,
            &[("decline", "1"), ("decline_reason", reason)],
            &format!("|decline|{reason}")
        ));
        let status = api.get("/status", &[("transaction_id", transaction)]);
        assert_eq!(status["status"], expected, "{status}");
        assert_eq!(status["decline_reason"], reason, "{status}");
        let finished = api.post("/finalize", &json!({"transaction_id": transaction}));
        assert_eq!(finished["accepted"], false, "{finished}");
    }

    // The untrusted front: the QR names it with sslverify=1; a phone trusting only the
    // published CA cannot register there.
    let untrusted = api.post("/enroll", &json!({"front": "untrusted"}));
    let untrusted_uri = text(&untrusted, "uri");
    assert!(untrusted_uri.contains("sslverify=1"), "{untrusted_uri}");
    let quoted = untrusted_url.replacen("://", "%3A//", 1).replace(
        &format!(":{untrusted_port}"),
        &format!("%3A{untrusted_port}"),
    );
    assert!(
        untrusted_uri.contains(&quoted),
        "{untrusted_uri} names {quoted}"
    );
    handshake(untrusted_port, client_config(&roots))
        .expect_err("a phone trusting the published CA cannot reach the untrusted front");
    let token = api.get("/token", &[("serial", text(&untrusted, "serial"))]);
    assert_eq!(token["rollout_state"], "clientwait", "{token}");
    assert_eq!(token["front"], "untrusted", "{token}");

    // Bad input: one-line errors with 4xx statuses.
    let (status, reply) = api.post_status("/enroll", &json!({"front": "nowhere"}));
    assert_eq!(status, 400, "{reply}");
    assert_eq!(
        text(&reply, "error"),
        r#"front "nowhere": expected trusted, untrusted or plain"#,
        "{reply}"
    );
    let (status, reply) = api.post_status("/trigger", &json!({"user": "nobody-enrolled"}));
    assert_eq!(status, 404, "{reply}");

    // Closing stdin stops it, and it removes what it wrote.
    drop(peer.stdin.take());
    let deadline = Instant::now() + Duration::from_secs(30);
    let exit = loop {
        if let Some(status) = peer.child.try_wait().expect("wait for pi_peer") {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "pi_peer still runs 30 s after its stdin closed:\n{}",
            peer.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        exit.success(),
        "pi_peer exited with {exit}:\n{}",
        peer.log()
    );
    assert!(
        !pem_path.exists() && !der_path.exists(),
        "the CA files are removed"
    );
    assert!(
        TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], trusted_port))).is_err(),
        "the trusted front is closed"
    );
    let log = peer.log();
    assert!(
        log.contains("POST /enroll -> 200"),
        "requests are logged:\n{log}"
    );
}
