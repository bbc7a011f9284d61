//! Poll responses, through `PushClient::poll` (the poll parser itself is crate-private): the
//! transport answers with the fuzzer's status, `Date` header and body (framing in
//! `authcore_fuzz::canned_from`). That covers the envelope parser, the poll list, every entry's
//! parsing and verification against the fixed test server key, the clock offset taken from
//! `Date` with its one retry on a 400, the redirect and size refusals, and the scrubbing of
//! transport errors.
#![no_main]

use std::sync::Arc;

use authcore::push::{PushClient, PushClientConfig};
use authcore_fuzz::{CannedTransport, ZeroSigner, canned_from, credential, now};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let transport = Arc::new(CannedTransport(canned_from(data)));
    let client = PushClient::new(transport, PushClientConfig::default());
    let outcome = futures_executor::block_on(client.poll(&credential(), &ZeroSigner, now()));
    if let Ok(outcome) = outcome {
        let _ = (outcome.requests.len(), outcome.rejected.len());
    }
    // What a response's `Date` taught the client, as the facade then stores it.
    let _ = client.clock_offsets();
    let _ = client.server_time(authcore_fuzz::URL, now());
});
