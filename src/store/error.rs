//! The store's error type: what was being done, on which database, and why.

use std::path::{Path, PathBuf};

/// A failure reading, writing or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{action} database {path}: {cause}{}", fix_for(cause))]
    Sqlite {
        action: &'static str,
        path: PathBuf,
        /// Not a `#[source]`: the message already says it, and an error
        /// chain printed whole would say it again.
        cause: rusqlite::Error,
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

    #[error(
        "migrating database {path} to schema version {version} ({file}) failed: {}{}. \
         The database was left unchanged at version {from}; free space or unlock it if that is \
         the reason, else restore a backup of the data directory or report this message",
        sqlite_message(cause),
        fix_for(cause)
    )]
    Migration {
        path: PathBuf,
        version: i64,
        file: &'static str,
        from: i64,
        /// Not a `#[source]`: the message already says it.
        cause: Box<rusqlite::Error>,
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

/// SQLite's own message: for a statement it could not run, rusqlite's would
/// repeat the whole migration file.
fn sqlite_message(cause: &rusqlite::Error) -> String {
    match cause {
        rusqlite::Error::SqlInputError { msg, .. } => msg.clone(),
        other => other.to_string(),
    }
}

impl StoreError {
    pub(crate) fn sqlite(action: &'static str, path: &Path, cause: rusqlite::Error) -> Self {
        StoreError::Sqlite {
            action,
            path: path.to_path_buf(),
            cause,
        }
    }

    /// Migration `migration` of the database at `path`, at version `from`,
    /// failed with `cause`.
    pub(crate) fn migration(
        path: &Path,
        migration: &super::migrate::Migration,
        from: i64,
        cause: rusqlite::Error,
    ) -> Self {
        StoreError::Migration {
            path: path.to_path_buf(),
            version: migration.version,
            file: migration.name,
            from,
            cause: Box::new(cause),
        }
    }

    /// True when the failure is another process holding a lock, a full disk
    /// or a read-only file: conditions that may clear without a restart.
    pub fn is_transient(&self) -> bool {
        let cause = match self {
            StoreError::Sqlite { cause, .. } => cause,
            StoreError::Migration { cause, .. } => cause.as_ref(),
            _ => return false,
        };
        let rusqlite::Error::SqliteFailure(err, _) = cause else {
            return false;
        };
        use rusqlite::ErrorCode::*;
        matches!(
            err.code,
            DatabaseBusy | DatabaseLocked | DiskFull | ReadOnly | CannotOpen | SystemIoFailure
        )
    }
}
