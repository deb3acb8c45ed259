//! The single writer: a thread that owns the one writing connection and
//! commits every queued job in one transaction (group commit).
//!
//! Callers are answered only after the commit that holds their change, so an
//! acknowledged write survives the process being killed right after.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::StoreError;

/// Most jobs committed in one transaction; bounds how long one batch holds
/// the write lock.
const MAX_BATCH: usize = 512;

/// Jobs waiting for the writer before submitters are made to wait.
const QUEUE_DEPTH: usize = 8_192;

/// One caller's work, queued for the next batch.
struct Job {
    /// Whether the work runs inside a savepoint of its own; see
    /// [`Isolation`].
    isolation: Isolation,
    run: Work,
}

/// Runs inside the batch's transaction (or is told the batch was aborted
/// before it ran); returns whether it succeeded and what to do once the
/// batch's commit outcome is known.
type Work = Box<dyn FnOnce(Option<&Connection>) -> (bool, Reply) + Send>;
type Reply = Box<dyn FnOnce(Result<(), &StoreError>) + Send>;

/// How a job's failure is kept from the rest of its batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Isolation {
    /// A savepoint around the job, rolled back if it fails.
    Savepoint,
    /// Nothing: the job changes the database with at most one statement,
    /// which SQLite undoes by itself when it fails. A savepoint costs a
    /// copy of every page the job touches, which for a single insert is a
    /// good part of its cost.
    SingleStatement,
}

pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
    path: PathBuf,
}

impl Writer {
    pub(super) fn start(conn: Connection, path: &Path) -> Result<Writer, StoreError> {
        let (jobs, queue) = mpsc::channel(QUEUE_DEPTH);
        let thread_path = path.to_path_buf();
        std::thread::Builder::new()
            .name("db-writer".into())
            .spawn(move || run(conn, queue, &thread_path))
            .map_err(|_| StoreError::WriterGone {
                path: path.to_path_buf(),
            })?;
        Ok(Writer {
            jobs,
            path: path.to_path_buf(),
        })
    }

    pub(super) async fn submit<T, F>(&self, isolation: Isolation, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let path = self.path.clone();
        let run: Work = Box::new(move |conn| {
            let outcome = match conn {
                Some(conn) => work(conn),
                None => Err(sqlite_error(
                    rusqlite::ffi::SQLITE_ABORT,
                    "batch aborted".into(),
                )),
            };
            let ok = outcome.is_ok();
            let reply: Reply = Box::new(move |commit| {
                let result = match (commit, outcome) {
                    (Ok(()), Ok(value)) => Ok(value),
                    (Ok(()), Err(source)) => Err(StoreError::sqlite("writing", &path, source)),
                    (Err(commit_error), _) => Err(copy_error(commit_error, &path)),
                };
                let _ = answer.send(result);
            });
            (ok, reply)
        });

        let gone = || StoreError::WriterGone {
            path: self.path.clone(),
        };
        let job = Job { isolation, run };
        self.jobs.send(job).await.map_err(|_| gone())?;
        answered.await.map_err(|_| gone())?
    }
}

/// The writer thread's loop: take whatever is queued, commit it, answer.
fn run(mut conn: Connection, mut queue: mpsc::Receiver<Job>, path: &Path) {
    while let Some(first) = queue.blocking_recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&mut conn, batch, path);
    }
}

fn commit_batch(conn: &mut Connection, batch: Vec<Job>, path: &Path) {
    let size = batch.len();
    let mut replies = Vec::with_capacity(size);
    let mut jobs = batch.into_iter();

    let outcome = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
        Ok(tx) => run_jobs(&tx, &mut jobs, &mut replies).and_then(|()| tx.commit()),
        Err(error) => Err(error),
    };
    // Jobs a failure left unrun still answer their callers, with the error.
    replies.extend(jobs.map(|job| (job.run)(None).1));

    let outcome = outcome.map_err(|source| StoreError::sqlite("committing to", path, source));
    if let Err(error) = &outcome {
        tracing::error!(%error, jobs = size, "write batch failed");
    }
    for reply in replies {
        reply(outcome.as_ref().map(|_| ()));
    }
}

fn run_jobs(
    conn: &Connection,
    jobs: &mut impl Iterator<Item = Job>,
    replies: &mut Vec<Reply>,
) -> rusqlite::Result<()> {
    for job in jobs {
        let (reply, outcome) = run_job(conn, job);
        replies.push(reply);
        outcome?;
    }
    Ok(())
}

/// Runs one job so that its failure undoes only its own work.
fn run_job(conn: &Connection, job: Job) -> (Reply, rusqlite::Result<()>) {
    if job.isolation == Isolation::SingleStatement {
        let (ok, reply) = (job.run)(Some(conn));
        return (reply, still_in_transaction(ok, conn));
    }
    if let Err(error) = exec(conn, "SAVEPOINT job") {
        return ((job.run)(None).1, Err(error));
    }
    let (ok, reply) = (job.run)(Some(conn));
    let undo = if ok {
        Ok(())
    } else {
        exec(conn, "ROLLBACK TO job")
    };
    (reply, undo.and_then(|()| exec(conn, "RELEASE job")))
}

/// Some failures (a full disk, say) make SQLite roll back the whole
/// transaction; the batch must stop there, or the jobs after it would each
/// commit on their own while their callers are told the batch failed.
fn still_in_transaction(ok: bool, conn: &Connection) -> rusqlite::Result<()> {
    if ok || !conn.is_autocommit() {
        return Ok(());
    }
    Err(sqlite_error(
        rusqlite::ffi::SQLITE_ABORT,
        "the batch's transaction was rolled back".into(),
    ))
}

fn exec(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

/// Store errors are not `Clone`; each waiting caller gets its own copy.
fn copy_error(error: &StoreError, path: &Path) -> StoreError {
    match error {
        StoreError::Sqlite { action, cause, .. } => StoreError::Sqlite {
            action,
            path: path.to_path_buf(),
            cause: copy_sqlite_error(cause),
        },
        _ => StoreError::WriterGone {
            path: path.to_path_buf(),
        },
    }
}

fn copy_sqlite_error(error: &rusqlite::Error) -> rusqlite::Error {
    match error {
        rusqlite::Error::SqliteFailure(code, message) => {
            rusqlite::Error::SqliteFailure(*code, message.clone())
        }
        other => sqlite_error(rusqlite::ffi::SQLITE_ERROR, other.to_string()),
    }
}

fn sqlite_error(code: std::os::raw::c_int, message: String) -> rusqlite::Error {
    rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), Some(message))
}
