#!/usr/bin/env bash
# The Swift package's tests (XCTest) against the host library. Uses `swift` from PATH when there
# is one, else Debian trixie's Swift 6.0.3 in a cached chroot (scripts/swift-toolchain.sh), with
# the repository bind-mounted; everything mounted is unmounted on exit. The push tests talk to
# the push-server stand-in (scripts/push-stand-in.sh), started here; the chroot shares
# 127.0.0.1 with the host and sees its description file under /repo.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
profile=${AUTHCORE_PROFILE:-debug}
# Always regenerate: bindings made from an older build would test stale code.
bash scripts/gen-bindings.sh
mkdir -p ios/Sources/AuthCore/Generated
cp target/bindings/swift/AuthCore.swift ios/Sources/AuthCore/Generated/AuthCore.swift
cp target/bindings/swift/AuthCoreFFI.h ios/Sources/AuthCoreFFI/AuthCoreFFI.h

chroot_dir=$(bash scripts/swift-toolchain.sh)
# shellcheck source=scripts/push-stand-in.sh
source scripts/push-stand-in.sh
start_push_stand_in
if [ -z "$chroot_dir" ]; then
    # On macOS the package links the XCFramework, which must be built first.
    if [ "$(uname)" = Darwin ] && [ ! -d ios/AuthCoreFFI.xcframework ]; then
        bash scripts/build-xcframework.sh
    fi
    lib="$root/target/$profile"
    trap stop_push_stand_in EXIT
    cd ios
    swift test --disable-swift-testing -Xlinker -L"$lib" -Xlinker -rpath -Xlinker "$lib" {PUSH_STAND_IN_FD}>&-
    exit
fi

mnt="$chroot_dir/repo"
cleanup() {
    stop_push_stand_in
    umount "$mnt" 2>/dev/null || true
    umount "$chroot_dir/proc" 2>/dev/null || true
}
trap cleanup EXIT
mkdir -p "$mnt"
mountpoint -q "$chroot_dir/proc" || mount -t proc proc "$chroot_dir/proc"
mountpoint -q "$mnt" || mount --bind "$root" "$mnt"
lib="/repo/target/$profile"
stand_in_json="/repo/${AUTHCORE_PUSH_STAND_IN#"$root"/}"
chroot "$chroot_dir" env HOME=/root AUTHCORE_PUSH_STAND_IN="$stand_in_json" bash -c \
    "cd /repo/ios && swift test --disable-swift-testing -Xlinker -L$lib -Xlinker -rpath -Xlinker $lib" \
    {PUSH_STAND_IN_FD}>&-
