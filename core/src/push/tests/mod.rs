//! Unit tests of the push module: every parsing, verification and signing path, with keys made
//! in the test. No network (the interop tests in `tests/` run against a real privacyIDEA).

mod answer;
mod challenge;
mod client;
mod clock_skew;
mod enroll_uri;
mod keys;
mod response;
pub(crate) mod support;
