//! Link settings of the shared library the JVM and Swift-on-Linux load (docs/benchmarks.md, "The
//! library").
//!
//! On Linux with glibc the dynamic relocations are packed as RELR (`-z pack-relative-relocs`):
//! nearly all of them (about 7,800) are relative ones, 24 bytes each as RELA and a few bits each
//! as RELR, so the library is about 180 KB smaller with the same code. glibc loads RELR from 2.36
//! on (Debian 12 and later), and GNU ld writes it from binutils 2.38. The flag goes to the cdylib
//! only: test binaries and the CLI are linked as before. Android's linker reads packed
//! relocations too (lld's `--pack-dyn-relocs`), but no NDK runs here to link and load such a
//! library, so its targets are left as they are; Apple's chained fixups are compact already.
fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if os == "linux" && env == "gnu" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-z,pack-relative-relocs");
    }
}
