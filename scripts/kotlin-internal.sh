#!/usr/bin/env bash
# Makes the generated Kotlin `Authenticator` (UniFFI's object for the core's facade) internal to
# the module that compiles it, so an app sees only `AuthCore`, the coroutine API over it, and
# cannot reach the raw blocking calls or open a second handle beside it. uniffi-bindgen 0.32.2
# has no visibility setting (mozilla/uniffi-rs#1425, #2030 discuss why its helpers are public:
# external types across crates, which this library does not use). Each declaration is rewritten
# by its exact generated form, and the script fails if one is missing, so an upgrade that
# changes the generator is noticed here. The Kotlin compiler checks the rest: a public
# declaration that still names an internal type fails to compile ("exposes its internal type").
#
# What goes internal beside `Authenticator` (its class, interface and converter):
#  - every type the layer wraps: the FFI names them `Ffi*` (bindings/src) so that the layer's
#    own types keep the plain names (`Account`, `AuthCoreException`...), with their converters
#    and the two free functions that return or throw them (`previewUri`, `qrCodePng`). Apps
#    get the layer's versions, in Int/Long/Instant; these carry UInt and ULong;
#  - the code list's watch (`ListObserver`, `ListWatch`), which only `CodeList` uses.
# The foreign traits an app implements (`VaultKeyStore`, `DeviceKeyStore`, `HttpTransport`,
# `TimeSource`, `LogSink`) and the plain records and enums the layer passes through stay public.
#
#   bash scripts/kotlin-internal.sh DIR...     (directories holding generated .kt files)
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/kotlin-internal.sh DIR..." >&2; exit 2; }
patterns=(
    's/^open class Authenticator: /internal open class Authenticator: /'
    's/^public interface AuthenticatorInterface \{/internal interface AuthenticatorInterface {/'
    's/^public object FfiConverterTypeAuthenticator: /internal object FfiConverterTypeAuthenticator: /'
    's/^data class (Ffi[A-Z]\w*) \(/internal data class $1 (/'
    's/^sealed class (Ffi[A-Z]\w*Exception): /internal sealed class $1: /'
    's/^public interface (Ffi[A-Z]\w*Interface) \{/internal interface $1 {/'
    's/^open class (Ffi[A-Z]\w*): /internal open class $1: /'
    's/^public object (FfiConverter\w*Type(?:Ffi[A-Z]|ListObserver|ListWatch)\w*)/internal object $1/'
    's/^public interface (ListObserver|ListWatchInterface) \{/internal interface $1 {/'
    's/^open class (ListObserverImpl|ListWatch): /internal open class $1: /'
    's/^(    \@Throws\(FfiAuthCoreException::class\)) fun `(previewUri|qrCodePng)`/$1 internal fun `$2`/'
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
