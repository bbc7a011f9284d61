#!/usr/bin/env bash
# The Android library's Kotlin, compiled and tested on this machine's JVM against the host
# library (Maven: kotlin-maven-plugin, JUnit 5 under Surefire). Fails if Java or Maven is missing.
# The push tests talk to the push-server stand-in (scripts/push-stand-in.sh), started here.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if ! command -v mvn >/dev/null || ! command -v java >/dev/null; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq maven default-jdk-headless
fi
# Always regenerate: bindings made from an older build would test stale code.
bash scripts/gen-bindings.sh
# shellcheck source=scripts/push-stand-in.sh
source scripts/push-stand-in.sh
start_push_stand_in
trap stop_push_stand_in EXIT
mvn -B -ntp -f android/jvm/pom.xml test \
    -Dauthcore.generated.dir="$root/target/bindings/kotlin-jvm" \
    -Dauthcore.lib.dir="$root/target/${AUTHCORE_PROFILE:-debug}" \
    {PUSH_STAND_IN_FD}>&-
