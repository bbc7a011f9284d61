#!/usr/bin/env bash
# Makes the generated Swift `Authenticator` (UniFFI's object for the core's facade) internal to
# the AuthCore module, so an app sees only `AuthCoreClient`, the async API over it, and cannot
# make the blocking calls on Swift's cooperative pool. uniffi-bindgen 0.32.2 has no visibility
# setting. What names the type in a public signature is rewritten by its exact generated form:
# the protocol, the class (an internal class cannot be `open`, so its `open func` methods become
# `public func`, which Swift caps at the class's own visibility), the converter and its two
# functions. The script fails if a form is missing, so a generator upgrade is noticed here; the
# Swift compiler checks the rest ("cannot be declared public because its result uses an
# internal type").
#
#   bash scripts/swift-internal.sh FILE.swift...     (generated Swift files)
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: scripts/swift-internal.sh FILE.swift..." >&2; exit 2; }
for file in "$@"; do
    grep -q '^open class Authenticator: ' "$file" ||
        { echo "swift-internal: no generated Authenticator class in $file" >&2; exit 1; }
    counts=$(perl -ni -e '
        BEGIN { %n = () }
        if (/^open class Authenticator: /) { $in = 1; $n{class}++; s/^open class /class /; }
        elsif ($in && /^public struct FfiConverterTypeAuthenticator: /) { $in = 0; }
        elsif ($in && s/^open func /public func /) { $n{methods}++; }
        $n{protocol}++ if s/^public protocol AuthenticatorProtocol: /protocol AuthenticatorProtocol: /;
        $n{converter}++ if s/^public struct FfiConverterTypeAuthenticator: /struct FfiConverterTypeAuthenticator: /;
        $n{functions}++ if s/^public func FfiConverterTypeAuthenticator_(lift|lower)\(/func FfiConverterTypeAuthenticator_$1(/;
        print;
        END { printf STDERR "%s\n", join(" ", map { "$_=" . ($n{$_} // 0) } qw(class methods protocol converter functions)) }
    ' "$file" 2>&1 >/dev/null || true)
    # perl -i writes the file; its summary went to stderr, captured above.
    case $counts in
        "class=1 methods="[1-9]*" protocol=1 converter=1 functions=2") ;;
        *) echo "swift-internal: unexpected generated forms in $file: $counts" >&2; exit 1 ;;
    esac
done
