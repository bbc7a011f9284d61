//! Putting a newly made file (a vault, a key file) at its path all at once.
//!
//! The file is built under a draft name beside its final path, synced, and then hard-linked to
//! the final name, which fails if that name exists. A crash at any instant therefore leaves
//! either no file at the path or the complete one, never a half-made file that would block the
//! next attempt, and an existing file is never replaced.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The name a file is built under before it is put at `path`.
pub fn draft_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".creating");
    PathBuf::from(name)
}

/// Removes a SQLite database and its companion files. Best effort: each may not exist, and
/// whatever stays behind is only a draft that the next attempt removes again.
pub fn remove_sqlite_files(path: &Path) {
    for suffix in ["", "-journal", "-wal", "-shm"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        let _ = fs::remove_file(PathBuf::from(name));
    }
}

/// Syncs `draft` and makes it appear at `path`; fails with `AlreadyExists` if `path` exists.
/// The draft name may remain as a second link; the caller removes it.
pub fn place(draft: &Path, path: &Path) -> io::Result<()> {
    File::open(draft)?.sync_all()?;
    match fs::hard_link(draft, path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(e),
        // A file system without hard links (FAT, some network mounts): rename after a check,
        // which only another process creating the same file at the same instant could defeat.
        Err(_) => {
            if path.exists() {
                return Err(io::ErrorKind::AlreadyExists.into());
            }
            fs::rename(draft, path)?;
        }
    }
    sync_parent(path)
}

/// Makes the new directory entry itself durable, not only the file's bytes (also for backups).
#[cfg(unix)]
pub(crate) fn sync_parent(path: &Path) -> io::Result<()> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(parent)?.sync_all()
}

#[cfg(not(unix))]
pub(crate) fn sync_parent(_path: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_once_and_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (path, draft) = (dir.path().join("f"), draft_path(&dir.path().join("f")));
        fs::write(&draft, b"first").unwrap();
        place(&draft, &path).unwrap();
        fs::write(dir.path().join("g"), b"second").unwrap();
        let err = place(&dir.path().join("g"), &path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&path).unwrap(), b"first");
    }
}
