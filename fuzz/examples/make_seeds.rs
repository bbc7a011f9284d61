//! Writes the seed corpora (seeds/<target>/) and the fixed test keys (keys/) the targets use.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example make_seeds
//!
//! Run it again after a format change; it replaces every seed and both keys. The values are the
//! project's own test values and made-up ones in the shapes real issuers and privacyIDEA 3.14
//! produce (see docs/hardening.md); no other project's fixture file is copied. Each run makes a
//! new server key, signs the push seeds with it, keeps only its public half (the targets only
//! verify) and drops the private half, and makes a new vault key and vaults wrapped by it.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use authcore::account::{AccountId, Names};
use authcore::push::{Capabilities, DeviceKey, PushCredential, PushRequest, SoftwareDeviceKey};
use authcore::vault::{FileKeyStore, KdfParams, Setting, StoredDeviceKey, Vault};
use authcore_fuzz::{FB_TOKEN, NOW_UNIX, SERIAL, URL, now};
use data_encoding::{BASE32, BASE64};
use rsa::pkcs1::EncodeRsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde_json::{Map, Value, json};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Empties seeds/<target>/ so a renamed seed does not linger.
fn fresh(target: &str) -> PathBuf {
    let dir = root().join("seeds").join(target);
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn put(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    fs::write(dir.join(name), bytes).unwrap();
}

/// Says how far an import seed gets, so a seed that stopped reaching its parser shows.
fn report_import(name: &str, seed: &[u8]) {
    let format = usize::from(seed[0])
        .checked_sub(1)
        .and_then(|i| authcore::import::Format::ALL.get(i).copied());
    match authcore::import::read(&seed[1..], format, None) {
        Ok(imported) => {
            let accounts = imported
                .entries
                .iter()
                .filter(|e| e.account().is_some())
                .count();
            println!(
                "import_read/{name}: {} ({accounts} accounts, {} skipped)",
                imported.format.id(),
                imported.entries.len() - accounts
            );
        }
        Err(e) => println!("import_read/{name}: {e}"),
    }
}

fn b32_sign(key: &dyn DeviceKey, message: &str) -> String {
    BASE32.encode(&key.sign_pkcs1_sha256(message.as_bytes()).unwrap())
}

/// A challenge as privacyIDEA 3.14 sends it, signed by `key`.
fn challenge(key: &dyn DeviceKey, nonce: &str, extra: &[(&str, &str)]) -> Map<String, Value> {
    let mut fields = Map::new();
    for (name, value) in [
        ("nonce", nonce),
        ("question", "Sign in as robin?"),
        ("serial", SERIAL),
        ("title", "Fuzz Org"),
        ("sslverify", "1"),
        ("url", URL),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    {
        fields.insert(name.to_owned(), Value::String(value.to_owned()));
    }
    let text = |name: &str| fields[name].as_str().unwrap().to_owned();
    let mut message = format!(
        "{}|{}|{}|{}|{}|{}",
        text("nonce"),
        text("url"),
        text("serial"),
        text("question"),
        text("title"),
        text("sslverify")
    );
    if let Some(Value::String(options)) = fields.get("require_presence") {
        message.push('|');
        message.push_str(options);
    }
    let signature = b32_sign(key, &message);
    fields.insert("signature".to_owned(), Value::String(signature));
    fields
}

/// Adds the `decline_reason` capability the way privacyIDEA writes it (Python's `json.dumps`,
/// a space after the colon) with its signature over the JCS form.
fn with_capabilities(key: &dyn DeviceKey, mut fields: Map<String, Value>) -> Map<String, Value> {
    let nonce = fields["nonce"].as_str().unwrap().to_owned();
    let jcs = format!("{{\"capabilities\":{{\"decline_reason\":true}},\"nonce\":\"{nonce}\"}}");
    fields.insert(
        "capabilities".to_owned(),
        Value::String("{\"decline_reason\": true}".to_owned()),
    );
    fields.insert(
        "capabilities_signature".to_owned(),
        Value::String(b32_sign(key, &jcs)),
    );
    fields
}

/// Prefixes the HTTP targets' framing: status selector 0 is 200 (see `canned_from`).
fn framed(status_selector: u8, date: Option<&str>, body: &str) -> Vec<u8> {
    let mut out = vec![status_selector];
    out.extend_from_slice(date.unwrap_or("").as_bytes());
    out.push(b'\n');
    out.extend_from_slice(body.as_bytes());
    out
}

fn main() {
    // `cargo run --example make_seeds -- backup_read` (or `import_read`) writes that target's
    // seeds only: no new push keys, so the other targets' seeds stay.
    match std::env::args().nth(1).as_deref() {
        Some("backup_read") => return backup_seeds(),
        Some("import_read") => return import_seeds(),
        _ => {}
    }
    let server = SoftwareDeviceKey::generate(2048).unwrap();
    let pkcs1 = rsa::RsaPublicKey::from_public_key_der(&server.public_key_spki_der().unwrap())
        .unwrap()
        .to_pkcs1_der()
        .unwrap()
        .into_vec();
    fs::create_dir_all(root().join("keys")).unwrap();
    fs::write(root().join("keys/push-server.pkcs1.der"), &pkcs1).unwrap();

    uri_seeds();
    enroll_seeds();
    let notifications = notification_seeds(&server);
    // The signed seeds must verify against the key the targets load, or push_verify and
    // push_poll would never get past the signature check.
    let credential = PushCredential {
        server_public_key_pkcs1: pkcs1.clone(),
        ..authcore_fuzz::credential()
    };
    for (name, body) in &notifications {
        // The gateway message addressed to `no_firebase_token` is for the poll-only token.
        let against = if name == "gateway-poll-only" {
            PushCredential {
                poll_only: true,
                fb_token: None,
                ..credential.clone()
            }
        } else {
            credential.clone()
        };
        let verified = authcore::push::UnverifiedChallenge::from_notification(body)
            .and_then(|c| c.verify(&against, now(), Duration::from_secs(120)));
        println!(
            "push_verify/{name}: {}",
            match &verified {
                Ok(_) => "verifies".to_owned(),
                Err(e) => e.to_string(),
            }
        );
        assert_eq!(verified.is_ok(), name != "bad-signature", "{name}");
    }
    for target in ["push_notification", "push_verify"] {
        let dir = fresh(target);
        for (name, body) in &notifications {
            put(&dir, name, body);
        }
    }
    poll_seeds(&server);
    response_seeds(&pkcs1);
    policy_seeds();
    backup_seeds();
    import_seeds();
    vault_seeds(&pkcs1);
    println!("seeds and keys written under {}", root().display());
}

fn uri_seeds() {
    let dir = fresh("uri_parse");
    // The shapes issuers and other apps write: Google's key URI format, encoded and spaced label
    // colons, lenient base32, every algorithm, HOTP with a counter, Steam both ways, Unicode,
    // unknown parameters (kept and written back), and near misses the parser must refuse.
    let uris = [
        (
            "totp-basic",
            "otpauth://totp/Fuzz%20Org:robin@mail.test?secret=KRUGKIDROVUWG2ZAMJZG653O&issuer=Fuzz%20Org",
        ),
        (
            "totp-sha256-8-60",
            "otpauth://totp/Vendor:ops?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&algorithm=SHA256&digits=8&period=60&issuer=Vendor",
        ),
        (
            "totp-sha512",
            "otpauth://totp/Big%20Bank?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=sha512",
        ),
        (
            "totp-lenient-secret",
            "otpauth://totp/shop:me?secret=kruw 4ylm-nvxw i===&algorithm=SHA-256&digits=7",
        ),
        (
            "totp-encoded-colon",
            "otpauth://totp/North%20Wind%3A%20%20kim%40wind.test?secret=MZXW6YTBOI",
        ),
        (
            "totp-unicode-label",
            "otpauth://totp/%E9%8D%B5%E3%81%AE%E5%BA%97?secret=ONSWG4TFOQ",
        ),
        (
            "totp-extra-params",
            "otpauth://totp/Pics:lee?secret=NBSWY3DP&image=https%3A%2F%2Fpics.test%2Flogo.png&color=%2300aa00&pin=False&serial=TOTP00001&issuer=Pics",
        ),
        (
            "totp-issuer-plus",
            "otpauth://totp/lee?secret=NBSWY3DPEE&issuer=Plus+Sign+Co",
        ),
        (
            "totp-issuer-disagrees",
            "otpauth://totp/Label%20Co:sam?secret=NBSWY3DPEE&issuer=Param%20Co",
        ),
        ("totp-raw-hash", "otpauth://totp/Hash:a#b?secret=NBSWY3DPEE"),
        (
            "totp-10-digits",
            "otpauth://totp/Long?secret=NBSWY3DPEE&digits=10&period=1",
        ),
        (
            "hotp-counter",
            "otpauth://hotp/Fuzz%20Org:robin?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=7&issuer=Fuzz%20Org",
        ),
        (
            "hotp-max-counter",
            "otpauth://hotp/edge?secret=GEZDGNBVGY3TQOJQ&counter=18446744073709551615",
        ),
        (
            "steam-scheme",
            "otpauth://steam/Steam:gamer?secret=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
        ),
        (
            "steam-issuer",
            "otpauth://totp/Steam:gamer?secret=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U&issuer=Steam",
        ),
        (
            "refused-md5",
            "otpauth://totp/x?secret=NBSWY3DP&algorithm=MD5",
        ),
        (
            "refused-digits",
            "otpauth://totp/x?secret=NBSWY3DP&digits=12",
        ),
        (
            "refused-period",
            "otpauth://totp/x?secret=NBSWY3DP&period=0",
        ),
        (
            "refused-counter",
            "otpauth://hotp/x?secret=NBSWY3DP&counter=-3",
        ),
        ("refused-type", "otpauth://yaotp/x?secret=NBSWY3DP"),
        ("refused-bad-base32", "otpauth://totp/x?secret=NBSWY3D1"),
        (
            "refused-twice",
            "otpauth://totp/x?secret=NBSWY3DP&secret=NBSWY3DQ",
        ),
    ];
    for (name, uri) in uris {
        put(&dir, name, uri);
    }

    // Transfer QRs written by the core's own exporter, then the leniencies real producers need.
    let accounts: Vec<_> = [
        "otpauth://totp/Fuzz%20Org:robin?secret=KRUGKIDROVUWG2ZAMJZG653O&issuer=Fuzz%20Org",
        "otpauth://hotp/Counter%20Co:pat?secret=GEZDGNBVGY3TQOJQ&counter=3&issuer=Counter%20Co",
        "otpauth://totp/Eight:dee?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&algorithm=SHA256&digits=8",
        "otpauth://totp/noissuer?secret=ONSWG4TFOQ&algorithm=SHA512",
    ]
    .iter()
    .map(|uri| {
        let account = authcore::uri::parse_otpauth(uri).unwrap();
        (account.issuer, account.label, account.otp)
    })
    .collect();
    let exported = authcore::uri::to_migration(&accounts).unwrap().payloads;
    for (i, uri) in exported.iter().enumerate() {
        put(&dir, &format!("migration-export-{i}"), uri.as_bytes());
    }
    let single = authcore::uri::to_migration(&accounts[..1])
        .unwrap()
        .payloads;
    let single = single[0].as_str();
    put(&dir, "migration-single", single);
    let data = single.split_once("data=").unwrap().1;
    let raw = data
        .replace("%2B", "+")
        .replace("%2F", "/")
        .replace("%3D", "");
    put(
        &dir,
        "migration-raw-base64",
        format!("otpauth-migration://offline?data={raw}"),
    );
    put(
        &dir,
        "migration-spaces-for-plus",
        format!("otpauth-migration://offline?data={}", raw.replace('+', " ")),
    );
    put(
        &dir,
        "migration-urlsafe",
        format!(
            "otpauth-migration://offline?data={}",
            raw.replace('+', "-").replace('/', "_")
        ),
    );
    put(&dir, "migration-no-data", "otpauth-migration://offline?x=1");
}

fn enroll_seeds() {
    let dir = fresh("push_enroll_uri");
    let base = format!(
        "otpauth://pipush/robin?url=https%3A//push.fuzz.test/ttype/push&ttl=10&issuer=Fuzz%20Org\
         &enrollment_credential=9d4e1f0c2b7a65389d4e1f0c2b7a65389d4e1f0c&v=1&serial={SERIAL}\
         &sslverify=1&poll_only=False"
    );
    put(&dir, "https", &base);
    put(&dir, "pia-scheme", base.replacen("otpauth://", "pia://", 1));
    put(
        &dir,
        "http-sslverify-0-poll-only",
        "otpauth://pipush/PIPU00F0221B?url=http%3A//127.0.0.1%3A5080/ttype/push&ttl=3\
         &issuer=privacyIDEA&enrollment_credential=0123456789abcdef0123456789abcdef01234567\
         &v=1&serial=PIPU00F0221B&sslverify=0&poll_only=True",
    );
    put(
        &dir,
        "pin-unlock-image",
        format!(
            "{base}&pin=True&app_force_unlock=biometric&image=https%3A//push.fuzz.test/logo.png"
        ),
    );
    put(
        &dir,
        "old-firebase-fields",
        format!(
            "{base}&projectnumber=1234&projectid=fuzz-proj&appid=1:2:android:3&apikey=AIzaFuzz"
        ),
    );
    put(
        &dir,
        "empty-label",
        base.replacen("pipush/robin?", "pipush/?", 1),
    );
    put(
        &dir,
        "edumfa-edupush",
        "edumfa-push://edumfa/EDUP0000A17C?url=https%3A//mfa.fuzz.test/ttype/edupush&ttl=10\
         &issuer=eduMFA&enrollment_credential=4f1c9e2d7b0a83564f1c9e2d7b0a83564f1c9e2d\
         &v=1&serial=EDUP0000A17C&sslverify=1",
    );
    put(&dir, "refused-version", base.replacen("&v=1&", "&v=2&", 1));
    put(
        &dir,
        "refused-plain-http",
        base.replacen("https%3A//", "http%3A//", 1),
    );
    put(
        &dir,
        "refused-ttl",
        base.replacen("ttl=10", "ttl=100000000", 1),
    );
}

fn notification_seeds(server: &SoftwareDeviceKey) -> Vec<(String, String)> {
    let plain = challenge(server, "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U", &[]);
    let presence = challenge(
        server,
        "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
        &[("require_presence", "K,Q,W"), ("version", "2")],
    );
    let capable = with_capabilities(
        server,
        challenge(server, "ONSWG4TFORZWK4TWMVZHI2LDMU2TQNBS", &[]),
    );
    let http = challenge(
        server,
        "NBSWY3DPEB3W64TMMQQHI2DJOMQGS4ZA",
        &[
            ("sslverify", "0"),
            ("url", "http://127.0.0.1:5080/ttype/push"),
        ],
    );
    let mut seeds = vec![
        (
            "data-map".to_owned(),
            Value::Object(plain.clone()).to_string(),
        ),
        (
            "number-matching".to_owned(),
            Value::Object(presence.clone()).to_string(),
        ),
        (
            "capabilities".to_owned(),
            Value::Object(capable.clone()).to_string(),
        ),
        ("plain-http".to_owned(), Value::Object(http).to_string()),
        (
            "gateway-object".to_owned(),
            json!({"device_token": FB_TOKEN, "data": Value::Object(capable.clone())}).to_string(),
        ),
        (
            "gateway-data-string".to_owned(),
            json!({"device_token": FB_TOKEN, "data": Value::Object(presence).to_string()})
                .to_string(),
        ),
        (
            "gateway-poll-only".to_owned(),
            json!({"device_token": "no_firebase_token", "data": Value::Object(plain.clone())})
                .to_string(),
        ),
    ];
    let mut tampered = plain;
    tampered.insert(
        "question".to_owned(),
        Value::String("Sign in as mallory?".to_owned()),
    );
    seeds.push((
        "bad-signature".to_owned(),
        Value::Object(tampered).to_string(),
    ));
    seeds
}

fn poll_seeds(server: &SoftwareDeviceKey) {
    let dir = fresh("push_poll");
    let date = httpdate::fmt_http_date(now().to_system());
    let late = httpdate::fmt_http_date((now() + Duration::from_secs(600)).to_system());
    let list = vec![
        Value::Object(challenge(server, "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U", &[])),
        Value::Object(with_capabilities(
            server,
            challenge(
                server,
                "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
                &[("require_presence", "7,3,9")],
            ),
        )),
        json!({"nonce": "broken"}),
    ];
    let ok = |value: Value| {
        json!({"result": {"status": true, "value": value}, "version": "privacyIDEA 3.14", "id": 1})
            .to_string()
    };
    put(
        &dir,
        "two-challenges",
        framed(0, Some(&date), &ok(Value::Array(list))),
    );
    put(&dir, "none-open", framed(0, Some(&date), &ok(json!([]))));
    put(&dir, "no-date", framed(0, None, &ok(json!([]))));
    let refused = json!({"result": {"status": false, "error": {"code": 10, "message": "Could not verify signature!"}}}).to_string();
    // Status selector 4 is 400: with a `Date` ten minutes ahead the client retries once.
    put(&dir, "clock-retry", framed(4, Some(&late), &refused));
    put(
        &dir,
        "server-error",
        framed(6, Some(&date), "<html>Internal Server Error</html>"),
    );
    put(&dir, "redirect", framed(9, Some(&date), ""));
    put(
        &dir,
        "not-a-list",
        framed(0, Some(&date), &ok(json!({"nonce": "x"}))),
    );
    let mut failure = vec![0xF2];
    failure.extend_from_slice(
        format!("connection reset by {URL}?serial={SERIAL}&timestamp=2026&signature=AAAA")
            .as_bytes(),
    );
    put(&dir, "transport-failure", failure);
}

fn response_seeds(pkcs1: &[u8]) {
    let dir = fresh("push_responses");
    let date = httpdate::fmt_http_date(now().to_system());
    // privacyIDEA sends the key as base64 of PKCS#1 DER with a line break every 64 characters.
    let wrapped: Vec<String> = BASE64
        .encode(pkcs1)
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let registered = json!({
        "result": {"status": true, "value": true},
        "detail": {"public_key": wrapped.join("\n"), "rollout_state": "enrolled", "serial": SERIAL}
    })
    .to_string();
    let call = |selector: u8, body: &str| {
        let mut out = vec![selector];
        out.extend(framed(0, Some(&date), body));
        out
    };
    put(&dir, "register", call(0, &registered));
    let accepted = json!({"result": {"status": true, "value": true}}).to_string();
    put(&dir, "accept", call(1, &accepted));
    let code_to_phone = json!({
        "result": {"status": true, "value": true},
        "detail": {"display_code": "58", "message": "Type the code shown on your phone"}
    })
    .to_string();
    put(
        &dir,
        "number-matching-code-to-phone",
        call(2, &code_to_phone),
    );
    let refused =
        json!({"result": {"status": true, "value": false}, "detail": {"message": "wrong answer"}})
            .to_string();
    put(&dir, "decline-refused", call(3, &refused));
    put(&dir, "update-token", call(4, &accepted));
    let error = json!({"result": {"status": false, "error": {"code": 601, "message": "token not in clientwait"}}}).to_string();
    let mut not_found = vec![0u8];
    not_found.extend(framed(7, Some(&date), &error));
    put(&dir, "register-404", not_found);
}

fn policy_seeds() {
    let dir = fresh("policy_json");
    put(
        &dir,
        "default",
        authcore::policy::PolicySet::default().to_json(),
    );
    put(
        &dir,
        "custom",
        r#"{"passwordless":{"ios":{"max_accounts":3,"require_number_matching":true,"require_device_unlock":false},"android":{"max_accounts":null},"desktop":{"max_accounts":0,"require_number_matching":false,"require_device_unlock":false}}}"#,
    );
    put(&dir, "empty", r#"{"passwordless":{}}"#);
    put(
        &dir,
        "refused-platform",
        r#"{"passwordless":{"watch":{"max_accounts":1}}}"#,
    );
}

fn vault_seeds(pkcs1: &[u8]) {
    let work = tempfile::tempdir().unwrap();
    let key_store = FileKeyStore::create(&work.path().join("vault.key")).unwrap();
    fs::copy(work.path().join("vault.key"), root().join("keys/vault.key")).unwrap();
    let dir = fresh("vault_open");
    let created = authcore::time::UnixTime::from_secs(NOW_UNIX - 86_400);

    // A vault as created, with no account.
    let empty = work.path().join("empty.sqlite");
    drop(Vault::create(&empty, &key_store, None, created).unwrap());
    put(&dir, "empty.sqlite", fs::read(&empty).unwrap());

    // A vault with something in every table: OTP accounts of each kind, groups and notes,
    // passwordless on one, a password slot (cheap Argon2 parameters), the settings the facade
    // reads, a push-only account and one holding both, and pending push requests.
    let full = work.path().join("full.sqlite");
    let params = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let mut vault =
        Vault::create(&full, &key_store, Some(("fuzz password", params)), created).unwrap();
    let mut ids = Vec::new();
    for uri in [
        "otpauth://totp/Fuzz%20Org:robin?secret=KRUGKIDROVUWG2ZAMJZG653O&issuer=Fuzz%20Org&image=https%3A%2F%2Ffuzz.test%2Fi.png",
        "otpauth://hotp/Counter%20Co:pat?secret=GEZDGNBVGY3TQOJQ&counter=3&issuer=Counter%20Co",
        "otpauth://steam/Steam:gamer?secret=MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
        "otpauth://totp/Eight:dee?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA&algorithm=SHA256&digits=8&period=60",
    ] {
        let mut account = authcore::uri::parse_otpauth(uri).unwrap();
        account.group = Some("work".to_owned());
        account.note = Some("seed account".to_owned());
        ids.push(vault.add(account, created).unwrap().id);
    }
    vault
        .set_passwordless(&[(ids[0].clone(), true)], created)
        .unwrap();
    vault.set_setting(Setting::ClockOffset, "-7").unwrap();
    vault
        .set_setting(
            Setting::PasswordlessRules,
            &authcore::policy::PolicySet::default().to_json(),
        )
        .unwrap();
    vault
        .set_setting(
            Setting::PushServerOffsets,
            r#"{"https://push.fuzz.test":1500}"#,
        )
        .unwrap();

    let credential = PushCredential {
        server_public_key_pkcs1: pkcs1.to_vec(),
        enrolled_at: authcore::time::UnixTime::from_secs(NOW_UNIX - 86_400),
        ..authcore_fuzz::credential()
    };
    let device = SoftwareDeviceKey::generate(2048).unwrap();
    let push_id = AccountId::random();
    vault
        .add_push_account(
            push_id,
            Names {
                issuer: "Fuzz Org".to_owned(),
                label: "robin push".to_owned(),
                group: None,
                note: None,
            },
            credential.clone(),
            StoredDeviceKey::Software(device.pkcs8().clone()),
            created,
        )
        .unwrap();
    let second = PushCredential {
        serial: "PIPU00F0221C".to_owned(),
        fb_token: None,
        poll_only: true,
        ..credential
    };
    vault
        .attach_push(&ids[1], second, StoredDeviceKey::Platform, created)
        .unwrap();
    for (nonce, presence) in [
        ("MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U", None),
        (
            "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ",
            Some(vec!["7".to_owned(), "3".to_owned(), "9".to_owned()]),
        ),
    ] {
        let request = PushRequest {
            nonce: nonce.to_owned(),
            serial: SERIAL.to_owned(),
            title: "Fuzz Org".to_owned(),
            question: "Sign in as robin?".to_owned(),
            url: URL.to_owned(),
            sslverify: true,
            require_presence: presence,
            capabilities: Capabilities {
                decline_reason: true,
                verified: true,
            },
            received_at: now().saturating_sub(Duration::from_secs(10)),
            // Far beyond "now" so the requests are still pending whenever the target runs.
            expires_at: now() + Duration::from_secs(3600),
        };
        vault
            .store_push_request(&request, now().saturating_sub(Duration::from_secs(10)))
            .unwrap();
    }
    // Closing the last connection checkpoints the WAL into the main file and removes it, so
    // the one file holds everything.
    drop(vault);
    assert!(
        !work.path().join("full.sqlite-wal").exists(),
        "the WAL was not checkpointed on close"
    );
    put(&dir, "full.sqlite", fs::read(&full).unwrap());

    // vault_mutate: patch lists over full.sqlite. Empty keeps the vault intact; the others aim
    // at the header's user_version (offset 60) and application_id (68), and at the first
    // record bytes of a few pages.
    let dir = fresh("vault_mutate");
    put(&dir, "intact", b"");
    let patch = |records: &[(u32, u8)]| {
        let mut out = Vec::new();
        for (offset, value) in records {
            let b = offset.to_le_bytes();
            out.extend_from_slice(&[b[0], b[1], b[2], *value]);
        }
        out
    };
    put(&dir, "user-version-1", patch(&[(63, 1)]));
    put(&dir, "user-version-9", patch(&[(63, 9)]));
    put(&dir, "application-id", patch(&[(71, 0x44)]));
    put(&dir, "page-2-header", patch(&[(4096, 0x0a), (4097, 0xff)]));
    put(
        &dir,
        "page-3-cell",
        patch(&[(3 * 4096 - 64, 0x00), (3 * 4096 - 63, 0x7f)]),
    );
    put(&dir, "page-size", patch(&[(16, 0x02)]));
}

fn import_seeds() {
    let dir = fresh("import_read");
    let put = |dir: &Path, name: &str, bytes: Vec<u8>| {
        report_import(name, &bytes);
        put(dir, name, bytes);
    };
    // Selector 0: the importer recognises the format from the content (see the target).
    let detect = |body: &[u8]| {
        let mut out = vec![0u8];
        out.extend_from_slice(body);
        out
    };
    let secret = "KRUGKIDROVUWG2ZAMJZG653O";
    let uri = format!("otpauth://totp/Fuzz%20Org:robin?secret={secret}&issuer=Fuzz%20Org");
    put(
        &dir,
        "uri-list",
        detect(
            format!(
                "# exported by hand\n{uri}\n\notpauth://hotp/Counter%20Co:pat?secret=GEZDGNBVGY3TQOJQ&counter=3\n\
                 otpauth://motp/Old:pin?secret=abcd1234\n"
            )
            .as_bytes(),
        ),
    );
    let aegis = json!({
        "version": 1,
        "header": {"slots": null, "params": null},
        "db": {
            "version": 3,
            "entries": [
                {"type": "totp", "uuid": "6f1d0c3e-0000-4000-8000-000000000001", "name": "robin",
                 "issuer": "Fuzz Org", "groups": ["a1"], "icon": null,
                 "info": {"secret": secret, "algo": "SHA256", "digits": 8, "period": 60}},
                {"type": "hotp", "uuid": "6f1d0c3e-0000-4000-8000-000000000002", "name": "pat",
                 "issuer": "Counter Co", "info": {"secret": "GEZDGNBVGY3TQOJQ", "algo": "SHA1",
                 "digits": 6, "counter": 4}},
                {"type": "steam", "uuid": "6f1d0c3e-0000-4000-8000-000000000003", "name": "gamer",
                 "issuer": "Steam", "info": {"secret": "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U",
                 "algo": "SHA1", "digits": 5, "period": 30}},
                {"type": "motp", "uuid": "6f1d0c3e-0000-4000-8000-000000000004", "name": "old",
                 "issuer": "Legacy", "info": {"secret": "abcd1234", "pin": "1234"}}
            ],
            "groups": [{"uuid": "a1", "name": "Work"}]
        }
    });
    put(&dir, "aegis-plain", detect(aegis.to_string().as_bytes()));
    let twofas = json!({
        "schemaVersion": 4,
        "services": [
            {"name": "Fuzz Org", "secret": secret, "groupId": "g1", "order": {"position": 0},
             "otp": {"account": "robin", "issuer": "Fuzz Org", "digits": 6, "period": 30,
                     "algorithm": "SHA1", "tokenType": "TOTP"}},
            {"name": "Counter Co", "secret": "GEZDGNBVGY3TQOJQ", "order": {"position": 1},
             "otp": {"label": "pat", "digits": 6, "counter": 9, "algorithm": "SHA1",
                     "tokenType": "HOTP"}}
        ],
        "groups": [{"id": "g1", "name": "Work"}]
    });
    put(&dir, "2fas-plain", detect(twofas.to_string().as_bytes()));
    let andotp = json!([
        {"secret": secret, "issuer": "Fuzz Org", "label": "robin", "digits": 6, "type": "TOTP",
         "algorithm": "SHA1", "period": 30, "tags": ["work", "seed"]},
        {"secret": "GEZDGNBVGY3TQOJQ", "issuer": "", "label": "Counter Co - pat", "digits": 6,
         "type": "HOTP", "algorithm": "SHA1", "counter": 2, "tags": []}
    ]);
    put(&dir, "andotp-plain", detect(andotp.to_string().as_bytes()));
    let freeotp = json!({
        "tokenOrder": ["Fuzz Org:robin"],
        "tokens": [{"algo": "SHA1", "counter": 0, "digits": 6, "issuerExt": "Fuzz Org",
                    "label": "robin", "period": 30, "type": "TOTP",
                    "secret": [84, 104, 101, -27, 113, 117, 105, 99, 107, -128]}]
    });
    put(&dir, "freeotp-plus", detect(freeotp.to_string().as_bytes()));
    let proton = json!({
        "version": 1,
        "entries": [{"id": "e1", "note": "seed", "content": {"uri": uri, "entry_type": "Totp",
                                                               "name": "robin"}}]
    });
    put(&dir, "proton", detect(proton.to_string().as_bytes()));
    let steam = json!({"shared_secret": BASE64.encode(b"twenty bytes of seed"),
                       "account_name": "gamer", "serial_number": "1234"});
    put(&dir, "steam-mafile", detect(steam.to_string().as_bytes()));
    let duo = json!([{"name": "Fuzz Org", "logoUri": null,
                      "otpGenerator": {"otpSecret": secret, "counter": 3}}]);
    put(&dir, "duo", detect(duo.to_string().as_bytes()));
    put(
        &dir,
        "bitwarden-csv",
        detect(
            format!(
                "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n\
                 Work,1,login,Fuzz Org,a note,,0,https://fuzz.test,robin,pw,{uri}\n\
                 ,,login,Plain Secret,,,0,,sam,,{secret}\n\
                 ,,login,No TOTP,,,0,,kim,,\n"
            )
            .as_bytes(),
        ),
    );
    let bitwarden = json!({
        "encrypted": false,
        "folders": [{"id": "f1", "name": "Work"}],
        "items": [{"type": 1, "name": "Fuzz Org", "folderId": "f1", "favorite": true,
                   "login": {"username": "robin", "totp": uri}}]
    });
    put(
        &dir,
        "bitwarden-json",
        detect(bitwarden.to_string().as_bytes()),
    );
    let authy = format!(
        "<?xml version='1.0' encoding='utf-8' standalone='yes' ?>\n<map>\n    \
         <string name=\"com.authy.storage.tokens.authenticator.key\">{}</string>\n</map>\n",
        json!([{"decryptedSecret": secret, "name": "Fuzz Org: robin", "originalName": "robin",
                "originalIssuer": "Fuzz Org", "digits": 6}])
        .to_string()
        .replace('&', "&amp;")
        .replace('"', "&quot;")
    );
    put(&dir, "authy-prefs", detect(authy.as_bytes()));
    // The project's own encrypted exports (core/tests/import_generated, made by its make.py):
    // without a password the importer parses their headers and asks for one.
    let generated = root().join("../core/tests/import_generated");
    for name in [
        "aegis_encrypted.json",
        "andotp_encrypted.bin",
        "twofas_encrypted.2fas",
    ] {
        if let Ok(bytes) = fs::read(generated.join(name)) {
            put(&dir, name, detect(&bytes));
        }
    }
    // Images without a QR code: they exercise the PNG and JPEG decoders under the importer's
    // limits, then the detector.
    let picture =
        image::GrayImage::from_fn(48, 48, |x, y| image::Luma([((x * 5) ^ (y * 3)) as u8]));
    let mut png = std::io::Cursor::new(Vec::new());
    picture.write_to(&mut png, image::ImageFormat::Png).unwrap();
    put(&dir, "image.png", detect(png.get_ref()));
    let mut jpeg = std::io::Cursor::new(Vec::new());
    picture
        .write_to(&mut jpeg, image::ImageFormat::Jpeg)
        .unwrap();
    put(&dir, "image.jpg", detect(jpeg.get_ref()));
    // And one with a code, drawn by the core's export renderer (45 modules of 8 pixels, about
    // 3 KB): from it the fuzzer reaches rqrr's grid decoding and the URI reading behind it,
    // which a picture without a code leaves to chance.
    let code = authcore::qr_render::png(
        "otpauth://totp/Fuzz%20Org:robin?secret=KRUGKIDROVUWG2ZAMJZG653O&issuer=Fuzz%20Org",
    )
    .unwrap();
    put(&dir, "qr-code.png", detect(&code[..]));
    // Selector 1 forces the first format (URI list) on text that is not one.
    let mut forced = vec![1u8];
    forced.extend_from_slice(b"not a uri\n\xff\xfe\n");
    put(&dir, "forced-uri-list", forced);
}

/// Backups: a file under cheap Argon2id parameters with the target's password `fuzz` (the
/// target decrypts it), its payload as JSON, and the CLI's format-1 file (default parameters:
/// the target reads its header only).
fn backup_seeds() {
    use authcore::backup::{BackupKey, Payload, decrypt, encrypt};
    let dir = fresh("backup_read");
    let params = KdfParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };
    let payload = br#"{"format":"authcore-backup","version":1,"created_at":1764600000,"accounts":[
{"issuer":"Fuzz Org","label":"robin","type":"totp","algorithm":"SHA1","digits":6,"period":30,"secret":"KRUGKIDROVUWG2ZAMJZG653O","group":"work","note":"seed","extra_params":[["image","https://fuzz.test/i.png"]]},
{"issuer":"Counter Co","label":"pat","type":"hotp","algorithm":"SHA256","digits":8,"counter":3,"secret":"GEZDGNBVGY3TQOJQ","group":null,"note":null,"extra_params":[]},
{"issuer":"Steam","label":"gamer","type":"steam","algorithm":"SHA1","digits":5,"period":30,"secret":"MFRGGZDFMZTWQ2LK"}],
"reenroll":[{"issuer":"privacyIDEA","label":"PIPU0001","kind":"push","server":"https://push.fuzz.test","serial":"PIPU0001","has_code":false}]}"#;
    let accounts = Payload::from_json(payload).unwrap().new_accounts().unwrap();
    assert_eq!(accounts.len(), 3);
    put(&dir, "payload.json", payload);
    put(
        &dir,
        "payload-empty.json",
        br#"{"format":"authcore-backup","version":1,"created_at":0,"accounts":[]}"#,
    );
    let key = BackupKey::derive("fuzz", params).unwrap();
    let file = encrypt(&key, payload).unwrap();
    assert_eq!(&decrypt(&file, "fuzz").unwrap()[..], &payload[..]);
    put(&dir, "cheap.backup", &file);
    put(
        &dir,
        "cli-format1.backup",
        fs::read(root().join("../core/testdata/backup-format1.backup")).unwrap(),
    );
    println!("backup_read: 4 seeds");
}
