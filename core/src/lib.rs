//! authcore: the whole logic of an authenticator app, written once for Android, iOS and the
//! desktop CLI. See ARCHITECTURE.md at the repository root for the map.
//!
//! No FFI types and no platform code live here: `authcore-ffi` translates, the shells draw.
#![forbid(unsafe_code)]

pub mod account;
pub mod allocator;
pub mod authenticator;
pub mod backup;
pub mod clock;
pub mod container;
pub mod error;
pub mod export;
pub mod import;
pub mod log;
pub mod otp;
pub mod policy;
pub mod push;
pub mod qr_render;
pub mod secret;
pub(crate) mod secret_buffer;
pub mod time;
pub mod uri;
pub mod vault;
