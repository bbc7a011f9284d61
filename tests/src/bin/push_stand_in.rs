//! A STAND-IN FOR A privacyIDEA PUSH SERVER, USED ONLY BY THE KOTLIN AND SWIFT FFI TESTS.
//!
//! It is not a server to run or to test the core against: the real privacyIDEA 3.14 is what the
//! Rust interop tests exercise. The binding tests only need the FFI round trip (Kotlin/Swift ->
//! UniFFI -> core -> HTTP -> back), without Python and a 500 MB privacyIDEA install per run.
//! It speaks the wire format of /work/shared/reference/privacyidea-push.md on one endpoint,
//! `http://127.0.0.1:<free port>/ttype/push`, for one token (serial `PIPU` + 8 hex):
//! - enrollment step 2 (form POST `enrollment_credential`, `serial`, `fbtoken`, `pubkey`):
//!   checks the credential and returns the server's public key (PKCS#1, base64, a line break
//!   every 64 characters), `rollout_state: enrolled`;
//! - answers (form POST `serial`, `nonce`, `signature`, [`decline`, `decline_reason`],
//!   [`presence_answer`]): verifies the RSASSA-PKCS#1 v1.5 SHA-256 signature of
//!   `{nonce}|{serial}[|decline[|reason]]` or `{nonce}|{serial}|{presence_answer}` (strict
//!   upper-case padded base32) with the registered device key, and the number-matching choice;
//!   `value: false` when either is wrong (a wrong choice leaves the challenge open), as
//!   privacyIDEA does;
//! - polls (`GET ?serial=&timestamp=&signature=`, `{serial}|{timestamp}`, +-60 s) returning the
//!   open challenges, and push-token updates (`{new_fb_token}|{serial}|{timestamp}`, +-5 min).
//!
//! Deliberate differences from privacyIDEA: enrollment may be repeated with the same credential
//! (each test opens a fresh vault and enrolls again; the newest device key replaces the old one
//! and every challenge is open again), and the challenges are made once at start, not by a
//! login: the ready-signed notification payloads are written for the tests, which hand them to
//! `handle_notification` as a push notification would.
//!
//! Usage: `push_stand_in OUT.json`. It binds a free port, writes OUT.json (the enrollment URI,
//! the payloads: `plain` with a signed decline-reason capability, `number_matching` with
//! `require_presence` `A,B,C` whose right answer is `presence_answer`, and `forged`, whose
//! question was changed after signing) and serves until its stdin closes, so a test script that
//! dies cannot leave it running.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use data_encoding::{BASE32, BASE32_NOPAD, BASE64, BASE64URL, HEXLOWER};
use ring::rand::{SecureRandom, SystemRandom};
use ring::signature::{self, RsaKeyPair, UnparsedPublicKey};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey};
use serde_json::{Value, json};
use tiny_http::{Header, Method, Request, Response, Server};

const PATH: &str = "/ttype/push";
const TITLE: &str = "authcore stand-in";
const QUESTION: &str = "Login for alice?";
const PRESENCE_OPTIONS: &str = "A,B,C";
const PRESENCE_ANSWER: &str = "B";
const MAX_BODY: usize = 64 * 1024;

struct Challenge {
    nonce: String,
    /// The right number-matching choice, when the challenge asks for one.
    presence_answer: Option<String>,
    /// The signed data map, as a notification carries it and a poll lists it.
    data: Value,
}

struct StandIn {
    serial: String,
    credential: String,
    key: RsaKeyPair,
    public_key_b64: String,
    challenges: Vec<Challenge>,
    /// PKCS#1 DER of the device key registered last.
    device_key: Option<Vec<u8>>,
    answered: HashSet<String>,
}

type Fail = String;

fn random_bytes(rng: &SystemRandom, n: usize) -> Result<Vec<u8>, Fail> {
    let mut bytes = vec![0u8; n];
    rng.fill(&mut bytes)
        .map_err(|_| "the system random generator failed".to_owned())?;
    Ok(bytes)
}

impl StandIn {
    fn new(url: &str) -> Result<Self, Fail> {
        let rng = SystemRandom::new();
        let private = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048)
            .map_err(|e| format!("generating the server key: {e}"))?;
        let pkcs8 = private
            .to_pkcs8_der()
            .map_err(|e| format!("encoding the server key: {e}"))?;
        let key = RsaKeyPair::from_pkcs8(pkcs8.as_bytes())
            .map_err(|e| format!("loading the server key: {e}"))?;
        let pkcs1 = private
            .to_public_key()
            .to_pkcs1_der()
            .map_err(|e| format!("encoding the server public key: {e}"))?;
        let b64 = BASE64.encode(pkcs1.as_bytes());
        let public_key_b64 = b64
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join("\n")
            + "\n";
        let serial = format!(
            "PIPU{}",
            HEXLOWER.encode(&random_bytes(&rng, 4)?).to_uppercase()
        );
        let credential = HEXLOWER.encode(&random_bytes(&rng, 20)?);
        let mut stand_in = StandIn {
            serial,
            credential,
            key,
            public_key_b64,
            challenges: Vec::new(),
            device_key: None,
            answered: HashSet::new(),
        };
        let plain = stand_in.challenge(&rng, url, QUESTION, None, true)?;
        let matching = stand_in.challenge(&rng, url, QUESTION, Some(PRESENCE_OPTIONS), false)?;
        stand_in.challenges = vec![plain, matching];
        Ok(stand_in)
    }

    fn sign_b32(&self, message: &str) -> Result<String, Fail> {
        let rng = SystemRandom::new();
        let mut sig = vec![0u8; self.key.public().modulus_len()];
        self.key
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &rng,
                message.as_bytes(),
                &mut sig,
            )
            .map_err(|_| "signing failed".to_owned())?;
        Ok(BASE32.encode(&sig))
    }

    /// A challenge signed as privacyIDEA signs it: `{nonce}|{url}|{serial}|{question}|{title}|
    /// {sslverify}` plus `|{require_presence}` with number matching; the capabilities object
    /// signed in its RFC 8785 form with the nonce.
    fn challenge(
        &self,
        rng: &SystemRandom,
        url: &str,
        question: &str,
        presence: Option<&str>,
        capabilities: bool,
    ) -> Result<Challenge, Fail> {
        let nonce = BASE32_NOPAD.encode(&random_bytes(rng, 20)?);
        let mut signed = format!("{nonce}|{url}|{}|{question}|{TITLE}|0", self.serial);
        if let Some(options) = presence {
            signed.push('|');
            signed.push_str(options);
        }
        let mut data = json!({
            "nonce": nonce,
            "question": question,
            "serial": self.serial,
            "title": TITLE,
            "sslverify": "0",
            "url": url,
            "signature": self.sign_b32(&signed)?,
        });
        if let Some(options) = presence {
            data["require_presence"] = json!(options);
            data["version"] = json!("2");
        }
        if capabilities {
            // JCS of {"capabilities": {"decline_reason": true}, "nonce": ...}: sorted keys, no spaces.
            let canonical =
                format!(r#"{{"capabilities":{{"decline_reason":true}},"nonce":"{nonce}"}}"#);
            data["capabilities"] = json!(r#"{"decline_reason": true}"#);
            data["capabilities_signature"] = json!(self.sign_b32(&canonical)?);
        }
        Ok(Challenge {
            nonce,
            presence_answer: presence.map(|_| PRESENCE_ANSWER.to_owned()),
            data,
        })
    }

    fn verify_device(&self, message: &str, signature_b32: &str) -> Result<bool, Reply> {
        let Some(device_key) = &self.device_key else {
            return Err(error(400, 905, "the token is not enrolled"));
        };
        // privacyIDEA decodes with b32decode: upper case and padding are required.
        let Ok(sig) = BASE32.decode(signature_b32.as_bytes()) else {
            return Err(error(400, 10, "signature: not base32"));
        };
        Ok(
            UnparsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, device_key)
                .verify(message.as_bytes(), &sig)
                .is_ok(),
        )
    }

    fn enroll(&mut self, form: &HashMap<String, String>) -> Reply {
        if form.get("serial") != Some(&self.serial) {
            return error(404, 601, "The requested token could not be found.");
        }
        if form.get("enrollment_credential") != Some(&self.credential) {
            return error(
                400,
                905,
                "Invalid enrollment credential. You are not authorized to finalize this token.",
            );
        }
        let Some(pubkey) = form.get("pubkey") else {
            return error(400, 905, "Missing parameter: 'pubkey'");
        };
        let der = BASE64
            .decode(pubkey.as_bytes())
            .or_else(|_| BASE64URL.decode(pubkey.as_bytes()));
        let pkcs1 = der
            .ok()
            .and_then(|d| rsa::RsaPublicKey::from_public_key_der(&d).ok())
            .and_then(|k| k.to_pkcs1_der().ok());
        let Some(pkcs1) = pkcs1 else {
            return error(
                400,
                905,
                "pubkey: not a base64 SubjectPublicKeyInfo RSA key",
            );
        };
        self.device_key = Some(pkcs1.as_bytes().to_vec());
        self.answered.clear();
        eprintln!(
            "stand-in: enrolled {} (fbtoken {})",
            self.serial,
            form.get("fbtoken").map_or("-", String::as_str)
        );
        ok(
            json!(true),
            json!({
                "public_key": self.public_key_b64,
                "rollout_state": "enrolled",
                "serial": self.serial,
            }),
        )
    }

    fn answer(&mut self, form: &HashMap<String, String>) -> Reply {
        if form.get("serial") != Some(&self.serial) {
            return error(404, 601, "The requested token could not be found.");
        }
        let (Some(nonce), Some(sig)) = (form.get("nonce"), form.get("signature")) else {
            return error(400, 905, "Missing parameter: 'nonce' or 'signature'");
        };
        let serial = &self.serial;
        let decline = form.get("decline").map(String::as_str) == Some("1");
        let presence = form.get("presence_answer");
        let message = match (decline, form.get("decline_reason"), presence) {
            (true, Some(reason), _) => format!("{nonce}|{serial}|decline|{reason}"),
            (true, None, _) => format!("{nonce}|{serial}|decline"),
            (false, _, Some(choice)) => format!("{nonce}|{serial}|{choice}"),
            (false, _, None) => format!("{nonce}|{serial}"),
        };
        match self.verify_device(&message, sig) {
            Ok(true) => {}
            Ok(false) => return ok(json!(false), json!({})),
            Err(reply) => return reply,
        }
        let Some(challenge) = self
            .challenges
            .iter()
            .find(|c| &c.nonce == nonce && !self.answered.contains(&c.nonce))
        else {
            return ok(json!(false), json!({}));
        };
        if !decline && challenge.presence_answer.as_ref() != presence {
            // A wrong (or missing) choice: refused, the challenge stays open.
            return ok(json!(false), json!({}));
        }
        self.answered.insert(nonce.clone());
        eprintln!(
            "stand-in: {} {nonce}",
            if decline { "declined" } else { "accepted" }
        );
        ok(json!(true), json!({}))
    }

    fn poll(&self, query: &HashMap<String, String>) -> Reply {
        let refused = || error(400, 905, "Could not verify signature!");
        let (Some(serial), Some(timestamp), Some(sig)) = (
            query.get("serial"),
            query.get("timestamp"),
            query.get("signature"),
        ) else {
            return refused();
        };
        if serial != &self.serial || !recent(timestamp, Duration::from_secs(60)) {
            return refused();
        }
        match self.verify_device(&format!("{serial}|{timestamp}"), sig) {
            Ok(true) => {}
            _ => return refused(),
        }
        let open: Vec<Value> = self
            .challenges
            .iter()
            .filter(|c| !self.answered.contains(&c.nonce))
            .map(|c| c.data.clone())
            .collect();
        ok(Value::Array(open), json!({}))
    }

    fn update_token(&self, form: &HashMap<String, String>) -> Reply {
        let refused = || error(400, 905, "Could not verify signature!");
        let (Some(token), Some(serial), Some(timestamp), Some(sig)) = (
            form.get("new_fb_token"),
            form.get("serial"),
            form.get("timestamp"),
            form.get("signature"),
        ) else {
            return refused();
        };
        if serial != &self.serial || !recent(timestamp, Duration::from_secs(300)) {
            return refused();
        }
        match self.verify_device(&format!("{token}|{serial}|{timestamp}"), sig) {
            Ok(true) => ok(json!(true), json!({})),
            _ => refused(),
        }
    }

    fn handle(&mut self, request: &mut Request) -> Reply {
        let url = request.url().to_owned();
        let (path, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
        if path != PATH {
            return error(404, 404, "not found");
        }
        match request.method() {
            Method::Get => self.poll(&parse_form(query.as_bytes())),
            Method::Post => {
                let mut body = Vec::new();
                let read = request
                    .as_reader()
                    .take(MAX_BODY as u64 + 1)
                    .read_to_end(&mut body);
                if read.is_err() || body.len() > MAX_BODY {
                    return error(400, 905, "the request body is unreadable or too large");
                }
                let form = parse_form(&body);
                // Routed by which parameters are present, as privacyIDEA routes them.
                if form.contains_key("fbtoken") && form.contains_key("pubkey") {
                    self.enroll(&form)
                } else if form.contains_key("new_fb_token") {
                    self.update_token(&form)
                } else if form.contains_key("signature") {
                    self.answer(&form)
                } else {
                    error(400, 905, "unknown request")
                }
            }
            _ => error(405, 405, "method not allowed"),
        }
    }
}

/// Whether an ISO 8601 UTC timestamp (as the core writes it) is within `window` of now.
fn recent(timestamp: &str, window: Duration) -> bool {
    let Ok(at) =
        humantime::parse_rfc3339_weak(timestamp.trim_end_matches('Z').get(..19).unwrap_or(""))
    else {
        return false;
    };
    let now = SystemTime::now();
    let skew = now
        .duration_since(at)
        .or_else(|_| at.duration_since(now))
        .unwrap_or(Duration::MAX);
    skew <= window
}

fn parse_form(bytes: &[u8]) -> HashMap<String, String> {
    url::form_urlencoded::parse(bytes).into_owned().collect()
}

struct Reply {
    status: u16,
    body: Value,
}

fn ok(value: Value, detail: Value) -> Reply {
    Reply {
        status: 200,
        body: json!({
            "id": 1,
            "jsonrpc": "2.0",
            "result": {"status": true, "value": value},
            "detail": detail,
            "version": "privacyIDEA stand-in (authcore FFI tests)",
        }),
    }
}

fn error(status: u16, code: u32, message: &str) -> Reply {
    Reply {
        status,
        body: json!({
            "id": 1,
            "jsonrpc": "2.0",
            "result": {"status": false, "error": {"code": code, "message": message}},
            "version": "privacyIDEA stand-in (authcore FFI tests)",
        }),
    }
}

fn run(out: &str) -> Result<(), Fail> {
    let server = Server::http("127.0.0.1:0").map_err(|e| format!("binding 127.0.0.1: {e}"))?;
    let port = server
        .server_addr()
        .to_ip()
        .map(|a| a.port())
        .ok_or_else(|| "the server has no IP address".to_owned())?;
    let url = format!("http://127.0.0.1:{port}{PATH}");
    let mut stand_in = StandIn::new(&url)?;

    let quoted_url = format!("http%3A//127.0.0.1%3A{port}{PATH}");
    let uri = format!(
        "otpauth://pipush/{serial}?url={quoted_url}&ttl=10&issuer=StandIn&enrollment_credential={cred}&v=1&serial={serial}&sslverify=0&poll_only=True",
        serial = stand_in.serial,
        cred = stand_in.credential,
    );
    let plain = &stand_in.challenges[0];
    let matching = &stand_in.challenges[1];
    // Forged: a valid challenge whose question was changed after the server signed it.
    let mut forged = plain.data.clone();
    forged["question"] = json!("Login for mallory?");
    let description = json!({
        "url": url,
        "serial": stand_in.serial,
        "enrollment_uri": uri,
        "title": TITLE,
        "question": QUESTION,
        "presence_options": PRESENCE_OPTIONS.split(',').collect::<Vec<_>>(),
        "presence_answer": PRESENCE_ANSWER,
        "nonces": {"plain": plain.nonce, "number_matching": matching.nonce},
        "notifications": {
            "plain": plain.data.to_string(),
            "number_matching": matching.data.to_string(),
            "forged": forged.to_string(),
        },
    });
    let tmp = format!("{out}.tmp");
    std::fs::write(&tmp, description.to_string()).map_err(|e| format!("writing {tmp}: {e}"))?;
    std::fs::rename(&tmp, out).map_err(|e| format!("renaming {tmp} to {out}: {e}"))?;
    eprintln!("stand-in: serving {url} for {}", stand_in.serial);

    // Ends the process when the parent closes our stdin (or dies).
    std::thread::spawn(|| {
        let mut stdin = std::io::stdin();
        let mut buf = [0u8; 256];
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 {
                break;
            }
        }
        eprintln!("stand-in: stdin closed, exiting");
        std::process::exit(0);
    });

    let json_type = Header::from_bytes("Content-Type", "application/json")
        .map_err(|()| "bad header".to_owned())?;
    for mut request in server.incoming_requests() {
        let reply = stand_in.handle(&mut request);
        eprintln!(
            "stand-in: {} {} -> {}",
            request.method(),
            request.url().split('?').next().unwrap_or(""),
            reply.status
        );
        let response = Response::from_string(reply.body.to_string())
            .with_status_code(reply.status)
            .with_header(json_type.clone());
        if let Err(e) = request.respond(response) {
            eprintln!("stand-in: responding failed: {e}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [out] = args.as_slice() else {
        eprintln!("usage: push_stand_in OUT.json   (serves until stdin closes)");
        return ExitCode::from(2);
    };
    match run(out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("push_stand_in: {e}");
            ExitCode::FAILURE
        }
    }
}
