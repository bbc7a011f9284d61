//! `allocator`: the global allocator the core's products install: the system allocator, with
//! every block zeroed as it is freed (and so as a reallocation moves it).
//!
//! The core zeroizes what it owns (`Secret`, `Zeroizing` buffers), but its dependencies keep
//! secrets in memory they free without clearing it: ring's AES key schedules and RSA limbs, the
//! `rsa` crate's big-integer temporaries during key generation, DER encodings. Nothing outside
//! those crates can reach that memory, and the system allocator hands it back to the heap as it
//! was. The memory check (`scripts/memory-check.sh`, docs/hardening.md) finds them there after
//! a close without this allocator and nowhere with it.
//!
//! A library cannot choose the allocator of the program it is linked into, so each artefact
//! declares it once: the FFI library (`bindings/src/lib.rs`, so the Android and iOS apps' Rust
//! code uses it), the CLI (`cli/src/main.rs`) and the memory check's subject. A Rust program that
//! links the core as a crate should do the same:
//!
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: authcore::allocator::Zeroizing = authcore::allocator::ZEROIZING;
//! ```
//!
//! It is 1Password's `zeroizing-alloc`, whose `unsafe` stays in that crate: the core itself still
//! forbids `unsafe`.

/// The system allocator, zeroing each block before it is freed.
pub type Zeroizing = zeroizing_alloc::ZeroAlloc<std::alloc::System>;

/// The value to install with `#[global_allocator]`.
pub const ZEROIZING: Zeroizing = zeroizing_alloc::ZeroAlloc(std::alloc::System);
