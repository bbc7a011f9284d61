//! The client's checks that come before any network traffic, and its error hygiene.

use std::time::Duration;

use super::support::{NONCE, credential, device_key, request, t};
use crate::push::{
    ClockOffset, DeclineReason, PushAnswer, PushClient, PushClientConfig, PushEnrollment, PushError,
};

fn client() -> PushClient {
    PushClient::new(PushClientConfig::default()).unwrap()
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(future)
}

#[test]
fn answers_are_checked_before_anything_is_sent() {
    let client = client();
    let credential = credential();
    let fresh = request(NONCE, t(1000));

    let mut other = fresh.clone();
    other.serial = "PIPU0000OTHER".into();
    let err = run(client.answer(
        &credential,
        device_key(),
        &other,
        &PushAnswer::Accept,
        t(1001),
    ));
    assert!(
        matches!(err, Err(PushError::WrongAccount { .. })),
        "{err:?}"
    );

    let err = run(client.answer(
        &credential,
        device_key(),
        &fresh,
        &PushAnswer::Accept,
        t(1120),
    ));
    assert!(matches!(err, Err(PushError::Expired { .. })), "{err:?}");

    let reason = PushAnswer::DeclineWithReason(DeclineReason::Cancelled);
    let err = run(client.answer(&credential, device_key(), &fresh, &reason, t(1001)));
    assert!(
        matches!(err, Err(PushError::InvalidAnswer { .. })),
        "{err:?}"
    );

    let mut plain_http = fresh.clone();
    plain_http.url = "http://pi.example/ttype/push".into();
    let err = run(client.answer(
        &credential,
        device_key(),
        &plain_http,
        &PushAnswer::Accept,
        t(1001),
    ));
    assert!(matches!(err, Err(PushError::InsecureUrl { .. })), "{err:?}");
}

#[test]
fn registration_and_token_updates_check_their_inputs_first() {
    let client = client();
    let uri = "otpauth://pipush/a?url=https%3A//pi.example/ttype/push&ttl=1&issuer=x\
               &enrollment_credential=abc&v=1&serial=PIPU1&sslverify=1&poll_only=True";
    let enrollment = PushEnrollment::parse(uri, t(0), t(0)).unwrap();
    let err = run(client.register(&enrollment, device_key(), None, t(61)));
    assert_eq!(
        err.unwrap_err(),
        PushError::EnrollmentExpired { ttl_minutes: 1 }
    );
    let err = run(client.register(&enrollment, device_key(), Some("bad\ntoken"), t(1)));
    assert!(matches!(err, Err(PushError::InvalidArgument { param, .. }) if param == "fb_token"));

    let err = run(client.update_push_token(&credential(), device_key(), "", t(0)));
    assert!(
        matches!(err, Err(PushError::InvalidArgument { param, .. }) if param == "new_fb_token")
    );

    let mut insecure = credential();
    insecure.url = "http://pi.example/ttype/push".into();
    let err = run(client.poll(&insecure, device_key(), t(0)));
    assert!(matches!(err, Err(PushError::InsecureUrl { .. })), "{err:?}");
}

#[test]
fn network_errors_never_show_the_signed_query() {
    let client = PushClient::new(PushClientConfig {
        timeout: Duration::from_secs(5),
        ..PushClientConfig::default()
    })
    .unwrap();
    let mut closed = credential();
    // Port 1 on loopback: refused at once.
    closed.url = "http://127.0.0.1:1/ttype/push".into();
    closed.sslverify = false;
    let now = std::time::SystemTime::now();
    let err = run(client.poll(&closed, device_key(), now)).unwrap_err();
    let PushError::Network { reason } = &err else {
        panic!("{err:?}")
    };
    assert!(!reason.contains("signature"), "{reason}");
    assert!(!reason.contains("127.0.0.1:1/ttype"), "{reason}");
}

#[test]
fn the_clock_offset_can_be_seeded_and_read() {
    let client = client();
    assert_eq!(client.clock_offset(), None);
    assert_eq!(client.server_time(t(100)), t(100));
    client.set_clock_offset(Some(ClockOffset::from_millis(-30_000)));
    assert_eq!(client.server_time(t(100)), t(70));
    assert!(format!("{client:?}").contains("clock_offset"));
}
