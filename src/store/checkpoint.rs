//! Checkpointing the WAL from a thread of its own, so that the writer does
//! not run checkpoints, and their fsyncs, inside its commits.
//!
//! SQLite would otherwise checkpoint inside the COMMIT that takes the WAL
//! past 1,000 pages, several times a second under load, and that commit's
//! callers would wait for two fsyncs; the bench showed it in p99 latency.
//!
//! The writer still checkpoints by itself, rarely, at
//! [`WRITER_CHECKPOINT_PAGES`]: SQLite starts the WAL over only after a
//! checkpoint that caught up with its last frame, which one running beside a
//! busy writer never quite does, so without that the WAL would grow for as
//! long as the load lasts. Those checkpoints still hold up a commit, for
//! longer than before (7-20 ms), which is what p99.9 latency shows; the
//! bench put p99 at 2 ms instead of 5 ms, and p99.9 at 7 to 20 ms instead of
//! 6 ms, depending on the threshold below.

use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use rusqlite::Connection;

use super::StoreError;

/// How often the WAL is copied back into the database file.
const INTERVAL: Duration = Duration::from_millis(100);

/// WAL size, in pages, at which the writer checkpoints by itself: a WAL of
/// about 128 MiB at most. Measured at 50k sends/s: 2,048 pages put p99 at 7 ms,
/// 8,192 pages p99.9 at 15-20 ms, 32,768 pages p99 at 2 ms and p99.9 at
/// 7-13 ms.
pub(super) const WRITER_CHECKPOINT_PAGES: u32 = 32_768;

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
