//! Tracing setup: a daily-rolling log file in the data directory, plus
//! standard error when running as a server.

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter, Layer};

/// Environment variable holding a tracing filter, e.g. `debug` or
/// `contactcmd=debug`.
pub const LOG_ENV: &str = "CONTACTCMD_LOG";

/// Where log lines go besides the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// Also to standard error (headless server).
    Stderr,
    /// File only (one-shot commands, whose output is for scripts).
    FileOnly,
}

/// Starts logging; keep the guard alive until exit so buffered lines flush.
///
/// Fails, naming the directory, when the log file cannot be opened (a
/// read-only or full file system): the error is all an operator sees.
pub fn init(logs_dir: &Path, echo: Echo) -> std::io::Result<WorkerGuard> {
    let appender = open_log(logs_dir).map_err(|error| {
        std::io::Error::new(
            error.kind(),
            format!("cannot write the log in {}: {error}", logs_dir.display()),
        )
    })?;
    let (file_writer, guard) = tracing_appender::non_blocking(appender);

    let file_layer = fmt::layer()
        .with_writer(file_writer)
        .with_ansi(false)
        .with_filter(filter());
    let stderr_layer = (echo == Echo::Stderr).then(|| {
        fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(colour_allowed())
            .with_filter(filter())
    });
    // A second init (tests calling into the library twice) keeps the first.
    let _ = tracing_subscriber::registry()
        .with(file_layer)
        .with(stderr_layer)
        .try_init();
    Ok(guard)
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
