//! Searches memory dumps for the secrets `memory_subject` wrote to its needle file, for
//! `scripts/memory-check.sh`.
//!
//! `memory_scan NEEDLES OPEN_DUMP CLOSED_DUMP` prints one row per needle: how often it occurs
//! whole in each dump and, for `window` needles, how many of its 16-byte pieces (every 8 bytes,
//! and the last 16) occur, which finds a secret whose freed allocation had its first bytes
//! overwritten by the allocator's bookkeeping. It exits 1 unless every needle is found in the
//! dump taken while open (the scan can see) and none, whole or in pieces, after the close.
use std::process::ExitCode;

use memchr::memmem;

const PIECE: usize = 16;
const STRIDE: usize = 8;

struct Needle {
    name: String,
    bytes: Vec<u8>,
    pieces: Vec<Vec<u8>>,
}

/// What one dump holds of one needle.
struct Seen {
    whole: usize,
    pieces: usize,
}

impl Seen {
    fn found(&self) -> bool {
        self.whole > 0 || self.pieces > 0
    }

    fn show(&self, of: usize) -> String {
        match (self.whole, self.pieces) {
            (0, 0) => "no".to_owned(),
            (0, p) => format!("pieces {p}/{of}"),
            (w, _) => format!("yes ({w})"),
        }
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [needles, open, closed] = args.as_slice() else {
        eprintln!("usage: memory_scan NEEDLES OPEN_DUMP CLOSED_DUMP");
        return ExitCode::from(2);
    };
    match run(needles, open, closed) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("memory_scan: {e}");
            ExitCode::from(2)
        }
    }
}

fn run(needles: &str, open: &str, closed: &str) -> Result<bool, String> {
    let needles = read_needles(needles)?;
    if needles.is_empty() {
        return Err("the needle file is empty".into());
    }
    let open = std::fs::read(open).map_err(|e| format!("{open}: {e}"))?;
    let closed = std::fs::read(closed).map_err(|e| format!("{closed}: {e}"))?;
    println!(
        "dumps: open {} MiB, after close {} MiB",
        open.len() >> 20,
        closed.len() >> 20
    );
    let width = needles.iter().map(|n| n.name.len()).max().unwrap_or(0);
    println!(
        "{:width$}  {:>5}  {:>14}  {:>14}",
        "needle", "bytes", "found open", "after close"
    );
    let (mut blind, mut left) = (0, 0);
    for needle in &needles {
        let in_open = seen(&open, needle);
        let in_closed = seen(&closed, needle);
        blind += usize::from(!in_open.found());
        left += usize::from(in_closed.found());
        println!(
            "{:width$}  {:>5}  {:>14}  {:>14}",
            needle.name,
            needle.bytes.len(),
            in_open.show(needle.pieces.len()),
            in_closed.show(needle.pieces.len())
        );
    }
    println!(
        "{} needles: {} found open, {} found after close",
        needles.len(),
        needles.len() - blind,
        left
    );
    if blind > 0 {
        println!("FAIL: {blind} needle(s) not found while open: the scan cannot see them");
    }
    if left > 0 {
        println!("FAIL: {left} secret(s) still in memory after close");
    }
    Ok(blind == 0 && left == 0)
}

fn seen(dump: &[u8], needle: &Needle) -> Seen {
    Seen {
        whole: memmem::find_iter(dump, &needle.bytes).count(),
        pieces: needle
            .pieces
            .iter()
            .filter(|p| memmem::find(dump, p).is_some())
            .count(),
    }
}

fn read_needles(path: &str) -> Result<Vec<Needle>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .enumerate()
        .map(|(i, line)| {
            let bad = || format!("{path}: line {} is not NAME<TAB>MODE<TAB>HEX", i + 1);
            let mut fields = line.split('\t');
            let (Some(name), Some(mode), Some(hex), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(bad());
            };
            let bytes = data_encoding::HEXLOWER
                .decode(hex.as_bytes())
                .map_err(|_| bad())?;
            if bytes.len() < PIECE {
                return Err(format!("{path}: {name} is shorter than {PIECE} bytes"));
            }
            let pieces = match mode {
                "whole" => Vec::new(),
                "window" => {
                    let mut starts: Vec<usize> =
                        (0..=bytes.len() - PIECE).step_by(STRIDE).collect();
                    if starts.last() != Some(&(bytes.len() - PIECE)) {
                        starts.push(bytes.len() - PIECE);
                    }
                    starts
                        .iter()
                        .map(|&s| bytes[s..s + PIECE].to_vec())
                        .collect()
                }
                _ => return Err(bad()),
            };
            Ok(Needle {
                name: name.to_owned(),
                bytes,
                pieces,
            })
        })
        .collect()
}
