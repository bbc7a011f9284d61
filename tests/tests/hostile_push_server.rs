//! A hostile push server, over real TCP on 127.0.0.1 through the desktop transport: a huge
//! body (with and without a length), a redirect, HTML where JSON belongs, malformed JSON,
//! thousands of challenges, bytes trickled slower than the time-out. Each poll ends within its
//! bound with one readable problem, and nothing is stored.
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use authcore::account::{AccountId, Names};
use authcore::authenticator::{Authenticator, Config};
use authcore::clock::{Clock, SystemClock};
use authcore::push::{DeviceKey, PushCredential, SoftwareDeviceKey};
use authcore::time::UnixTime;
use authcore::vault::{FileKeyStore, StoredDeviceKey, Unlock, Vault};
use authcore_http::ReqwestTransport;

/// Serves every connection with `answer` (which writes the whole response) until the test ends.
fn serve(answer: fn(&mut std::net::TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let _ = stream.read(&mut buf);
                answer(&mut stream);
            });
        }
    });
    port
}

/// A vault with one poll-only push token whose server is `http://127.0.0.1:port` (sslverify=0).
fn app(port: u16) -> (tempfile::TempDir, Authenticator) {
    let dir = tempfile::tempdir().unwrap();
    let store = FileKeyStore::create(&dir.path().join("key")).unwrap();
    let path = dir.path().join("vault.sqlite");
    let server = SoftwareDeviceKey::generate(2048).unwrap();
    let device = SoftwareDeviceKey::generate(2048).unwrap();
    let spki = server.public_key_spki_der().unwrap();
    let pkcs1 = rsa::pkcs1::EncodeRsaPublicKey::to_pkcs1_der(
        &<rsa::RsaPublicKey as rsa::pkcs8::DecodePublicKey>::from_public_key_der(&spki).unwrap(),
    )
    .unwrap()
    .into_vec();
    let mut v = Vault::create(&path, &store, None, UnixTime::from_secs(0)).unwrap();
    v.add_push_account(
        AccountId::random(),
        Names {
            issuer: "Hostile".into(),
            label: "me".into(),
            group: None,
            note: None,
        },
        PushCredential {
            serial: "PIPU0HOSTILE".into(),
            url: format!("http://127.0.0.1:{port}/ttype/push"),
            sslverify: false,
            server_public_key_pkcs1: pkcs1,
            poll_only: true,
            fb_token: None,
            enrolled_at: SystemClock.now(),
            app_force_unlock: None,
        },
        StoredDeviceKey::Software(device.pkcs8().clone()),
        UnixTime::from_secs(0),
    )
    .unwrap();
    drop(v);
    let config = Config::desktop(
        Arc::new(SystemClock),
        Arc::new(ReqwestTransport::new().unwrap()),
    );
    let auth = Authenticator::open(&path, Unlock::KeyStore(&store), config).unwrap();
    (dir, auth)
}

/// Polls, and returns the one problem and how long it took; asserts nothing was kept.
fn poll(answer: fn(&mut std::net::TcpStream)) -> (String, Duration) {
    let (_dir, auth) = app(serve(answer));
    let started = Instant::now();
    let outcome = authcore_http::block_on(auth.check_pending()).unwrap();
    let took = started.elapsed();
    assert!(outcome.requests.is_empty(), "{:?}", outcome.requests);
    assert!(auth.pending_push_requests().unwrap().is_empty());
    assert_eq!(outcome.problems.len(), 1, "{:?}", outcome.problems);
    (outcome.problems[0].clone(), took)
}

fn head(stream: &mut std::net::TcpStream, extra: &str) {
    let _ = write!(
        stream,
        "HTTP/1.1 200 OK\r\nConnection: close\r\n{extra}\r\n"
    );
}

#[test]
fn a_huge_body_is_refused_without_reading_it_all() {
    let (problem, took) = poll(|s| {
        head(
            s,
            "Content-Type: application/json\r\nContent-Length: 104857600\r\n",
        );
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..1600 {
            if s.write_all(&chunk).is_err() {
                return;
            }
        }
    });
    eprintln!("huge body: {problem} ({took:?})");
    assert_eq!(
        problem,
        "PIPU0HOSTILE: unexpected server response: the response is too large"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_huge_chunked_body_is_refused_too() {
    let (problem, took) = poll(|s| {
        head(
            s,
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n",
        );
        let chunk = vec![b' '; 64 * 1024];
        for _ in 0..1600 {
            if write!(s, "{:x}\r\n", chunk.len()).is_err()
                || s.write_all(&chunk).is_err()
                || s.write_all(b"\r\n").is_err()
            {
                return;
            }
        }
    });
    eprintln!("huge chunked body: {problem} ({took:?})");
    assert_eq!(
        problem,
        "PIPU0HOSTILE: unexpected server response: the response is too large"
    );
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[test]
fn a_redirect_is_not_followed() {
    let (problem, _) = poll(|s| {
        let _ = write!(
            s,
            "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:9/elsewhere\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    });
    eprintln!("redirect: {problem}");
    assert_eq!(
        problem,
        "PIPU0HOSTILE: unexpected server response: the server redirected (HTTP 302); redirects are not followed"
    );
}

#[test]
fn html_and_malformed_json_are_refused_readably() {
    // HTML where the server said JSON, and cut-off JSON where it said HTML: the body decides.
    for answer in [
        (|s: &mut std::net::TcpStream| {
            let body = b"<html>maintenance</html>";
            head(
                s,
                &format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len()
                ),
            );
            let _ = s.write_all(body);
        }) as fn(&mut std::net::TcpStream),
        |s| {
            let body = b"{\"result\": {\"status\":";
            head(
                s,
                &format!(
                    "Content-Type: text/html\r\nContent-Length: {}\r\n",
                    body.len()
                ),
            );
            let _ = s.write_all(body);
        },
    ] {
        let (problem, _) = poll(answer);
        eprintln!("bad body: {problem}");
        assert_eq!(
            problem,
            "PIPU0HOSTILE: unexpected server response: the body is not JSON"
        );
    }
}

#[test]
fn thousands_of_forged_challenges_store_nothing_in_bounded_time() {
    let (_dir, auth) = app(serve(|s| {
        let entry = r#"{"nonce":"N","serial":"PIPU0HOSTILE","title":"t","question":"q","url":"http://127.0.0.1/ttype/push","sslverify":"0","signature":"AAAA"}"#;
        let body = format!(
            r#"{{"result":{{"status":true,"value":[{}]}}}}"#,
            (0..5000)
                .map(|i| entry.replace("\"N\"", &format!("\"nonce{i}\"")))
                .collect::<Vec<_>>()
                .join(",")
        );
        head(
            s,
            &format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n",
                body.len()
            ),
        );
        let _ = s.write_all(body.as_bytes());
    }));
    let started = Instant::now();
    let outcome = authcore_http::block_on(auth.check_pending()).unwrap();
    let took = started.elapsed();
    assert!(outcome.requests.is_empty());
    assert!(auth.pending_push_requests().unwrap().is_empty());
    eprintln!(
        "5000 forged challenges: {} problem line(s), first: {:?} ({took:?})",
        outcome.problems.len(),
        outcome.problems.first()
    );
    // Five lines and a count, not 5,000 lines.
    assert_eq!(outcome.problems.len(), 6, "{:?}", outcome.problems);
    assert_eq!(
        outcome.problems[5],
        "PIPU0HOSTILE: 4995 more entries of this poll refused"
    );
    assert!(took < Duration::from_secs(20), "{took:?}");
}

#[test]
fn a_trickling_server_times_out() {
    let (problem, took) = poll(|s| {
        head(
            s,
            "Content-Type: application/json\r\nContent-Length: 100000\r\n",
        );
        for _ in 0..100_000 {
            if s.write_all(b" ").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(500));
        }
    });
    eprintln!("trickle: {problem} ({took:?})");
    // The request's 20 s time-out, whatever the server keeps sending.
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert_eq!(
        problem,
        "PIPU0HOSTILE: network: the server did not answer in time"
    );
}
