#!/usr/bin/env python3
"""An independent reader of Aegis vault files, to check authcore's Aegis export.

Written from the format's description (Aegis docs/vault.md, summarised in the shared
export-formats reference), not from authcore's code: for each password slot (type 1),
k = scrypt(password, salt, n, r, p, 32); master = AES-256-GCM(k).decrypt(key_params.nonce,
key || key_params.tag); content = AES-256-GCM(master).decrypt(params.nonce,
base64(db) || params.tag). No associated data anywhere.

Usage: aegis_read.py FILE [--password-stdin]
Prints {"version": <content version>, "entries": [...]} as JSON, each entry with its group
*names* (resolved from the content's groups by UUID). Exit 2 with one line on a bad file or
a wrong password.
"""
import base64
import json
import sys

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt


def fail(message):
    print(f"aegis_read: {message}", file=sys.stderr)
    sys.exit(2)


def master_key(slots, password):
    for slot in slots or []:
        if slot.get("type") != 1:
            continue
        kdf = Scrypt(
            salt=bytes.fromhex(slot["salt"]),
            length=32,
            n=slot["n"],
            r=slot["r"],
            p=slot["p"],
        )
        key = kdf.derive(password.encode("utf-8"))
        params = slot["key_params"]
        wrapped = bytes.fromhex(slot["key"]) + bytes.fromhex(params["tag"])
        try:
            return AESGCM(key).decrypt(bytes.fromhex(params["nonce"]), wrapped, None)
        except Exception:  # InvalidTag: another slot may open
            continue
    return None


def content_of(vault, password):
    db = vault["db"]
    if isinstance(db, dict):
        return db
    if password is None:
        fail("the vault is encrypted: give its password")
    header = vault["header"]
    master = master_key(header.get("slots"), password)
    if master is None:
        fail("wrong password")
    params = header["params"]
    sealed = base64.b64decode(db) + bytes.fromhex(params["tag"])
    plain = AESGCM(master).decrypt(bytes.fromhex(params["nonce"]), sealed, None)
    return json.loads(plain)


def entries_of(content):
    groups = {g["uuid"]: g["name"] for g in content.get("groups", [])}
    out = []
    for e in content["entries"]:
        info = e["info"]
        names = [groups[u] for u in e.get("groups", []) if u in groups]
        if e.get("group"):
            names.insert(0, e["group"])
        out.append(
            {
                "type": e["type"],
                "uuid": e["uuid"],
                "name": e["name"],
                "issuer": e["issuer"],
                "note": e.get("note", ""),
                "favorite": e.get("favorite", False),
                "secret": info["secret"],
                "algo": info["algo"],
                "digits": info["digits"],
                "period": info.get("period"),
                "counter": info.get("counter"),
                "groups": names,
            }
        )
    return out


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--password-stdin"):
        fail("usage: aegis_read.py FILE [--password-stdin]")
    password = None
    if len(argv) == 3:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        with open(argv[1], "rb") as f:
            vault = json.load(f)
        content = content_of(vault, password)
        entries = entries_of(content)
    except (OSError, ValueError, KeyError, TypeError) as e:
        fail(f"not a readable Aegis vault: {type(e).__name__}: {e}")
    json.dump({"version": content.get("version", 1), "entries": entries}, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main(sys.argv)
