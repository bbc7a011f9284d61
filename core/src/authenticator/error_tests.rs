//! Pins the kind of every error variant: the CLI's exit status and the FFI's error case follow
//! from it, so a change here is a change apps and scripts see.

use std::path::PathBuf;
use std::time::Duration;

use super::{ApprovalNeeds, AuthError};
use crate::account::AccountError;
use crate::backup::BackupError;
use crate::clock::ClockError;
use crate::error::ErrorKind::{self, *};
use crate::export::ExportError;
use crate::otp::OtpError;
use crate::policy::{Platform, PolicyError};
use crate::push::PushError;
use crate::uri::UriError;
use crate::vault::{KeyStoreError, VaultError};

fn s() -> String {
    "x".to_owned()
}

fn vault_errors() -> Vec<(VaultError, ErrorKind)> {
    let path = || PathBuf::from("/v");
    vec![
        (VaultError::Missing { path: path() }, Vault),
        (VaultError::AlreadyExists { path: path() }, Vault),
        (VaultError::NotAVault { path: path() }, Vault),
        (VaultError::NewerFormat { found: 9, known: 3 }, Vault),
        (VaultError::Damaged { what: s() }, Vault),
        (VaultError::WrongKey, KeyStore),
        (VaultError::WrongPassword, WrongPassword),
        (VaultError::NoPassword, BadInput),
        (VaultError::BadPassword { reason: s() }, BadInput),
        (VaultError::BadKdfParams { reason: s() }, BadInput),
        (VaultError::KeyStore(KeyStoreError::WrongKey), KeyStore),
        (
            VaultError::KeyStore(KeyStoreError::Refused { reason: s() }),
            KeyStore,
        ),
        (VaultError::NotFound { id: s() }, NotFound),
        (VaultError::NotHotp { name: s() }, BadInput),
        (VaultError::CounterExhausted { name: s() }, BadInput),
        (VaultError::NoOtp { name: s() }, BadInput),
        (
            VaultError::PushSerialTaken {
                serial: s(),
                id: s(),
            },
            BadInput,
        ),
        (
            VaultError::AlreadyHasPush {
                name: s(),
                serial: s(),
            },
            BadInput,
        ),
        (VaultError::NoPush { name: s() }, BadInput),
        (VaultError::Invalid(AccountError::Unnamed), BadInput),
        (VaultError::Storage { reason: s() }, Vault),
        (VaultError::Random, Vault),
    ]
}

fn push_errors() -> Vec<(PushError, ErrorKind)> {
    vec![
        (
            PushError::EnrollUri {
                param: s(),
                reason: s(),
            },
            BadPush,
        ),
        (PushError::UnsupportedVersion { version: s() }, BadPush),
        (PushError::EnrollmentExpired { ttl_minutes: 10 }, Expired),
        (
            PushError::InsecureUrl {
                param: s(),
                reason: s(),
            },
            BadPush,
        ),
        (PushError::DeviceKey { reason: s() }, KeyStore),
        (PushError::ServerKey { reason: s() }, ServerRefused),
        (
            PushError::Challenge {
                field: s(),
                reason: s(),
            },
            BadPush,
        ),
        (PushError::BadSignature { serial: s() }, Forged),
        (PushError::UnknownSerial { serial: s() }, BadPush),
        (
            PushError::WrongAccount {
                serial: s(),
                reason: s(),
            },
            BadPush,
        ),
        (
            PushError::Expired {
                nonce: s(),
                validity: Duration::from_secs(120),
            },
            Expired,
        ),
        (PushError::Replayed { nonce: s() }, Replayed),
        (PushError::NoSuchRequest { nonce: s() }, BadPush),
        (
            PushError::InvalidArgument {
                param: s(),
                reason: s(),
            },
            BadInput,
        ),
        (PushError::InvalidAnswer { reason: s() }, BadPush),
        (
            PushError::Rejected {
                server_message: None,
            },
            ServerRefused,
        ),
        (
            PushError::Server {
                status: 500,
                server_message: None,
            },
            ServerRefused,
        ),
        (PushError::Response { reason: s() }, ServerRefused),
        (PushError::Clock { reason: s() }, Clock),
        (PushError::Network { reason: s() }, Network),
    ]
}

fn policy_errors() -> Vec<(PolicyError, ErrorKind)> {
    vec![
        (PolicyError::UnknownPlatform { name: s() }, BadInput),
        (
            PolicyError::LimitReached {
                platform: Platform::Android,
                max: 1,
                holders: vec![s()],
            },
            PasswordlessLimit,
        ),
        (PolicyError::NotHolder { name: s() }, BadInput),
        (PolicyError::NeedsNumberMatching, NeedsNumberMatching),
        (PolicyError::NeedsDeviceUnlock, NeedsUnlock),
        (PolicyError::BadRules { reason: s() }, BadInput),
    ]
}

fn backup_errors() -> Vec<(BackupError, ErrorKind)> {
    vec![
        (BackupError::Damaged { reason: s() }, BadInput),
        (BackupError::NewerFormat { found: 2, known: 1 }, BadInput),
        (BackupError::BadKdf { reason: s() }, BadInput),
        (BackupError::DoesNotDecrypt, WrongPassword),
        (BackupError::BadContent { reason: s() }, BadInput),
        (BackupError::BadPassword { reason: s() }, BadInput),
        (BackupError::VaultNotEmpty { count: 1 }, BadInput),
        (BackupError::BadSetting { reason: s() }, BadInput),
        (BackupError::AutoOff, BadInput),
        (
            BackupError::Io {
                path: s(),
                reason: s(),
            },
            Vault,
        ),
        (BackupError::Random, Vault),
    ]
}

#[test]
fn every_backup_error_has_its_kind_also_through_the_facade() {
    for (e, kind) in backup_errors() {
        assert_eq!(e.kind(), kind, "{e:?}");
        let e = AuthError::from(e);
        assert_eq!(e.kind(), kind, "{e:?}");
    }
}

/// The facade's own variants (those wrapping a module's error are covered with that module).
fn facade_errors() -> Vec<(AuthError, ErrorKind)> {
    let uri = || UriError::Scheme { found: s() };
    vec![
        (AuthError::Uri(uri()), BadInput),
        (
            AuthError::UriLine {
                line: 2,
                source: uri(),
            },
            BadInput,
        ),
        (AuthError::Account(AccountError::Unnamed), BadInput),
        (AuthError::Otp(OtpError::EmptySecret), BadInput),
        (
            AuthError::Clock(ClockError::OffsetTooLarge { offset: 1 }),
            BadInput,
        ),
        (AuthError::Transfer { reason: s() }, BadInput),
        (AuthError::NoMatch { query: s() }, NotFound),
        (
            AuthError::Ambiguous {
                query: s(),
                count: 2,
            },
            Ambiguous,
        ),
        (AuthError::NotTimeBased { name: s() }, BadInput),
        (AuthError::NotCounterBased { name: s() }, BadInput),
        (
            AuthError::AnswerRefused {
                nonce: s(),
                server_message: None,
                source: PushError::Rejected {
                    server_message: None,
                },
            },
            AnswerRefused,
        ),
        (
            AuthError::PushGate {
                needs: ApprovalNeeds::NumberMatching,
                serial: s(),
                reason: s(),
            },
            NeedsNumberMatching,
        ),
        (
            AuthError::PushGate {
                needs: ApprovalNeeds::DeviceUnlock,
                serial: s(),
                reason: s(),
            },
            NeedsUnlock,
        ),
        (
            AuthError::EnrollmentNotStored {
                serial: s(),
                reason: s(),
            },
            Vault,
        ),
        (AuthError::Poisoned, Internal),
        (AuthError::Export(ExportError::EmptyPassword), BadInput),
        (AuthError::Export(ExportError::Random), Internal),
        (
            AuthError::Export(ExportError::Write { what: "x" }),
            Internal,
        ),
    ]
    .into_iter()
    .chain(container_errors())
    .collect()
}

/// Every container error and its kind, through the facade.
fn container_errors() -> Vec<(AuthError, ErrorKind)> {
    use crate::container::ContainerError as C;
    let with = |kind, e: C| (AuthError::Container(e), kind);
    vec![
        with(
            BadPush,
            C::Qr {
                param: s(),
                reason: s(),
            },
        ),
        with(Expired, C::QrExpired { ttl_minutes: 10 }),
        with(
            BadInput,
            C::InvalidArgument {
                param: s(),
                reason: s(),
            },
        ),
        with(NotFound, C::Unknown { serial: s() }),
        with(BadInput, C::AlreadyHere { serial: s() }),
        with(
            BadInput,
            C::ForbiddenByPolicy {
                serial: s(),
                policy: s(),
            },
        ),
        with(
            ContainerMoved,
            C::SignatureRejected {
                serial: s(),
                server_message: None,
            },
        ),
        with(
            WrongPassword,
            C::RegistrationRejected {
                serial: s(),
                with_passphrase: true,
            },
        ),
        with(
            Expired,
            C::RegistrationRejected {
                serial: s(),
                with_passphrase: false,
            },
        ),
        with(ContainerGone, C::NotRegistered { serial: s() }),
        with(ContainerGone, C::NotOnServer { serial: s() }),
        with(
            ServerRefused,
            C::Refused {
                serial: s(),
                server_message: None,
            },
        ),
        with(
            ServerRefused,
            C::UnknownScope {
                serial: s(),
                server_message: None,
            },
        ),
        with(
            ServerRefused,
            C::NotAllowed {
                serial: s(),
                server_message: None,
            },
        ),
        with(
            ServerRefused,
            C::BadSyncAnswer {
                serial: s(),
                reason: s(),
            },
        ),
        with(
            Network,
            C::Transport {
                serial: s(),
                source: PushError::Network { reason: s() },
            },
        ),
        with(KeyStore, C::Key { reason: s() }),
    ]
}

#[test]
fn every_vault_error_has_its_kind_also_through_the_facade() {
    for (e, kind) in vault_errors() {
        assert_eq!(e.kind(), kind, "{e:?}");
        let e = AuthError::from(e);
        assert_eq!(e.kind(), kind, "{e:?}");
    }
}

#[test]
fn every_push_error_has_its_kind_also_through_the_facade() {
    for (e, kind) in push_errors() {
        assert_eq!(e.kind(), kind, "{e:?}");
        let e = AuthError::from(e);
        assert_eq!(e.kind(), kind, "{e:?}");
    }
}

#[test]
fn every_policy_error_has_its_kind_also_through_the_facade() {
    for (e, kind) in policy_errors() {
        assert_eq!(e.kind(), kind, "{e:?}");
        let e = AuthError::from(e);
        assert_eq!(e.kind(), kind, "{e:?}");
    }
}

#[test]
fn every_facade_error_has_its_kind() {
    for (e, kind) in facade_errors() {
        assert_eq!(e.kind(), kind, "{e:?}");
    }
}

#[test]
fn every_kind_is_reached_by_some_error() {
    let reached: Vec<ErrorKind> = vault_errors()
        .into_iter()
        .map(|(_, k)| k)
        .chain(push_errors().into_iter().map(|(_, k)| k))
        .chain(policy_errors().into_iter().map(|(_, k)| k))
        .chain(facade_errors().into_iter().map(|(_, k)| k))
        .collect();
    for kind in ErrorKind::ALL {
        assert!(reached.contains(&kind), "{kind:?} is never produced");
    }
}

#[test]
fn a_refused_answer_reads_as_the_server_refusal_it_wraps() {
    let e = AuthError::AnswerRefused {
        nonce: "N1".into(),
        server_message: Some("wrong answer".into()),
        source: PushError::Rejected {
            server_message: Some("wrong answer".into()),
        },
    };
    assert_eq!(
        e.to_string(),
        "the server refused the request: wrong answer"
    );
}
