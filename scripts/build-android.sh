#!/usr/bin/env bash
# Builds the Android native libraries and the Android flavour of the Kotlin bindings for the
# Gradle module android/authcore. Needs the Android NDK (ANDROID_NDK_HOME) and cargo-ndk 4.x, and
# the Rust targets: rustup target add aarch64-linux-android armv7-linux-androideabi x86_64-linux-android
# It cannot run on the CI machine (no NDK); the same Kotlin is tested on the JVM there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
module=android/authcore
command -v cargo-ndk >/dev/null || cargo install cargo-ndk --locked
# The profile `mobile` without the QR-image decoder (Cargo.toml): a panic aborts, and the app's
# own scanner reads pictures (addQrImage refuses). `--with-qr-image-decoding` builds the
# release profile with the decoder instead, for an app with no scanner: about 0.5 MB more per
# ABI, and panics unwind (docs/benchmarks.md, "The library").
source scripts/cargo-paths.sh
phone_profile "$@"
cargo ndk -t arm64-v8a -t armeabi-v7a -t x86_64 -P 24 -o "$module/src/main/jniLibs" \
    build -p authcore-ffi "${lib_build[@]}"
cargo build -q -p uniffi-bindgen
# Generate from the host build of the same sources (the metadata is identical across targets
# and features), wherever cargo puts it, with the Kotlin renames of android/uniffi-kotlin.toml.
cargo build -q -p authcore-ffi "${lib_build[@]}"
rm -rf "$module/build/generated/uniffi"
"$target_dir/debug/uniffi-bindgen" generate --library "$target_dir/$profile/libauthcore_ffi.$lib_ext" -l kotlin \
    --config android/uniffi-kotlin.toml -o "$module/build/generated/uniffi" --no-format
bash scripts/kotlin-rename-fixups.sh "$module/build/generated/uniffi"
bash scripts/kotlin-internal.sh "$module/build/generated/uniffi"
echo "jniLibs in $module/src/main/jniLibs, bindings in $module/build/generated/uniffi"
