#!/usr/bin/env bash
# Installs what the tests need on Debian 12 and says what it found. Idempotent.
set -euo pipefail
need_apt=()
command -v cargo >/dev/null || { echo "cargo is missing: install Rust (rustup) first" >&2; exit 1; }
rustup component list --installed 2>/dev/null | grep -q '^rustfmt' || rustup component add rustfmt
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy
command -v cc >/dev/null || need_apt+=(build-essential)
command -v python3 >/dev/null || need_apt+=(python3)
# The interop servers (tests/privacyidea/install.sh, tests/edumfa/install.sh) need only python3 with
# venv: they install binary wheels from PyPI (eduMFA refuses anything else), so no compiler or
# -dev packages for them.
python3 -c 'import venv, ensurepip' 2>/dev/null || need_apt+=(python3-venv)
if ((${#need_apt[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need_apt[@]}"
fi
# The export tests' independent readers (cli/tests/export_cli.rs): the Aegis reader
# tests/independent/aegis_read.py needs Python's `cryptography`, and zbarimg decodes the QR codes
# with a decoder that is not ours. Without recommends: zbar-tools would pull in ImageMagick.
need_test_apt=()
python3 -c 'import cryptography' 2>/dev/null || need_test_apt+=(python3-cryptography)
command -v zbarimg >/dev/null || need_test_apt+=(zbar-tools)
if ((${#need_test_apt[@]})); then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_test_apt[@]}"
fi
# A python3 that is not Debian's (pyenv, a venv) does not see python3-cryptography: a pinned
# release then (44.0.3: wheels for every CPython from 3.7).
python3 -c 'import cryptography' 2>/dev/null || python3 -m pip install -q cryptography==44.0.3
python3 -c 'import cryptography' || { echo "python3 cannot import cryptography" >&2; exit 1; }
command -v zbarimg >/dev/null || { echo "zbarimg is missing" >&2; exit 1; }
cargo --version
