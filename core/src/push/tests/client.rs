//! The client's checks that come before any network traffic, what it asks of the transport,
//! and what it does with whatever the transport hands back (redirects, oversized bodies,
//! failures that quote the URL, `Date` headers of several servers).

use std::sync::Arc;
use std::time::Duration;

use super::support::{NONCE, ScriptedTransport, credential, device_key, json_response, request, t};
use crate::push::{
    ClockOffset, DeclineReason, HttpResponse, Method, NoNetwork, PushAnswer, PushClient,
    PushClientConfig, PushEnrollment, PushError, TransportError,
};

fn client() -> PushClient {
    PushClient::new(Arc::new(NoNetwork), PushClientConfig::default())
}

fn run<F: std::future::Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
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
    let mut closed = credential();
    closed.url = "https://pi.example:8443/ttype/push".into();
    // A transport that quotes the whole URL, as some platform stacks do.
    let quoting = QuotingTransport;
    let client = PushClient::new(Arc::new(quoting), PushClientConfig::default());
    let err = run(client.poll(&closed, device_key(), t(0))).unwrap_err();
    assert_eq!(
        err,
        PushError::Network {
            reason: "connect to https://pi.example:8443/ttype/push failed".into()
        }
    );
}

#[derive(Default)]
struct QuotingTransport;

#[async_trait::async_trait]
impl crate::push::HttpTransport for QuotingTransport {
    async fn send(
        &self,
        request: crate::push::HttpRequest,
    ) -> Result<HttpResponse, TransportError> {
        Err(TransportError::Connection {
            reason: format!("connect to {} failed", request.url),
        })
    }
}

#[test]
fn a_poll_is_a_signed_get_with_the_configured_limits() {
    let transport = ScriptedTransport::new(vec![Ok(json_response(
        r#"{"result":{"status":true,"value":[]}}"#,
        "Thu, 01 Jan 1970 00:00:10 GMT",
    ))]);
    let client = PushClient::new(transport.clone(), PushClientConfig::default());
    let outcome = run(client.poll(&credential(), device_key(), t(0))).unwrap();
    assert!(outcome.requests.is_empty() && outcome.rejected.is_empty());
    let sent = transport.sent();
    assert_eq!(sent.len(), 1);
    let poll = &sent[0];
    assert_eq!(poll.method, Method::Get);
    assert!(poll.body.is_empty());
    assert!(poll.verify_tls);
    assert_eq!(poll.timeout, Duration::from_secs(20));
    assert_eq!(poll.connect_timeout, Duration::from_secs(10));
    assert_eq!(poll.max_response_bytes, 1024 * 1024);
    let query = poll.url.split_once('?').unwrap().1;
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["serial", "timestamp", "signature"]);
    // Stamped when sent: the local time at the call plus what elapsed before the send.
    assert!(
        pairs[1].1.starts_with("1970-01-01T00:00:00."),
        "{}",
        pairs[1].1
    );
    // Debug output shows neither the signed query nor the body.
    let debug = format!("{poll:?}");
    assert!(
        !debug.contains("signature") && !debug.contains(&pairs[2].1),
        "{debug}"
    );
    // The server's clock (10.5 s ahead of the call's time, less what the signing took before
    // the send and half the round trip: milliseconds, more on a loaded machine) is kept for
    // that server only.
    let offset = client
        .clock_offset(&credential().url)
        .map(ClockOffset::as_millis);
    assert!(
        offset.is_some_and(|ms| (10_000..=10_500).contains(&ms)),
        "{offset:?}"
    );
    assert_eq!(
        client.clock_offset("https://other.example/ttype/push"),
        None
    );
}

#[test]
fn redirects_and_oversized_bodies_are_refused_whatever_the_transport_does() {
    let redirect = HttpResponse {
        status: 302,
        headers: vec![("Location".into(), "https://evil.example/".into())],
        body: Vec::new(),
    };
    let big = json_response(&" ".repeat(2048), "Thu, 01 Jan 1970 00:00:00 GMT");
    let transport =
        ScriptedTransport::new(vec![Ok(redirect), Ok(big), Err(TransportError::TooLarge)]);
    let client = PushClient::new(
        transport.clone(),
        PushClientConfig {
            max_response_bytes: 1024,
            ..PushClientConfig::default()
        },
    );
    let poll = || run(client.poll(&credential(), device_key(), t(0))).unwrap_err();
    assert_eq!(
        poll(),
        PushError::response("the server redirected (HTTP 302); redirects are not followed")
    );
    assert_eq!(poll(), PushError::response("the response is too large"));
    assert_eq!(poll(), PushError::response("the response is too large"));
    assert_eq!(transport.sent().len(), 3);
}

#[test]
fn each_server_has_its_own_clock_offset() {
    let client = client();
    let a = "https://a.example/ttype/push";
    let b = "https://b.example:8443/ttype/push";
    assert_eq!(client.clock_offset(a), None);
    assert_eq!(client.server_time(a, t(100)), t(100));
    client.set_clock_offset(a, Some(ClockOffset::from_millis(-30_000)));
    client.set_clock_offset(b, Some(ClockOffset::from_millis(5_000)));
    assert_eq!(client.server_time(a, t(100)), t(70));
    assert_eq!(
        client.server_time("https://a.example/other?x=1", t(100)),
        t(70)
    );
    assert_eq!(client.server_time(b, t(100)), t(105));
    assert_eq!(
        client.clock_offsets(),
        vec![
            (
                "https://a.example".to_owned(),
                ClockOffset::from_millis(-30_000)
            ),
            (
                "https://b.example:8443".to_owned(),
                ClockOffset::from_millis(5_000)
            ),
        ]
    );
    client.set_clock_offset(a, None);
    assert_eq!(client.clock_offset(a), None);
    assert!(format!("{client:?}").contains("clock_offsets"));
}
