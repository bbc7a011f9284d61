# Sourced by the Kotlin and Swift test scripts (needs $root): starts the privacyIDEA peer of the
# FFI push tests (tests/src/bin/pi_peer.rs: a real privacyIDEA 3.14 behind a trusted and an
# untrusted HTTPS front, driven through a control API on 127.0.0.1) and exports
#   AUTHCORE_PI_PEER          the JSON file describing it (control URL, push URLs, CA paths)
#   AUTHCORE_PI_PEER_CA_PEM   the trusted front's CA, PEM (for a CA bundle)
#   AUTHCORE_PI_PEER_CA_DER   the same CA, DER (for keytool -importcert)
# All three live under $root/target/pi-peer, so a chroot that mounts $root sees them.
#
# privacyIDEA's venv is installed on first use (tests/privacyidea/install.sh, about 25 s cold);
# AUTHCORE_PRIVACYIDEA_VENV names an existing one instead. Start-up takes about 5-10 s warm.
#
# The peer reads its stdin until EOF and then stops privacyIDEA and its fronts. Its stdin is a
# pipe whose only writer is this shell (fd $PI_PEER_FD), so it ends when the test script ends,
# however that happens. Run long-lived children with `{PI_PEER_FD}>&-` so they do not hold the
# pipe open.
start_pi_peer() {
    . "$root/scripts/cargo-paths.sh"
    local dir="$target_dir/pi-peer"
    mkdir -p "$dir"
    PI_PEER_JSON="$dir/pi-peer-$$.json"
    PI_PEER_LOG="$dir/pi-peer-$$.log"
    rm -f "$PI_PEER_JSON"
    if [ -z "${AUTHCORE_PRIVACYIDEA_VENV:-}" ]; then
        # Here rather than inside the peer: a cold install shows its progress on the terminal.
        local venv
        venv=$(bash "$root/tests/privacyidea/install.sh" | tail -n1) || {
            echo "installing privacyIDEA for the pi peer failed" >&2
            return 1
        }
        export AUTHCORE_PRIVACYIDEA_VENV="$venv"
    fi
    cargo build -q -p authcore-tests --bin pi_peer
    local bin="$target_dir/debug/pi_peer"
    exec {PI_PEER_FD}> >(exec "$bin" "$PI_PEER_JSON" 2>"$PI_PEER_LOG")
    PI_PEER_PID=$!
    local i
    for i in $(seq 1 1800); do
        [ -s "$PI_PEER_JSON" ] && break
        kill -0 "$PI_PEER_PID" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -s "$PI_PEER_JSON" ]; then
        echo "the pi peer did not start; its log:" >&2
        cat "$PI_PEER_LOG" >&2 || true
        stop_pi_peer
        return 1
    fi
    export AUTHCORE_PI_PEER="$PI_PEER_JSON"
    export AUTHCORE_PI_PEER_CA_PEM="$dir/pi-peer-$$-trusted-ca.pem"
    export AUTHCORE_PI_PEER_CA_DER="$dir/pi-peer-$$-trusted-ca.der"
    echo "pi peer: $PI_PEER_JSON (log: $PI_PEER_LOG)"
}

# Closes the peer's stdin, waits (up to 30 s) until it has stopped privacyIDEA and exited, and
# removes its description file (the peer removes it too, and the CA files).
stop_pi_peer() {
    if [ -n "${PI_PEER_FD:-}" ]; then
        exec {PI_PEER_FD}>&-
        PI_PEER_FD=
    fi
    if [ -n "${PI_PEER_PID:-}" ]; then
        local i
        for i in $(seq 1 300); do
            kill -0 "$PI_PEER_PID" 2>/dev/null || break
            sleep 0.1
        done
        PI_PEER_PID=
    fi
    rm -f "${PI_PEER_JSON:-}"
}
