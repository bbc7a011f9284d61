#!/usr/bin/env bash
# The Swift package's tests (XCTest) against the host library. Uses `swift` from PATH when there
# is one, else Debian trixie's Swift 6.0.3 in a cached chroot (scripts/swift-toolchain.sh), with
# the repository bind-mounted at /repo.
#
# The push tests talk to a real privacyIDEA 3.14 behind HTTPS fronts: the pi peer
# (scripts/pi-peer.sh, tests/src/bin/pi_peer.rs), started here. The chroot shares 127.0.0.1 with
# the host and sees the peer's description file under /repo. The peer's trusted CA is added to
# the trust store of the Swift runtime for the run (FoundationNetworking on Linux is libcurl with
# OpenSSL, which reads /etc/ssl/certs/ca-certificates.crt: update-ca-certificates builds it from
# /usr/local/share/ca-certificates), so its front is accepted only because the runtime trusts
# its CA, and the untrusted front, whose CA is nowhere, is refused. Removed again on exit.
#
# On exit everything mounted in the chroot is unmounted (lazily if busy) and checked; runs that
# share the chroot take turns (flock), so one run's clean-up never unmounts another's /repo.
#
# The import tests read other apps' real export files from the shared corpus: AUTHCORE_FIXTURES
# (default <repo>/../shared/fixtures, as scripts/test.sh sets it), bind-mounted read-only at
# /fixtures in the chroot (unmounted on exit with the rest) and passed to the tests as
# AUTHCORE_FIXTURES. A missing corpus fails here, before anything is built.
#
# AUTHCORE_SWIFT_TEST_FILTER: passed to `swift test --filter` (e.g. PushTests). Without it every
# test runs but the timing loops (`testFfiCost...`), which scripts/bench.sh runs by filter.
# AUTHCORE_SWIFT_CONFIGURATION: debug (the default) or release, the Swift side's build
# configuration (release is what apps ship; scripts/bench.sh measures with it).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
profile=${AUTHCORE_PROFILE:-debug}
case ${AUTHCORE_SWIFT_CONFIGURATION:-debug} in
    debug) swift_config= ;;
    # @testable import needs -enable-testing, which release builds leave out by default.
    release) swift_config="-c release -Xswiftc -enable-testing" ;;
    *) echo "test-swift: AUTHCORE_SWIFT_CONFIGURATION must be debug or release (was '$AUTHCORE_SWIFT_CONFIGURATION')" >&2; exit 2 ;;
esac
# A filter runs what it names; without one, everything but the timing loops.
# An array, so a filter with spaces or a regex alternation (`A|B`) stays one argument.
if [[ -n ${AUTHCORE_SWIFT_TEST_FILTER:-} ]]; then
    selection=(--filter "$AUTHCORE_SWIFT_TEST_FILTER")
else
    selection=(--skip testFfiCost)
fi
started=$(date +%s)
stage() { echo "test-swift: $* (+$(($(date +%s) - started)) s)"; }

fixtures=${AUTHCORE_FIXTURES:-$root/../shared/fixtures}
[ -d "$fixtures" ] || {
    echo "test-swift: no fixture corpus at $fixtures (set AUTHCORE_FIXTURES to shared/fixtures)" >&2
    exit 1
}
fixtures=$(cd "$fixtures" && pwd)

# Wherever cargo puts its output (CARGO_TARGET_DIR, .cargo/config.toml), not a guess.
source scripts/cargo-paths.sh
[ -d "$target_dir" ] || { echo "test-swift: cargo's target directory $target_dir does not exist" >&2; exit 1; }
lib_dir="$target_dir/$profile"

# Always regenerate: bindings made from an older build would test stale code.
gen_out=$(bash scripts/gen-bindings.sh)
echo "$gen_out"
bindings=$(printf '%s\n' "$gen_out" | sed -n 's/^bindings for .* in \(.*\)$/\1/p' | tail -n1)
[ -n "$bindings" ] || bindings="$target_dir/bindings"
for f in "$bindings/swift/AuthCore.swift" "$bindings/swift/AuthCoreFFI.h" "$lib_dir/libauthcore_ffi.$lib_ext"; do
    [ -f "$f" ] || { echo "test-swift: $f is missing after scripts/gen-bindings.sh" >&2; exit 1; }
done
mkdir -p ios/Sources/AuthCore/Generated
cp "$bindings/swift/AuthCore.swift" ios/Sources/AuthCore/Generated/AuthCore.swift
cp "$bindings/swift/AuthCoreFFI.h" ios/Sources/AuthCoreFFI/AuthCoreFFI.h
stage "bindings generated"

chroot_dir=$(bash scripts/swift-toolchain.sh)
stage "toolchain ready${chroot_dir:+ (chroot $chroot_dir)}"

# --- everything below is undone by cleanup, in reverse order -----------------------------------
mounted=()      # mount points made here, innermost last
trusted_ca=     # the CA file added to a trust store
untrust=()      # the command that removes it again
test_pid=       # the running `swift test`, killed before unmounting
test_target=    # what to kill: its process group (-PID) where setsid exists, else the PID

# Runs "$@" (the tests) in the background, in a process group of its own where setsid exists
# (not on macOS), so a signal to this script runs cleanup at once (a foreground child would
# delay the trap until it ends) and cleanup can stop all of it before unmounting what it uses.
run_tests() {
    if command -v setsid >/dev/null; then
        setsid "$@" {PI_PEER_FD}>&- &
        test_pid=$!
        test_target=-$test_pid
    else
        "$@" {PI_PEER_FD}>&- &
        test_pid=$!
        test_target=$test_pid
    fi
    local status=0
    wait "$test_pid" || status=$?
    test_pid=
    return "$status"
}

stop_tests() {
    [ -n "$test_pid" ] || return 0
    echo "test-swift: stopping the tests (pid $test_pid)" >&2
    kill -TERM -- "$test_target" 2>/dev/null
    local i
    for i in $(seq 1 100); do
        kill -0 -- "$test_target" 2>/dev/null || { test_pid=; return 0; }
        sleep 0.1
    done
    kill -KILL -- "$test_target" 2>/dev/null
    sleep 0.5
    test_pid=
}

mount_in_chroot() {  # SOURCE TARGET [mount options...]
    local src=$1 dst=$2
    shift 2
    mkdir -p "$dst"
    if mountpoint -q "$dst"; then
        echo "test-swift: $dst is already mounted (another run, or a stale mount); refusing" >&2
        return 1
    fi
    mount "$@" "$src" "$dst"
    mounted+=("$dst")
}

cleanup() {
    local status=$?
    set +e
    stop_tests
    stop_pi_peer 2>/dev/null
    if [ -n "$trusted_ca" ]; then
        rm -f "$trusted_ca"
        "${untrust[@]}" >/dev/null 2>&1 || echo "test-swift: removing the peer's CA from the trust store failed" >&2
    fi
    local i m
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
        m=${mounted[i]}
        umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null ||
            echo "test-swift: cannot unmount $m: unmount it before removing $chroot_dir" >&2
    done
    if [ -n "$chroot_dir" ] && grep -qF " $chroot_dir/" /proc/self/mountinfo 2>/dev/null; then
        echo "test-swift: still mounted under $chroot_dir:" >&2
        grep -F " $chroot_dir/" /proc/self/mountinfo >&2
        [ "$status" != 0 ] || status=1
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

# shellcheck source=scripts/pi-peer.sh
source scripts/pi-peer.sh
start_pi_peer
stage "pi peer up"
for f in "$AUTHCORE_PI_PEER" "$AUTHCORE_PI_PEER_CA_PEM"; do
    [ -s "$f" ] || { echo "test-swift: the pi peer did not write $f" >&2; exit 1; }
done

if [ -n "$chroot_dir" ]; then
    # One run at a time in the shared chroot and its trust store, held until this shell exits.
    # Taken after the peer started, so the peer and privacyIDEA do not inherit (and hold) it.
    exec {chroot_lock}>"$chroot_dir.lock"
    if ! flock -n "$chroot_lock"; then
        echo "test-swift: waiting for another run using $chroot_dir" >&2
        flock "$chroot_lock"
    fi
fi

# Adds the peer's trusted CA to the Debian-style trust store under $1 (/ or the chroot).
trust_debian_style() {
    local sysroot=$1 run=("${@:2}")
    local dir="$sysroot/usr/local/share/ca-certificates"
    if [ ! -d "$dir" ] || ! "${run[@]}" sh -c 'command -v update-ca-certificates' >/dev/null; then
        echo "test-swift: no update-ca-certificates for $sysroot (install ca-certificates)" >&2
        return 1
    fi
    # A run that was killed may have left its CA behind: drop it with this refresh.
    rm -f "$dir"/authcore-pi-peer-*.crt
    trusted_ca="$dir/authcore-pi-peer-$$.crt"
    untrust=("${run[@]}" update-ca-certificates --fresh)
    cp "$AUTHCORE_PI_PEER_CA_PEM" "$trusted_ca"
    local log
    log=$("${run[@]}" update-ca-certificates --fresh 2>&1) || {
        echo "test-swift: update-ca-certificates failed: $log" >&2
        return 1
    }
    # What libcurl reads must now hold the CA (its base64 lines, in order).
    local bundle="$sysroot/etc/ssl/certs/ca-certificates.crt"
    if ! grep -qxF "$(sed -n 2p "$AUTHCORE_PI_PEER_CA_PEM")" "$bundle"; then
        echo "test-swift: the peer's CA did not reach $bundle" >&2
        return 1
    fi
}

if [ -z "$chroot_dir" ]; then
    # A native swift: macOS (the package links the XCFramework) or a Linux box with Swift.
    if [ "$(uname -s)" = Darwin ]; then
        [ -d ios/AuthCoreFFI.xcframework ] || bash scripts/build-xcframework.sh
        # URLSession trusts the system keychain's anchors; this needs admin rights (sudo -n,
        # as on CI runners). Not exercised on the Linux machines these tests usually run on.
        sudo -n security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain \
            "$AUTHCORE_PI_PEER_CA_PEM" || {
            echo "test-swift: cannot trust the pi peer's CA (needs passwordless sudo)" >&2
            exit 1
        }
        trusted_ca=$(mktemp)
        cp "$AUTHCORE_PI_PEER_CA_PEM" "$trusted_ca"
        sha1=$(openssl x509 -in "$trusted_ca" -noout -fingerprint -sha1 | sed 's/.*=//; s/://g')
        untrust=(sh -c "sudo -n security remove-trusted-cert -d '$trusted_ca';
            sudo -n security delete-certificate -Z $sha1 /Library/Keychains/System.keychain")
    else
        [ "$(id -u)" = 0 ] || { echo "test-swift: trusting the pi peer's CA on this host needs root" >&2; exit 1; }
        trust_debian_style / env
    fi
    stage "peer CA trusted"
    cd ios
    export AUTHCORE_FIXTURES="$fixtures"
    # shellcheck disable=SC2086 # swift_config is a list of words
    run_tests swift test --disable-swift-testing $swift_config "${selection[@]}" \
        -Xlinker -L"$lib_dir" -Xlinker -rpath -Xlinker "$lib_dir"
    stage "swift test passed"
    exit 0
fi

trust_debian_style "$chroot_dir" chroot "$chroot_dir"
stage "peer CA trusted in the chroot"

mount_in_chroot proc "$chroot_dir/proc" -t proc
mount_in_chroot "$root" "$chroot_dir/repo" --bind
# Host path -> the chroot's view of it.
to_chroot() {
    case "$1" in
        "$root") echo /repo ;;
        "$root"/*) echo "/repo/${1#"$root"/}" ;;
        "$target_dir"/*) echo "/target/${1#"$target_dir"/}" ;;
        *) echo "test-swift: $1 is outside what the chroot sees" >&2; return 1 ;;
    esac
}
case "$target_dir" in
    "$root"/*) ;;
    *) mount_in_chroot "$target_dir" "$chroot_dir/target" --bind ;;
esac
# The corpus, read-only: a bind mount takes its source's flags, so remount it ro (and check).
mount_in_chroot "$fixtures" "$chroot_dir/fixtures" --bind
mount -o remount,bind,ro "$chroot_dir/fixtures"
if touch "$chroot_dir/fixtures/.authcore-write-test" 2>/dev/null; then
    rm -f "$chroot_dir/fixtures/.authcore-write-test"
    echo "test-swift: $chroot_dir/fixtures is writable after remounting it read-only" >&2
    exit 1
fi
chroot_lib=$(to_chroot "$lib_dir")
chroot_peer=$(to_chroot "$AUTHCORE_PI_PEER")
run_tests chroot "$chroot_dir" env HOME=/root AUTHCORE_PI_PEER="$chroot_peer" AUTHCORE_FIXTURES=/fixtures bash -c \
    "cd /repo/ios && swift test --disable-swift-testing $swift_config $(printf '%q ' "${selection[@]}")-Xlinker -L$chroot_lib -Xlinker -rpath -Xlinker $chroot_lib"
stage "swift test passed"
