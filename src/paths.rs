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
    ///
    /// An existing directory that holds anything besides the gateway's own
    /// files is a shared one the operator pointed us at (`--data-dir /tmp`):
    /// its mode is not ours to change, on this run or any later one.
    /// Everything created inside it is private all the same.
    pub fn create(&self) -> io::Result<()> {
        let existed = self.root.exists();
        fs::create_dir_all(&self.root)?;
        if !existed || holds_only_ours(&self.root)? {
            restrict(&self.root, 0o700)?;
        }
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
        for dir in [self.logs(), self.outbox()] {
            restrict_tree(&dir)?;
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

/// What a data directory holds when nothing else shares it.
const OUR_ENTRIES: &[&str] = &[
    DATABASE_FILE,
    "gateway.db-wal",
    "gateway.db-shm",
    "gateway.db-journal",
    "config.toml",
    "logs",
    "outbox",
];

/// Whether `dir` holds nothing but [`OUR_ENTRIES`] (or nothing at all).
fn holds_only_ours(dir: &Path) -> io::Result<bool> {
    for entry in fs::read_dir(dir)? {
        let name = entry?.file_name();
        if !OUR_ENTRIES.iter().any(|ours| name == *ours) {
            return Ok(false);
        }
    }
    Ok(true)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Makes `dir` 0700 and, if it was looser, each file in it 0600: logs and
/// sent messages written by an older version, or copied in by hand. A dir
/// already private is not walked, so a large outbox costs nothing per run.
fn restrict_tree(dir: &Path) -> io::Result<()> {
    if !dir.is_dir() || !restrict(dir, 0o700)? {
        return Ok(());
    }
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_file() {
            restrict(&entry.path(), 0o600)?;
        }
    }
    Ok(())
}

/// Sets `path`'s permission bits to `mode`; returns whether they changed.
/// Leaves them alone when they already match: on a read-only file system a
/// private data dir then passes here, and commands that only read it work.
#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> io::Result<bool> {
    use std::os::unix::fs::PermissionsExt;
    if fs::metadata(path)?.permissions().mode() & 0o777 == mode {
        return Ok(false);
    }
    fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
    Ok(true)
}

#[cfg(not(unix))]
fn restrict(_path: &Path, _mode: u32) -> io::Result<bool> {
    Ok(false)
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_new_data_dir_is_private() {
        let parent = tempfile::tempdir().unwrap();
        let data = DataDir::locate(Some(&parent.path().join("data"))).unwrap();
        data.create().unwrap();
        assert_eq!(mode(data.root()), 0o700);
    }

    #[test]
    fn a_shared_directory_keeps_its_mode_even_once_it_holds_a_database() {
        let shared = tempfile::tempdir().unwrap();
        fs::set_permissions(shared.path(), fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(shared.path().join("someone-elses.txt"), b"").unwrap();
        let data = DataDir::locate(Some(shared.path())).unwrap();
        data.create().unwrap();
        fs::write(data.database(), b"").unwrap();
        data.create().unwrap();
        assert_eq!(mode(shared.path()), 0o755);
    }

    #[test]
    fn an_existing_empty_directory_is_made_private() {
        let empty = tempfile::tempdir().unwrap();
        fs::set_permissions(empty.path(), fs::Permissions::from_mode(0o755)).unwrap();
        DataDir::locate(Some(empty.path()))
            .unwrap()
            .create()
            .unwrap();
        assert_eq!(mode(empty.path()), 0o700);
    }

    #[test]
    fn an_existing_data_dir_with_a_database_is_made_private() {
        let existing = tempfile::tempdir().unwrap();
        fs::set_permissions(existing.path(), fs::Permissions::from_mode(0o755)).unwrap();
        let data = DataDir::locate(Some(existing.path())).unwrap();
        fs::write(data.database(), b"").unwrap();
        data.create().unwrap();
        assert_eq!(mode(existing.path()), 0o700);
        assert_eq!(mode(&data.database()), 0o600);
    }
}
