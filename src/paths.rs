//! Where the gateway keeps its files: one data directory holding the
//! database, config, logs and outbox.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::store::DATABASE_FILE;

/// The data directory and the files inside it.
#[derive(Clone, Debug)]
pub struct DataDir {
    root: PathBuf,
}

impl DataDir {
    /// `explicit` if given (from `--data-dir` or `CONTACTCMD_DATA_DIR`),
    /// otherwise the platform's data directory for contactcmd.
    pub fn locate(explicit: Option<&Path>) -> io::Result<DataDir> {
        let root = match explicit {
            Some(dir) => dir.to_path_buf(),
            None => directories::ProjectDirs::from("", "", "contactcmd")
                .map(|dirs| dirs.data_dir().to_path_buf())
                .ok_or_else(|| {
                    io::Error::new(
                        io::ErrorKind::NotFound,
                        "no home directory found: pass --data-dir or set CONTACTCMD_DATA_DIR",
                    )
                })?,
        };
        Ok(DataDir { root })
    }

    /// Creates the directory if it does not exist yet, and makes it and the
    /// files in it private to their owner (they may predate this version).
    pub fn create(&self) -> io::Result<()> {
        fs::create_dir_all(&self.root)?;
        restrict(&self.root, 0o700)?;
        for file in [self.database(), self.config()] {
            for path in [
                file.clone(),
                with_suffix(&file, "-wal"),
                with_suffix(&file, "-shm"),
            ] {
                if path.exists() {
                    restrict(&path, 0o600)?;
                }
            }
        }
        Ok(())
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn database(&self) -> PathBuf {
        self.root.join(DATABASE_FILE)
    }

    pub fn config(&self) -> PathBuf {
        self.root.join("config.toml")
    }

    pub fn logs(&self) -> PathBuf {
        self.root.join("logs")
    }

    pub fn outbox(&self) -> PathBuf {
        self.root.join("outbox")
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> io::Result<()> {
    Ok(())
}
