//! Tracing setup: a daily-rolling log file in the data directory, plus
//! standard error when running as a server, or instead of the file when
//! it cannot be written.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Environment variable holding a tracing filter, e.g. `debug` or
/// `contactcmd=debug`.
pub const LOG_ENV: &str = "CONTACTCMD_LOG";

/// Where log lines go besides the file, and what happens when the file
/// cannot be written (a read-only or full file system).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// Also to standard error (headless server); to standard error alone
    /// when the file cannot be written.
    Stderr,
    /// To standard error only when the file cannot be written (one-shot
    /// commands, whose output is for scripts): a data dir that cannot be
    /// written must not stop a command that only reads it.
    Fallback,
    /// File only, and an error when it cannot be written (the console,
    /// which owns the terminal).
    FileOnly,
}

/// Keeps the log file's writer flushing until dropped; keep it alive
/// until exit.
pub struct LogGuard {
    _file: Option<WorkerGuard>,
}

/// Starts logging as `echo` says.
///
/// Fails only for [`Echo::FileOnly`], naming the directory, when the log
/// file cannot be opened: the error is all an operator sees. Otherwise it
/// logs to standard error alone, with one warning saying why.
pub fn init(logs_dir: &Path, echo: Echo) -> std::io::Result<LogGuard> {
    match open_log(logs_dir) {
        Ok(appender) => Ok(to_file(appender, echo)),
        Err(error) if echo == Echo::FileOnly => Err(std::io::Error::new(
            error.kind(),
            format!("cannot write the log in {}: {error}", logs_dir.display()),
        )),
        Err(error) => {
            to_stderr_only(logs_dir, &error);
            Ok(LogGuard { _file: None })
        }
    }
}

fn to_file(appender: RollingFileAppender, echo: Echo) -> LogGuard {
    let (file_writer, guard) = tracing_appender::non_blocking(appender);
    let file_layer = fmt::layer()
        .with_writer(file_writer)
        .with_ansi(false)
        .with_filter(filter());
    let stderr_layer = (echo == Echo::Stderr).then(stderr_layer);
    // A second init (tests calling into the library twice) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    LogGuard { _file: Some(guard) }
}

fn to_stderr_only(logs_dir: &Path, error: &std::io::Error) {
    let _ = tracing_subscriber::registry()
        .with(stderr_layer())
        .try_init();
    tracing::warn!(
        logs_dir = %logs_dir.display(),
        %error,
        "cannot write the log file; logging to standard error only"
    );
}

fn stderr_layer<S>() -> impl Layer<S>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(colour_allowed())
        .with_filter(filter())
}

fn open_log(logs_dir: &Path) -> std::io::Result<RollingFileAppender> {
    std::fs::create_dir_all(logs_dir)?;
    RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("contactcmd")
        .filename_suffix("log")
        .build(logs_dir)
        .map_err(|error| std::io::Error::other(error_chain(&error)))
}

/// An error and its causes on one line; the appender's own message leaves
/// out why the file could not be created.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut cause = error.source();
    while let Some(inner) = cause {
        let more = inner.to_string();
        if !text.contains(&more) {
            text = format!("{text}: {more}");
        }
        cause = inner.source();
    }
    text
}

fn filter() -> EnvFilter {
    EnvFilter::try_from_env(LOG_ENV).unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Colour only on a terminal and never when `NO_COLOR` is set.
fn colour_allowed() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}
