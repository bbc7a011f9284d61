#!/usr/bin/env bash
# Provides a Swift toolchain for the Swift package's tests. Uses `swift` from PATH when there is
# one (macOS, a Linux box with Swift); otherwise builds (once, cached) a Debian trixie chroot with
# Debian's swiftlang 6.0.3, because Debian 12 packages no Swift compiler. Prints the chroot path,
# or nothing when a native swift is used. Fails loudly if neither can be had.
#
# The chroot also gets `ca-certificates`: FoundationNetworking on Linux is libcurl (OpenSSL),
# which Debian builds to trust /etc/ssl/certs/ca-certificates.crt, and scripts/test-swift.sh adds
# the push tests' CA there with update-ca-certificates. A chroot cached before that is topped up.
#
# Never removes a chroot that has anything mounted inside it (a bind-mounted repository would be
# deleted with it): stale mounts are unmounted first, and if one stays the script fails.
set -euo pipefail
cache=${AUTHCORE_CACHE:-$HOME/.cache/authcore}
root="$cache/swift-trixie"
marker="$root/.authcore-ready"
packages=(swiftlang libc6-dev libstdc++-14-dev ca-certificates)

if command -v swift >/dev/null 2>&1; then
    exit 0
fi

# Mount points at or below $1, deepest first.
mounts_under() {
    local dir
    dir=$(realpath -m "$1")
    awk -v d="$dir" '{ gsub(/\\040/, " ", $5); if ($5 == d || index($5, d "/") == 1) print $5 }' \
        /proc/self/mountinfo | sort -r
}

# Unmounts everything below $1; fails if something stays mounted. Several passes: a mount can
# hide another one below it until it is gone.
unmount_all_under() {
    local m pass
    for pass in 1 2 3 4 5; do
        [ -n "$(mounts_under "$1")" ] || return 0
        while IFS= read -r m; do
            [ -n "$m" ] || continue
            umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
        done < <(mounts_under "$1")
    done
    if [ -n "$(mounts_under "$1")" ]; then
        echo "still mounted under $1, refusing to touch it:" >&2
        mounts_under "$1" >&2
        return 1
    fi
}

# Runs "$@" on the host with the chroot's /proc mounted: apt needs it, and so does every Swift
# binary, whose RUNPATH ($ORIGIN/../lib/swift/linux) glibc resolves through /proc/self/exe (without
# /proc, `swift` cannot find libswiftCore.so). Mounts it only if nobody else has, and unmounts
# only what was mounted here.
with_proc() {
    local mounted=
    if ! mountpoint -q "$root/proc"; then
        mount -t proc proc "$root/proc"
        mounted=1
    fi
    local status=0
    "$@" || status=$?
    [ -z "$mounted" ] || umount "$root/proc" || umount -l "$root/proc" || true
    return "$status"
}

apt_in_chroot() {
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    chroot "$root" apt-get update -qq >&2 &&
        chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            "$@" >&2
}

in_chroot_apt() { with_proc apt_in_chroot "$@"; }

if [ -f "$marker" ]; then
    if [ ! -x "$root/usr/sbin/update-ca-certificates" ]; then
        [ "$(id -u)" = 0 ] || { echo "the Swift chroot lacks ca-certificates and adding it needs root" >&2; exit 1; }
        echo "adding ca-certificates to the Swift chroot $root" >&2
        in_chroot_apt ca-certificates
    fi
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
if [ -e "$root" ]; then
    # A half-built chroot from an interrupted run: it may still have /proc or a repository
    # mounted. --one-file-system is a second guard should a mount appear in between.
    unmount_all_under "$root"
    rm -rf --one-file-system "$root"
fi
echo "building the Swift chroot in $root (once; about 3 GB)" >&2
debootstrap --variant=minbase trixie "$root" "${AUTHCORE_DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
in_chroot_apt "${packages[@]}"
with_proc chroot "$root" swift --version >&2
touch "$marker"
echo "$root"
