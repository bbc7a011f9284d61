#!/usr/bin/env bash
# The memory check (issue 14, docs/hardening.md "Nothing left in memory"): a process unlocks a
# password-protected vault, adds accounts, produces codes, enrolls a push token and signs an
# answer with its device key, decrypts an encrypted import file, then closes everything. Its
# memory is dumped with gdb's gcore while open and again after the close, and every secret it
# used (tests/src/bin/memory_subject.rs writes the list) is searched for in both dumps
# (tests/src/bin/memory_scan.rs): each must be found while open (the scan can see it) and none
# after the close, not whole and not in 16-byte pieces.
#
#   bash scripts/memory-check.sh            # debug build (the one `cargo test` already made)
#   AUTHCORE_MEMCHECK_PROFILE=release bash scripts/memory-check.sh
#   AUTHCORE_MEMCHECK_ALLOCATOR=system ...  # without the zeroizing allocator the products
#                                           # install: shows what dependencies leave (fails)
#   AUTHCORE_MEMCHECK_KEEP=1 ...            # keep the dumps and the needle file for a look
#
# gcore attaches with ptrace: it needs root (CAP_SYS_PTRACE), or kernel.yama.ptrace_scope at 0
# or 1 for a child of the caller's own shell; ptrace_scope 3 forbids it for everyone. Installs gdb
# (apt) when it is missing. Exits non-zero, never skips, when it cannot run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
profile=${AUTHCORE_MEMCHECK_PROFILE:-debug}
allocator=${AUTHCORE_MEMCHECK_ALLOCATOR:-zeroizing}
started=$SECONDS

if ! command -v gcore >/dev/null 2>&1; then
    echo "memory check: installing gdb (gcore)"
    if [[ $(id -u) -ne 0 ]]; then
        echo "memory check: gdb is missing and this is not root: apt-get install gdb" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gdb >/dev/null
fi

scope_file=/proc/sys/kernel/yama/ptrace_scope
if [[ -r $scope_file ]]; then
    scope=$(cat "$scope_file")
    if [[ $scope -ge 3 ]]; then
        echo "memory check: kernel.yama.ptrace_scope is 3: no process may be dumped (needs a reboot to lower)" >&2
        exit 1
    fi
    if [[ $scope -ge 2 && $(id -u) -ne 0 ]]; then
        echo "memory check: kernel.yama.ptrace_scope is $scope: run as root (CAP_SYS_PTRACE)" >&2
        exit 1
    fi
fi

case $profile in
    debug) build_flags=() ;;
    release) build_flags=(--release) ;;
    *) echo "memory check: AUTHCORE_MEMCHECK_PROFILE is debug or release, not $profile" >&2; exit 2 ;;
esac
case $allocator in
    zeroizing) ;;
    system) build_flags+=(--features authcore-tests/system-allocator) ;;
    *) echo "memory check: AUTHCORE_MEMCHECK_ALLOCATOR is zeroizing or system, not $allocator" >&2; exit 2 ;;
esac
cargo build --locked -q "${build_flags[@]}" -p authcore-tests --bin memory_subject --bin memory_scan
. "$root/scripts/cargo-paths.sh"
bin=$target_dir/$profile
built=$SECONDS

work=$(umask 077 && mktemp -d "${TMPDIR:-/tmp}/authcore-memcheck.XXXXXX")
subject_pid=
cleanup() {
    exec 3>&- || true
    if [[ -n $subject_pid ]] && kill -0 "$subject_pid" 2>/dev/null; then
        kill "$subject_pid" 2>/dev/null || true
        wait "$subject_pid" 2>/dev/null || true
    fi
    if [[ ${AUTHCORE_MEMCHECK_KEEP:-0} == 1 ]]; then
        echo "memory check: dumps and needles kept in $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

# Waits until the subject has printed $1 (or died, or 300 s passed).
wait_for() {
    local deadline=$((SECONDS + 300))
    until grep -qx "$1" "$work/out" 2>/dev/null; do
        if ! kill -0 "$subject_pid" 2>/dev/null; then
            echo "memory check: the subject exited before '$1':" >&2
            cat "$work/err" >&2
            exit 1
        fi
        if [[ $SECONDS -ge $deadline ]]; then
            echo "memory check: no '$1' from the subject in 300 s" >&2
            exit 1
        fi
        sleep 0.1
    done
}

dump() {
    if ! gcore -o "$work/$1" "$subject_pid" >"$work/gcore-$1.log" 2>&1; then
        echo "memory check: gcore failed (ptrace refused?):" >&2
        tail -n 20 "$work/gcore-$1.log" >&2
        exit 1
    fi
}

mkfifo "$work/in"
"$bin/memory_subject" "$work" <"$work/in" >"$work/out" 2>"$work/err" &
subject_pid=$!
exec 3>"$work/in"
wait_for open
opened=$SECONDS
dump open
echo close >&3
wait_for closed
dump closed
exec 3>&-
wait "$subject_pid"
subject_pid_was=$subject_pid
subject_pid=
dumped=$SECONDS

status=0
"$bin/memory_scan" "$work/needles" "$work/open.$subject_pid_was" "$work/closed.$subject_pid_was" || status=$?
echo "memory check ($profile build, $allocator allocator): build $((built - started)) s, subject $((opened - built)) s," \
    "dumps $((dumped - opened)) s, scan $((SECONDS - dumped)) s, $((SECONDS - started)) s in all, exit $status"
exit "$status"
