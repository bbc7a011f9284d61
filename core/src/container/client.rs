//! The phone's five container endpoints, over the app's transport (through [`PushClient`],
//! which brings the time-outs, the size cap, the redirect refusal and the scrubbing of
//! transport errors). All are anonymous form POSTs under the QR code's `url`:
//! - `container/register/finalize`: `container_serial`, `signature`, `public_client_key`
//!   (PEM), optional `device_brand`, `device_model`, and `passphrase` when the QR says
//!   `send_passphrase=True`; signed message
//!   `nonce|time|serial|<url>/container/register/finalize[|brand][|model][|passphrase]`;
//! - `container/challenge`: `container_serial`, `scope` = the full URL of the call it is for;
//!   answered by `nonce`, `time_stamp`;
//! - `container/synchronize`: `container_serial`, `public_enc_key_client`,
//!   `container_dict_client`, `signature` over
//!   `nonce|time_stamp|serial|scope|public_enc_key_client|container_dict_client`;
//! - `container/rollover` and `container/register/terminate/client`: `container_serial`,
//!   `scope`, `signature` over `nonce|time_stamp|serial|scope`.
//!
//! Errors come in privacyIDEA's envelope (`result.error.code`), each code its own error.

use std::time::Instant;

use serde_json::Value;
use zeroize::Zeroizing;

use super::crypto::{ContainerKey, EncryptedAnswer, SyncKeyPair};
use super::qr::ContainerRegistration;
use super::{ContainerError, ContainerPolicies};
use crate::push::enroll_uri::check_endpoint_url;
use crate::push::response::short_message;
use crate::push::{PushClient, PushError};
use crate::time::UnixTime;

/// Where a registered container lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerServer {
    pub serial: String,
    /// The server's base URL from the QR code.
    pub url: String,
    pub ssl_verify: bool,
}

/// The phone, as the server is told at registration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub brand: Option<String>,
    pub model: Option<String>,
}

/// A sync's answer once decrypted: the JSON of `container_dict_server` (zeroized when
/// dropped: it holds every delivered secret), and the policies.
pub struct SyncAnswer {
    pub plaintext: Zeroizing<Vec<u8>>,
    pub policies: ContainerPolicies,
}

/// The operations a challenge can be for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Synchronize,
    Rollover,
    Unregister,
}

impl Operation {
    fn endpoint(self) -> &'static str {
        match self {
            Operation::Synchronize => "container/synchronize",
            Operation::Rollover => "container/rollover",
            Operation::Unregister => "container/register/terminate/client",
        }
    }
}

/// `<url>/<endpoint>`, as the server composes every scope it checks signatures against.
pub fn endpoint_url(base: &str, endpoint: &str) -> String {
    if base.contains(endpoint) {
        base.to_owned()
    } else if base.ends_with('/') {
        format!("{base}{endpoint}")
    } else {
        format!("{base}/{endpoint}")
    }
}

struct Challenge {
    nonce: String,
    time_stamp: String,
}

impl PushClient {
    /// Registers this phone's `key` for the container of `registration` (the QR code's
    /// challenge, signed). Returns the server's policies.
    pub async fn container_finalize(
        &self,
        registration: &ContainerRegistration,
        key: &ContainerKey,
        device: &DeviceInfo,
        passphrase: Option<&str>,
        now: UnixTime,
    ) -> Result<ContainerPolicies, ContainerError> {
        registration.check_not_expired(now)?;
        let serial = registration.serial.as_str();
        let scope = endpoint_url(&registration.url, "container/register/finalize");
        let mut message = format!(
            "{}|{}|{serial}|{scope}",
            registration.nonce, registration.time
        );
        let mut form = vec![("container_serial", serial.to_owned())];
        for (param, value) in [
            ("device_brand", &device.brand),
            ("device_model", &device.model),
        ] {
            if let Some(value) = value.as_deref().filter(|v| !v.is_empty()) {
                check_part(param, value)?;
                message.push('|');
                message.push_str(value);
                form.push((param, value.to_owned()));
            }
        }
        let passphrase = passphrase.filter(|p| !p.is_empty());
        if registration.needs_passphrase() && passphrase.is_none() {
            return Err(ContainerError::InvalidArgument {
                param: "passphrase".to_owned(),
                reason: format!(
                    "this registration asks for one ({})",
                    registration
                        .passphrase_prompt
                        .as_deref()
                        .unwrap_or("the password of your user store")
                ),
            });
        }
        let message = Zeroizing::new(match passphrase {
            Some(p) => {
                check_part("passphrase", p)?;
                if registration.send_passphrase {
                    form.push(("passphrase", p.to_owned()));
                }
                format!("{message}|{p}")
            }
            None => message,
        });
        form.push(("signature", key.sign(&message).map_err(key_error)?));
        form.push(("public_client_key", key.public_pem().map_err(key_error)?));
        let value = self
            .container_post(
                serial,
                &registration.url,
                registration.ssl_verify,
                "container/register/finalize",
                &form,
                now,
            )
            .await;
        // The form holds the passphrase when it is sent: clear it whatever happened.
        for (_, v) in &mut form {
            zeroize::Zeroize::zeroize(v);
        }
        let value = value.map_err(|e| match e {
            ContainerError::SignatureRejected { serial, .. } => {
                ContainerError::RegistrationRejected {
                    serial,
                    with_passphrase: passphrase.is_some(),
                }
            }
            other => other,
        })?;
        Ok(ContainerPolicies::from_answer(value.get("policies")))
    }

    /// Synchronizes: the signed list of the tokens this phone holds (`container_dict_client`,
    /// JSON) out, the server's encrypted token list back.
    pub async fn container_sync(
        &self,
        server: &ContainerServer,
        key: &ContainerKey,
        container_dict_client: &str,
        now: UnixTime,
    ) -> Result<SyncAnswer, ContainerError> {
        let serial = server.serial.as_str();
        let scope = endpoint_url(&server.url, Operation::Synchronize.endpoint());
        let challenge = self
            .container_challenge(server, Operation::Synchronize, now)
            .await?;
        let pair = SyncKeyPair::generate().map_err(key_error)?;
        let message = format!(
            "{}|{}|{serial}|{scope}|{}|{container_dict_client}",
            challenge.nonce,
            challenge.time_stamp,
            pair.public_b64()
        );
        let form = [
            ("container_serial", serial.to_owned()),
            ("public_enc_key_client", pair.public_b64().to_owned()),
            ("container_dict_client", container_dict_client.to_owned()),
            ("signature", key.sign(&message).map_err(key_error)?),
        ];
        let value = self
            .container_post(
                serial,
                &server.url,
                server.ssl_verify,
                Operation::Synchronize.endpoint(),
                &form,
                now,
            )
            .await?;
        let field = |name: &str| -> Result<&str, ContainerError> {
            value
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| ContainerError::answer(serial, format!("`{name}` is missing")))
        };
        let params = value.get("encryption_params");
        let param = |name: &str| -> Result<&str, ContainerError> {
            params
                .and_then(|p| p.get(name))
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ContainerError::answer(serial, format!("`encryption_params.{name}` is missing"))
                })
        };
        for (name, expected) in [("algorithm", "AES"), ("mode", "GCM")] {
            let got = param(name)?;
            if !got.eq_ignore_ascii_case(expected) {
                return Err(ContainerError::answer(
                    serial,
                    format!(
                        "`encryption_params.{name}` is '{}', not {expected}",
                        short_message(got)
                    ),
                ));
            }
        }
        let answer = EncryptedAnswer {
            server_public_key: field("public_server_key")?,
            init_vector: param("init_vector")?,
            tag: param("tag")?,
            ciphertext: field("container_dict_server")?,
        };
        let plaintext = pair
            .open(&answer)
            .map_err(|reason| ContainerError::answer(serial, reason))?;
        Ok(SyncAnswer {
            plaintext,
            policies: ContainerPolicies::from_answer(value.get("policies")),
        })
    }

    /// Asks the server to move the container to another phone: returns the `pia://container/`
    /// QR code for the new phone to scan.
    pub async fn container_rollover(
        &self,
        server: &ContainerServer,
        key: &ContainerKey,
        now: UnixTime,
    ) -> Result<String, ContainerError> {
        let value = self
            .signed_operation(server, key, Operation::Rollover, now)
            .await?;
        let qr = value
            .get("container_url")
            .and_then(|u| u.get("value"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ContainerError::answer(&server.serial, "`container_url.value` is missing")
            })?;
        if !qr.to_ascii_lowercase().starts_with("pia://container/") {
            return Err(ContainerError::answer(
                &server.serial,
                "`container_url.value` is not a pia://container/ QR code",
            ));
        }
        Ok(qr.to_owned())
    }

    /// Ends this phone's registration of the container at the server.
    pub async fn container_unregister(
        &self,
        server: &ContainerServer,
        key: &ContainerKey,
        now: UnixTime,
    ) -> Result<(), ContainerError> {
        self.signed_operation(server, key, Operation::Unregister, now)
            .await
            .map(|_| ())
    }

    async fn signed_operation(
        &self,
        server: &ContainerServer,
        key: &ContainerKey,
        operation: Operation,
        now: UnixTime,
    ) -> Result<Value, ContainerError> {
        let serial = server.serial.as_str();
        let scope = endpoint_url(&server.url, operation.endpoint());
        let challenge = self.container_challenge(server, operation, now).await?;
        let message = format!(
            "{}|{}|{serial}|{scope}",
            challenge.nonce, challenge.time_stamp
        );
        let form = [
            ("container_serial", serial.to_owned()),
            ("scope", scope),
            ("signature", key.sign(&message).map_err(key_error)?),
        ];
        self.container_post(
            serial,
            &server.url,
            server.ssl_verify,
            operation.endpoint(),
            &form,
            now,
        )
        .await
    }

    async fn container_challenge(
        &self,
        server: &ContainerServer,
        operation: Operation,
        now: UnixTime,
    ) -> Result<Challenge, ContainerError> {
        let serial = server.serial.as_str();
        let form = [
            ("container_serial", serial.to_owned()),
            ("scope", endpoint_url(&server.url, operation.endpoint())),
        ];
        let value = self
            .container_post(
                serial,
                &server.url,
                server.ssl_verify,
                "container/challenge",
                &form,
                now,
            )
            .await?;
        let text = |name: &str| -> Result<String, ContainerError> {
            let v = value.get(name).and_then(Value::as_str).ok_or_else(|| {
                ContainerError::answer(serial, format!("challenge: `{name}` is missing"))
            })?;
            if v.is_empty() || v.contains('|') || v.len() > 256 {
                return Err(ContainerError::answer(
                    serial,
                    format!("challenge: `{name}` is not a usable value"),
                ));
            }
            Ok(v.to_owned())
        };
        Ok(Challenge {
            nonce: text("nonce")?,
            time_stamp: text("time_stamp")?,
        })
    }

    /// POSTs `form` to `<base>/<endpoint>` and returns `result.value`, or the server's error.
    async fn container_post(
        &self,
        serial: &str,
        base: &str,
        ssl_verify: bool,
        endpoint: &str,
        form: &[(&str, String)],
        now: UnixTime,
    ) -> Result<Value, ContainerError> {
        let transport = |source: PushError| ContainerError::Transport {
            serial: serial.to_owned(),
            source,
        };
        let url = check_endpoint_url("url", &endpoint_url(base, endpoint), ssl_verify)
            .map_err(transport)?;
        let request = self.post(url, ssl_verify, form);
        let raw = self
            .execute(request, now, Instant::now())
            .await
            .map_err(transport)?;
        parse_envelope(serial, raw.status, &raw.body)
    }
}

/// privacyIDEA's envelope: `result.value` on success, else the error by its code (public for
/// the fuzz target).
pub fn parse_envelope(
    serial: &str,
    http_status: u16,
    body: &[u8],
) -> Result<Value, ContainerError> {
    let success = (200..300).contains(&http_status);
    let json: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            return Err(ContainerError::Transport {
                serial: serial.to_owned(),
                source: if success {
                    PushError::Response {
                        reason: "the body is not JSON".to_owned(),
                    }
                } else {
                    PushError::Server {
                        status: http_status,
                        server_message: None,
                    }
                },
            });
        }
    };
    let result = json.get("result");
    let status = result
        .and_then(|r| r.get("status"))
        .and_then(Value::as_bool);
    if success && status == Some(true) {
        return Ok(result
            .and_then(|r| r.get("value"))
            .cloned()
            .unwrap_or(Value::Null));
    }
    let error = result.and_then(|r| r.get("error"));
    let code = error.and_then(|e| e.get("code")).and_then(Value::as_i64);
    let message = error
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .map(short_message);
    Err(ContainerError::from_server(
        serial,
        http_status,
        code,
        message,
    ))
}

/// A value that goes into a `|`-joined signed message.
fn check_part(param: &str, value: &str) -> Result<(), ContainerError> {
    if value.contains('|') {
        return Err(ContainerError::InvalidArgument {
            param: param.to_owned(),
            reason: "must not contain '|' (the server joins the signed message with it)".to_owned(),
        });
    }
    if value.chars().count() > 256 {
        return Err(ContainerError::InvalidArgument {
            param: param.to_owned(),
            reason: "is longer than 256 characters".to_owned(),
        });
    }
    Ok(())
}

fn key_error(reason: String) -> ContainerError {
    ContainerError::Key { reason }
}
