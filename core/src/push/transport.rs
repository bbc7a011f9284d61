//! The HTTP transport the push protocol speaks through: the core builds every request (method,
//! URL, headers, form body, TLS policy, time-outs, size cap) and reads every response (status,
//! headers, body), but never opens a socket itself.
//!
//! On a phone the platform's own HTTP stack carries the requests (Kotlin's `HttpURLConnection`,
//! Swift's `URLSession`, through the FFI), so the system trust store, user-installed and
//! enterprise CAs, proxies and background rules are the platform's. The CLI and the Rust tests
//! use the reqwest + rustls transport of crate `authcore-http`.
//!
//! A transport must not follow redirects, cache, or send cookies; it must verify certificates
//! unless `verify_tls` is false, enforce the two time-outs it is handed, and stop reading a body
//! past `max_response_bytes`. The core checks what it can again on the response (status 3xx is
//! refused, a body over the cap is refused), because a transport is code it does not control.

use std::fmt;
use std::time::Duration;

/// The two methods privacyIDEA's PUSH endpoint takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// One request, fully built. `Debug` leaves out the query string (it carries a signature) and
/// the body (an enrollment credential, a signature).
#[derive(Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    /// `application/x-www-form-urlencoded` for a POST; empty for a GET.
    pub body: Vec<u8>,
    /// False only when the server itself said `sslverify=0` (its QR code or a signed
    /// challenge): the connection is still TLS for https URLs, but any certificate is accepted.
    pub verify_tls: bool,
    /// The whole exchange: connect, send, wait, receive.
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// A longer body is refused ([`TransportError::TooLarge`]).
    pub max_response_bytes: usize,
}

impl HttpRequest {
    /// The URL without its query string, for messages.
    pub fn redacted_url(&self) -> &str {
        self.url.split(['?', '#']).next().unwrap_or_default()
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.redacted_url())
            .field("body_bytes", &self.body.len())
            .field("verify_tls", &self.verify_tls)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// What came back. Header names compare case-insensitively.
#[derive(Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl fmt::Debug for HttpResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

/// How a transport failed. Reasons are the platform's words; the core removes the request's
/// query string and body from them before they reach an error message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransportError {
    /// The server did not answer within the time-outs.
    #[error("the server did not answer in time")]
    Timeout,
    /// The TLS handshake failed: most often a certificate the platform does not trust.
    #[error("TLS: {reason}")]
    Tls { reason: String },
    /// No connection (DNS, refused, unreachable, offline).
    #[error("{reason}")]
    Connection { reason: String },
    /// The body is longer than the request's `max_response_bytes`.
    #[error("the response is too large")]
    TooLarge,
    /// Anything else the platform reported.
    #[error("{reason}")]
    Other { reason: String },
}

/// Carries requests. Implementations are shared across tasks and threads.
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// The transport of a core that has no network: every request fails with a clear reason.
/// For apps and tests that never use push; push calls say why they cannot work.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoNetwork;

#[async_trait::async_trait]
impl HttpTransport for NoNetwork {
    async fn send(&self, _request: HttpRequest) -> Result<HttpResponse, TransportError> {
        Err(TransportError::Other {
            reason: "this authenticator was opened without a network transport".to_owned(),
        })
    }
}

/// Form-encodes `pairs` as privacyIDEA expects a POST body.
pub(crate) fn form_body(pairs: &[(&str, String)]) -> Vec<u8> {
    let mut out = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        out.append_pair(name, value);
    }
    out.finish().into_bytes()
}
