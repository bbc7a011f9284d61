#!/usr/bin/env bash
# Repairs two places where uniffi-bindgen 0.32.2's Kotlin generator ignores
# `[bindings.kotlin.rename]` (android/uniffi-kotlin.toml) for error types, so the generated file
# compiles with the renames:
# - constructors that throw a renamed error name it by its old name
#   (`@Throws(AuthCoreException::class)`, `uniffiRustCallWithError(AuthCoreException)`): the
#   renamer does not visit a constructor's error type;
# - an error's exported `Display` (`toString()`) lowers `this` with the converter of its old
#   name (`FfiConverterTypeAuthCoreError`).
# Only those exact code patterns are rewritten, to the renamed names; the Kotlin compiler checks
# the result. Drop this script when uniffi is upgraded past the bug (it is pinned exactly).
#
#   bash scripts/kotlin-rename-fixups.sh DIR...     (directories holding generated .kt files)
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/kotlin-rename-fixups.sh DIR..." >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
config="$root/android/uniffi-kotlin.toml"
# The renamed errors: `Name = "NewName"` lines whose Rust name ends in Error.
mapfile -t pairs < <(sed -n 's/^\([A-Za-z]*Error\) = "\([A-Za-z]*\)"$/\1 \2/p' "$config")
[ ${#pairs[@]} -gt 0 ] || { echo "kotlin-rename-fixups: no renamed errors in $config" >&2; exit 1; }
find "$@" -name '*.kt' -print0 | while IFS= read -r -d '' file; do
    for pair in "${pairs[@]}"; do
        read -r old new <<<"$pair"
        old_class="${old%Error}Exception"
        new_class="${new%Error}Exception"
        perl -pi -e "s/\@Throws\(\Q$old_class\E::class\)/\@Throws($new_class::class)/g;
                     s/uniffiRustCallWithError\(\Q$old_class\E\)/uniffiRustCallWithError($new_class)/g;
                     s/\bFfiConverterType\Q$old\E\.lower\(/FfiConverterType$new.lower(/g" "$file"
    done
done
