#!/usr/bin/env bash
# The Android library's Kotlin, compiled and tested here without an Android SDK (Maven,
# kotlin-maven-plugin, Surefire). Fails if Java or Maven is missing and cannot be installed.
#  1. android/jvm: the platform-neutral Kotlin (AuthCore, HttpUrlConnectionTransport) and its
#     JUnit 5 tests on this machine's JVM, with the JVM flavour of the bindings.
#  2. android/android-api: the same sources plus src/androidMain (Keystore key stores,
#     AndroidAuthCore) and the Android flavour of the bindings, compiled against the Android 15
#     framework, API 35 (org.robolectric:android-all from Maven Central), and its tests under
#     Robolectric.
#
# The push tests talk to a real privacyIDEA 3.14 behind HTTPS fronts: the pi peer
# (scripts/pi-peer.sh, tests/src/bin/pi_peer.rs), started here. The test JVMs get a trust store
# (PKCS12 under <target dir>/kotlin-test/) holding the JDK's default CA certificates plus the peer's
# trusted CA, so the trusted front is accepted only because the runtime trusts its CA, and the
# untrusted front, whose CA is nowhere, is refused.
#
# The import tests read other apps' real export files from the shared corpus: AUTHCORE_FIXTURES
# (default <repo>/../shared/fixtures, as scripts/test.sh sets it), handed to the test JVM as the
# system property authcore.fixtures. A missing corpus fails here, before anything is built.
#
# AUTHCORE_KOTLIN_TEST_FILTER: passed to Surefire as -Dtest for android/jvm (e.g. BackupTest), for a
# quick run while working; CI leaves it unset and runs everything but the tests tagged
# "benchmark" (timing loops), which run only when a filter names them (scripts/bench.sh).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
profile=${AUTHCORE_PROFILE:-debug}
started=$(date +%s)
stage() { echo "test-kotlin: $* (+$(($(date +%s) - started)) s)"; }

fixtures=${AUTHCORE_FIXTURES:-$root/../shared/fixtures}
[ -d "$fixtures" ] || {
    echo "test-kotlin: no fixture corpus at $fixtures (set AUTHCORE_FIXTURES to shared/fixtures)" >&2
    exit 1
}
fixtures=$(cd "$fixtures" && pwd)

if ! command -v mvn >/dev/null || ! command -v java >/dev/null || ! command -v keytool >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq maven default-jdk-headless
fi
# Maven, its test JVMs and keytool all from the JDK of the `java` on PATH.
java_home=$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p')
[ -d "$java_home" ] || { echo "test-kotlin: cannot tell java.home of $(command -v java)" >&2; exit 1; }
export JAVA_HOME="$java_home"
keytool="$java_home/bin/keytool"
[ -x "$keytool" ] || keytool=$(command -v keytool)

# Wherever cargo puts its output (CARGO_TARGET_DIR, .cargo/config.toml), not a guess.
source scripts/cargo-paths.sh
[ -d "$target_dir" ] || { echo "test-kotlin: cargo's target directory $target_dir does not exist" >&2; exit 1; }

# Always regenerate: bindings made from an older build would test stale code. The bindings and
# the library are then copied to a directory of this run, so a concurrent build or generation
# (another script, a teammate) cannot swap them out from under the tests.
gen_out=$(bash scripts/gen-bindings.sh)
echo "$gen_out"
bindings=$(printf '%s\n' "$gen_out" | sed -n 's/^bindings for .* in \(.*\)$/\1/p' | tail -n1)
lib=$(printf '%s\n' "$gen_out" | sed -n 's/^bindings for \(.*\) in .*$/\1/p' | tail -n1)
[ -n "$bindings" ] || bindings="$target_dir/bindings"
[ -n "$lib" ] || lib="$target_dir/$profile/libauthcore_ffi.$lib_ext"
[ -f "$lib" ] || { echo "test-kotlin: $lib is missing after scripts/gen-bindings.sh" >&2; exit 1; }
work="$target_dir/kotlin-test"
rm -rf "$work"
mkdir -p "$work/lib"
for d in kotlin-jvm kotlin-android; do
    [ -d "$bindings/$d" ] || { echo "test-kotlin: $bindings/$d is missing after scripts/gen-bindings.sh" >&2; exit 1; }
    cp -r "$bindings/$d" "$work/$d"
done
cp "$lib" "$work/lib/"
stage "bindings generated"

# shellcheck source=scripts/pi-peer.sh
source scripts/pi-peer.sh
trap stop_pi_peer EXIT
start_pi_peer
stage "pi peer started"

# The trust store: the JDK's own CA certificates, then the peer's trusted CA.
truststore="$work/truststore.p12"
storepass="authcore-test" # a test trust store of public certificates: nothing to keep secret
"$keytool" -importkeystore -noprompt \
    -srckeystore "$java_home/lib/security/cacerts" -srcstorepass changeit \
    -destkeystore "$truststore" -deststoretype PKCS12 -deststorepass "$storepass" >/dev/null 2>&1 || {
    echo "test-kotlin: copying $java_home/lib/security/cacerts into $truststore failed" >&2
    exit 1
}
"$keytool" -importcert -noprompt -alias authcore-pi-peer-trusted -file "$AUTHCORE_PI_PEER_CA_DER" \
    -keystore "$truststore" -storetype PKCS12 -storepass "$storepass" >/dev/null
count=$("$keytool" -list -keystore "$truststore" -storetype PKCS12 -storepass "$storepass" | grep -c trustedCertEntry || true)
stage "trust store $truststore: $count certificates (the JDK's and the pi peer's trusted CA)"

common=(
    -Dauthcore.lib.dir="$work/lib"
    -Dauthcore.trustStore="$truststore"
    -Dauthcore.trustStorePassword="$storepass"
)
status=0
mvn -B -ntp -f android/jvm/pom.xml clean test -Dauthcore.generated.dir="$work/kotlin-jvm" "${common[@]}" \
    -Dauthcore.fixtures="$fixtures" \
    ${AUTHCORE_KOTLIN_TEST_FILTER:+-Dtest=$AUTHCORE_KOTLIN_TEST_FILTER -Dsurefire.failIfNoSpecifiedTests=false -Dauthcore.excludedGroups=none} \
    {PI_PEER_FD}>&- || status=$?
stage "android/jvm done (exit $status)"
android_status=0
mvn -B -ntp -f android/android-api/pom.xml clean test -Dauthcore.generated.dir="$work/kotlin-android" "${common[@]}" \
    {PI_PEER_FD}>&- || android_status=$?
stage "android/android-api done (exit $android_status)"
[ "$status" -eq 0 ] && [ "$android_status" -eq 0 ]
