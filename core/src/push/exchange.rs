//! One exchange with a push server over the app's transport: the request built and sent with
//! a time-out, the server's clock offset taken from its `Date`, and transport errors scrubbed
//! of anything secret the request carried before they are shown.

use std::time::Instant;

use super::client::{PushClient, server_endpoint};
use super::clock_skew::ClockOffset;
use super::transport::{HttpRequest, Method, TransportError, form_body};
use super::{PushError, response};
use crate::log::LogLevel;
use crate::time::UnixTime;

pub(crate) struct RawResponse {
    pub(crate) status: u16,
    pub(crate) body: Vec<u8>,
    pub(super) offset: Option<ClockOffset>,
}

impl PushClient {
    pub(crate) fn post(
        &self,
        url: url::Url,
        sslverify: bool,
        form: &[(&str, String)],
    ) -> HttpRequest {
        let mut request = self.request(Method::Post, url, sslverify, form_body(form));
        request.headers.push((
            "Content-Type".to_owned(),
            "application/x-www-form-urlencoded".to_owned(),
        ));
        request
    }

    pub(super) fn request(
        &self,
        method: Method,
        url: url::Url,
        sslverify: bool,
        body: Vec<u8>,
    ) -> HttpRequest {
        HttpRequest {
            method,
            url: url.into(),
            headers: vec![
                ("Accept".to_owned(), "application/json".to_owned()),
                (
                    "User-Agent".to_owned(),
                    concat!("authcore/", env!("CARGO_PKG_VERSION")).to_owned(),
                ),
            ],
            body,
            verify_tls: sslverify,
            timeout: self.config.timeout,
            connect_timeout: self.config.connect_timeout,
            max_response_bytes: self.config.max_response_bytes,
        }
    }

    /// Sends `request` and records the clock offset its response's `Date` shows for that
    /// server. `now` is the local time at `started`. Whatever the transport does, a redirect is
    /// not followed and a body over the cap is refused here.
    pub(crate) async fn execute(
        &self,
        request: HttpRequest,
        now: UnixTime,
        started: Instant,
    ) -> Result<RawResponse, PushError> {
        let (origin, path) = server_endpoint(&request.url);
        let scrub = Scrubber::for_request(&request);
        // What the log may show of the request: no query, no user info, no body.
        let method = request.method.as_str();
        let sent_at = now + started.elapsed();
        let sent = Instant::now();
        let response = match self.transport.send(request).await {
            Ok(response) => response,
            Err(e) => {
                let error = scrub.network_error(e);
                self.log.write(LogLevel::Warn, "push", || {
                    format!("{method} {origin}{path}: {error}")
                });
                return Err(error);
            }
        };
        let round_trip = sent.elapsed();
        self.log.write(LogLevel::Debug, "push", || {
            format!(
                "{method} {origin}{path} -> HTTP {} in {} ms ({} bytes)",
                response.status,
                round_trip.as_millis(),
                response.body.len()
            )
        });
        let offset = response
            .header("date")
            .and_then(|date| ClockOffset::from_date_header(date, sent_at, round_trip));
        if let Some(offset) = offset {
            self.offsets().insert(origin, offset);
        }
        if (300..400).contains(&response.status) {
            return Err(PushError::response(format!(
                "the server redirected (HTTP {}); redirects are not followed",
                response.status
            )));
        }
        if response.body.len() > self.config.max_response_bytes {
            return Err(PushError::response("the response is too large"));
        }
        Ok(RawResponse {
            status: response.status,
            body: response.body,
            offset,
        })
    }
}

/// Removes what a request carries that must not reach an error message (its query string with
/// the poll signature, its form values) from a transport's failure text.
pub(super) struct Scrubber {
    url: String,
    redacted: String,
    secrets: Vec<String>,
}

impl Scrubber {
    pub(super) fn for_request(request: &HttpRequest) -> Self {
        let mut secrets: Vec<String> = Vec::new();
        if let Some((_, query)) = request.url.split_once('?') {
            secrets.push(query.to_owned());
            secrets
                .extend(url::form_urlencoded::parse(query.as_bytes()).map(|(_, v)| v.into_owned()));
        }
        secrets.extend(url::form_urlencoded::parse(&request.body).map(|(_, v)| v.into_owned()));
        // Short values (`v=1`, a serial) are not secret and would garble the text.
        secrets.retain(|s| s.len() >= 16);
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        Scrubber {
            url: request.url.clone(),
            redacted: request.redacted_url().to_owned(),
            secrets,
        }
    }

    pub(super) fn scrub(&self, text: &str) -> String {
        let mut text = text.replace(&self.url, &self.redacted);
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), "…");
        }
        response::short_message(&text)
    }

    pub(super) fn network_error(&self, error: TransportError) -> PushError {
        match error {
            TransportError::TooLarge => PushError::response("the response is too large"),
            other => PushError::Network {
                reason: self.scrub(&other.to_string()),
            },
        }
    }
}
