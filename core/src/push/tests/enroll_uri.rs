use std::time::Duration;

use super::support::t;
use crate::push::{AppForceUnlock, PushEnrollment, PushError};

/// The URI privacyIDEA 3.14 produced for a poll-only token on a plain-http test server.
const REAL: &str = "otpauth://pipush/PIPU0000F13E?url=http%3A//127.0.0.1%3A5001/ttype/push&ttl=10&issuer=privacyIDEA&enrollment_credential=06b7dba7109fb8f4f8190dec38b7a49abae94a63&v=1&serial=PIPU0000F13E&sslverify=0&poll_only=True";

/// The URI eduMFA 2.9.5 produced for an `edupush` token on a plain-http test server (poll-only
/// by policy, which its QR does not say).
const EDUMFA: &str = "edumfa-push://edumfa/EDUP00009BF5?url=http%3A//127.0.0.1%3A5977/ttype/edupush&ttl=10&issuer=eduMFA&enrollment_credential=db9a604ff38725c801f5bd193b4b7b61ed18d85e&v=1&serial=EDUP00009BF5&sslverify=0";

const HTTPS: &str = "otpauth://pipush/alice%40example?url=https%3A//pi.example/ttype/push&ttl=2&issuer=ACME%20Corp&enrollment_credential=abc123&v=1&serial=PIPU00000001&sslverify=1&poll_only=False";

fn parse(uri: &str) -> Result<PushEnrollment, PushError> {
    PushEnrollment::parse(uri, t(1000), t(1000))
}

fn param_error(uri: &str) -> (String, String) {
    match parse(uri).unwrap_err() {
        PushError::EnrollUri { param, reason } => (param, reason),
        other => panic!("expected an EnrollUri error, got {other:?}"),
    }
}

#[test]
fn parses_the_uri_privacyidea_writes() {
    let e = parse(REAL).unwrap();
    assert_eq!(e.label, "PIPU0000F13E");
    assert_eq!(e.serial, "PIPU0000F13E");
    assert_eq!(e.issuer, "privacyIDEA");
    assert_eq!(e.url, "http://127.0.0.1:5001/ttype/push");
    assert!(!e.sslverify);
    assert!(e.poll_only);
    assert_eq!(e.ttl, Duration::from_secs(600));
    assert_eq!(
        e.enrollment_credential.expose(),
        b"06b7dba7109fb8f4f8190dec38b7a49abae94a63"
    );
    assert_eq!(e.image, None);
    assert!(!e.pin);
    assert_eq!(e.app_force_unlock, None);
    assert_eq!(e.scanned_at, t(1000));
}

#[test]
fn parses_pia_scheme_optional_fields_and_ignores_firebase_fields() {
    let uri = HTTPS.replace("otpauth://", "pia://")
        + "&image=https%3A//pi.example/logo.png&pin=True&app_force_unlock=Biometric\
           &projectnumber=1&projectid=p&appid=a&apikey=k&appidios=i&apikeyios=j&unknown=x";
    let e = parse(&uri).unwrap();
    assert_eq!(e.label, "alice@example");
    assert_eq!(e.issuer, "ACME Corp");
    assert!(e.sslverify);
    assert!(!e.poll_only);
    assert_eq!(e.image.as_deref(), Some("https://pi.example/logo.png"));
    assert!(e.pin);
    assert_eq!(e.app_force_unlock, Some(AppForceUnlock::Biometric));
}

#[test]
fn parses_the_uri_edumfa_writes_for_edupush() {
    let e = parse(EDUMFA).unwrap();
    assert_eq!(e.label, "EDUP00009BF5");
    assert_eq!(e.serial, "EDUP00009BF5");
    assert_eq!(e.issuer, "eduMFA");
    assert_eq!(e.url, "http://127.0.0.1:5977/ttype/edupush");
    assert!(!e.sslverify);
    assert!(!e.poll_only, "eduMFA never says poll_only");
    assert_eq!(e.ttl, Duration::from_secs(600));
    assert_eq!(
        e.enrollment_credential.expose(),
        b"db9a604ff38725c801f5bd193b4b7b61ed18d85e"
    );
    assert_eq!(e.image, None);
    assert!(!e.pin);
    // The same checks as for privacyIDEA's QR codes: here, plain http only with sslverify=0.
    let verified = EDUMFA.replace("sslverify=0", "sslverify=1");
    assert_eq!(
        parse(&verified).unwrap_err().to_string(),
        "url: plain http:// is refused unless the server itself sets sslverify=0"
    );
}

#[test]
fn scheme_and_type_must_belong_together() {
    let cases = [
        (
            EDUMFA.replace("edumfa-push://edumfa/", "edumfa-push://pipush/"),
            "enrollment QR code: type: 'pipush' is not a PUSH token (expected edumfa-push://edumfa/...)",
        ),
        (
            HTTPS.replace("otpauth://pipush/", "otpauth://edumfa/"),
            "enrollment QR code: type: 'edumfa' is not a PUSH token (expected otpauth://pipush/...)",
        ),
        (
            HTTPS.replace("otpauth://pipush/", "pia://edupush/"),
            "enrollment QR code: type: 'edupush' is not a PUSH token (expected pia://pipush/...)",
        ),
        (
            HTTPS.replace("otpauth://", "https://"),
            "enrollment QR code: scheme: 'https' is not otpauth://, pia:// or edumfa-push://",
        ),
        (
            EDUMFA.replace(
                "edumfa-push://edumfa/EDUP00009BF5",
                "edumfa-push:EDUP00009BF5",
            ),
            "enrollment QR code: type: missing (expected edumfa)",
        ),
    ];
    for (uri, message) in cases {
        assert_eq!(parse(&uri).unwrap_err().to_string(), message, "{uri}");
    }
    // Case does not matter in the type, as in privacyIDEA's.
    assert!(parse(&EDUMFA.replace("//edumfa/", "//eduMFA/")).is_ok());
}

#[test]
fn empty_label_falls_back_to_the_serial() {
    let e = parse(&HTTPS.replace("alice%40example", "")).unwrap();
    assert_eq!(e.label, "PIPU00000001");
}

#[test]
fn debug_never_shows_the_enrollment_credential() {
    let shown = format!("{:?}", parse(REAL).unwrap());
    assert!(!shown.contains("06b7dba7"), "{shown}");
}

#[test]
fn each_missing_required_parameter_is_named() {
    for param in ["url", "v", "serial", "enrollment_credential"] {
        let uri = remove_param(HTTPS, param);
        let (named, reason) = param_error(&uri);
        assert_eq!((named.as_str(), reason.as_str()), (param, "is missing"));
    }
}

fn remove_param(uri: &str, param: &str) -> String {
    let (base, query) = uri.split_once('?').unwrap();
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.starts_with(&format!("{param}=")))
        .collect();
    format!("{base}?{}", kept.join("&"))
}

#[test]
fn only_version_1_is_accepted() {
    let err = parse(&HTTPS.replace("v=1", "v=2")).unwrap_err();
    assert_eq!(
        err,
        PushError::UnsupportedVersion {
            version: "2".to_owned()
        }
    );
    assert_eq!(
        err.to_string(),
        "enrollment QR code: v=2: only version 1 of the PUSH protocol is supported"
    );
}

#[test]
fn bad_values_name_their_parameter() {
    let cases = [
        (HTTPS.replace("ttl=2", "ttl=ten"), "ttl"),
        (HTTPS.replace("ttl=2", "ttl=0"), "ttl"),
        (HTTPS.replace("ttl=2", "ttl=99999999999999999999"), "ttl"),
        (HTTPS.replace("sslverify=1", "sslverify=yes"), "sslverify"),
        (
            HTTPS.replace("poll_only=False", "poll_only=maybe"),
            "poll_only",
        ),
        (
            HTTPS.replace("enrollment_credential=abc123", "enrollment_credential="),
            "enrollment_credential",
        ),
        (HTTPS.replace("serial=PIPU00000001", "serial="), "serial"),
        (
            HTTPS.replace("serial=PIPU00000001", "serial=PIPU%0A1"),
            "serial",
        ),
        (
            HTTPS.to_owned() + "&app_force_unlock=face",
            "app_force_unlock",
        ),
        (HTTPS.to_owned() + "&pin=sometimes", "pin"),
        (HTTPS.to_owned() + "&serial=PIPU2", "serial"),
        (HTTPS.replace("otpauth://", "https://"), "scheme"),
        (HTTPS.replace("pipush", "totp"), "type"),
        ("not a uri".to_owned(), "uri"),
    ];
    for (uri, param) in cases {
        let (named, reason) = param_error(&uri);
        assert_eq!(named, param, "{uri}: {reason}");
        assert!(!reason.is_empty());
    }
}

#[test]
fn plain_http_is_refused_unless_the_server_disabled_verification() {
    let uri = HTTPS.replace("https%3A", "http%3A");
    let err = parse(&uri).unwrap_err();
    assert!(
        matches!(&err, PushError::InsecureUrl { param, .. } if param == "url"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "url: plain http:// is refused unless the server itself sets sslverify=0"
    );
    assert!(parse(&uri.replace("sslverify=1", "sslverify=0")).is_ok());
    // Without sslverify the secure default applies.
    assert!(parse(&remove_param(&uri, "sslverify")).is_err());
    let ftp = HTTPS.replace("https%3A", "ftp%3A");
    assert!(matches!(parse(&ftp), Err(PushError::InsecureUrl { .. })));
}

#[test]
fn ttl_runs_from_the_scan() {
    // ttl=2 minutes.
    let scanned = t(1000);
    assert!(PushEnrollment::parse(HTTPS, scanned, t(1000 + 120)).is_ok());
    let err = PushEnrollment::parse(HTTPS, scanned, t(1000 + 121)).unwrap_err();
    assert_eq!(err, PushError::EnrollmentExpired { ttl_minutes: 2 });
    assert_eq!(
        err.to_string(),
        "enrollment QR code expired: it was valid for 2 minute(s) after scanning; ask for a new one"
    );

    let e = PushEnrollment::parse(HTTPS, scanned, scanned).unwrap();
    assert_eq!(e.expires_at(), t(1120));
    assert!(e.check_not_expired(t(1120)).is_ok());
    assert!(e.check_not_expired(t(1121)).is_err());
}

#[test]
fn missing_ttl_means_privacyideas_default_of_ten_minutes() {
    let e = parse(&remove_param(HTTPS, "ttl")).unwrap();
    assert_eq!(e.ttl, Duration::from_secs(600));
}
