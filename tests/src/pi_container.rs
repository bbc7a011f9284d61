//! The admin's side of privacyIDEA's smartphone containers, for the container interop tests:
//! the container policies, creating a container for a user with tokens in it, its registration
//! (and rollover) QR code, terminating and deleting it, and reading its state.

use serde_json::{Value, json};

use crate::privacyidea::{HarnessError, PrivacyIdea, REALM, Result};

/// The container policy every test starts from: the server URL the phone uses, plain http
/// (`container_ssl_verify=False`), and the phone's rollover allowed.
pub const CONTAINER_POLICY: &str = "authcore-container-base";

impl PrivacyIdea {
    /// Sets the container policy all users share (idempotent).
    pub fn enable_containers(&self) -> Result<()> {
        self.set_policy_json(
            CONTAINER_POLICY,
            &json!({"scope": "container", "active": true, "priority": 10,
                    "action": format!("privacyIDEA_server_url={}, container_registration_ttl=10, \
                                       container_challenge_ttl=2, container_ssl_verify=False, \
                                       container_client_rollover", self.base_url())}),
        )
    }

    /// A container policy for `user` only (`action` as privacyIDEA writes it).
    pub fn set_container_user_policy(&self, name: &str, action: &str, user: &str) -> Result<()> {
        self.set_policy_json(
            name,
            &json!({"scope": "container", "action": action, "active": true, "realm": REALM,
                    "user": user, "priority": 1}),
        )
    }

    /// A new smartphone container owned by `user`; returns its serial.
    pub fn init_container(&self, user: &str) -> Result<String> {
        let json = self.admin_post_form(
            "/container/init",
            &[("type", "smartphone"), ("user", user), ("realm", REALM)],
        )?;
        json.pointer("/result/value/container_serial")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| HarnessError(format!("/container/init: no serial: {json}")))
    }

    /// Puts token `serial` into `container`.
    pub fn add_to_container(&self, container: &str, serial: &str) -> Result<()> {
        self.admin_post_form(
            &format!("/container/{container}/add"),
            &[("serial", serial)],
        )
        .map(drop)
    }

    /// A DayPassword token (SHA-1, 6 digits, a 1-day step) for `user` with token PIN `pin`;
    /// returns its serial.
    pub fn init_daypassword_token(&self, user: &str, pin: &str) -> Result<String> {
        let json = self.admin_post_form(
            "/token/init",
            &[
                ("type", "daypassword"),
                ("genkey", "1"),
                ("otplen", "6"),
                ("hashlib", "sha1"),
                ("timeStep", "86400"),
                ("user", user),
                ("realm", REALM),
                ("pin", pin),
            ],
        )?;
        json.pointer("/detail/serial")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| HarnessError(format!("/token/init daypassword: no serial: {json}")))
    }

    /// The registration QR code of `container` (`extra`: `rollover=1`, a passphrase, ...).
    pub fn container_qr(&self, container: &str, extra: &[(&str, &str)]) -> Result<String> {
        let mut form = vec![("container_serial", container)];
        form.extend_from_slice(extra);
        let json = self.admin_post_form("/container/register/initialize", &form)?;
        json.pointer("/result/value/container_url/value")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| HarnessError(format!("/container/register/initialize: no QR: {json}")))
    }

    /// The admin ends the container's registration.
    pub fn terminate_container(&self, container: &str) -> Result<()> {
        self.admin_post_form(&format!("/container/register/{container}/terminate"), &[])
            .map(drop)
    }

    pub fn delete_container(&self, container: &str) -> Result<()> {
        self.admin_delete(&format!("/container/{container}"))
            .map(drop)
    }

    /// The container's entry from `GET /container/` (`tokens`, `info`, `states`, ...).
    pub fn container_entry(&self, container: &str) -> Result<Value> {
        let json = self.admin_get("/container/", &[("container_serial", container)])?;
        json.pointer("/result/value/containers/0")
            .cloned()
            .ok_or_else(|| HarnessError(format!("no container {container}: {json}")))
    }

    /// Its `registration_state` info (`registered`, `rollover`, `rollover_completed`, ...).
    pub fn container_registration_state(&self, container: &str) -> Result<String> {
        let entry = self.container_entry(container)?;
        let info = entry.get("info").cloned().unwrap_or(Value::Null);
        Ok(info
            .get("registration_state")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned())
    }
}
