//! privacyIDEA's JSON response envelope:
//! `{"result": {"status": bool, "value": ..., "error": {"code": n, "message": "..."}}, "detail": {...}}`.
//!
//! Only a short, sanitised server message ever leaves this module; whole bodies never do.

use serde_json::{Map, Value};

use super::PushError;

const MAX_SERVER_MESSAGE_CHARS: usize = 160;

#[derive(Debug)]
pub(crate) struct Envelope {
    pub value: Value,
    pub detail: Map<String, Value>,
}

/// Checks HTTP status and `result.status`, and returns `result.value` and `detail`.
pub(crate) fn parse(http_status: u16, body: &[u8]) -> Result<Envelope, PushError> {
    let success = (200..300).contains(&http_status);
    let json: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) if !success => {
            return Err(PushError::Server {
                status: http_status,
                server_message: None,
            });
        }
        Err(_) => return Err(PushError::response("the body is not JSON")),
    };
    let result = json.get("result").and_then(Value::as_object);
    let status = result
        .and_then(|r| r.get("status"))
        .and_then(Value::as_bool);
    if !success || status != Some(true) {
        let message = result
            .and_then(|r| r.get("error"))
            .and_then(|e| e.get("message"))
            .and_then(Value::as_str)
            .map(short_message);
        return Err(PushError::Server {
            status: http_status,
            server_message: message,
        });
    }
    let Some(result) = result else {
        return Err(PushError::response("`result` is missing"));
    };
    let detail = match json.get("detail") {
        Some(Value::Object(d)) => d.clone(),
        _ => Map::new(),
    };
    Ok(Envelope {
        value: result.get("value").cloned().unwrap_or(Value::Null),
        detail,
    })
}

/// `result.value` must be `true`; `false` is the server refusing (e.g. a bad signature).
pub(crate) fn require_true(envelope: &Envelope) -> Result<(), PushError> {
    match envelope.value {
        Value::Bool(true) => Ok(()),
        Value::Bool(false) => Err(PushError::Rejected {
            server_message: envelope
                .detail
                .get("message")
                .and_then(Value::as_str)
                .map(short_message),
        }),
        _ => Err(PushError::response("`result.value` is not a boolean")),
    }
}

/// A server-supplied string made safe to show: one line, bounded length.
pub(crate) fn short_message(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_SERVER_MESSAGE_CHARS)
        .collect();
    if text.chars().count() > MAX_SERVER_MESSAGE_CHARS {
        out.push('…');
    }
    out
}
