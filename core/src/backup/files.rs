//! Backup files on disk, written so that a crash at any point leaves either the previous state
//! or the complete new file: a temporary file in the same directory, written and fsynced, then
//! renamed into place, then the directory fsynced. Automatic backups are named
//! `authcore-<UTC time>[_NNN].backup` so that names sort by age (also as plain text); only after a new one is in place
//! are the oldest beyond the number to keep removed, so the last good backup is never lost.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::BackupError;
use crate::time::UnixTime;

const PREFIX: &str = "authcore-";
const SUFFIX: &str = ".backup";
const TEMP_PREFIX: &str = ".authcore-";
const TEMP_SUFFIX: &str = ".tmp";
/// A temporary file this old was left by a writer that died; younger ones may be another
/// process's write in progress.
const STALE_TEMP: Duration = Duration::from_secs(3600);

/// Writes `bytes` to `path` atomically (the file is either the old one or the complete new one).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), BackupError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("backup");
    let temp = dir.join(format!(
        "{TEMP_PREFIX}{name}-{}-{}{TEMP_SUFFIX}",
        std::process::id(),
        random_tag()?
    ));
    let result = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| BackupError::io(&temp, &e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| BackupError::io(&temp, &e))?;
        drop(file);
        fs::rename(&temp, path).map_err(|e| BackupError::io(path, &e))?;
        crate::vault::files::sync_parent(path).map_err(|e| BackupError::io(&dir, &e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

fn random_tag() -> Result<String, BackupError> {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 6];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| BackupError::Random)?;
    Ok(data_encoding::HEXLOWER.encode(&bytes))
}

/// The directory automatic backups go to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupDir {
    path: PathBuf,
}

/// A backup just written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenBackup {
    pub path: PathBuf,
    /// Older backups removed to keep the number asked for.
    pub removed: Vec<PathBuf>,
}

impl BackupDir {
    /// `path` must be an existing directory (named in full: it is stored and used from any
    /// working directory).
    pub fn new(path: &Path) -> Result<Self, BackupError> {
        if !path.is_absolute() {
            return Err(BackupError::BadSetting {
                reason: format!("dir {} is not an absolute path", path.display()),
            });
        }
        match fs::metadata(path) {
            Ok(m) if m.is_dir() => Ok(BackupDir {
                path: path.to_path_buf(),
            }),
            Ok(_) => Err(BackupError::BadSetting {
                reason: format!("dir {} is not a directory", path.display()),
            }),
            Err(e) => Err(BackupError::BadSetting {
                reason: format!("dir {}: {e}", path.display()),
            }),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every complete automatic backup here, oldest first.
    pub fn backups(&self) -> Result<Vec<PathBuf>, BackupError> {
        let mut found: Vec<((String, u32), PathBuf)> = Vec::new();
        for entry in fs::read_dir(&self.path).map_err(|e| BackupError::io(&self.path, &e))? {
            let entry = entry.map_err(|e| BackupError::io(&self.path, &e))?;
            let name = entry.file_name();
            if let Some(key) = name.to_str().and_then(sort_key) {
                found.push((key, entry.path()));
            }
        }
        found.sort();
        Ok(found.into_iter().map(|(_, p)| p).collect())
    }

    /// Writes a new backup stamped `at` (Unix seconds), then removes the oldest so that at most
    /// `keep` remain (never the new one).
    pub fn write(
        &self,
        bytes: &[u8],
        at: UnixTime,
        keep: usize,
    ) -> Result<WrittenBackup, BackupError> {
        self.remove_stale_temps();
        let stamp = stamp(at);
        // After the newest of the same second, not in the first free slot: once older ones of
        // that second are removed, a free slot would sort the new backup as the oldest.
        let last = self
            .backups()?
            .iter()
            .filter_map(|p| p.file_name()?.to_str().and_then(sort_key))
            .filter(|(s, _)| *s == stamp)
            .map(|(_, n)| n)
            .max();
        let mut n = last.map_or(1, |n| n + 1);
        let name = |n: u32| match n {
            1 => format!("{PREFIX}{stamp}{SUFFIX}"),
            n => format!("{PREFIX}{stamp}_{n:03}{SUFFIX}"),
        };
        let mut path = self.path.join(name(n));
        while path.exists() {
            n += 1;
            path = self.path.join(name(n));
        }
        write_atomically(&path, bytes)?;
        let mut removed = Vec::new();
        let others: Vec<PathBuf> = self.backups()?.into_iter().filter(|p| *p != path).collect();
        let excess = (others.len() + 1).saturating_sub(keep.max(1));
        for old in others.into_iter().take(excess) {
            fs::remove_file(&old).map_err(|e| BackupError::io(&old, &e))?;
            removed.push(old);
        }
        Ok(WrittenBackup { path, removed })
    }

    fn remove_stale_temps(&self) {
        let Ok(entries) = fs::read_dir(&self.path) else {
            return;
        };
        let now = SystemTime::now();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
                continue;
            }
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age > STALE_TEMP);
            if old {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

/// `20261201T144036Z` for `at` (the epoch's stamp for a clock set before 1970, which humantime
/// cannot format).
fn stamp(at: UnixTime) -> String {
    at.rfc3339_seconds().replace(['-', ':'], "")
}

/// How an automatic backup's name sorts: its time stamp, then its collision number.
fn sort_key(name: &str) -> Option<(String, u32)> {
    let core = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    let (stamp, n) = match core.split_once('_') {
        Some((stamp, n)) => (stamp, n.parse().ok()?),
        None => (core, 1),
    };
    let ok = stamp.len() == 16
        && stamp.ends_with('Z')
        && stamp.as_bytes()[8] == b'T'
        && stamp
            .bytes()
            .enumerate()
            .all(|(i, b)| i == 8 || i == 15 || b.is_ascii_digit());
    ok.then(|| (stamp.to_owned(), n))
}
