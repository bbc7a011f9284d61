//! FreeOTP: FreeOTP+ JSON exports, the v1 `tokens.xml` shared preferences (also FreeOTP+'s
//! internal file), and v2 backups (a Java-serialized `HashMap<String, String>` whose
//! `masterKey` is wrapped by PBKDF2-HMAC-SHA512 + AES-GCM and whose token keys are wrapped by
//! the master key, each with its `mToken` as associated data). Secrets are signed-byte arrays;
//! v1 and FreeOTP+ store HOTP counters as the counter minus one, v2 backups the counter itself.

use serde_json::Value;

use super::crypto;
use super::entry::{Draft, SecretIn, Sink};
use super::{ImportError, prefs};
use crate::secret::Secret;

/// `[-28, 110, ...]` as bytes; `None` unless every element is a byte.
fn signed_bytes(value: &Value) -> Option<Vec<u8>> {
    value
        .as_array()?
        .iter()
        .map(|b| {
            b.as_i64()
                .and_then(|b| i8::try_from(b).ok())
                .map(|b| b as u8)
        })
        .collect()
}

/// A token; `order` from `tokenOrder`. `minus_one`: the file stores HOTP counters as the
/// counter minus one (v1 and FreeOTP+; v2 backups store the counter itself).
fn add_token(
    token: &Value,
    secret: SecretIn,
    order: Option<i64>,
    minus_one: bool,
    sink: &mut Sink,
) {
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    let mut issuer = text(&token["issuerExt"]);
    if issuer.is_empty() {
        issuer = text(&token["issuerInt"]);
    }
    let otp_type = text(&token["type"]).to_ascii_lowercase();
    let counter = token["counter"].as_i64().map(|c| {
        if otp_type == "hotp" && minus_one {
            c.saturating_add(1)
        } else {
            c
        }
    });
    // FreeOTP+ writes Steam accounts as TOTP with issuer Steam and 5 digits.
    let otp_type = if otp_type == "totp" && issuer == "Steam" && token["digits"].as_i64() == Some(5)
    {
        "steam".to_owned()
    } else {
        otp_type
    };
    if token.get("image").is_some_and(|i| !i.is_null()) {
        sink.dropped.icons += 1;
    }
    sink.add(Draft {
        issuer,
        label: text(&token["label"]),
        otp_type,
        algorithm: token["algo"].as_str().map(str::to_owned),
        digits: token["digits"].as_i64(),
        period: token["period"].as_i64(),
        counter,
        secret,
        order,
        ..Draft::default()
    });
}

fn token_id(token: &Value) -> String {
    let issuer = token["issuerInt"]
        .as_str()
        .or(token["issuerExt"].as_str())
        .unwrap_or("");
    let label = token["label"].as_str().unwrap_or("");
    if issuer.is_empty() {
        label.to_owned()
    } else {
        format!("{issuer}:{label}")
    }
}

fn position_in(order: &[String], token: &Value) -> Option<i64> {
    let id = token_id(token);
    order.iter().position(|o| *o == id).map(|p| p as i64)
}

pub(crate) fn read_plus(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let file: Value =
        serde_json::from_slice(bytes).map_err(|e| sink.damaged("JSON", e.to_string()))?;
    let order: Vec<String> = file["tokenOrder"]
        .as_array()
        .map(|o| {
            o.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let tokens = file["tokens"]
        .as_array()
        .ok_or_else(|| sink.damaged("tokens", "missing"))?;
    for token in tokens {
        let secret = signed_bytes(&token["secret"])
            .map_or(SecretIn::Missing, |b| SecretIn::Bytes(Secret::new(b)));
        add_token(token, secret, position_in(&order, token), true, sink);
    }
    Ok(())
}

pub(crate) fn read_v1_xml(bytes: &[u8], sink: &mut Sink) -> Result<(), ImportError> {
    let map = prefs::parse(bytes, sink)?;
    let order: Vec<String> = map
        .iter()
        .find(|(k, _)| k == "tokenOrder")
        .and_then(|(_, v)| serde_json::from_str(v).ok())
        .unwrap_or_default();
    for (name, value) in &map {
        if name == "tokenOrder" {
            continue;
        }
        let token: Value = serde_json::from_str(value)
            .map_err(|e| sink.damaged(format!("token '{name}'"), e.to_string()))?;
        let secret = signed_bytes(&token["secret"])
            .map_or(SecretIn::Missing, |b| SecretIn::Bytes(Secret::new(b)));
        add_token(&token, secret, position_in(&order, &token), true, sink);
    }
    Ok(())
}

pub(crate) const JAVA_MAGIC: &[u8] = &[0xAC, 0xED, 0x00, 0x05];

pub(crate) fn read_backup(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let map =
        java::read_string_map(bytes).map_err(|reason| sink.damaged("serialized map", reason))?;
    let get = |k: &str| {
        map.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.as_str())
    };
    let master_json = get("masterKey").ok_or_else(|| sink.damaged("masterKey", "missing"))?;
    let master: Value =
        serde_json::from_str(master_json).map_err(|e| sink.damaged("masterKey", e.to_string()))?;
    let password = password.ok_or_else(|| sink.password_needed())?;
    let hash = match master["mAlgorithm"].as_str().unwrap_or("") {
        "PBKDF2withHmacSHA512" => crypto::Hash::Sha512,
        "PBKDF2withHmacSHA256" => crypto::Hash::Sha256,
        "PBKDF2withHmacSHA1" => crypto::Hash::Sha1,
        other => {
            return Err(sink.damaged(
                "masterKey.mAlgorithm",
                format!(
                    "'{}' is not a PBKDF2 known here",
                    other.chars().take(32).collect::<String>()
                ),
            ));
        }
    };
    let iterations = master["mIterations"]
        .as_u64()
        .ok_or_else(|| sink.damaged("masterKey.mIterations", "missing"))?;
    let salt =
        signed_bytes(&master["mSalt"]).ok_or_else(|| sink.damaged("masterKey.mSalt", "missing"))?;
    let derived = crypto::pbkdf2(
        sink.format,
        hash,
        password.as_bytes(),
        &salt,
        iterations,
        32,
    )?;
    let master_key = open_wrapped(&master["mEncryptedKey"], &derived, "masterKey", sink)?
        .ok_or_else(|| sink.wrong_password())?;
    let mut uuids: Vec<&str> = map
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "masterKey" && !k.ends_with("-token"))
        .collect();
    uuids.sort_unstable();
    for uuid in uuids {
        let meta_text = get(&format!("{uuid}-token")).unwrap_or("{}");
        let meta: Value = serde_json::from_str(meta_text)
            .map_err(|e| sink.damaged(format!("token {uuid}"), e.to_string()))?;
        let wrapper: Value = serde_json::from_str(get(uuid).unwrap_or(""))
            .map_err(|e| sink.damaged(format!("key {uuid}"), e.to_string()))?;
        let key_json: Value = wrapper["key"]
            .as_str()
            .and_then(|k| serde_json::from_str(k).ok())
            .ok_or_else(|| sink.damaged(format!("key {uuid}"), "no wrapped key"))?;
        let secret = match open_wrapped(&key_json, &master_key, &format!("key {uuid}"), sink)? {
            Some(k) => SecretIn::Bytes(Secret::from_slice(&k)),
            None => SecretIn::Missing,
        };
        add_token(&meta, secret, None, false, sink);
    }
    Ok(())
}

/// An `EncryptedKey` JSON (mCipherText, mParameters as DER GCMParameters, mToken as AAD).
fn open_wrapped(
    wrapped: &Value,
    key: &[u8],
    part: &str,
    sink: &Sink,
) -> Result<Option<crypto::Key>, ImportError> {
    let sealed =
        signed_bytes(&wrapped["mCipherText"]).ok_or_else(|| sink.damaged(part, "no ciphertext"))?;
    let params = signed_bytes(&wrapped["mParameters"])
        .ok_or_else(|| sink.damaged(part, "no GCM parameters"))?;
    // DER: SEQUENCE { OCTET STRING nonce, INTEGER tag length }; older Androids write the
    // OCTET STRING alone.
    let nonce = match params.as_slice() {
        [0x30, _, 0x04, len, rest @ ..] | [0x04, len, rest @ ..]
            if rest.len() >= usize::from(*len) =>
        {
            &rest[..usize::from(*len)]
        }
        _ => return Err(sink.damaged(part, "GCM parameters are not DER")),
    };
    let aad = wrapped["mToken"].as_str().unwrap_or("");
    Ok(crypto::aes_gcm_open(key, nonce, aad.as_bytes(), &sealed))
}

/// Just enough of Java's serialization stream for a `HashMap<String, String>`.
mod java {
    const TC_NULL: u8 = 0x70;
    const TC_REFERENCE: u8 = 0x71;
    const TC_CLASSDESC: u8 = 0x72;
    const TC_OBJECT: u8 = 0x73;
    const TC_STRING: u8 = 0x74;
    const TC_BLOCKDATA: u8 = 0x77;
    const TC_ENDBLOCKDATA: u8 = 0x78;
    const TC_LONGSTRING: u8 = 0x7C;
    const BASE_HANDLE: u32 = 0x7E_0000;

    struct Reader<'a> {
        bytes: &'a [u8],
        at: usize,
        /// Objects by handle; only strings have a value.
        handles: Vec<Option<String>>,
    }

    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
            let end = self.at.checked_add(n).filter(|e| *e <= self.bytes.len());
            let end = end.ok_or_else(|| format!("ends early at byte {}", self.at))?;
            let out = &self.bytes[self.at..end];
            self.at = end;
            Ok(out)
        }
        fn u8(&mut self) -> Result<u8, String> {
            Ok(self.take(1)?[0])
        }
        fn u16(&mut self) -> Result<u16, String> {
            let b = self.take(2)?;
            Ok(u16::from_be_bytes([b[0], b[1]]))
        }
        fn u32(&mut self) -> Result<u32, String> {
            let b = self.take(4)?;
            Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        }
        fn utf(&mut self, len: usize) -> Result<String, String> {
            let b = self.take(len)?;
            // Modified UTF-8 differs from UTF-8 only for NUL and astral characters.
            String::from_utf8(b.to_vec())
                .map_err(|_| format!("a string before byte {} is not UTF-8", self.at))
        }
        fn string_body(&mut self, long: bool) -> Result<String, String> {
            let len = if long {
                let b = self.take(8)?;
                usize::try_from(u64::from_be_bytes([
                    b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7],
                ]))
                .map_err(|_| "a string is too long".to_owned())?
            } else {
                usize::from(self.u16()?)
            };
            let s = self.utf(len)?;
            self.handles.push(Some(s.clone()));
            Ok(s)
        }
        fn string(&mut self) -> Result<String, String> {
            match self.u8()? {
                TC_STRING => self.string_body(false),
                TC_LONGSTRING => self.string_body(true),
                TC_REFERENCE => {
                    let handle = self.u32()?;
                    handle
                        .checked_sub(BASE_HANDLE)
                        .and_then(|i| self.handles.get(i as usize).cloned().flatten())
                        .ok_or_else(|| {
                            format!("a reference at byte {} is not to a string", self.at)
                        })
                }
                other => Err(format!(
                    "expected a string at byte {}, found 0x{other:02x}",
                    self.at
                )),
            }
        }
        fn class_desc(&mut self) -> Result<Vec<u8>, String> {
            if self.u8()? != TC_CLASSDESC {
                return Err("not a class description".into());
            }
            let name_len = usize::from(self.u16()?);
            let name = self.utf(name_len)?;
            if name != "java.util.HashMap" {
                return Err(format!(
                    "holds a {}, not a java.util.HashMap",
                    name.chars().take(40).collect::<String>()
                ));
            }
            self.take(8)?; // serialVersionUID
            self.handles.push(None);
            self.u8()?; // flags
            let count = self.u16()?;
            let mut types = Vec::new();
            for _ in 0..count {
                let code = self.u8()?;
                let len = usize::from(self.u16()?);
                self.take(len)?;
                if code == b'L' || code == b'[' {
                    self.string()?;
                }
                types.push(code);
            }
            // Class annotations end, then the superclass (none).
            if self.u8()? != TC_ENDBLOCKDATA || self.u8()? != TC_NULL {
                return Err("unexpected class annotations or superclass".into());
            }
            Ok(types)
        }
    }

    pub fn read_string_map(bytes: &[u8]) -> Result<Vec<(String, String)>, String> {
        let mut r = Reader {
            bytes,
            at: 0,
            handles: Vec::new(),
        };
        if r.take(4)? != super::JAVA_MAGIC {
            return Err("not a Java serialization stream".into());
        }
        if r.u8()? != TC_OBJECT {
            return Err("does not start with an object".into());
        }
        let fields = r.class_desc()?;
        r.handles.push(None); // the map itself
        for code in fields {
            let size = match code {
                b'B' | b'Z' => 1,
                b'C' | b'S' => 2,
                b'F' | b'I' => 4,
                b'D' | b'J' => 8,
                _ => return Err("the map has an object field".into()),
            };
            r.take(size)?;
        }
        if r.u8()? != TC_BLOCKDATA {
            return Err("no capacity and size block".into());
        }
        let len = usize::from(r.u8()?);
        r.take(len)?;
        let mut out = Vec::new();
        loop {
            if r.bytes.get(r.at) == Some(&TC_ENDBLOCKDATA) {
                break;
            }
            if out.len() > 100_000 {
                return Err("too many entries".into());
            }
            let key = r.string()?;
            let value = r.string()?;
            out.push((key, value));
        }
        Ok(out)
    }
}
