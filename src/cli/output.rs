//! Printing command results: aligned tables for people, JSON for scripts,
//! and the exit code each outcome maps to.

use std::process::ExitCode;

use serde::Serialize;

use crate::gateway::Error;

/// Success.
pub const EXIT_OK: u8 = 0;
/// Something failed that is not the caller's fault (or a send failed).
pub const EXIT_FAILURE: u8 = 1;
/// Bad usage or input: nothing was changed.
pub const EXIT_USAGE: u8 = 2;

/// Prints `value` as pretty JSON on stdout.
pub fn print_json<T: Serialize>(value: &T) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| Error::Internal(e.to_string()))?;
    println!("{text}");
    Ok(())
}

/// Prints rows under headers with columns padded to the widest cell.
pub fn print_table(headers: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    print_row(&widths, headers.iter().copied());
    for row in rows {
        print_row(&widths, row.iter().map(String::as_str));
    }
}

fn print_row<'a>(widths: &[usize], cells: impl Iterator<Item = &'a str>) {
    let padded: Vec<String> = cells
        .zip(widths)
        .map(|(cell, &width)| format!("{cell:<width$}"))
        .collect();
    println!("{}", padded.join("  ").trim_end());
}

/// Shortens `text` to one line of at most `max` characters.
pub fn preview(text: &str, max: usize) -> String {
    let line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= max {
        return line;
    }
    let cut: String = line.chars().take(max.saturating_sub(1)).collect();
    format!("{cut}…")
}

/// Prints `error` on stderr and returns the exit code for it.
pub fn fail(error: &Error) -> ExitCode {
    eprintln!("error: {error}");
    ExitCode::from(exit_code(error))
}

/// 2 for anything the caller can fix by changing the input, else 1.
pub fn exit_code(error: &Error) -> u8 {
    match error {
        Error::Invalid(_) | Error::NotFound(_) | Error::AlreadyDecided { .. } => EXIT_USAGE,
        Error::Unauthorized | Error::Store(_) | Error::Internal(_) => EXIT_FAILURE,
    }
}
