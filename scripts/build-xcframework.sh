#!/usr/bin/env bash
# Builds ios/AuthCoreFFI.xcframework (device + simulator) and the generated Swift for the Swift
# package in ios/. Needs macOS with Xcode and the Rust targets:
#   rustup target add aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios
# It cannot run on the CI machine; the package's Swift is tested on Linux there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# The profile `mobile` without the QR-image decoder (Cargo.toml): a panic aborts, and the app
# reads pictures with Vision (addQrImage refuses). `--with-qr-image-decoding` builds the release
# profile with the decoder instead: about 0.5 MB more, and panics unwind.
build=(--profile mobile --no-default-features); p=mobile
for arg in "$@"; do
    case $arg in
        --with-qr-image-decoding) build=(--release); p=release ;;
        *) echo "build-xcframework: unknown argument $arg (--with-qr-image-decoding)" >&2; exit 2 ;;
    esac
done
for t in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
    cargo build -p authcore-ffi "${build[@]}" --target "$t"
done
cargo build -q -p uniffi-bindgen
cargo build -q -p authcore-ffi "${build[@]}"
# Wherever cargo puts its output (CARGO_TARGET_DIR, .cargo/config.toml). This runs on macOS
# only, so the host library is a .dylib.
source scripts/cargo-paths.sh
target=$target_dir
out=$target/xcframework
rm -rf "$out" ios/AuthCoreFFI.xcframework
mkdir -p "$out/headers" "$out/sim" ios/Sources/AuthCore/Generated
"$target/debug/uniffi-bindgen" generate --library "$target/$p/libauthcore_ffi.dylib" -l swift \
    -o "$out/gen" --no-format
bash scripts/swift-internal.sh "$out/gen/AuthCore.swift"
cp "$out/gen/AuthCore.swift" ios/Sources/AuthCore/Generated/AuthCore.swift
cp "$out/gen/AuthCoreFFI.h" "$out/headers/"
# A plain module map named module.modulemap, as XCFramework headers expect.
cat > "$out/headers/module.modulemap" <<'MAP'
module AuthCoreFFI {
    header "AuthCoreFFI.h"
    export *
}
MAP
lipo -create "$target/aarch64-apple-ios-sim/$p/libauthcore_ffi.a" \
    "$target/x86_64-apple-ios/$p/libauthcore_ffi.a" -output "$out/sim/libauthcore_ffi.a"
xcodebuild -create-xcframework \
    -library "$target/aarch64-apple-ios/$p/libauthcore_ffi.a" -headers "$out/headers" \
    -library "$out/sim/libauthcore_ffi.a" -headers "$out/headers" \
    -output ios/AuthCoreFFI.xcframework
echo "ios/AuthCoreFFI.xcframework and ios/Sources/AuthCore/Generated/AuthCore.swift are ready"
