//! Checkpointing the WAL from a thread of its own, so that the writer does
//! not run checkpoints, and their fsyncs, inside its commits.
//!
//! SQLite would otherwise checkpoint inside the COMMIT that takes the WAL
//! past 1,000 pages, several times a second under load, and that commit's
//! callers would wait for two fsyncs; the bench showed it in p99 latency.
//!
//! This moves the cost rather than removing it: a COMMIT that runs while
//! this thread fsyncs can still be held up, for longer (seen: 5-23 ms, a few
//! times a second at 50k sends/s, against 4-6 ms a dozen times a second
//! before), so p99 latency fell from about 5 ms to 2 ms while p99.9 rose
//! from about 6 ms to 15 ms.
//!
//! The writer still checkpoints by itself, rarely, at
//! [`WRITER_CHECKPOINT_PAGES`]: SQLite starts the WAL over only after a
//! checkpoint that caught up with its last frame, which one running beside a
//! busy writer never quite does, so without that the WAL would grow for as
//! long as the load lasts.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

/// How often the WAL is copied back into the database file.
const INTERVAL: Duration = Duration::from_millis(100);

/// WAL size, in pages, at which the writer checkpoints by itself.
pub(super) const WRITER_CHECKPOINT_PAGES: u32 = 8_192;

/// The checkpointing thread; it stops when this is dropped.
pub(super) struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    pub(super) fn start(path: &Path) -> Result<Checkpointer, StoreError> {
        let conn = super::open_connection(path)?;
        let (stop, stopped) = mpsc::channel();
        let thread_path = path.to_path_buf();
        std::thread::Builder::new()
            .name("db-checkpoint".into())
            .spawn(move || run(&conn, &stopped, &thread_path))
            .map_err(|_| StoreError::WriterGone {
                path: path.to_path_buf(),
            })?;
        Ok(Checkpointer { _stop: stop })
    }
}

fn run(conn: &Connection, stopped: &mpsc::Receiver<()>, path: &Path) {
    while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
        // PASSIVE never waits for, or holds up, the writer or the readers.
        let done = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
        if let Err(error) = done {
            tracing::debug!(%error, path = %path.display(), "WAL checkpoint failed");
        }
    }
}
