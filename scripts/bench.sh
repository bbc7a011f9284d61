#!/usr/bin/env bash
# Every speed and size figure of the project in one run, printed as one table with each row's
# ratio and goal (docs/benchmarks.md holds the latest full run and explains each row):
#  - criterion, release: the two-SHA-1-compression floor of one code, authcore's code, and the
#    peers totp-rs, totp-lite and ring's HMAC; the generator's 1,000 codes; the facade's codes
#    and vault open + every code at 1,000 and 10,000 accounts; the core's share of the code
#    list's per-second refresh; push enrollment and poll-to-approved client work;
#  - pyotp (the Python library many servers use) with the same key and time, in its own venv;
#  - the Kotlin (JVM) and Swift (Linux) per-second refresh of 100 accounts across the FFI, from
#    their suites' benchmark tests (the lines `bench-row: NAME MICROSECONDS`);
#  - the stripped shared library the phones embed (profile `mobile`) and the one with the
#    QR-image decoder, and what each crate contributes to the first (cargo-bloat).
#
#   bash scripts/bench.sh            # the full run, about 15 minutes here
#   bash scripts/bench.sh --quick    # every step once, briefly, on the debug build: so the
#                                    # bench cannot rot (scripts/test.sh runs it); its numbers
#                                    # are not measurements
#   bash scripts/bench.sh --record   # the full run, then its table written into docs/benchmarks.md
#
# Nothing here fails on speed: goals are reported (met / not met), never enforced. It fails when
# a step cannot run, or when a row it expects is missing from a step's output.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export AUTHCORE_CACHE=${AUTHCORE_CACHE:-$HOME/.cache/authcore}

mode=full
record=0
for arg in "$@"; do
    case $arg in
        --quick) mode=quick ;;
        --record) record=1 ;;
        *) echo "bench: unknown argument $arg (--quick, --record)" >&2; exit 2 ;;
    esac
done
if [[ $mode == quick && $record == 1 ]]; then
    echo "bench: --record keeps only full runs; --quick numbers are not measurements" >&2
    exit 2
fi

source scripts/cargo-paths.sh
out=$target_dir/bench
rm -rf "$out"
mkdir -p "$out"
rows=$out/rows.tsv # name <TAB> nanoseconds (or bytes for sizes)
: >"$rows"
started=$(date +%s)
stage() { echo "bench: $* (+$(($(date +%s) - started)) s)"; }

# --- criterion ------------------------------------------------------------------------------
# Quick mode builds the benches with the dev profile (dependencies are optimised there too, and
# the test run already built them) and samples each for a fraction of a second.
if [[ $mode == quick ]]; then
    cargo_profile=(--profile dev)
    criterion_args=(--warm-up-time 0.05 --measurement-time 0.1 --sample-size 10)
    lib_profile=debug
else
    cargo_profile=()
    criterion_args=()
    # The Kotlin and Swift rows go through the library the phones ship (Cargo.toml, `mobile`).
    lib_profile=mobile
fi
# The rows of the table; quick runs leave out making RSA-4096 keys (ten of them, a minute).
criterion_filter='^(one_code|codes_|vault_1000/|vault_10000/|refresh_100/|push/|push_enroll/)'
[[ $mode == quick ]] && criterion_filter='^(one_code|codes_|vault_1000/|vault_10000/|refresh_100/|push/|push_enroll/with)'
stage "criterion ($mode)"
CRITERION_HOME=$out/criterion cargo bench --locked "${cargo_profile[@]}" -p authcore \
    --bench otp --bench vault --bench push -- "${criterion_args[@]}" \
    "$criterion_filter" >"$out/criterion.log" 2>&1 || {
    tail -n 40 "$out/criterion.log" >&2
    echo "bench: cargo bench failed ($out/criterion.log)" >&2
    exit 1
}
# Each benchmark's median, by its full id ("group/function").
python3 - "$out/criterion" >>"$rows" <<'EOF'
import json, os, sys
for dirpath, _, files in os.walk(sys.argv[1]):
    if os.path.basename(dirpath) != "new" or "benchmark.json" not in files:
        continue
    with open(os.path.join(dirpath, "benchmark.json")) as f:
        full_id = json.load(f)["full_id"]
    with open(os.path.join(dirpath, "estimates.json")) as f:
        median = json.load(f)["median"]["point_estimate"]
    print(f"{full_id}\t{median}")
EOF

# --- pyotp ----------------------------------------------------------------------------------
pyotp_version=2.9.0
venv=$AUTHCORE_CACHE/pyotp-$pyotp_version
if [[ ! -x $venv/bin/python ]]; then
    stage "pyotp $pyotp_version into $venv"
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    fi
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q "pyotp==$pyotp_version"
fi
stage "pyotp"
iterations=200000
[[ $mode == quick ]] && iterations=2000
"$venv/bin/python" - "$iterations" >>"$rows" <<'EOF'
import base64, os, sys, timeit
import pyotp
n = int(sys.argv[1])
totp = pyotp.TOTP(base64.b32encode(os.urandom(20)).decode())
t = 1_700_000_000
best = min(timeit.repeat(lambda: totp.at(t), number=n, repeat=5))
print(f"one_code/pyotp_at\t{best / n * 1e9}")
EOF

# --- Kotlin and Swift across the FFI --------------------------------------------------------
# Their suites print `bench-row: NAME MICROSECONDS`; only the benchmark tests run here.
ffi_rows() { sed -n 's/^.*bench-row: \([a-z0-9_]*\) \([0-9.]*\).*$/\1\t\2/p' | awk -F'\t' '{ printf "%s\t%s\n", $1, $2 * 1000 }'; }
stage "Kotlin refresh ($lib_profile library)"
AUTHCORE_PROFILE=$lib_profile AUTHCORE_KOTLIN_TEST_FILTER='CodeListTest#FFI*,AuthenticatorTest#FFI*' \
    bash scripts/test-kotlin.sh >"$out/kotlin.log" 2>&1 || {
    tail -n 40 "$out/kotlin.log" >&2; echo "bench: the Kotlin benchmark failed ($out/kotlin.log)" >&2; exit 1; }
ffi_rows <"$out/kotlin.log" >>"$rows"
# Full runs build the Swift side as apps ship it too (-c release); quick runs keep its debug build.
swift_config=release
[[ $mode == quick ]] && swift_config=debug
stage "Swift refresh ($lib_profile library, Swift $swift_config)"
AUTHCORE_PROFILE=$lib_profile AUTHCORE_SWIFT_CONFIGURATION=$swift_config AUTHCORE_SWIFT_TEST_FILTER='testFfiCost' \
    bash scripts/test-swift.sh >"$out/swift.log" 2>&1 || {
    tail -n 40 "$out/swift.log" >&2; echo "bench: the Swift benchmark failed ($out/swift.log)" >&2; exit 1; }
ffi_rows <"$out/swift.log" >>"$rows"

# --- the library the apps embed -------------------------------------------------------------
# The phone library (profile `mobile`, without the QR-image decoder: build-android.sh and
# build-xcframework.sh) is the row with the goal, built in both modes so that its profile and
# features cannot rot; the release library with the decoder (the desktop's, and the phones'
# `--with-qr-image-decoding`) is shown beside it. Quick runs take the debug library for that
# second row and for cargo-bloat, only to exercise the steps.
stage "library (mobile)"
lib_flags mobile
cargo build --locked -q "${lib_build[@]}" -p authcore-ffi
phone_lib=$target_dir/mobile/libauthcore_ffi.$lib_ext
if [[ $mode == quick ]]; then
    lib=$target_dir/debug/libauthcore_ffi.$lib_ext
    bloat_profile=(--profile dev)
else
    stage "library (release, with the QR-image decoder)"
    cargo build --locked -q --release -p authcore-ffi
    lib=$target_dir/release/libauthcore_ffi.$lib_ext
    bloat_profile=("${lib_build[@]}")
fi
for f in "$phone_lib" "$lib"; do
    [[ -f $f ]] || { echo "bench: no library at $f" >&2; exit 1; }
done
strip -o "$out/libauthcore_ffi.stripped" "$phone_lib"
printf 'library/stripped_bytes\t%s\n' "$(stat -c %s "$out/libauthcore_ffi.stripped")" >>"$rows"
strip -o "$out/libauthcore_ffi.with-qr-images.stripped" "$lib"
printf 'library/stripped_bytes_with_qr_images\t%s\n' "$(stat -c %s "$out/libauthcore_ffi.with-qr-images.stripped")" >>"$rows"

bloat_version=0.12.1
bloat_root=$AUTHCORE_CACHE/cargo-bloat-$bloat_version
if [[ ! -x $bloat_root/bin/cargo-bloat ]]; then
    stage "cargo-bloat $bloat_version into $bloat_root"
    cargo install -q cargo-bloat --locked --version "$bloat_version" --root "$bloat_root" \
        --target-dir "$AUTHCORE_CACHE/cargo-bloat-build"
    rm -rf "$AUTHCORE_CACHE/cargo-bloat-build"
fi
stage "size by crate"
PATH=$bloat_root/bin:$PATH cargo bloat --locked "${bloat_profile[@]}" -p authcore-ffi --lib \
    --crates -n 25 >"$out/crates.txt" 2>"$out/bloat.log" || {
    tail -n 20 "$out/bloat.log" >&2; echo "bench: cargo bloat failed" >&2; exit 1; }

# --- the table ------------------------------------------------------------------------------
stage "table"
python3 scripts/bench_table.py "$rows" "$mode" "$out/crates.txt" >"$out/table.md"
cat "$out/table.md"
if [[ $record == 1 ]]; then
    python3 scripts/bench_table.py --record docs/benchmarks.md "$out/table.md"
    echo "bench: table written into docs/benchmarks.md"
fi
