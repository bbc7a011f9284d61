"""The table scripts/bench.sh prints: each row's time, its ratio to the row it is measured
against (in the same run), and its goal from the issue "Speed where a person feels it".

    python3 scripts/bench_table.py ROWS.tsv MODE CRATES.txt     # the table, as Markdown
    python3 scripts/bench_table.py --record DOC.md TABLE.md     # TABLE.md into DOC.md

ROWS.tsv: `name<TAB>value` lines, nanoseconds (bytes for the library/ rows). A row the
table needs and the run did not produce is an error: the bench must not rot silently.
"""

import datetime
import os
import platform
import sys

BEGIN = "<!-- bench.sh table: begin -->"
END = "<!-- bench.sh table: end -->"

# (name, what it is, measured against, goal on the ratio, goal on the value in ns)
ROWS = [
    ("One code (TOTP, SHA-1, 6 digits)", None, None, None, None),
    ("one_code/floor_two_sha1_compressions", "floor: two SHA-1 compressions (sha1's SHA-NI)", None, None, None),
    ("one_code/authcore_totp_sha1", "authcore `Generator::code_at`", "one_code/floor_two_sha1_compressions", 1.25, None),
    ("one_code/ring_hmac_sha1", "ring `hmac::sign` with a kept key, + truncation", "one_code/floor_two_sha1_compressions", None, None),
    ("one_code/totp_rs_generate", "totp-rs 6 `generate` (re-keys, allocates)", "one_code/floor_two_sha1_compressions", None, None),
    ("one_code/totp_lite", "totp-lite 2 `totp_custom` (re-keys, allocates)", "one_code/floor_two_sha1_compressions", None, None),
    ("one_code/pyotp_at", "pyotp 2.9 `TOTP.at` (CPython)", "one_code/floor_two_sha1_compressions", None, None),
    ("Code lists and big vaults", None, None, None, None),
    ("codes_with_next_1000_accounts", "generator: current + next code, 1,000 accounts", None, None, None),
    ("vault_1000/facade_codes", "facade `codes()`, 1,000 accounts", "codes_with_next_1000_accounts", 2.0, None),
    ("vault_10000/facade_codes", "facade `codes()`, 10,000 accounts", "vault_1000/facade_codes", 11.0, None),
    ("vault_1000/open_and_code", "open a 1,000-account vault + every code", None, None, None),
    ("vault_10000/open_and_code", "open a 10,000-account vault + every code", "vault_1000/open_and_code", 11.0, 30e6),
    ("The code list's per-second refresh, 100 accounts", None, None, None, None),
    ("refresh_100/core", "core's share (the facade call the FFI wraps)", None, None, None),
    ("kotlin_refresh_100", "Kotlin on the JVM (JNA), across the FFI", "refresh_100/core", 3.0, 50e3),
    ("swift_refresh_100", "Swift on Linux, across the FFI", "refresh_100/core", 3.0, 30e3),
    ("refresh_100/codes_core", "core's share of the full `codes()` (names too)", None, None, None),
    ("kotlin_codes_100", "Kotlin, full `codes()` (before the refresh API)", "refresh_100/codes_core", None, None),
    ("swift_codes_100", "Swift, full `codes()`", "refresh_100/codes_core", None, None),
    ("Push (RSA-4096 device and server keys)", None, None, None, None),
    ("push_enroll/with_ready_key", "enrollment client work with a key made ahead", None, None, 50e6),
    ("push_enroll/device_keygen_4096", "making the RSA-4096 key (what enrollment no longer waits for)", None, None, None),
    ("push/sign_poll_4096", "sign the poll", None, None, None),
    ("push/verify_challenge_4096", "verify a challenge", None, None, None),
    ("push/sign_answer_4096", "sign the answer", None, None, None),
    ("push/keep_and_mark_answered", "keep the request, record the answer", None, None, None),
    ("poll_to_approved_client", "poll to approved, client share (the four above)", "two_signatures", None, None),
    ("Library", None, None, None, None),
    ("library/stripped_bytes", "stripped `libauthcore_ffi`, as the phones ship it (profile `mobile`, no QR-image decoder)", None, None, 4_000_000),
    ("library/stripped_bytes_with_qr_images", "the same with the QR-image decoder and unwinding (release profile: desktop, `--with-qr-image-decoding`)", None, None, None),
]

SIZE_ROWS = ("library/stripped_bytes", "library/stripped_bytes_with_qr_images")


def fmt_time(ns):
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e3:
        return f"{ns / 1e3:.1f} µs"
    return f"{ns:.1f} ns"


def table(rows_path, mode, crates_path):
    values = {}
    with open(rows_path) as f:
        for line in f:
            name, _, value = line.rstrip("\n").partition("\t")
            if value:
                values[name] = float(value)
    optional = ["poll_to_approved_client"]
    if mode == "quick":
        optional.append("push_enroll/device_keygen_4096")  # not run in quick mode
        values.setdefault("push_enroll/device_keygen_4096", float("nan"))
    missing = [r[0] for r in ROWS if r[1] is not None and r[0] not in values
               and r[0] not in optional]
    if missing:
        sys.exit("bench: rows missing from this run: " + ", ".join(missing))
    # Derived: the poll-to-approved client share and its two signatures.
    push = ["push/sign_poll_4096", "push/verify_challenge_4096", "push/sign_answer_4096",
            "push/keep_and_mark_answered"]
    values["poll_to_approved_client"] = sum(values[p] for p in push)
    values["two_signatures"] = values["push/sign_poll_4096"] + values["push/sign_answer_4096"]

    out = []
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    cpu = platform.processor() or platform.machine()
    out.append(f"scripts/bench.sh, {mode} run, {when}, {os.cpu_count()} cores ({cpu}).")
    if mode == "quick":
        out.append("QUICK MODE: debug libraries, a tenth of a second per benchmark; these numbers "
                   "are not measurements.")
    out.append("")
    out.append("| row | what | value | ratio | goal | met |")
    out.append("|---|---|---|---|---|---|")
    for name, what, against, ratio_goal, value_goal in ROWS:
        if what is None:
            out.append(f"| **{name}** | | | | | |")
            continue
        v = values[name]
        if v != v:  # NaN: a row quick mode leaves out
            out.append(f"| `{name}` | {what} | not run in quick mode | | | |")
            continue
        shown = f"{int(v):,} bytes" if name in SIZE_ROWS else fmt_time(v)
        ratio = ""
        if against:
            ratio = f"{v / values[against]:.2f}x"
            if against == "two_signatures":
                ratio = f"2 signatures + {fmt_time(v - values[against])}"
        goals, met = [], []
        if ratio_goal is not None:
            goals.append(f"≤ {ratio_goal:g}x")
            met.append(v / values[against] <= ratio_goal)
        if value_goal is not None:
            goals.append(f"≤ {value_goal:,.0f} bytes" if name in SIZE_ROWS
                         else f"≤ {fmt_time(value_goal)}")
            met.append(v <= value_goal)
        if name == "poll_to_approved_client":
            goals.append("≤ 2 signatures + 1 ms")
            met.append(v - values["two_signatures"] <= 1e6)
        verdict = "" if not met else ("yes" if all(met) else "**no**")
        out.append(f"| `{name}` | {what} | {shown} | {ratio} | {' and '.join(goals)} | {verdict} |")
    out.append("")
    out.append("Size by crate (cargo-bloat, `.text` of the unstripped library):")
    out.append("")
    out.append("```")
    with open(crates_path) as f:
        out.extend(line.rstrip("\n") for line in f)
    out.append("```")
    return "\n".join(out) + "\n"


def record(doc_path, table_path):
    with open(doc_path) as f:
        doc = f.read()
    with open(table_path) as f:
        new = f.read()
    start, end = doc.find(BEGIN), doc.find(END)
    if start < 0 or end < start:
        sys.exit(f"bench: {doc_path} has no '{BEGIN}' ... '{END}' section to write into")
    doc = doc[: start + len(BEGIN)] + "\n" + new + doc[end:]
    with open(doc_path, "w") as f:
        f.write(doc)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--record":
        record(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4:
        sys.stdout.write(table(sys.argv[1], sys.argv[2], sys.argv[3]))
    else:
        sys.exit(__doc__)
