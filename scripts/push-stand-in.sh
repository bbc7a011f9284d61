# Sourced by scripts/test-kotlin.sh and scripts/test-swift.sh (needs $root): starts the push-server
# stand-in of the FFI tests (tests/src/bin/push_stand_in.rs; not privacyIDEA, which the Rust
# interop tests use) on a free port of 127.0.0.1 and exports AUTHCORE_PUSH_STAND_IN, the JSON file
# describing it (enrollment URI, signed notification payloads).
#
# The stand-in reads its stdin until EOF and then exits. Its stdin is a pipe whose only writer is
# this shell (fd $PUSH_STAND_IN_FD), so it ends when the test script ends, however that happens.
# Run long-lived children with `{PUSH_STAND_IN_FD}>&-` so they do not hold the pipe open.
start_push_stand_in() {
    local dir="$root/target/push-stand-in"
    mkdir -p "$dir"
    PUSH_STAND_IN_JSON="$dir/stand-in-$$.json"
    PUSH_STAND_IN_LOG="$dir/stand-in-$$.log"
    rm -f "$PUSH_STAND_IN_JSON"
    cargo build -q -p authcore-tests --bin push_stand_in
    exec {PUSH_STAND_IN_FD}> >(exec "$root/target/debug/push_stand_in" "$PUSH_STAND_IN_JSON" 2>"$PUSH_STAND_IN_LOG")
    local i
    for i in $(seq 1 300); do
        [ -s "$PUSH_STAND_IN_JSON" ] && break
        sleep 0.1
    done
    if [ ! -s "$PUSH_STAND_IN_JSON" ]; then
        echo "the push stand-in did not start; its log:" >&2
        cat "$PUSH_STAND_IN_LOG" >&2 || true
        return 1
    fi
    export AUTHCORE_PUSH_STAND_IN="$PUSH_STAND_IN_JSON"
    echo "push stand-in: $PUSH_STAND_IN_JSON (log: $PUSH_STAND_IN_LOG)"
}

# Closes the stand-in's stdin (it exits) and removes its description file.
stop_push_stand_in() {
    if [ -n "${PUSH_STAND_IN_FD:-}" ]; then
        exec {PUSH_STAND_IN_FD}>&-
        PUSH_STAND_IN_FD=
    fi
    rm -f "${PUSH_STAND_IN_JSON:-}"
}
