#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ (cargo-fuzz, libFuzzer) for SECONDS each and fails on any
# crash, hang or memory blow-up, printing the input that caused it.
#
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]      (default 60 s, every target)
#
# Each target starts from fuzz/seeds/<target>/ copied into its working corpus fuzz/corpus/<target>/
# (gitignored, kept between runs so a longer campaign builds on a shorter one), plus the saved
# crashes of fuzz/regressions/<target>/, which are run first so a fixed crash stays fixed.
# Limits: 2048 MB of memory (libFuzzer's RSS and single-allocation limit), 10 s per input.
# Prints per target: executions, exec/s, coverage (cov, ft), corpus size and peak RSS.
# Needs the nightly toolchain (AddressSanitizer and coverage instrumentation) and cargo-fuzz:
# both are installed when missing, and the run fails if they cannot be.
#
# Environment: AUTHCORE_FUZZ_SANITIZER (address, the default, or none: about twice the speed,
# for long campaigns; the core has no unsafe code of its own), AUTHCORE_FUZZ_TARGET_DIR (build
# output, by default under $AUTHCORE_CACHE so CI runs on the same machine reuse it),
# AUTHCORE_FUZZ_TIMEOUT (seconds per input before it counts as a hang; default 10),
# AUTHCORE_FUZZ_RUNS (stop each target after this many executions, or at SECONDS if sooner: a
# 10-million campaign is then exactly that, whatever else shares the machine),
# AUTHCORE_FUZZ_TRACE_COMPARES (on, the default, or off: builds without libFuzzer's comparison
# tracing, which guides mutations towards the values a comparison wants but costs three
# quarters of import_read's time in the QR detector's pixel loops; off runs it two to four times
# faster for a long campaign, still guided by edge coverage).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

seconds=${1:-60}
[[ $# -gt 0 ]] && shift
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
    exit 2
fi
cache=${AUTHCORE_CACHE:-$HOME/.cache/authcore}
sanitizer=${AUTHCORE_FUZZ_SANITIZER:-address}
trace_compares=${AUTHCORE_FUZZ_TRACE_COMPARES:-on}
build_flags=(--sanitizer "$sanitizer")
case $trace_compares in
on) flavour=$sanitizer ;;
off)
    flavour=$sanitizer-no-trace-compares
    build_flags+=(--no-trace-compares)
    ;;
*)
    echo "fuzz: AUTHCORE_FUZZ_TRACE_COMPARES must be on or off, not '$trace_compares'" >&2
    exit 2
    ;;
esac
# One build directory per build flavour: switching would otherwise rebuild everything each time.
target_dir=${AUTHCORE_FUZZ_TARGET_DIR:-$cache/fuzz-target-$flavour}
rss_limit_mb=2048
# A campaign may raise the per-input limit to look past a known slow input while it is fixed.
timeout_s=${AUTHCORE_FUZZ_TIMEOUT:-10}
runs=${AUTHCORE_FUZZ_RUNS:-}
if [[ -n $runs && ! $runs =~ ^[1-9][0-9]*$ ]]; then
    echo "fuzz: AUTHCORE_FUZZ_RUNS must be a positive number of executions, not '$runs'" >&2
    exit 2
fi

# cargo-fuzz needs nightly for -Zsanitizer; the project itself builds on stable.
if ! rustup run nightly rustc --version >/dev/null 2>&1; then
    echo "installing the nightly toolchain (rustup)"
    rustup toolchain install nightly --profile minimal || {
        echo "fuzz: the nightly toolchain is missing and could not be installed" >&2
        exit 1
    }
fi
# An installed cargo-fuzz is reused (CI machines keep ~/.cargo/bin between runs).
if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "installing cargo-fuzz"
    cargo install cargo-fuzz --locked || {
        echo "fuzz: cargo-fuzz is missing and could not be installed" >&2
        exit 1
    }
fi
echo "$(rustup run nightly rustc --version); $(cargo fuzz --version); sanitizer: $sanitizer; comparison tracing: $trace_compares"

fuzz() { cargo +nightly fuzz "$@"; }
if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(fuzz list)
fi

build_started=$SECONDS
fuzz build --target-dir "$target_dir" "${build_flags[@]}"
echo "built ${#targets[@]} targets in $((SECONDS - build_started)) s"

# The vault targets write a vault file per input: on a RAM disk that costs no disk I/O. One
# directory per run, removed at the end whatever happens.
scratch=$(mktemp -d /dev/shm/authcore-fuzz.XXXXXX 2>/dev/null || mktemp -d)
trap 'rm -rf "$scratch"' EXIT

# Reads libFuzzer's final figures from a log: executions and exec/s from -print_final_stats,
# coverage (cov: edges, ft: features) and corpus size from the last status line.
final_stat() { sed -n "s/^stat::$1: *//p" "$2" | tail -n 1; }
# (Empty, not a failure, when the target died before its first status line.)
status_field() {
    { grep -E '^#[0-9]+' "$2" || true; } | grep -o "$1: [0-9]*" | tail -n 1 | cut -d' ' -f2 || true
}

failed=()
summary=()
for target in "${targets[@]}"; do
    corpus=fuzz/corpus/$target
    artifacts=fuzz/artifacts/$target
    mkdir -p "$corpus" "$artifacts"
    # Seeds join the working corpus each run (new seeds included); inputs found earlier stay.
    cp -n fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
    inputs=("$corpus")
    if compgen -G "fuzz/regressions/$target/*" >/dev/null; then
        inputs+=("fuzz/regressions/$target")
    fi
    log=$artifacts/fuzz.log
    printf '\n==> fuzz %s: %s s\n' "$target" "$seconds"
    started=$SECONDS
    set +e
    TMPDIR=$scratch fuzz run --target-dir "$target_dir" "${build_flags[@]}" \
        "$target" "${inputs[@]}" -- \
        -max_total_time="$seconds" -rss_limit_mb="$rss_limit_mb" -timeout="$timeout_s" \
        -print_final_stats=1 ${runs:+-runs="$runs"} >"$log" 2>&1
    code=$?
    set -e
    elapsed=$((SECONDS - started))
    execs=$(final_stat number_of_executed_units "$log")
    rate=$(final_stat average_exec_per_sec "$log")
    rss=$(final_stat peak_rss_mb "$log")
    cov=$(status_field cov "$log")
    ft=$(status_field ft "$log")
    corp=$(status_field corp "$log")
    result=ok
    if [[ $code -ne 0 ]]; then
        result=FAILED
        # What went wrong with its stack (from the panic or libFuzzer's error to its summary),
        # then the input it saved: the path to reproduce it with
        # `cargo +nightly fuzz run TARGET PATH` and to keep under fuzz/regressions/TARGET/.
        sed -n '/panicked at\|ERROR: libFuzzer\|ERROR: AddressSanitizer/,/^SUMMARY/p' "$log" | head -n 80
        crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "fuzz $target FAILED (exit $code) after $elapsed s; input: ${crash:-none saved, see $log}"
        failed+=("$target")
    fi
    line=$(printf '%-18s %6ss %12s execs %8s exec/s  cov %6s  ft %7s  corpus %6s  rss %5s MB  %s' \
        "$target" "$elapsed" "${execs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "${rss:-?}" "$result")
    echo "$line"
    summary+=("$line")
done

printf '\n==> fuzz summary (%s s per target, sanitizer %s, comparison tracing %s; logs in fuzz/artifacts/TARGET/fuzz.log)\n' \
    "$seconds" "$sanitizer" "$trace_compares"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
    echo "fuzz: ${#failed[@]} target(s) failed: ${failed[*]}" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets ran without a crash, hang or memory blow-up"
