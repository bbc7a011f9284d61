#!/usr/bin/env bash
# Builds the host library and generates the Kotlin (JVM flavour, for the tests here) and Swift
# bindings from it into target/bindings/. Generated code is never committed: it is made from the
# exact library it will load, so it cannot go stale.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
profile=${AUTHCORE_PROFILE:-debug}
flag=(); [ "$profile" = release ] && flag=(--release)
cargo build -q -p authcore-ffi "${flag[@]}"
cargo build -q -p uniffi-bindgen
lib="$root/target/$profile/libauthcore_ffi.so"
out="$root/target/bindings"
rm -rf "$out"
mkdir -p "$out"
cat > "$out/jvm.toml" <<'TOML'
[crates.authcore_ffi.bindings.kotlin]
android = false
TOML
bindgen() { "$root/target/debug/uniffi-bindgen" generate --library "$lib" --no-format "$@"; }
bindgen -l kotlin -o "$out/kotlin-jvm" --config "$out/jvm.toml"
bindgen -l kotlin -o "$out/kotlin-android"
bindgen -l swift -o "$out/swift"
echo "bindings for $lib in $out"
