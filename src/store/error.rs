//! The store's error type: what was being done, on which database, and why.

use std::path::{Path, PathBuf};

/// A failure reading, writing or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{action} database {path}: {source}{}", fix_for(source))]
    Sqlite {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "database {path} has schema version {found}, but this contactcmd only knows up to \
         version {supported}: it was written by a newer contactcmd. Upgrade contactcmd, or \
         point --data-dir at another directory"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("the database writer for {path} has stopped")]
    WriterGone { path: PathBuf },
}

/// What an operator can do about a failure that is not the gateway's own,
/// appended to its message.
fn fix_for(source: &rusqlite::Error) -> &'static str {
    use rusqlite::ErrorCode::*;
    let rusqlite::Error::SqliteFailure(error, _) = source else {
        return "";
    };
    match error.code {
        DatabaseBusy | DatabaseLocked => {
            " (another program holds it locked; retry when that program is done with it)"
        }
        DiskFull => " (its disk is full; free some space and retry)",
        ReadOnly => " (it or its directory is read-only; make them writable and retry)",
        _ => "",
    }
}

impl StoreError {
    pub(crate) fn sqlite(action: &'static str, path: &Path, source: rusqlite::Error) -> Self {
        StoreError::Sqlite {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    /// True when the failure is another process holding a lock, a full disk
    /// or a read-only file: conditions that may clear without a restart.
    pub fn is_transient(&self) -> bool {
        let StoreError::Sqlite {
            source: rusqlite::Error::SqliteFailure(err, _),
            ..
        } = self
        else {
            return false;
        };
        use rusqlite::ErrorCode::*;
        matches!(
            err.code,
            DatabaseBusy | DatabaseLocked | DiskFull | ReadOnly | CannotOpen | SystemIoFailure
        )
    }
}
