//! The in-workspace binding generator: same pinned uniffi as the scaffolding, so the generated
//! Kotlin and Swift always match the library they load.
fn main() {
    uniffi::uniffi_bindgen_main()
}
