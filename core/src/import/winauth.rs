//! WinAuth's export: a zip (ZipCrypto when the user set a password, as WinAuth's export
//! offers) of one text file, `winauth-<date>.txt`, of otpauth URIs one a line; WinAuth adds its
//! own parameters (`icon`, `serial` for Battle.net), which the URI parser keeps or ignores.
//! WinAuth's unzipped text export is a plain URI list and is read as one.

use super::entry::Sink;
use super::{ImportError, archive, uris};

pub(crate) fn read(
    bytes: &[u8],
    password: Option<&str>,
    sink: &mut Sink,
) -> Result<(), ImportError> {
    let files = archive::text_files(
        bytes,
        password,
        |name| name.to_ascii_lowercase().ends_with(".txt"),
        sink,
    )?;
    if files.is_empty() {
        return Err(sink.damaged("zip archive", "it holds no .txt file"));
    }
    for file in &files {
        let lines: Vec<(usize, &str)> = file
            .text
            .lines()
            .enumerate()
            .map(|(i, l)| (i + 1, l))
            .collect();
        let unit = format!("{} line", file.name.chars().take(80).collect::<String>());
        uris::read_lines(&lines, &unit, sink)?;
    }
    Ok(())
}
