//! Ente Auth exports: plain text (otpauth URIs with Ente's `codeDisplay`), and the encrypted
//! JSON (`kdfParams` for Argon2id, libsodium's secretstream XChaCha20-Poly1305 with the
//! 24-byte header in `encryptionNonce`; one message, tagged MESSAGE rather than FINAL).

use serde_json::Value;

use super::crypto;
use super::entry::Sink;
use super::{ImportError, uris};

pub(crate) fn read(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    if bytes.trim_ascii_start().first() != Some(&b'{') {
        return uris::read_list(bytes, sink);
    }
    let file: Value =
        serde_json::from_slice(bytes).map_err(|e| sink.damaged("JSON", e.to_string()))?;
    if let Some(version) = file["version"].as_u64()
        && version != 1
    {
        return Err(ImportError::Refused {
            format: sink.format,
            reason: format!("export version {version} is not 1, the only one known"),
        });
    }
    let password = password.ok_or_else(|| sink.password_needed())?;
    let kdf = &file["kdfParams"];
    let b64 = |v: &Value, part: &str| {
        let text = v.as_str().ok_or_else(|| sink.damaged(part, "missing"))?;
        data_encoding::BASE64
            .decode(text.trim().as_bytes())
            .map_err(|_| sink.damaged(part, "not base64"))
    };
    let salt = b64(&kdf["salt"], "kdfParams.salt")?;
    let mem = kdf["memLimit"]
        .as_u64()
        .ok_or_else(|| sink.damaged("kdfParams.memLimit", "missing"))?;
    let ops = kdf["opsLimit"]
        .as_u64()
        .ok_or_else(|| sink.damaged("kdfParams.opsLimit", "missing"))?;
    let header = b64(&file["encryptionNonce"], "encryptionNonce")?;
    let data = b64(&file["encryptedData"], "encryptedData")?;
    // libsodium's crypto_pwhash: memLimit in bytes, one lane.
    let key = crypto::argon2id(
        sink.format,
        password.as_bytes(),
        &salt,
        mem / 1024,
        ops,
        1,
        32,
    )?;
    let plain =
        crypto::secretstream_open(&key, &header, &data).ok_or_else(|| sink.wrong_password())?;
    uris::read_list(&plain, sink)
}
