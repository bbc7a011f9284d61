//! Zip archives, read within bounds: WinAuth's export and Authenticator Plus's `Accounts.txt`
//! export are each a zip of one text file, encrypted with ZipCrypto (the traditional PKWARE
//! cipher) and deflated. The `zip` crate parses the archive, decrypts and inflates; here we
//! bound what it may cost (entry count, each file's inflated size and the total, a zip bomb
//! stopping at the bound rather than at its own claim) and turn its errors into the importer's.
//!
//! ZipCrypto checks a password against one byte of its header, so about one wrong password in
//! 256 passes that check; it then fails the deflate stream or the CRC-32, just as altered
//! bytes do. Such a failure is reported as damage naming the file, saying that a wrong
//! password can also be the cause (the format cannot tell the two apart).

use std::io::{Cursor, Read};

use zeroize::Zeroizing;

use super::ImportError;
use super::entry::Sink;

/// More files than any export holds (one), few enough to list cheaply.
pub const MAX_ENTRIES: usize = 64;
/// One file's inflated size: a text of otpauth URIs for thousands of accounts is under 1 MiB.
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// All files' inflated sizes together.
pub const MAX_TOTAL_BYTES: u64 = 8 * 1024 * 1024;

pub(crate) fn is_zip(bytes: &[u8]) -> bool {
    // A local file header, or the end-of-central-directory record of an empty archive.
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The entry count the end-of-central-directory record declares, read before the zip crate
/// parses (and allocates for) every central-directory entry. `None` when there is no such
/// record; `u16::MAX` means a zip64 archive, which no export needs.
fn declared_entries(bytes: &[u8]) -> Option<u16> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const EOCD_LEN: usize = 22;
    let last = bytes.len().checked_sub(EOCD_LEN)?;
    // The record ends the file, after a comment of at most 65 535 bytes.
    let first = last.saturating_sub(u16::MAX as usize);
    (first..=last).rev().find_map(|at| {
        let record = bytes.get(at..at + EOCD_LEN)?;
        record
            .starts_with(EOCD)
            .then(|| u16::from_le_bytes([record[10], record[11]]))
    })
}

fn open<'a>(
    bytes: &'a [u8],
    sink: &Sink,
) -> Result<zip::ZipArchive<Cursor<&'a [u8]>>, ImportError> {
    match declared_entries(bytes) {
        None => return Err(sink.damaged("zip archive", "no end-of-central-directory record")),
        Some(n) if usize::from(n) > MAX_ENTRIES => {
            return Err(sink.damaged(
                "zip archive",
                format!("it declares {n} files; at most {MAX_ENTRIES} are read"),
            ));
        }
        Some(_) => {}
    }
    zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| sink.damaged("zip archive", zip_reason(&e)))
}

/// The names of the archive's files, or `None` when it is not a readable zip (for detection).
pub(crate) fn names(bytes: &[u8]) -> Option<Vec<String>> {
    if declared_entries(bytes).is_none_or(|n| usize::from(n) > MAX_ENTRIES) {
        return None;
    }
    let archive = zip::ZipArchive::new(Cursor::new(bytes)).ok()?;
    if archive.len() > MAX_ENTRIES {
        return None;
    }
    Some(
        archive
            .file_names_raw()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect(),
    )
}

/// One file of the archive: its name and its text.
pub(crate) struct TextFile {
    pub name: String,
    pub text: Zeroizing<String>,
}

/// Every file (not directory) of the archive whose name `wanted` accepts, in archive order,
/// decrypted with `password` where encrypted and inflated within the bounds.
pub(crate) fn text_files(
    bytes: &[u8],
    password: Option<&str>,
    wanted: impl Fn(&str) -> bool,
    sink: &Sink,
) -> Result<Vec<TextFile>, ImportError> {
    let mut archive = open(bytes, sink)?;
    if archive.is_empty() {
        return Err(sink.damaged("zip archive", "it holds no file"));
    }
    if archive.len() > MAX_ENTRIES {
        return Err(sink.damaged(
            "zip archive",
            format!(
                "it holds {} files; at most {MAX_ENTRIES} are read",
                archive.len()
            ),
        ));
    }
    let mut out = Vec::new();
    let mut total: u64 = 0;
    for index in 0..archive.len() {
        let (name, encrypted, is_dir) = {
            let entry = archive
                .by_index_raw(index)
                .map_err(|e| sink.damaged(format!("zip file {}", index + 1), zip_reason(&e)))?;
            (
                String::from_utf8_lossy(entry.name_raw()).into_owned(),
                entry.encrypted(),
                entry.is_dir(),
            )
        };
        let shown: String = name.chars().take(80).collect();
        if is_dir || !wanted(&name) {
            continue;
        }
        let entry = match (encrypted, password) {
            (true, None) => return Err(sink.password_needed()),
            (true, Some(p)) => archive.by_index_decrypt(index, p.as_bytes()),
            (false, _) => archive.by_index(index),
        };
        let entry = entry.map_err(|e| match e {
            zip::result::ZipError::InvalidPassword => sink.wrong_password(),
            zip::result::ZipError::UnsupportedArchive(m)
                if m == zip::result::ZipError::PASSWORD_REQUIRED =>
            {
                sink.password_needed()
            }
            other => sink.damaged(format!("zip file {shown}"), zip_reason(&other)),
        })?;
        let limit = MAX_FILE_BYTES.min(MAX_TOTAL_BYTES - total);
        // Room for the size the archive declares (within the limit), so that an honest file
        // is read without reallocating, which would leave unzeroized copies behind.
        let room = entry.size().min(limit) + 1;
        let mut data = Zeroizing::new(Vec::with_capacity(usize::try_from(room).unwrap_or(0)));
        // One byte past the limit tells a file over it from one exactly at it.
        let read = entry.take(limit + 1).read_to_end(&mut data);
        if let Err(e) = read {
            return Err(sink.damaged(
                format!("zip file {shown}"),
                if encrypted {
                    DAMAGED_OR_WRONG.to_owned()
                } else {
                    format!("it does not inflate: {e}")
                },
            ));
        }
        let size = data.len() as u64;
        if size > limit {
            // Which bound it crossed: its own, or the whole archive's with the files before it.
            let what = if limit == MAX_FILE_BYTES {
                format!("it inflates to more than {limit} bytes")
            } else {
                format!(
                    "with the files before it, the archive inflates to more than {MAX_TOTAL_BYTES} bytes"
                )
            };
            return Err(sink.damaged(
                format!("zip file {shown}"),
                format!(
                    "{what} (files are read up to {MAX_FILE_BYTES} bytes, {MAX_TOTAL_BYTES} in all)"
                ),
            ));
        }
        total += size;
        let text = match String::from_utf8(std::mem::take(&mut *data)) {
            Ok(text) => Zeroizing::new(text),
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                // Zeroize what was decrypted before dropping it.
                drop(Zeroizing::new(e.into_bytes()));
                return Err(sink.damaged(
                    format!("zip file {shown}"),
                    if encrypted {
                        DAMAGED_OR_WRONG.to_owned()
                    } else {
                        format!("byte {}: the text is not UTF-8", valid + 1)
                    },
                ));
            }
        };
        out.push(TextFile { name, text });
    }
    Ok(out)
}

const DAMAGED_OR_WRONG: &str = "it does not decrypt and inflate to a text with its CRC-32: the file is altered, or the password is wrong (ZipCrypto lets about one wrong password in 256 past its check)";

/// The zip crate's reason, which names the structure at fault, never file contents.
fn zip_reason(e: &zip::result::ZipError) -> String {
    e.to_string().chars().take(160).collect()
}
