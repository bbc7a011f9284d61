#!/usr/bin/env bash
# Makes the generated Kotlin `Authenticator` (UniFFI's object for the core's facade) internal to
# the module that compiles it, so an app sees only `AuthCore`, the coroutine API over it, and
# cannot reach the raw blocking calls or open a second handle beside it. uniffi-bindgen 0.32.2
# has no visibility setting (mozilla/uniffi-rs#1425, #2030 discuss why its helpers are public:
# external types across crates, which this library does not use). Three declarations name the
# type in a public signature: the class, its interface and its converter; each is rewritten by
# its exact generated form, and the script fails if one is missing, so an upgrade that changes
# the generator is noticed here. The Kotlin compiler checks the rest: a public declaration that
# still names the type fails to compile ("exposes its internal type").
#
#   bash scripts/kotlin-internal.sh DIR...     (directories holding generated .kt files)
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/kotlin-internal.sh DIR..." >&2; exit 2; }
patterns=(
    's/^open class Authenticator: /internal open class Authenticator: /'
    's/^public interface AuthenticatorInterface \{/internal interface AuthenticatorInterface {/'
    's/^public object FfiConverterTypeAuthenticator: /internal object FfiConverterTypeAuthenticator: /'
)
for dir in "$@"; do
    file=$(grep -rl --include='*.kt' '^open class Authenticator: ' "$dir" || true)
    [ -n "$file" ] || { echo "kotlin-internal: no generated Authenticator class under $dir" >&2; exit 1; }
    for pattern in "${patterns[@]}"; do
        before=$(md5sum <"$file")
        perl -pi -e "$pattern" "$file"
        [ "$(md5sum <"$file")" != "$before" ] || {
            echo "kotlin-internal: '$pattern' matched nothing in $file (did the generator change?)" >&2
            exit 1
        }
    done
done
