//! The HTTP transport as Kotlin and Swift implement it: the `HttpTransport` foreign trait (an
//! async method: a `suspend fun` in Kotlin, `async throws` in Swift, so the I/O runs on the
//! platform's own threads and network stack), its records, and the adapter to the core's
//! `HttpTransport`. Translation only: what a transport must do is in the trait's docs, and what
//! protects the core (size cap, no redirects, scrubbed errors) stays in the core.

use std::sync::Arc;
use std::time::Duration;

use authcore::push::{
    HttpRequest as CoreRequest, HttpResponse as CoreResponse, HttpTransport as CoreTransport,
    Method, TransportError as CoreTransportError,
};

/// GET for polls, POST (form) for everything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum HttpMethod {
    Get,
    Post,
}

#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// One request, fully built by the core. Send it as it is.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpRequest {
    pub method: HttpMethod,
    /// `https://...` (plain `http://` only when the server said `sslverify=0`).
    pub url: String,
    /// Send these and no others (no cookies, no caching headers).
    pub headers: Vec<HttpHeader>,
    /// The form body of a POST (`application/x-www-form-urlencoded`, its header is in
    /// `headers`); empty for a GET.
    pub body: Vec<u8>,
    /// Verify the server's certificate with the platform's trust store. False only when the
    /// server itself said `sslverify=0`: then accept any certificate (still TLS for https).
    pub verify_tls: bool,
    /// The whole exchange, and the connection alone (signed, so Kotlin sees `Long`; never
    /// negative).
    pub timeout_ms: i64,
    pub connect_timeout_ms: i64,
    /// Stop reading a longer body and throw `TransportError.TooLarge`.
    pub max_response_bytes: i64,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The query string carries a signature, the body an enrollment credential.
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url.split('?').next().unwrap_or_default())
            .finish_non_exhaustive()
    }
}

/// What the server sent. A 3xx is returned as it is: never follow a redirect.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpResponse {
    /// The HTTP status (100 to 599; anything else is refused as a transport failure).
    pub status: i32,
    /// Every header (the core reads `Date` for the server's clock).
    pub headers: Vec<HttpHeader>,
    pub body: Vec<u8>,
}

/// How a transport failed. Kotlin: `TransportException.Timeout` etc.; Swift: `TransportError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi::export(Display)]
pub enum TransportError {
    /// No answer within the time-outs.
    #[error("the server did not answer in time")]
    Timeout,
    /// The TLS handshake failed (most often a certificate the platform does not trust).
    #[error("TLS: {reason}")]
    Tls { reason: String },
    /// No connection: DNS, refused, unreachable, offline.
    #[error("{reason}")]
    Connection { reason: String },
    /// The body is longer than `max_response_bytes`.
    #[error("the response is too large")]
    TooLarge,
    #[error("{reason}")]
    Other { reason: String },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for TransportError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        TransportError::Other { reason: e.reason }
    }
}

/// Carries the core's push requests on the platform's HTTP stack. `AuthCore` (Kotlin) ships
/// `HttpUrlConnectionTransport`, `AuthCoreClient` (Swift) `URLSessionTransport`; an app may
/// bring its own (OkHttp, a pinned session). Rules: do not follow redirects, cache or send
/// cookies; verify certificates unless `verify_tls` is false; honour both time-outs; stop
/// reading past `max_response_bytes`.
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait HttpTransport: Send + Sync {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError>;
}

/// The foreign transport as the core's.
pub(crate) struct ForeignTransport(pub Arc<dyn HttpTransport>);

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

fn headers(list: Vec<(String, String)>) -> Vec<HttpHeader> {
    list.into_iter()
        .map(|(name, value)| HttpHeader { name, value })
        .collect()
}

#[async_trait::async_trait]
impl CoreTransport for ForeignTransport {
    async fn send(&self, request: CoreRequest) -> Result<CoreResponse, CoreTransportError> {
        let request = HttpRequest {
            method: match request.method {
                Method::Get => HttpMethod::Get,
                Method::Post => HttpMethod::Post,
            },
            url: request.url,
            headers: headers(request.headers),
            body: request.body,
            verify_tls: request.verify_tls,
            timeout_ms: millis(request.timeout),
            connect_timeout_ms: millis(request.connect_timeout),
            max_response_bytes: i64::try_from(request.max_response_bytes).unwrap_or(i64::MAX),
        };
        match self.0.send(request).await {
            Ok(response) => Ok(CoreResponse {
                status: u16::try_from(response.status)
                    .ok()
                    .filter(|s| (100..=599).contains(s))
                    .ok_or_else(|| CoreTransportError::Other {
                        reason: format!(
                            "the transport returned HTTP status {}, which does not exist",
                            response.status
                        ),
                    })?,
                headers: response
                    .headers
                    .into_iter()
                    .map(|h| (h.name, h.value))
                    .collect(),
                body: response.body,
            }),
            Err(e) => Err(match e {
                TransportError::Timeout => CoreTransportError::Timeout,
                TransportError::Tls { reason } => CoreTransportError::Tls { reason },
                TransportError::Connection { reason } => CoreTransportError::Connection { reason },
                TransportError::TooLarge => CoreTransportError::TooLarge,
                TransportError::Other { reason } => CoreTransportError::Other { reason },
            }),
        }
    }
}
