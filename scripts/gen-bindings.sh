#!/usr/bin/env bash
# Builds the host library and generates the Kotlin (JVM flavour for the tests here, Android
# flavour for the app) and Swift bindings from it into <target dir>/bindings/. Generated code is
# never committed: it is made from the exact library it will load, so it cannot go stale.
#
# The target directory is cargo's own (`cargo metadata`: CARGO_TARGET_DIR, .cargo/config.toml),
# and the library's file name follows the host OS (.so on Linux, .dylib on macOS). Kotlin gets
# android/uniffi-kotlin.toml merged over bindings/uniffi.toml (its renames: see that file).
#
# Prints, last, "bindings for <library> in <directory>" (read by test-kotlin.sh, test-swift.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# debug, release, or mobile: the phone libraries' profile, which leaves out the QR-image decoder
# (Cargo.toml; scripts/bench.sh measures the refresh through it).
profile=${AUTHCORE_PROFILE:-debug}
source "$root/scripts/cargo-paths.sh"
lib_flags "$profile"
cargo build -q -p authcore-ffi "${lib_build[@]}"
cargo build -q -p uniffi-bindgen
lib="$target_dir/$profile/libauthcore_ffi.$lib_ext"
[ -f "$lib" ] || { echo "gen-bindings: $lib is missing after cargo build" >&2; exit 1; }
out="$target_dir/bindings"
rm -rf "$out"
mkdir -p "$out"
kotlin_config="$root/android/uniffi-kotlin.toml"
cp "$kotlin_config" "$out/kotlin-android.toml"
# The JVM flavour: the same renames, without Android's imports (android.os.Build, androidx).
{ cat "$kotlin_config"; printf '\n[crates.authcore_ffi.bindings.kotlin]\nandroid = false\n'; } >"$out/kotlin-jvm.toml"
bindgen() { "$target_dir/debug/uniffi-bindgen" generate --library "$lib" --no-format "$@"; }
bindgen -l kotlin -o "$out/kotlin-jvm" --config "$out/kotlin-jvm.toml"
bindgen -l kotlin -o "$out/kotlin-android" --config "$out/kotlin-android.toml"
bash "$root/scripts/kotlin-rename-fixups.sh" "$out/kotlin-jvm" "$out/kotlin-android"
bash "$root/scripts/kotlin-internal.sh" "$out/kotlin-jvm" "$out/kotlin-android"
bindgen -l swift -o "$out/swift"
bash "$root/scripts/swift-internal.sh" "$out/swift/AuthCore.swift"
echo "bindings for $lib in $out"
