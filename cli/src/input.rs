//! The caller's text: standard input and files, read whole and bounded. Text that is not UTF-8
//! is the caller's mistake (exit 2) saying where it stops being text, not a failure.

use std::io::{self, Read};

use zeroize::{Zeroize, Zeroizing};

use crate::CliError;

/// More than this from standard input or a file is refused: it is no list of URIs or
/// notification a person or script means to pass.
const MAX_INPUT_BYTES: u64 = 16 * 1024 * 1024;

/// Standard input, whole. `what` names it in errors ("standard input"). Zeroized on drop: it
/// may hold secrets (otpauth URIs).
pub fn stdin_text(what: &str) -> Result<Zeroizing<String>, CliError> {
    let mut bytes = Zeroizing::new(Vec::new());
    io::stdin()
        .lock()
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| CliError::Failed(format!("cannot read {what}: {e}")))?;
    checked(what, bytes)
}

/// A file the caller named, whole; a missing or unreadable file is their mistake too.
pub fn file_text(path: &str, what: &str) -> Result<Zeroizing<String>, CliError> {
    let mut bytes = Zeroizing::new(Vec::new());
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_INPUT_BYTES + 1).read_to_end(&mut bytes))
        .map_err(|e| CliError::BadInput(format!("{what} {path}: {e}")))?;
    checked(&format!("{what} {path}"), bytes)
}

/// The first line of standard input without its line end (a password).
pub fn stdin_line(what: &str) -> Result<Zeroizing<String>, CliError> {
    let mut bytes = Zeroizing::new(Vec::new());
    let mut byte = [0u8; 1];
    let mut stdin = io::stdin().lock();
    loop {
        match stdin.read(&mut byte) {
            Ok(0) => break,
            Ok(_) if byte[0] == b'\n' => break,
            Ok(_) => bytes.push(byte[0]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CliError::Failed(format!("cannot read {what}: {e}"))),
        }
        if bytes.len() as u64 > MAX_INPUT_BYTES {
            return Err(too_long(what));
        }
    }
    byte.zeroize();
    if bytes.last() == Some(&b'\r') {
        bytes.pop();
    }
    utf8(what, std::mem::take(&mut *bytes))
}

fn checked(what: &str, mut bytes: Zeroizing<Vec<u8>>) -> Result<Zeroizing<String>, CliError> {
    if bytes.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_long(what));
    }
    utf8(what, std::mem::take(&mut *bytes))
}

fn too_long(what: &str) -> CliError {
    CliError::BadInput(format!(
        "{what}: more than {} MiB",
        MAX_INPUT_BYTES / (1024 * 1024)
    ))
}

fn utf8(what: &str, bytes: Vec<u8>) -> Result<Zeroizing<String>, CliError> {
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Zeroizing::new(text)),
        Err(e) => {
            let at = e.utf8_error().valid_up_to();
            e.into_bytes().zeroize();
            Err(CliError::BadInput(format!(
                "{what}: not UTF-8 text (byte {})",
                at + 1
            )))
        }
    }
}
