//! What a backup holds (docs/backup.md, "Payload"): a JSON object with every OTP account in the
//! user's order (secret, parameters, HOTP counter, names, group, note, the URI parameters kept
//! from its QR code) and, as metadata only, the push tokens a new phone must enroll again.
//! Serialized into a buffer that zeroizes what it leaves behind; secrets are held in zeroized
//! strings.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zeroize::Zeroizing;

use super::BackupError;
use crate::account::{Account, CredentialKind, NewAccount, OtpCredential};
use crate::otp::{Algorithm, OtpKind, OtpParams};
use crate::secret::Secret;
use crate::secret_buffer::SecretBuffer;
use crate::time::UnixTime;

const FORMAT_NAME: &str = "authcore-backup";
const PAYLOAD_VERSION: u32 = 1;

/// The decrypted content of a backup.
#[derive(Debug, Serialize, Deserialize)]
pub struct Payload {
    pub format: String,
    pub version: u32,
    /// Unix seconds when the backup was made.
    pub created_at: UnixTime,
    pub accounts: Vec<BackupAccount>,
    #[serde(default)]
    pub reenroll: Vec<Reenroll>,
}

/// One OTP account, as restored.
#[derive(Serialize, Deserialize)]
pub struct BackupAccount {
    pub issuer: String,
    pub label: String,
    /// `totp`, `hotp` or `steam`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `SHA1`, `SHA256` or `SHA512`.
    pub algorithm: String,
    pub digits: u8,
    /// TOTP and Steam only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period: Option<u32>,
    /// HOTP only: the counter the next code uses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counter: Option<u64>,
    /// Base32 without padding.
    #[serde(serialize_with = "write_secret", deserialize_with = "read_secret")]
    pub secret: Zeroizing<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub extra_params: Vec<(String, String)>,
}

impl std::fmt::Debug for BackupAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackupAccount")
            .field("issuer", &self.issuer)
            .field("label", &self.label)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A push token that cannot move: bound to the old phone's device key, enrolled again on the
/// new one. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reenroll {
    pub issuer: String,
    pub label: String,
    /// `push` (privacyIDEA PUSH), the only kind bound to a phone so far.
    pub kind: CredentialKind,
    /// The push server, as `scheme://host:port`.
    pub server: String,
    pub serial: String,
    /// The account also has a code, which the backup restores.
    pub has_code: bool,
}

impl Reenroll {
    /// What `account` must enroll again on a new phone: its push token, if it has one.
    pub fn of(account: &Account) -> Option<Self> {
        let push = account.push.as_ref()?;
        Some(Reenroll {
            issuer: account.issuer.clone(),
            label: account.label.clone(),
            kind: CredentialKind::Push,
            server: crate::push::server_origin(&push.url),
            serial: push.serial.clone(),
            has_code: account.otp.is_some(),
        })
    }
}

fn write_secret<S: Serializer>(secret: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret)
}

fn read_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Zeroizing<String>, D::Error> {
    String::deserialize(d).map(Zeroizing::new)
}

impl Payload {
    /// The backup of `accounts` (in the user's order) made at `created_at`.
    pub fn of_accounts<'a>(
        accounts: impl IntoIterator<Item = &'a Account>,
        created_at: UnixTime,
    ) -> Self {
        let mut payload = Payload {
            format: FORMAT_NAME.into(),
            version: PAYLOAD_VERSION,
            created_at,
            accounts: Vec::new(),
            reenroll: Vec::new(),
        };
        for account in accounts {
            if let Some(otp) = &account.otp {
                payload.accounts.push(BackupAccount::of(account, otp));
            }
            payload.reenroll.extend(Reenroll::of(account));
        }
        payload
    }

    /// The UTF-8 JSON, in a buffer that zeroizes every allocation it leaves behind.
    pub fn to_json(&self) -> Result<Zeroizing<Vec<u8>>, BackupError> {
        let mut out = SecretBuffer::with_capacity(256 + 256 * self.accounts.len());
        serde_json::to_writer(&mut out, self).map_err(|e| BackupError::BadContent {
            reason: e.to_string(),
        })?;
        Ok(out.into_inner())
    }

    /// Reads a decrypted payload; refuses another format or a newer version.
    pub fn from_json(bytes: &[u8]) -> Result<Self, BackupError> {
        let payload: Payload =
            serde_json::from_slice(bytes).map_err(|e| BackupError::BadContent {
                reason: format!("not the payload's JSON ({e})"),
            })?;
        if payload.format != FORMAT_NAME {
            return Err(BackupError::BadContent {
                reason: format!(
                    "format is '{}', not '{FORMAT_NAME}'",
                    crate::error::Echo(&payload.format)
                ),
            });
        }
        if payload.version != PAYLOAD_VERSION {
            return Err(BackupError::BadContent {
                reason: format!(
                    "payload version {} (this authcore reads {PAYLOAD_VERSION})",
                    payload.version
                ),
            });
        }
        Ok(payload)
    }

    /// Every account as the vault adds it, in order; the first invalid one is refused, naming
    /// its position (from 1), its name and the field.
    pub fn new_accounts(&self) -> Result<Vec<NewAccount>, BackupError> {
        self.accounts
            .iter()
            .enumerate()
            .map(|(i, a)| {
                a.to_new_account()
                    .map_err(|reason| BackupError::BadContent {
                        reason: format!("account {} ({}): {reason}", i + 1, a.name()),
                    })
            })
            .collect()
    }
}

impl BackupAccount {
    fn of(account: &Account, otp: &OtpCredential) -> Self {
        let p = otp.params;
        let (period, counter) = match p.kind {
            OtpKind::Totp { period } | OtpKind::Steam { period } => (Some(period), None),
            OtpKind::Hotp { counter } => (None, Some(counter)),
        };
        BackupAccount {
            issuer: account.issuer.clone(),
            label: account.label.clone(),
            kind: p.kind.type_name().into(),
            algorithm: p.algorithm.as_str().into(),
            digits: p.digits,
            period,
            counter,
            secret: otp.secret.to_base32(),
            group: account.group.clone(),
            note: account.note.clone(),
            extra_params: account.extra_params.clone(),
        }
    }

    /// "Issuer (label)", or whichever exists, with control characters escaped.
    pub fn name(&self) -> String {
        crate::error::Echo(&crate::account::display_name(&self.issuer, &self.label)).to_string()
    }

    /// The code parameters, checked.
    pub fn params(&self) -> Result<OtpParams, String> {
        let algorithm = match self.algorithm.as_str() {
            "SHA1" => Algorithm::Sha1,
            "SHA256" => Algorithm::Sha256,
            "SHA512" => Algorithm::Sha512,
            other => {
                return Err(format!(
                    "algorithm: '{}' is not SHA1, SHA256 or SHA512",
                    crate::error::Echo(other)
                ));
            }
        };
        let need = |value: Option<u32>, field: &str| {
            value.ok_or_else(|| format!("{field}: missing for a {} account", self.kind))
        };
        let kind = match self.kind.as_str() {
            "totp" => OtpKind::Totp {
                period: need(self.period, "period")?,
            },
            "steam" => OtpKind::Steam {
                period: need(self.period, "period")?,
            },
            "hotp" => OtpKind::Hotp {
                counter: self
                    .counter
                    .ok_or_else(|| "counter: missing for a hotp account".to_string())?,
            },
            other => {
                return Err(format!(
                    "type: '{}' is not totp, hotp or steam",
                    crate::error::Echo(other)
                ));
            }
        };
        let params = OtpParams {
            kind,
            algorithm,
            digits: self.digits,
        };
        params.validate().map_err(|e| e.to_string())?;
        Ok(params)
    }

    fn to_new_account(&self) -> Result<NewAccount, String> {
        let params = self.params()?;
        let secret = Secret::from_base32(&self.secret).map_err(|e| format!("secret: {e}"))?;
        let otp = OtpCredential::new(params, secret).map_err(|e| e.to_string())?;
        NewAccount {
            issuer: self.issuer.clone(),
            label: self.label.clone(),
            otp,
            group: self.group.clone(),
            note: self.note.clone(),
            extra_params: self.extra_params.clone(),
        }
        .validated()
        .map_err(|e| e.to_string())
    }
}
