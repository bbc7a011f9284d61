#!/usr/bin/env bash
# Installs eduMFA 2.9.5 (the privacyIDEA fork whose `edupush` token is the second push server of
# the interop tests) into a cached venv and prints the venv's path on its last line; the steps are
# tests/servers/install-venv.sh, shared with privacyIDEA. The venv is keyed by a hash of
# constraints.txt.
#
# Binary wheels only: every pin has a manylinux wheel for CPython 3.11 (Debian 12's python3), so a fresh Debian 12
# needs no compiler or -dev packages, and a pin that loses its wheel fails here, by name, instead
# of starting a build.
#
#   AUTHCORE_CACHE   cache root (default ~/.cache/authcore)
#   PYTHON           interpreter to build the venv from (default python3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=edumfa
label="eduMFA 2.9.5"
requirement="edumfa==2.9.5"
venv_name="edumfa-2.9.5"
import_name=edumfa
commands=(edumfa-manage edumfa-create-pwidresolver-user)
constraints="$here/constraints.txt"
cold="about 30 to 50 s and 220 MB"
pip_options=(--only-binary=:all:)
source "$here/../servers/install-venv.sh"
