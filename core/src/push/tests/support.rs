//! Keys and signed challenges built the way privacyIDEA builds them, for the unit tests.

use std::sync::OnceLock;
use std::time::Duration;

use data_encoding::BASE32;
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde_json::{Map, Value, json};

use crate::push::keys::{DeviceKey, SoftwareDeviceKey};
use crate::push::{PushCredential, PushRequest};
use crate::time::UnixTime;

pub const SERIAL: &str = "PIPU0000TEST";
pub const URL: &str = "https://pi.example/ttype/push";
pub const NONCE: &str = "ASUFJZYQYRFDTTAGQCMLJA5HOLQTIH6F";

/// Plays the server's key (2048 bits keep the tests quick; the interop tests use 4096).
pub fn server_key() -> &'static SoftwareDeviceKey {
    static KEY: OnceLock<SoftwareDeviceKey> = OnceLock::new();
    KEY.get_or_init(|| SoftwareDeviceKey::generate(2048).unwrap())
}

pub fn device_key() -> &'static SoftwareDeviceKey {
    static KEY: OnceLock<SoftwareDeviceKey> = OnceLock::new();
    KEY.get_or_init(|| SoftwareDeviceKey::generate(2048).unwrap())
}

/// A third key that is neither the server's nor the device's.
pub fn stranger_key() -> &'static SoftwareDeviceKey {
    static KEY: OnceLock<SoftwareDeviceKey> = OnceLock::new();
    KEY.get_or_init(|| SoftwareDeviceKey::generate(2048).unwrap())
}

pub fn pkcs1_of(key: &dyn DeviceKey) -> Vec<u8> {
    let spki = key.public_key_spki_der().unwrap();
    rsa::RsaPublicKey::from_public_key_der(&spki)
        .unwrap()
        .to_pkcs1_der()
        .unwrap()
        .into_vec()
}

pub fn t(secs: u64) -> UnixTime {
    UnixTime::from_secs(secs as i64)
}

pub fn credential() -> PushCredential {
    PushCredential {
        serial: SERIAL.to_owned(),
        url: URL.to_owned(),
        sslverify: true,
        server_public_key_pkcs1: pkcs1_of(server_key()),
        poll_only: false,
        fb_token: Some("fcm-token-1".to_owned()),
        enrolled_at: t(1_700_000_000),
        app_force_unlock: None,
    }
}

pub fn b32_sign(key: &dyn DeviceKey, message: &str) -> String {
    BASE32.encode(&key.sign_pkcs1_sha256(message.as_bytes()).unwrap())
}

/// The challenge privacyIDEA 3.14 would send, signed by `signer`.
pub struct ChallengeBuilder {
    pub fields: Map<String, Value>,
}

impl ChallengeBuilder {
    pub fn new() -> Self {
        let fields = json!({
            "nonce": NONCE,
            "question": "Login for alice?",
            "serial": SERIAL,
            "title": "PI Test",
            "sslverify": "1",
            "url": URL,
        });
        let Value::Object(fields) = fields else {
            unreachable!()
        };
        ChallengeBuilder { fields }
    }

    pub fn set(mut self, field: &str, value: &str) -> Self {
        self.fields
            .insert(field.to_owned(), Value::String(value.to_owned()));
        self
    }

    fn get(&self, field: &str) -> &str {
        self.fields[field].as_str().unwrap()
    }

    /// Adds `signature` (and the presence options to it when set) made by `signer`.
    pub fn signed_by(self, signer: &dyn DeviceKey) -> Self {
        let mut message = format!(
            "{}|{}|{}|{}|{}|{}",
            self.get("nonce"),
            self.get("url"),
            self.get("serial"),
            self.get("question"),
            self.get("title"),
            self.get("sslverify")
        );
        if let Some(Value::String(options)) = self.fields.get("require_presence") {
            message.push('|');
            message.push_str(options);
        }
        let signature = b32_sign(signer, &message);
        self.set("signature", &signature)
    }

    /// Adds `capabilities` exactly as privacyIDEA writes them (Python's `json.dumps`, with a space
    /// after the colon) and their signature over the JCS form for `nonce`.
    pub fn with_capabilities(self, signer: &dyn DeviceKey, nonce: &str) -> Self {
        let jcs = format!("{{\"capabilities\":{{\"decline_reason\":true}},\"nonce\":\"{nonce}\"}}");
        let signature = b32_sign(signer, &jcs);
        self.set("capabilities", "{\"decline_reason\": true}")
            .set("capabilities_signature", &signature)
    }

    pub fn json(&self) -> String {
        Value::Object(self.fields.clone()).to_string()
    }
}

/// A request as verification would produce it, for store and answer tests.
pub fn request(nonce: &str, received_at: UnixTime) -> PushRequest {
    PushRequest {
        nonce: nonce.to_owned(),
        serial: SERIAL.to_owned(),
        title: "PI Test".to_owned(),
        question: "Login for alice?".to_owned(),
        url: URL.to_owned(),
        sslverify: true,
        require_presence: None,
        capabilities: Default::default(),
        received_at,
        expires_at: received_at + Duration::from_secs(120),
    }
}

/// A transport that answers from a script and records what it was sent: the network as the
/// unit tests need it (the real server is in `tests/tests/`).
#[derive(Default)]
pub(crate) struct ScriptedTransport {
    answers: std::sync::Mutex<std::collections::VecDeque<ScriptedAnswer>>,
    pub sent: std::sync::Mutex<Vec<crate::push::HttpRequest>>,
}

pub(crate) type ScriptedAnswer = Result<crate::push::HttpResponse, crate::push::TransportError>;

impl ScriptedTransport {
    pub fn new(answers: Vec<ScriptedAnswer>) -> std::sync::Arc<Self> {
        std::sync::Arc::new(ScriptedTransport {
            answers: std::sync::Mutex::new(answers.into()),
            sent: std::sync::Mutex::default(),
        })
    }

    pub fn sent(&self) -> Vec<crate::push::HttpRequest> {
        self.sent.lock().unwrap().clone()
    }
}

#[async_trait::async_trait]
impl crate::push::HttpTransport for ScriptedTransport {
    async fn send(
        &self,
        request: crate::push::HttpRequest,
    ) -> Result<crate::push::HttpResponse, crate::push::TransportError> {
        self.sent.lock().unwrap().push(request);
        self.answers.lock().unwrap().pop_front().unwrap_or(Err(
            crate::push::TransportError::Other {
                reason: "the test script has no more answers".into(),
            },
        ))
    }
}

/// An HTTP 200 JSON response with a `Date` header.
pub(crate) fn json_response(body: &str, date: &str) -> crate::push::HttpResponse {
    crate::push::HttpResponse {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            ("Date".into(), date.into()),
        ],
        body: body.as_bytes().to_vec(),
    }
}
