#!/usr/bin/env bash
# Installs privacyIDEA 3.14 (the real push/OTP server of the interop tests) into a cached venv and
# prints the venv's path on its last line; the steps are tests/servers/install-venv.sh, shared with
# eduMFA. The venv is keyed by a hash of constraints.txt.
#
#   AUTHCORE_CACHE   cache root (default ~/.cache/authcore)
#   PYTHON           interpreter to build the venv from (default python3)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=privacyidea
label="privacyIDEA 3.14"
requirement="privacyidea==3.14"
venv_name="privacyidea-3.14"
import_name=privacyidea
commands=(pi-manage privacyidea-create-pwidresolver-user)
constraints="$here/constraints.txt"
cold="about 25 s and 515 MB"
pip_options=()
source "$here/../servers/install-venv.sh"
