//! SQLite persistence: opening and migrating the database, the group-commit
//! writer, and every SQL statement the gateway runs.

pub mod actions;
mod checkpoint;
pub mod deliveries;
pub mod dispatchers;
mod error;
pub mod keys;
mod migrate;
mod readers;
mod writer;

use std::path::{Path, PathBuf};

use rusqlite::Connection;
use tokio::runtime::RuntimeFlavor;

pub use actions::{ActionRow, HistoryFilter, NewActionRow, Transition};
pub use error::StoreError;
pub use keys::KeyRow;
pub use migrate::{latest_version, MIGRATIONS};

use checkpoint::Checkpointer;
use readers::ReaderPool;
use writer::{Isolation, Writer};

/// Name of the database file inside the data directory.
pub const DATABASE_FILE: &str = "gateway.db";

/// How long a statement waits for another process's lock before giving up.
const BUSY_TIMEOUT_MS: u32 = 5_000;

/// A migrated database with one writer thread and a pool of readers.
///
/// Writes are queued to the writer, which commits everything waiting in one
/// transaction (group commit); reads run on the caller's thread.
pub struct Store {
    path: PathBuf,
    writer: Writer,
    readers: ReaderPool,
    read_only: bool,
    _checkpointer: Checkpointer,
}

impl Store {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let mut conn = open_connection(path)?;
        migrate::apply(&mut conn, path)?;
        conn.pragma_update(
            None,
            "wal_autocheckpoint",
            checkpoint::WRITER_CHECKPOINT_PAGES,
        )
        .map_err(|source| StoreError::sqlite("configuring", path, source))?;
        // SQLite opens a file it may not write read-only, without an error.
        let read_only = conn
            .is_readonly(rusqlite::MAIN_DB)
            .map_err(|source| StoreError::sqlite("opening", path, source))?;
        let writer = Writer::start(conn, path)?;
        let readers = ReaderPool::new(path.to_path_buf());
        Ok(Store {
            path: path.to_path_buf(),
            writer,
            readers,
            read_only,
            _checkpointer: Checkpointer::start(path)?,
        })
    }

    /// Fails, naming the database, when this process can only read it (a
    /// read-only file system, say): for a process that is about to serve,
    /// which would otherwise start and refuse every write.
    pub fn require_writable(&self) -> Result<(), StoreError> {
        if !self.read_only {
            return Ok(());
        }
        let refused = rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_READONLY),
            Some("attempt to write a readonly database".into()),
        );
        Err(StoreError::sqlite(
            "opening for writing",
            &self.path,
            refused,
        ))
    }

    /// Path of the database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` inside the writer's transaction and returns its result
    /// once that transaction has committed.
    ///
    /// If `work` fails, its own changes are rolled back and the rest of the
    /// batch still commits.
    pub async fn write<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.writer.submit(Isolation::Savepoint, work).await
    }

    /// Like [`Store::write`], for `work` that changes the database with at
    /// most one statement (it may read before): SQLite undoes a failed
    /// statement by itself, so `work` runs without the savepoint that
    /// `write` opens around each job, which is cheaper.
    pub async fn write_statement<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.writer.submit(Isolation::SingleStatement, work).await
    }

    /// Runs `work` on a read-only connection on the calling thread.
    ///
    /// A read can wait up to the busy timeout for another program's lock:
    /// from async code, use [`Store::read_in_task`] instead.
    pub fn read<T>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        self.readers
            .with(|conn| work(conn))
            .map_err(|cause| StoreError::sqlite("reading", &self.path, cause))
    }

    /// [`Store::read`] for async code: on a worker thread of a
    /// multi-threaded tokio runtime the worker's other tasks are first
    /// handed to another thread, so a read stuck behind a lock holds up
    /// only its own task, never the server. The hand-off costs a thread
    /// switch, so hot paths avoid reads altogether.
    pub fn read_in_task<T>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let on_async_worker = tokio::runtime::Handle::try_current()
            .is_ok_and(|handle| handle.runtime_flavor() == RuntimeFlavor::MultiThread);
        if on_async_worker {
            tokio::task::block_in_place(|| self.read(work))
        } else {
            self.read(work)
        }
    }
}

/// Opens one connection with the pragmas every connection needs.
pub(crate) fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let conn =
        Connection::open(path).map_err(|source| StoreError::sqlite("opening", path, source))?;
    configure(&conn).map_err(|source| StoreError::sqlite("configuring", path, source))?;
    Ok(conn)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_millis(BUSY_TIMEOUT_MS.into()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    // WAL with synchronous=NORMAL: a commit survives the process being killed;
    // only a power loss can undo the last few commits.
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    keep_wal_files(conn)?;
    // Above any size the WAL reaches while serving (see `checkpoint`), so it
    // only makes the last connection to close leave an empty `-wal` file.
    conn.pragma_update(None, "journal_size_limit", KEPT_WAL_LIMIT_BYTES)?;
    Ok(())
}

/// A WAL grown past this is cut back to it when SQLite starts it over.
const KEPT_WAL_LIMIT_BYTES: i64 = 256 * 1024 * 1024;

/// Leaves the `-wal` and `-shm` files in place when the last connection
/// closes, instead of deleting them. SQLite cannot read a WAL-mode database
/// on a read-only file system unless they exist, so without them a data
/// dir that turned read-only could not even be listed.
fn keep_wal_files(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::ffi;
    let mut keep: std::os::raw::c_int = 1;
    // SAFETY: the handle is a live connection for the whole call, and
    // PERSIST_WAL reads and writes only the one int it is pointed at.
    let code = unsafe {
        ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&raw mut keep).cast(),
        )
    };
    if code != ffi::SQLITE_OK {
        return Err(rusqlite::Error::SqliteFailure(ffi::Error::new(code), None));
    }
    Ok(())
}
