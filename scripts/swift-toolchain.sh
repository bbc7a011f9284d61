#!/usr/bin/env bash
# Provides a Swift toolchain for the Swift package's tests. Uses `swift` from PATH when there is
# one (macOS, a Linux box with Swift); otherwise builds (once, cached) a Debian trixie chroot with
# Debian's swiftlang 6.0.3, because Debian 12 packages no Swift compiler. Prints the chroot path,
# or nothing when a native swift is used. Fails loudly if neither can be had.
set -euo pipefail
cache=${AUTHCORE_CACHE:-$HOME/.cache/authcore}
root="$cache/swift-trixie"
marker="$root/.authcore-ready"

if command -v swift >/dev/null 2>&1; then
    exit 0
fi
if [ -f "$marker" ]; then
    echo "$root"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "swift is not installed and building the trixie chroot needs root" >&2
    exit 1
fi
mkdir -p "$cache"
export DEBIAN_FRONTEND=noninteractive
command -v debootstrap >/dev/null || { apt-get update -qq >&2; apt-get install -y -qq debootstrap >&2; }
rm -rf "$root"
echo "building the Swift chroot in $root (once; about 3 GB)" >&2
debootstrap --variant=minbase trixie "$root" "${AUTHCORE_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
cp /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
chroot "$root" apt-get update -qq >&2
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    swiftlang libc6-dev libstdc++-14-dev >&2
chroot "$root" swift --version >&2
touch "$marker"
echo "$root"
