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
# profile with the decoder instead: about 0.5 MB more, and panics unwind. Output goes wherever
# cargo puts it (CARGO_TARGET_DIR, .cargo/config.toml); this runs on macOS only, so the host
# library is a .dylib.
source scripts/cargo-paths.sh
phone_profile "$@"
for t in aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios; do
    cargo build -p authcore-ffi "${lib_build[@]}" --target "$t"
done
cargo build -q -p uniffi-bindgen
cargo build -q -p authcore-ffi "${lib_build[@]}"
target=$target_dir
out=$target/xcframework
rm -rf "$out" ios/AuthCoreFFI.xcframework
mkdir -p "$out/headers" "$out/sim" ios/Sources/AuthCore/Generated
"$target/debug/uniffi-bindgen" generate --library "$target/$profile/libauthcore_ffi.dylib" -l swift \
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
lipo -create "$target/aarch64-apple-ios-sim/$profile/libauthcore_ffi.a" \
    "$target/x86_64-apple-ios/$profile/libauthcore_ffi.a" -output "$out/sim/libauthcore_ffi.a"
xcodebuild -create-xcframework \
    -library "$target/aarch64-apple-ios/$profile/libauthcore_ffi.a" -headers "$out/headers" \
    -library "$out/sim/libauthcore_ffi.a" -headers "$out/headers" \
    -output ios/AuthCoreFFI.xcframework
echo "ios/AuthCoreFFI.xcframework and ios/Sources/AuthCore/Generated/AuthCore.swift are ready"
