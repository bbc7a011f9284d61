//! An HTTPS front for the plain-http privacyIDEA of the interop tests, so the push client's TLS
//! handling meets a real server: certificate verification when the server says `sslverify=1`,
//! none (but still TLS) when it says `sslverify=0`.
//!
//! It makes a throwaway CA and a server certificate for `127.0.0.1` and `localhost` (rcgen),
//! terminates TLS with rustls (ring, as the core), and forwards each request to the backend
//! as one HTTP/1.1 exchange with `Connection: close`. A client trusts the CA only when told to
//! (`SSL_CERT_FILE` pointing at [`TlsFront::ca_file`], which the platform verifier reads on
//! Linux), so the same front tests both "verified and trusted" and "verified and refused".

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::server::{HarnessError, Result};

/// Largest request or response forwarded (privacyIDEA's push exchanges are a few kB).
const MAX_MESSAGE: u64 = 1024 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(30);

fn fail(what: &str, e: impl std::fmt::Display) -> HarnessError {
    HarnessError(format!("TLS front: {what}: {e}"))
}

/// A running HTTPS front. Stops accepting on drop.
pub struct TlsFront {
    addr: SocketAddr,
    ca_file: PathBuf,
    _dir: tempfile::TempDir,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
}

impl TlsFront {
    /// Starts a front on a free 127.0.0.1 port forwarding to `backend` (host:port, plain http).
    pub fn start(backend: SocketAddr) -> Result<Self> {
        let ca_key = KeyPair::generate().map_err(|e| fail("CA key", e))?;
        let mut ca_params =
            CertificateParams::new(Vec::<String>::new()).map_err(|e| fail("CA params", e))?;
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        // A name of its own per front: two fronts with one name would make a verifier trusting
        // the other front's CA find a matching issuer and report a bad signature instead of an
        // unknown issuer, which is what a client meeting an unknown CA sees.
        let name = format!(
            "authcore interop test CA {}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        ca_params.distinguished_name.push(DnType::CommonName, name);
        let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| fail("CA", e))?;

        let server_key = KeyPair::generate().map_err(|e| fail("server key", e))?;
        let server_params = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])
            .map_err(|e| fail("server params", e))?;
        let server_cert = server_params
            .signed_by(&server_key, &ca)
            .map_err(|e| fail("server certificate", e))?;

        let dir = tempfile::tempdir().map_err(|e| fail("temp dir", e))?;
        let ca_file = dir.path().join("ca.pem");
        std::fs::write(&ca_file, ca.pem()).map_err(|e| fail("CA file", e))?;

        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| fail("TLS versions", e))?
                .with_no_client_auth()
                .with_single_cert(
                    vec![
                        server_cert.der().clone(),
                        CertificateDer::from(ca.der().to_vec()),
                    ],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
                )
                .map_err(|e| fail("server config", e))?;
        let config = Arc::new(config);

        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| fail("bind", e))?;
        let addr = listener.local_addr().map_err(|e| fail("address", e))?;
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let acceptor = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let config = config.clone();
                std::thread::spawn(move || {
                    // A client that refuses our certificate ends the handshake: not our error.
                    let _ = serve(stream, config, backend);
                });
            }
        });
        Ok(TlsFront {
            addr,
            ca_file,
            _dir: dir,
            stop,
            acceptor: Some(acceptor),
        })
    }

    /// `https://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("https://127.0.0.1:{}{path}", self.addr.port())
    }

    /// The test CA as PEM, for `SSL_CERT_FILE`.
    pub fn ca_file(&self) -> &Path {
        &self.ca_file
    }
}

impl Drop for TlsFront {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the acceptor so it sees the flag.
        let _ = TcpStream::connect(self.addr);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
    }
}

/// One connection: one request, forwarded, one response, closed.
fn serve(stream: TcpStream, config: Arc<ServerConfig>, backend: SocketAddr) -> std::io::Result<()> {
    stream.set_read_timeout(Some(IO_TIMEOUT))?;
    stream.set_write_timeout(Some(IO_TIMEOUT))?;
    let connection = ServerConnection::new(config).map_err(std::io::Error::other)?;
    let mut tls = StreamOwned::new(connection, stream);
    let request = read_request(&mut BufReader::new(&mut tls))?;

    let mut upstream = TcpStream::connect(backend)?;
    upstream.set_read_timeout(Some(IO_TIMEOUT))?;
    upstream.write_all(&with_connection_close(&request))?;
    let mut response = Vec::new();
    (&mut upstream)
        .take(MAX_MESSAGE)
        .read_to_end(&mut response)?;
    let _ = upstream.shutdown(Shutdown::Both);

    tls.write_all(&with_connection_close(&response))?;
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(())
}

/// Reads one HTTP/1.1 request: its head and its `Content-Length` body.
fn read_request(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut message = Vec::new();
    let mut length = 0u64;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::other(
                "connection closed in the message head",
            ));
        }
        message.extend_from_slice(line.as_bytes());
        if line == "\r\n" || line == "\n" {
            break;
        }
        if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = value
                .trim()
                .parse()
                .map_err(|_| std::io::Error::other("bad Content-Length"))?;
        }
    }
    if length > MAX_MESSAGE {
        return Err(std::io::Error::other("message too large"));
    }
    let mut body = vec![0; usize::try_from(length).map_err(std::io::Error::other)?];
    reader.read_exact(&mut body)?;
    message.extend_from_slice(&body);
    Ok(message)
}

/// An HTTP message with its `Connection` header replaced by `Connection: close`: the backend
/// then ends its response by closing, and the client does not reuse a connection this front
/// closes.
fn with_connection_close(message: &[u8]) -> Vec<u8> {
    let Some(head_end) = message.windows(4).position(|w| w == b"\r\n\r\n") else {
        return message.to_vec();
    };
    let head = String::from_utf8_lossy(&message[..head_end]);
    let mut out = String::new();
    for line in head.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&message[head_end + 4..]);
    bytes
}
