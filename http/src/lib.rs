//! `authcore-http`: the [`HttpTransport`] of the desktop CLI and the Rust tests, on reqwest with
//! rustls (ring) and the operating system's trust store (rustls-platform-verifier).
//!
//! Phones do not use it: their shells hand the core the platform's own HTTP stack through the
//! FFI. The transport keeps a tokio runtime of its own (one worker thread) and runs each request
//! there, so the core's futures need no runtime and any executor may poll them; [`block_on`] is
//! the one the CLI uses.
//!
//! What the core asks of every transport holds here: no redirects, no cookies, the request's
//! time-outs, a body read no further than the request's cap, certificates verified unless the
//! request says the server sent `sslverify=0` (then still TLS, any certificate).

mod tls;

use std::collections::HashMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use authcore::push::{HttpRequest, HttpResponse, HttpTransport, Method, TransportError};

/// The transport could not be built (no TLS configuration, no runtime).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP transport: {0}")]
pub struct SetupError(pub String);

/// reqwest + rustls on a private tokio runtime.
pub struct ReqwestTransport {
    /// `Err` when the platform verifier is unavailable: only requests that want verification
    /// fail, with that reason.
    verifying: Result<rustls::ClientConfig, SetupError>,
    any_certificate: rustls::ClientConfig,
    /// reqwest sets the connect time-out per client, not per request: one client per
    /// (verification, connect time-out) pair a caller has asked for, kept for its pool.
    clients: Mutex<HashMap<(bool, Duration), reqwest::Client>>,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for ReqwestTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReqwestTransport").finish_non_exhaustive()
    }
}

impl ReqwestTransport {
    pub fn new() -> Result<Self, SetupError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("authcore-http")
            .enable_all()
            .build()
            .map_err(|e| SetupError(format!("no runtime: {e}")))?;
        Ok(ReqwestTransport {
            verifying: tls::verifying_config(),
            any_certificate: tls::unverified_config()?,
            clients: Mutex::new(HashMap::new()),
            runtime,
        })
    }

    fn client(
        &self,
        verify: bool,
        connect_timeout: Duration,
    ) -> Result<reqwest::Client, SetupError> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = clients.get(&(verify, connect_timeout)) {
            return Ok(client.clone());
        }
        let tls = if verify {
            self.verifying.clone()?
        } else {
            self.any_certificate.clone()
        };
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .connect_timeout(connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| SetupError(format!("building the HTTP client failed: {}", chain(&e))))?;
        clients.insert((verify, connect_timeout), client.clone());
        Ok(client)
    }
}

/// Runs a future to completion on the calling thread (the CLI's and the tests' executor).
pub fn block_on<F: Future>(future: F) -> F::Output {
    futures_executor::block_on(future)
}

#[async_trait::async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, TransportError> {
        let client = self
            .client(request.verify_tls, request.connect_timeout)
            .map_err(|e| TransportError::Tls { reason: e.0 })?;
        self.runtime
            .spawn(exchange(client, request))
            .await
            .map_err(|e| TransportError::Other {
                reason: format!("the request task failed: {e}"),
            })?
    }
}

async fn exchange(
    client: reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, TransportError> {
    let method = match request.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
    };
    let mut builder = client
        .request(method, &request.url)
        .timeout(request.timeout);
    for (name, value) in &request.headers {
        builder = builder.header(name, value);
    }
    if request.method == Method::Post {
        builder = builder.body(request.body.clone());
    }
    let mut response = builder.send().await.map_err(transport_error)?;
    let limit = request.max_response_bytes;
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(TransportError::TooLarge);
    }
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .filter_map(|(n, v)| Some((n.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if body.len() + chunk.len() > limit {
            return Err(TransportError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpResponse {
        status,
        headers,
        body,
    })
}

/// reqwest's error without its URL (the poll's query string carries a signature).
fn transport_error(error: reqwest::Error) -> TransportError {
    if error.is_timeout() {
        return TransportError::Timeout;
    }
    let connect = error.is_connect();
    let error = error.without_url();
    let reason = chain(&error);
    if reason.contains("certificate") || reason.contains("TLS") || reason.contains("tls") {
        TransportError::Tls { reason }
    } else if connect {
        TransportError::Connection { reason }
    } else {
        TransportError::Other { reason }
    }
}

fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
