#!/usr/bin/env bash
# Every test of the project, in the order a failure is cheapest to read: formatting and lints,
# the dependency policy (cargo deny), the privacyIDEA and eduMFA server installs, the Rust unit
# and integration tests (published vectors, other apps' export files, crash and at-rest checks,
# interop with a real privacyIDEA and a real eduMFA), the memory check, a short fuzz pass, the
# bindings from Kotlin and Swift, then the bench's quick mode.
# It installs what it needs on a fresh Debian machine and fails, never skips, when it cannot.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export AUTHCORE_CACHE=${AUTHCORE_CACHE:-$HOME/.cache/authcore}
export AUTHCORE_FIXTURES=${AUTHCORE_FIXTURES:-$root/../shared/fixtures}

# A one-off run gains nothing from incremental caches, which add gigabytes to the target
# directory (disk, not time, is what a fresh CI machine runs short of).
if [[ -n ${CI:-} ]]; then export CARGO_INCREMENTAL=${CARGO_INCREMENTAL:-0}; fi

# Disk use at the end of the run, so a creeping target directory shows before it fills a disk.
# The target directory is cargo's own answer (scripts/cargo-paths.sh), known once the toolchain
# step below has installed cargo.
target_dir=
report_disk() {
    printf '\ndisk: target %s, free %s\n' \
        "$( [ -n "$target_dir" ] && du -sh "$target_dir" 2>/dev/null | cut -f1)" \
        "$(df -h --output=avail "$root" | tail -n 1 | tr -d ' ')"
}
trap report_disk EXIT

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
bash scripts/install-deps.sh
source scripts/cargo-paths.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The phone libraries' feature set (no QR-image decoder; Cargo.toml, profile `mobile`): the core
# and the facade as they are compiled there, the core's unit tests included.
cargo clippy -p authcore -p authcore-ffi --no-default-features --lib --profile test --locked -- -D warnings

# Licences, duplicate and wildcard dependencies, and sources (crates.io only) against deny.toml.
# Advisories are left out: their database is fetched from a git repository this machine cannot
# reach (deny.toml says more). cargo-deny is built once per version into $AUTHCORE_CACHE (about
# 6.5 minutes cold on this 2-core machine) and reused after.
step "cargo deny check licenses bans sources"
deny_version=0.20.2
deny_root=$AUTHCORE_CACHE/cargo-deny-$deny_version
if [[ ! -x $deny_root/bin/cargo-deny ]]; then
    echo "installing cargo-deny $deny_version into $deny_root"
    cargo install cargo-deny --locked --version "$deny_version" --root "$deny_root" \
        --target-dir "$AUTHCORE_CACHE/cargo-deny-build"
    rm -rf "$AUTHCORE_CACHE/cargo-deny-build"
fi
"$deny_root/bin/cargo-deny" check licenses bans sources

# The interop tests install privacyIDEA on their own when it is missing; installing it here
# first makes a cold install (about 25 s, 515 MB, from PyPI) and its failures visible as a stage.
step "privacyIDEA 3.14 (venv, cached)"
AUTHCORE_PRIVACYIDEA_VENV=$(bash tests/privacyidea/install.sh | tail -n 1)
export AUTHCORE_PRIVACYIDEA_VENV
echo "privacyIDEA venv: $AUTHCORE_PRIVACYIDEA_VENV"

# The same for eduMFA, the privacyIDEA fork whose edupush token tests/tests/push_edumfa.rs runs
# against (cold: about 30 to 50 s, 220 MB, binary wheels only).
step "eduMFA 2.9.5 (venv, cached)"
AUTHCORE_EDUMFA_VENV=$(bash tests/edumfa/install.sh | tail -n 1)
export AUTHCORE_EDUMFA_VENV
echo "eduMFA venv: $AUTHCORE_EDUMFA_VENV"

step "Rust tests (core, CLI, cross-crate, privacyIDEA and eduMFA interop)"
cargo test --workspace --locked
# The core's unit tests as the phone libraries build it (without the QR-image decoder: a picture
# is refused in one sentence, everything else is the same).
cargo test -p authcore --no-default-features --lib --locked

# A process that used every kind of secret is dumped while open and after closing: each secret
# must be in the first dump and in neither form in the second (docs/hardening.md). Debug build,
# already made by the tests above; installs gdb when missing; about 10 s warm.
step "memory check (gcore while open and after close)"
bash scripts/memory-check.sh

# Every fuzz target for a few seconds from its seeds, with its saved crashes run first
# (AddressSanitizer; installs nightly and cargo-fuzz when missing, about 8 minutes cold). The
# long campaigns are `bash scripts/fuzz.sh SECONDS` by hand (docs/hardening.md).
step "fuzz, short pass (5 s per target)"
bash scripts/fuzz.sh 5

step "Swift package tests (XCTest)"
bash scripts/test-swift.sh

step "Kotlin tests on the JVM (JUnit 5, Surefire)"
bash scripts/test-kotlin.sh

# The bench's every step once, briefly (debug build): so scripts/bench.sh cannot rot. Its numbers
# mean nothing and nothing here fails on speed; the real table is `bash scripts/bench.sh`.
step "bench, quick mode (scripts/bench.sh --quick)"
bash scripts/bench.sh --quick

printf '\nall test stages passed\n'
