#!/usr/bin/env bash
# Installs privacyIDEA 3.14 (the real push/OTP server of the interop tests) into a cached venv and
# prints the venv's path on its last line. Idempotent: a complete venv (marker file present) is
# reused; a half-built one (no marker: an interrupted run) is deleted and built again.
#
# The venv is keyed by a hash of constraints.txt, so changing a pin builds a fresh venv next to
# the old one instead of mutating it. Needs only python3 with venv/ensurepip (scripts/install-deps.sh
# installs them) and PyPI.
#
#   AUTHCORE_CACHE   cache root (default ~/.cache/authcore)
#   PYTHON           interpreter to build the venv from (default python3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
constraints="$here/constraints.txt"
python=${PYTHON:-python3}
cache=${AUTHCORE_CACHE:-$HOME/.cache/authcore}

die() { echo "privacyidea/install.sh: $*" >&2; exit 1; }
command -v "$python" >/dev/null || die "$python not found: install python3 (scripts/install-deps.sh)"
"$python" -c 'import venv, ensurepip' 2>/dev/null ||
    die "$python has no venv/ensurepip: apt-get install python3-venv (scripts/install-deps.sh)"
[[ -f $constraints ]] || die "missing $constraints"

hash=$(sha256sum "$constraints" | cut -c1-12)
venv="$cache/privacyidea-3.14-$hash"
marker="$venv/.authcore-complete"

if [[ -f $marker && -x $venv/bin/pi-manage ]]; then
    echo "privacyIDEA 3.14 venv is cached" >&2
    echo "$venv"
    exit 0
fi

mkdir -p "$cache"
# One installer at a time (scripts/test.sh and a test binary may both get here).
exec 9>"$cache/.privacyidea-install.lock"
flock 9
if [[ -f $marker && -x $venv/bin/pi-manage ]]; then
    echo "privacyIDEA 3.14 venv was installed meanwhile" >&2
    echo "$venv"
    exit 0
fi

started=$(date +%s)
echo "installing privacyIDEA 3.14 into $venv (cold: about 25 s and 515 MB from PyPI)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
# pip's output goes to stderr so stdout stays the venv path alone. pip itself is pinned like
# everything else the server runs on (the version the cached venvs were built and tested with).
"$venv/bin/python" -m pip install -q "pip==26.3" >&2
"$venv/bin/python" -m pip install -q "privacyidea==3.14" -c "$constraints" >&2
"$venv/bin/python" -c 'import privacyidea' || die "privacyidea does not import after install"
[[ -x $venv/bin/pi-manage ]] || die "pi-manage is missing from $venv/bin"
[[ -x $venv/bin/privacyidea-create-pwidresolver-user ]] ||
    die "privacyidea-create-pwidresolver-user is missing from $venv/bin"
"$venv/bin/python" -m pip freeze >"$venv/.authcore-freeze.txt"
touch "$marker"
echo "privacyIDEA 3.14 installed in $(( $(date +%s) - started )) s" >&2
echo "$venv"
