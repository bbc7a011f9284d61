//! `account`: the account model and its validation (id, issuer, label, credentials, order, group,
//! note). Knows nothing of storage or URIs; the vault persists these, `uri` builds them.

use std::fmt;

use crate::error::Echo;
use crate::otp::{Generator, OtpError, OtpKind, OtpParams};
use crate::push::PushCredential;
use crate::secret::Secret;
use crate::time::UnixTime;

/// Longest issuer, label, group or note we accept, in characters.
pub const MAX_NAME_CHARS: usize = 256;
pub const MAX_NOTE_CHARS: usize = 4096;

/// A stable account id: a random UUID v4 in lower-case hyphenated form. It never changes, even
/// when the account is renamed, so apps and scripts can keep it.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    pub fn random() -> Self {
        AccountId(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// Accepts only the canonical form the core itself writes.
    pub fn parse(text: &str) -> Result<Self, AccountError> {
        match uuid::Uuid::try_parse(text) {
            Ok(u) if u.hyphenated().to_string() == text => Ok(AccountId(text.to_owned())),
            _ => Err(AccountError::BadId {
                id: text.chars().take(64).collect(),
            }),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccountId({})", self.0)
    }
}

/// An OTP credential: parameters plus the secret. Debug never shows the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpCredential {
    pub params: OtpParams,
    pub secret: Secret,
}

impl OtpCredential {
    pub fn new(params: OtpParams, secret: Secret) -> Result<Self, AccountError> {
        // The checks building a generator makes, so code generation cannot refuse it later.
        Generator::check(&params, &secret)?;
        Ok(OtpCredential { params, secret })
    }

    pub fn generator(&self) -> Result<Generator, OtpError> {
        Generator::new(self.params, &self.secret)
    }

    /// [`OtpCredential::generator`] for a caller that scrubs the stack itself after keying many
    /// (see [`Generator::new_unscrubbed`]).
    pub(crate) fn generator_unscrubbed(&self) -> Result<Generator, OtpError> {
        Generator::new_unscrubbed(self.params, &self.secret)
    }
}

/// What the user (or a URI) supplies to create an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccount {
    pub issuer: String,
    pub label: String,
    pub otp: OtpCredential,
    pub group: Option<String>,
    pub note: Option<String>,
    /// otpauth parameters we do not interpret (`image`, `color`, privacyIDEA's `serial`, ...),
    /// kept in their order so that writing the URI back loses nothing.
    pub extra_params: Vec<(String, String)>,
}

impl NewAccount {
    /// Trims names and checks every field; the error names the field.
    pub fn validated(mut self) -> Result<Self, AccountError> {
        let names = Names {
            issuer: self.issuer,
            label: self.label,
            group: self.group,
            note: self.note,
        }
        .validated()?;
        (self.issuer, self.label, self.group, self.note) =
            (names.issuer, names.label, names.group, names.note);
        self.otp.params.validate()?;
        Ok(self)
    }
}

/// The user-editable names of an account, validated together (an account needs an issuer or a
/// label; each has a length limit and refuses control characters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    pub issuer: String,
    pub label: String,
    pub group: Option<String>,
    pub note: Option<String>,
}

impl Names {
    /// Trims names and checks every field; the error names the field.
    pub fn validated(self) -> Result<Self, AccountError> {
        let issuer = clean_name("issuer", &self.issuer, MAX_NAME_CHARS)?;
        let label = clean_name("label", &self.label, MAX_NAME_CHARS)?;
        if issuer.is_empty() && label.is_empty() {
            return Err(AccountError::Unnamed);
        }
        Ok(Names {
            issuer,
            label,
            group: clean_optional("group", self.group, MAX_NAME_CHARS)?,
            note: clean_optional("note", self.note, MAX_NOTE_CHARS)?,
        })
    }
}

/// What kind of credential an account shows, end to end (facade records, the FFI's `OtpType`,
/// the CLI's `type`): its code's kind, or `Push` for an account with a push token and no code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CredentialKind {
    Totp,
    Hotp,
    Steam,
    Push,
}

impl CredentialKind {
    /// `totp`, `hotp`, `steam` or `push`: the CLI's and the URIs' spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Totp => "totp",
            CredentialKind::Hotp => "hotp",
            CredentialKind::Steam => "steam",
            CredentialKind::Push => "push",
        }
    }
}

impl From<OtpKind> for CredentialKind {
    fn from(kind: OtpKind) -> Self {
        match kind {
            OtpKind::Totp { .. } => CredentialKind::Totp,
            OtpKind::Hotp { .. } => CredentialKind::Hotp,
            OtpKind::Steam { .. } => CredentialKind::Steam,
        }
    }
}

/// A stored account. It holds an OTP credential, a push credential, or both (the code is the
/// fallback when a push does not arrive); never neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: AccountId,
    pub issuer: String,
    pub label: String,
    pub otp: Option<OtpCredential>,
    /// The push token enrolled for this account (its device key is kept sealed apart).
    pub push: Option<PushCredential>,
    pub group: Option<String>,
    pub note: Option<String>,
    /// Position in the user's list; smaller first. Ties keep creation order.
    pub sort_order: i64,
    /// Unix seconds.
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    pub extra_params: Vec<(String, String)>,
}

impl Account {
    /// `issuer` or `label` (or the id prefix) contains `query`, case-insensitively.
    pub fn matches(&self, query: &str) -> bool {
        let q = query.to_lowercase();
        q.is_empty()
            || self.issuer.to_lowercase().contains(&q)
            || self.label.to_lowercase().contains(&q)
            || self.id.as_str().starts_with(&q)
    }

    /// "Issuer (label)", or whichever of the two exists.
    pub fn display_name(&self) -> String {
        display_name(&self.issuer, &self.label)
    }
}

fn clean_name(field: &'static str, value: &str, max: usize) -> Result<String, AccountError> {
    let trimmed = value.trim();
    if let Some((index, ch)) = trimmed.chars().enumerate().find(|(_, c)| c.is_control()) {
        return Err(AccountError::ControlCharacter {
            field,
            position: index + 1,
            code: ch as u32,
        });
    }
    let count = trimmed.chars().count();
    if count > max {
        return Err(AccountError::TooLong { field, count, max });
    }
    Ok(trimmed.to_owned())
}

fn clean_optional(
    field: &'static str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, AccountError> {
    match value {
        None => Ok(None),
        Some(v) if field == "note" => {
            // Notes may span lines; other control characters are still refused.
            let count = v.chars().count();
            if count > max {
                return Err(AccountError::TooLong { field, count, max });
            }
            if let Some((index, ch)) = v
                .chars()
                .enumerate()
                .find(|(_, c)| c.is_control() && *c != '\n' && *c != '\t')
            {
                return Err(AccountError::ControlCharacter {
                    field,
                    position: index + 1,
                    code: ch as u32,
                });
            }
            Ok(if v.trim().is_empty() { None } else { Some(v) })
        }
        Some(v) => {
            let cleaned = clean_name(field, &v, max)?;
            Ok(if cleaned.is_empty() {
                None
            } else {
                Some(cleaned)
            })
        }
    }
}

/// Why an account (or a change to one) was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("{field}: control character U+{code:04X} at character {position}")]
    ControlCharacter {
        field: &'static str,
        position: usize,
        code: u32,
    },
    #[error("{field}: {count} characters, at most {max} allowed")]
    TooLong {
        field: &'static str,
        count: usize,
        max: usize,
    },
    #[error("an account needs an issuer or a label")]
    Unnamed,
    #[error("'{}' is not an account id", Echo(id))]
    BadId { id: String },
    #[error(transparent)]
    Otp(#[from] OtpError),
}

/// "Issuer (label)", or whichever of the two exists: how an account is named to people.
pub fn display_name(issuer: &str, label: &str) -> String {
    match (issuer.is_empty(), label.is_empty()) {
        (false, false) => format!("{issuer} ({label})"),
        (false, true) => issuer.to_owned(),
        _ => label.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_kinds_are_spelled_as_the_cli_and_uris_spell_them() {
        for (kind, name) in [
            (CredentialKind::Totp, "totp"),
            (CredentialKind::Hotp, "hotp"),
            (CredentialKind::Steam, "steam"),
            (CredentialKind::Push, "push"),
        ] {
            assert_eq!(kind.as_str(), name);
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
        assert_eq!(
            CredentialKind::from(OtpKind::Steam { period: 30 }),
            CredentialKind::Steam
        );
    }
    use crate::otp::Algorithm;

    fn new_account(issuer: &str, label: &str) -> NewAccount {
        NewAccount {
            issuer: issuer.into(),
            label: label.into(),
            otp: OtpCredential::new(
                OtpParams::totp(Algorithm::Sha1, 6, 30),
                Secret::from_slice(b"0123456789"),
            )
            .unwrap(),
            group: None,
            note: None,
            extra_params: vec![],
        }
    }

    #[test]
    fn names_are_trimmed_and_checked() {
        let a = new_account("  Example ", " alice ").validated().unwrap();
        assert_eq!((a.issuer.as_str(), a.label.as_str()), ("Example", "alice"));
        assert_eq!(
            new_account("", " ").validated().unwrap_err(),
            AccountError::Unnamed
        );
        assert_eq!(
            new_account("Ex\u{7}", "a")
                .validated()
                .unwrap_err()
                .to_string(),
            "issuer: control character U+0007 at character 3"
        );
        let long = "x".repeat(300);
        assert_eq!(
            new_account("Ex", &long)
                .validated()
                .unwrap_err()
                .to_string(),
            "label: 300 characters, at most 256 allowed"
        );
    }

    #[test]
    fn ids_are_canonical_uuids() {
        let id = AccountId::random();
        assert_eq!(AccountId::parse(id.as_str()).unwrap(), id);
        assert!(AccountId::parse("not-an-id").is_err());
        assert!(AccountId::parse(&id.as_str().to_uppercase()).is_err());
    }

    #[test]
    fn debug_of_an_account_hides_the_secret() {
        let a = new_account("Ex", "a").validated().unwrap();
        assert!(!format!("{a:?}").contains("0123456789"));
    }
}
