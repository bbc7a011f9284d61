# Sourced by tests/privacyidea/install.sh and tests/edumfa/install.sh: installs one server of the
# privacyIDEA family into a cached venv and prints the venv's path on its last line. Idempotent: a
# complete venv (marker file present) is reused; a half-built one (no marker: an interrupted run)
# is deleted and built again.
#
# The venv is keyed by a hash of the constraints file, so changing a pin builds a fresh venv next
# to the old one instead of mutating it. Needs only python3 with venv/ensurepip
# (scripts/install-deps.sh installs them) and PyPI.
#
# The sourcing script sets:
#   name          the server's folder under tests/ ("privacyidea"), for messages and the lock
#   label         what the messages call it ("privacyIDEA 3.14")
#   requirement   what pip installs ("privacyidea==3.14")
#   venv_name     the cache directory's name before the hash ("privacyidea-3.14")
#   import_name   the Python package that must import afterwards
#   commands      the venv's bin/ programs that must exist afterwards (the first one marks a
#                 complete venv)
#   constraints   the pins file
#   cold          what a cold install costs, for the message ("about 25 s and 515 MB")
#   pip_options   extra pip install options (array, may be empty)
# and the environment may set:
#   AUTHCORE_CACHE   cache root (default ~/.cache/authcore)
#   PYTHON           interpreter to build the venv from (default python3)
python=${PYTHON:-python3}
cache=${AUTHCORE_CACHE:-$HOME/.cache/authcore}

die() { echo "$name/install.sh: $*" >&2; exit 1; }
command -v "$python" >/dev/null || die "$python not found: install python3 (scripts/install-deps.sh)"
"$python" -c 'import venv, ensurepip' 2>/dev/null ||
    die "$python has no venv/ensurepip: apt-get install python3-venv (scripts/install-deps.sh)"
[[ -f $constraints ]] || die "missing $constraints"

hash=$(sha256sum "$constraints" | cut -c1-12)
venv="$cache/$venv_name-$hash"
marker="$venv/.authcore-complete"
main_command="$venv/bin/${commands[0]}"

if [[ -f $marker && -x $main_command ]]; then
    echo "$label venv is cached" >&2
    echo "$venv"
    exit 0
fi

mkdir -p "$cache"
# One installer per server at a time (scripts/test.sh and a test binary may both get here).
exec 9>"$cache/.$name-install.lock"
flock 9
if [[ -f $marker && -x $main_command ]]; then
    echo "$label venv was installed meanwhile" >&2
    echo "$venv"
    exit 0
fi

started=$(date +%s)
echo "installing $label into $venv (cold: $cold from PyPI)" >&2
rm -rf "$venv"
"$python" -m venv "$venv"
# pip's output goes to stderr so stdout stays the venv path alone. pip itself is pinned like
# everything else the server runs on (the version the cached venvs were built and tested with).
"$venv/bin/python" -m pip install -q "pip==26.3" >&2
"$venv/bin/python" -m pip install -q "${pip_options[@]}" "$requirement" -c "$constraints" >&2
"$venv/bin/python" -c "import $import_name" || die "$import_name does not import after install"
for command in "${commands[@]}"; do
    [[ -x $venv/bin/$command ]] || die "$command is missing from $venv/bin"
done
"$venv/bin/python" -m pip freeze >"$venv/.authcore-freeze.txt"
touch "$marker"
echo "$label installed in $(( $(date +%s) - started )) s" >&2
echo "$venv"
