#!/usr/bin/env bash
# SIGKILLs the vault's writers at random points, KILLS times for the add writer and KILLS/2 for
# each of the others (HOTP advance, vault creation, automatic backups, the facade's imports,
# renames, moves and passwordless changes, push requests kept and answered, container syncs), checking after every kill that each acknowledged
# change is there, nothing half-written is, the vault opens and the newest complete backup
# restores (tests/tests/vault_crash.rs). A release build, so more kills land inside writes.
#
#   bash scripts/crash-soak.sh [KILLS]     (default 400: 1,600 kills in all)
#
# `cargo test` runs the same tests with 30 (105 kills) on every CI run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
kills=${1:-400}
if ! [[ $kills =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: scripts/crash-soak.sh [KILLS]" >&2
    exit 2
fi
total=$((kills + 6 * (kills / 2)))
echo "crash soak: $total kills ($kills of the add writer, $((kills / 2)) of each other writer)"
started=$SECONDS
AUTHCORE_CRASH_KILLS=$kills cargo test --release --locked -p authcore-tests --test vault_crash \
    -- --nocapture --test-threads 1 2>&1 | grep -E '^(kill-point seed|[0-9]+ (kills|creations)|test |test result)|panicked|lost|half'
status=${PIPESTATUS[0]}
echo "crash soak: $total kills in $((SECONDS - started)) s, exit $status"
exit "$status"
