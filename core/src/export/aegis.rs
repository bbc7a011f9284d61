//! Aegis's vault file (`docs/vault.md` of Aegis), as Aegis itself writes it: `version` 1, a
//! `header` (`slots` and `params` null when plain), and `db` content version 3 (`entries` with
//! `groups` by UUID, and `groups`). Encrypted: a random 256-bit master key seals the content
//! JSON with AES-256-GCM (`db` is the base64 ciphertext, the nonce and tag in `header.params`);
//! one password slot (type 1) wraps the master key with AES-256-GCM under
//! scrypt(password, random 32-byte salt, N = 2^15, r = 8, p = 1), the nonce and tag in
//! `key_params`. AES-GCM from ring, scrypt from RustCrypto; the JSON holding secrets is written
//! into zeroized buffers only.

use serde::Serialize;
use zeroize::Zeroizing;

use super::ExportError;
use crate::account::OtpCredential;
use crate::otp::{Algorithm, OtpKind};
use crate::secret_buffer::SecretBuffer;

/// One account to export; `uuid` is the entry's (the account id serves: a random UUID v4).
pub struct AegisEntry<'a> {
    pub uuid: &'a str,
    pub issuer: &'a str,
    pub label: &'a str,
    pub otp: &'a OtpCredential,
    pub group: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Aegis's scrypt cost for password slots: N = 2^15, r = 8, p = 1.
const LOG_N: u8 = 15;
const R: u32 = 8;
const P: u32 = 1;

#[derive(Serialize)]
struct File<'a, D: Serialize> {
    version: u32,
    header: Header,
    db: &'a D,
}

#[derive(Serialize)]
struct Header {
    slots: Option<Vec<Slot>>,
    params: Option<Sealed>,
}

#[derive(Serialize)]
struct Sealed {
    nonce: String,
    tag: String,
}

#[derive(Serialize)]
struct Slot {
    #[serde(rename = "type")]
    kind: u8,
    uuid: String,
    key: String,
    key_params: Sealed,
    n: u64,
    r: u32,
    p: u32,
    salt: String,
    repaired: bool,
    is_backup: bool,
}

#[derive(Serialize)]
struct Db<'a> {
    version: u32,
    entries: Vec<Entry<'a>>,
    groups: &'a [Group<'a>],
    icons_optimized: bool,
}

#[derive(Serialize)]
struct Group<'a> {
    uuid: String,
    name: &'a str,
}

#[derive(Serialize)]
struct Entry<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    uuid: &'a str,
    name: &'a str,
    issuer: &'a str,
    note: &'a str,
    favorite: bool,
    icon: Option<()>,
    icon_mime: Option<()>,
    icon_hash: Option<()>,
    info: Info<'a>,
    groups: Vec<&'a str>,
}

#[derive(Serialize)]
struct Info<'a> {
    secret: &'a str,
    algo: &'static str,
    digits: u8,
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    counter: Option<u64>,
}

/// The vault file's text: plain when `password` is `None`, else encrypted as Aegis does.
/// Holds secrets (or a file only the password opens): zeroized on drop.
pub fn write(
    entries: &[AegisEntry<'_>],
    password: Option<&str>,
) -> Result<Zeroizing<String>, ExportError> {
    if password.is_some_and(str::is_empty) {
        return Err(ExportError::EmptyPassword);
    }
    let secrets: Vec<Zeroizing<String>> =
        entries.iter().map(|e| e.otp.secret.to_base32()).collect();
    let mut group_names: Vec<&str> = Vec::new();
    for name in entries.iter().filter_map(|e| e.group) {
        if !group_names.contains(&name) {
            group_names.push(name);
        }
    }
    let groups: Vec<Group<'_>> = group_names
        .iter()
        .map(|name| Group {
            uuid: uuid::Uuid::new_v4().hyphenated().to_string(),
            name,
        })
        .collect();
    let db = Db {
        version: 3,
        entries: entries
            .iter()
            .zip(&secrets)
            .map(|(e, secret)| entry(e, secret, &groups))
            .collect(),
        groups: &groups,
        icons_optimized: true,
    };
    let Some(password) = password else {
        return pretty(&File {
            version: 1,
            header: Header {
                slots: None,
                params: None,
            },
            db: &db,
        });
    };
    let mut content = compact(&db)?;
    let master = random::<32>()?;
    let params = seal(&*master, &mut content)?;
    let sealed_db = data_encoding::BASE64.encode(&content);
    let slot = password_slot(password, &*master)?;
    pretty(&File {
        version: 1,
        header: Header {
            slots: Some(vec![slot]),
            params: Some(params),
        },
        db: &sealed_db,
    })
}

fn entry<'a>(e: &AegisEntry<'a>, secret: &'a str, groups: &'a [Group<'a>]) -> Entry<'a> {
    let p = &e.otp.params;
    let (kind, period, counter) = match p.kind {
        OtpKind::Totp { period } => ("totp", Some(period), None),
        OtpKind::Hotp { counter } => ("hotp", None, Some(counter)),
        OtpKind::Steam { period } => ("steam", Some(period), None),
    };
    Entry {
        kind,
        uuid: e.uuid,
        name: e.label,
        issuer: e.issuer,
        note: e.note.unwrap_or(""),
        favorite: false,
        icon: None,
        icon_mime: None,
        icon_hash: None,
        info: Info {
            secret,
            algo: match p.algorithm {
                Algorithm::Sha1 => "SHA1",
                Algorithm::Sha256 => "SHA256",
                Algorithm::Sha512 => "SHA512",
            },
            digits: p.digits,
            period,
            counter,
        },
        groups: e
            .group
            .and_then(|name| groups.iter().find(|g| g.name == name))
            .map(|g| vec![g.uuid.as_str()])
            .unwrap_or_default(),
    }
}

fn password_slot(password: &str, master: &[u8]) -> Result<Slot, ExportError> {
    let salt = random::<32>()?;
    let params =
        scrypt::Params::new(LOG_N, R, P).map_err(|_| ExportError::Write { what: "scrypt" })?;
    let mut key = Zeroizing::new([0u8; 32]);
    scrypt::scrypt(password.as_bytes(), &*salt, &params, &mut *key)
        .map_err(|_| ExportError::Write { what: "scrypt" })?;
    let mut wrapped = Zeroizing::new(master.to_vec());
    let key_params = seal(&*key, &mut wrapped)?;
    Ok(Slot {
        kind: 1,
        uuid: uuid::Uuid::new_v4().hyphenated().to_string(),
        key: data_encoding::HEXLOWER.encode(&wrapped),
        key_params,
        n: 1 << LOG_N,
        r: R,
        p: P,
        salt: data_encoding::HEXLOWER.encode(&*salt),
        repaired: true,
        is_backup: false,
    })
}

/// AES-256-GCM in place with a random nonce and no associated data; returns the nonce and the
/// (separate) tag in hex, as Aegis stores them.
fn seal(key: &[u8], in_out: &mut Zeroizing<Vec<u8>>) -> Result<Sealed, ExportError> {
    use ring::aead::{AES_256_GCM, Aad, Nonce};
    let key = crate::vault::crypto::aead_key(&AES_256_GCM, key)
        .map_err(|_| ExportError::Write { what: "AES key" })?;
    let nonce = random::<12>()?;
    let tag = key
        .seal_in_place_separate_tag(Nonce::assume_unique_for_key(*nonce), Aad::empty(), in_out)
        .map_err(|_| ExportError::Write { what: "AES-GCM" })?;
    Ok(Sealed {
        nonce: data_encoding::HEXLOWER.encode(&*nonce),
        tag: data_encoding::HEXLOWER.encode(tag.as_ref()),
    })
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, ExportError> {
    use ring::rand::SecureRandom;
    let mut bytes = Zeroizing::new([0u8; N]);
    ring::rand::SystemRandom::new()
        .fill(&mut *bytes)
        .map_err(|_| ExportError::Random)?;
    Ok(bytes)
}

fn compact(value: &impl Serialize) -> Result<Zeroizing<Vec<u8>>, ExportError> {
    let mut out = SecretBuffer::with_capacity(4096);
    serde_json::to_writer(&mut out, value).map_err(|_| ExportError::Write { what: "JSON" })?;
    Ok(out.into_inner())
}

/// Indented by four spaces, as Aegis writes its files.
fn pretty(value: &impl Serialize) -> Result<Zeroizing<String>, ExportError> {
    let mut out = SecretBuffer::with_capacity(4096);
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
    value
        .serialize(&mut serializer)
        .map_err(|_| ExportError::Write { what: "JSON" })?;
    std::io::Write::write_all(&mut out, b"\n").map_err(|_| ExportError::Write { what: "JSON" })?;
    let mut bytes = out.into_inner();
    let text = String::from_utf8(std::mem::take(&mut *bytes))
        .map_err(|_| ExportError::Write { what: "UTF-8" })?;
    Ok(Zeroizing::new(text))
}

#[cfg(test)]
#[path = "aegis_tests.rs"]
mod tests;
