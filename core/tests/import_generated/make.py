#!/usr/bin/env python3
"""Writes Aegis, 2FAS and andOTP encrypted exports as those apps write them (their formats are
read by core/src/import/aegis.rs, twofas.rs and andotp.rs) with random secrets, using Python's
`cryptography` (an independent producer: no Rust crate of ours is involved). The outputs are
committed; run again to make new ones:

    python3 core/tests/import_generated/make.py

expected.json lists each file's password and entries (issuer, label, type, base32 secret,
algorithm, digits, period/counter)."""
import base64, hashlib, json, os, secrets
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives import hashes

OUT = Path(__file__).resolve().parent
PASSWORD = "correct horse " + secrets.token_hex(4)


def b32(raw):
    return base64.b32encode(raw).decode().rstrip("=")


def entries():
    kinds = [
        ("totp", "SHA1", 6, 30), ("totp", "SHA256", 8, 60), ("hotp", "SHA512", 7, 42),
        ("steam", "SHA1", 5, 30), ("totp", "SHA512", 6, 15),
    ]
    out = []
    for i, (kind, algo, digits, n) in enumerate(kinds):
        out.append({
            "issuer": f"Issuer {i} {secrets.token_hex(2)}", "label": f"user{i}@example.org",
            "type": kind, "secret": b32(secrets.token_bytes(20)), "algorithm": algo,
            "digits": digits, "period": n if kind != "hotp" else None,
            "counter": n if kind == "hotp" else None, "group": "Work" if i % 2 else None,
            "note": f"note {i}" if i == 0 else None,
        })
    return out


def aegis(es, password):
    groups = [{"uuid": "0d3c9a8e-6b4f-4c59-8f2e-3f1f2a9b7c11", "name": "Work"}]
    db = {"version": 3, "entries": [], "groups": groups}
    for e in es:
        info = {"secret": e["secret"], "algo": e["algorithm"], "digits": e["digits"]}
        if e["type"] == "hotp":
            info["counter"] = e["counter"]
        else:
            info["period"] = e["period"]
        db["entries"].append({
            "type": e["type"], "uuid": "00000000-0000-4000-8000-%012d" % len(db["entries"]),
            "name": e["label"], "issuer": e["issuer"], "note": e["note"] or "",
            "favorite": False, "icon": None, "info": info,
            "groups": [groups[0]["uuid"]] if e["group"] else [],
        })
    plain = json.dumps(db).encode()
    master = AESGCM.generate_key(256)
    salt = os.urandom(32)
    key = Scrypt(salt=salt, length=32, n=2**15, r=8, p=1).derive(password.encode())
    knonce = os.urandom(12)
    wrapped = AESGCM(key).encrypt(knonce, master, None)
    nonce = os.urandom(12)
    sealed = AESGCM(master).encrypt(nonce, plain, None)
    return {
        "version": 1,
        "header": {
            "slots": [
                {"type": 2, "uuid": "b1", "key": os.urandom(32).hex(),
                 "key_params": {"nonce": os.urandom(12).hex(), "tag": os.urandom(16).hex()}},
                {"type": 1, "uuid": "p1", "key": wrapped[:-16].hex(),
                 "key_params": {"nonce": knonce.hex(), "tag": wrapped[-16:].hex()},
                 "n": 2**15, "r": 8, "p": 1, "salt": salt.hex(), "repaired": True},
            ],
            "params": {"nonce": nonce.hex(), "tag": sealed[-16:].hex()},
        },
        "db": base64.b64encode(sealed[:-16]).decode(),
    }


def twofas(es, password):
    services = []
    for i, e in enumerate(es):
        if e["type"] == "hotp":
            otp = {"counter": e["counter"]}
        else:
            otp = {"period": e["period"]}
        otp.update({"account": e["label"], "issuer": e["issuer"], "digits": e["digits"],
                    "algorithm": e["algorithm"], "tokenType": e["type"].upper(), "source": "Manual"})
        services.append({"name": e["issuer"], "secret": e["secret"], "updatedAt": 1,
                         "otp": otp, "order": {"position": i}})
    salt = os.urandom(256)
    key = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=salt, iterations=10000).derive(password.encode())
    def seal(data):
        iv = os.urandom(12)
        ct = AESGCM(key).encrypt(iv, data, None)
        return ":".join(base64.b64encode(x).decode() for x in (ct, salt, iv))
    return {
        "services": [], "groups": [], "updatedAt": 1, "schemaVersion": 4,
        "appVersionCode": 5000000, "appVersionName": "5.0.0", "appOrigin": "android",
        "servicesEncrypted": seal(json.dumps(services).encode()),
        "reference": seal(("tRViSsLKzd86Hprh4ceC" * 13)[:256].encode()),
    }


def andotp(es, password):
    plain = json.dumps([{
        "secret": e["secret"], "issuer": e["issuer"], "label": e["label"], "digits": e["digits"],
        "type": e["type"].upper(), "algorithm": e["algorithm"], "tags": [e["group"]] if e["group"] else [],
        **({"counter": e["counter"]} if e["type"] == "hotp" else {"period": e["period"]}),
    } for e in es]).encode()
    iterations = 140000 + secrets.randbelow(20000)
    salt, nonce = os.urandom(12), os.urandom(12)
    key = PBKDF2HMAC(algorithm=hashes.SHA1(), length=32, salt=salt, iterations=iterations).derive(password.encode())
    return iterations.to_bytes(4, "big") + salt + nonce + AESGCM(key).encrypt(nonce, plain, None)


def main():
    es = entries()
    (OUT / "aegis_encrypted.json").write_text(json.dumps(aegis(es, PASSWORD), indent=2))
    (OUT / "twofas_encrypted.2fas").write_text(json.dumps(twofas(es, PASSWORD)))
    (OUT / "andotp_encrypted.bin").write_bytes(andotp(es, PASSWORD))
    (OUT / "expected.json").write_text(json.dumps({"password": PASSWORD, "entries": es}, indent=2))


if __name__ == "__main__":
    main()
