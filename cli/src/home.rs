//! Where the CLI keeps its vault: `--home`, else `AUTHCORE_HOME`, else the user's data directory
//! (`$XDG_DATA_HOME/authcore`, normally `~/.local/share/authcore`).

use std::fs;
use std::path::{Path, PathBuf};

pub const VAULT_FILE: &str = "vault.sqlite";
pub const KEY_FILE: &str = "desktop.key";

pub struct Home {
    pub dir: PathBuf,
}

impl Home {
    pub fn resolve(explicit: Option<PathBuf>) -> Result<Home, String> {
        let dir = match explicit {
            Some(dir) => dir,
            None => dirs::data_dir().map(|d| d.join("authcore")).ok_or(
                "no data directory is known for this user: pass --home DIR or set AUTHCORE_HOME",
            )?,
        };
        Ok(Home { dir })
    }

    /// Creates the directory (owner-only on Unix) if needed.
    pub fn ensure(&self) -> Result<(), String> {
        if !self.dir.exists() {
            fs::create_dir_all(&self.dir)
                .map_err(|e| format!("cannot create {}: {e}", self.dir.display()))?;
            restrict(&self.dir)?;
        }
        Ok(())
    }

    pub fn vault(&self) -> PathBuf {
        self.dir.join(VAULT_FILE)
    }

    pub fn key_file(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }
}

#[cfg(unix)]
fn restrict(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot restrict {}: {e}", dir.display()))
}

#[cfg(not(unix))]
fn restrict(_dir: &Path) -> Result<(), String> {
    Ok(())
}
