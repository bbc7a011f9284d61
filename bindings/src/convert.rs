//! Records and enums as Kotlin and Swift see them, converted from the core's types.

use authcore::account::{CredentialKind, NewAccount};
use authcore::authenticator::{AccountInfo, Added, CodeClock, CodeInfo, HotpCode as CoreHotpCode};
use authcore::otp::Algorithm;
use authcore::time::UnixTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum OtpType {
    Totp,
    Hotp,
    Steam,
    /// A push-only account: approvals, no code.
    Push,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HashAlgorithm {
    Sha1,
    Sha256,
    Sha512,
}

impl From<Algorithm> for HashAlgorithm {
    fn from(a: Algorithm) -> Self {
        match a {
            Algorithm::Sha1 => HashAlgorithm::Sha1,
            Algorithm::Sha256 => HashAlgorithm::Sha256,
            Algorithm::Sha512 => HashAlgorithm::Sha512,
        }
    }
}

impl From<CredentialKind> for OtpType {
    fn from(kind: CredentialKind) -> Self {
        match kind {
            CredentialKind::Totp => OtpType::Totp,
            CredentialKind::Hotp => OtpType::Hotp,
            CredentialKind::Steam => OtpType::Steam,
            CredentialKind::Push => OtpType::Push,
        }
    }
}

/// An account without its secret.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Account {
    pub id: String,
    pub issuer: String,
    pub label: String,
    pub otp_type: OtpType,
    /// `None` for a push-only account, as are `digits`, `period` and `counter`.
    pub algorithm: Option<HashAlgorithm>,
    pub digits: Option<u8>,
    pub period: Option<u32>,
    pub counter: Option<u64>,
    /// The push token's serial when the account has one; its code (if any) is the fallback.
    pub push_serial: Option<String>,
    /// When the push token's server registered it.
    pub push_enrolled_at: Option<UnixTime>,
    pub group: Option<String>,
    pub note: Option<String>,
    pub sort_order: i64,
    pub created_at: UnixTime,
    pub updated_at: UnixTime,
    /// Passwordless (phone sign-in) is on for this account.
    pub passwordless: bool,
}

impl From<&AccountInfo> for Account {
    fn from(a: &AccountInfo) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let AccountInfo {
            id,
            issuer,
            label,
            kind,
            algorithm,
            digits,
            period,
            counter,
            push_serial,
            push_enrolled_at,
            group,
            note,
            sort_order,
            created_at,
            updated_at,
            passwordless,
        } = a;
        Account {
            id: id.to_string(),
            issuer: issuer.clone(),
            label: label.clone(),
            otp_type: (*kind).into(),
            algorithm: algorithm.map(Into::into),
            digits: *digits,
            period: *period,
            counter: *counter,
            push_serial: push_serial.clone(),
            push_enrolled_at: *push_enrolled_at,
            group: group.clone(),
            note: note.clone(),
            sort_order: *sort_order,
            created_at: *created_at,
            updated_at: *updated_at,
            passwordless: *passwordless,
        }
    }
}

/// An account a URI would create (no id yet: the id is empty).
pub fn preview(a: &NewAccount) -> Account {
    let kind = a.otp.params.kind;
    Account {
        id: String::new(),
        issuer: a.issuer.clone(),
        label: a.label.clone(),
        otp_type: CredentialKind::from(kind).into(),
        algorithm: Some(a.otp.params.algorithm.into()),
        digits: Some(a.otp.params.digits),
        period: kind.period(),
        counter: kind.counter(),
        push_serial: None,
        push_enrolled_at: None,
        group: a.group.clone(),
        note: a.note.clone(),
        sort_order: 0,
        created_at: UnixTime::EPOCH,
        updated_at: UnixTime::EPOCH,
        passwordless: false,
    }
}

/// The platform whose passwordless rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum Platform {
    Ios,
    Android,
    Desktop,
}

impl From<authcore::policy::Platform> for Platform {
    fn from(p: authcore::policy::Platform) -> Self {
        match p {
            authcore::policy::Platform::Ios => Platform::Ios,
            authcore::policy::Platform::Android => Platform::Android,
            authcore::policy::Platform::Desktop => Platform::Desktop,
        }
    }
}

impl From<Platform> for authcore::policy::Platform {
    fn from(p: Platform) -> Self {
        match p {
            Platform::Ios => authcore::policy::Platform::Ios,
            Platform::Android => authcore::policy::Platform::Android,
            Platform::Desktop => authcore::policy::Platform::Desktop,
        }
    }
}

/// A platform's passwordless rule (data the issuer or app may change).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct PasswordlessRule {
    /// How many accounts may hold passwordless at once; none means no limit.
    pub max_accounts: Option<u32>,
    pub require_number_matching: bool,
    pub require_device_unlock: bool,
}

impl From<authcore::policy::PasswordlessRule> for PasswordlessRule {
    fn from(r: authcore::policy::PasswordlessRule) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let authcore::policy::PasswordlessRule {
            max_accounts,
            require_number_matching,
            require_device_unlock,
        } = r;
        PasswordlessRule {
            max_accounts,
            require_number_matching,
            require_device_unlock,
        }
    }
}

/// A time-based account's current code with its countdown and the next code.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AccountCode {
    pub id: String,
    pub issuer: String,
    pub label: String,
    pub otp_type: OtpType,
    pub code: String,
    pub valid_for: u32,
    pub next_code: String,
    pub period: u32,
    /// Seconds added to the device clock for this code: the user's offset, or the account's
    /// push server's clock when that server also checks its codes (`clock_from_server`).
    pub clock_offset: i64,
    pub clock_from_server: bool,
}

impl From<&CodeInfo> for AccountCode {
    fn from(c: &CodeInfo) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let CodeInfo {
            id,
            issuer,
            label,
            kind,
            code,
            valid_for,
            next_code,
            period,
            clock_offset,
        } = c;
        AccountCode {
            id: id.to_string(),
            issuer: issuer.clone(),
            label: label.clone(),
            otp_type: (*kind).into(),
            code: code.as_str().to_owned(),
            valid_for: *valid_for,
            next_code: next_code.as_str().to_owned(),
            period: *period,
            clock_offset: clock_offset.seconds(),
            clock_from_server: matches!(clock_offset, CodeClock::Server(_)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HotpCode {
    pub id: String,
    pub code: String,
    /// The counter this code was made with; the stored counter is now one more.
    pub counter: u64,
}

impl From<&CoreHotpCode> for HotpCode {
    fn from(h: &CoreHotpCode) -> Self {
        // Every field named, so a field added to the core's record stops this build until
        // the FFI decides what becomes of it.
        let CoreHotpCode { id, code, counter } = h;
        HotpCode {
            id: id.to_string(),
            code: code.clone(),
            counter: *counter,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AddedAccount {
    pub account: Account,
    /// True when the vault already held this exact account and nothing was added.
    pub already_present: bool,
}

impl From<&Added> for AddedAccount {
    fn from(a: &Added) -> Self {
        AddedAccount {
            account: a.info().into(),
            already_present: matches!(a, Added::AlreadyPresent(_)),
        }
    }
}
