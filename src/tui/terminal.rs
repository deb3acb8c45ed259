//! Taking over the terminal and always giving it back: on quit, on error,
//! on panic (through a panic hook) and on SIGTERM (the loop quits cleanly).
//!
//! Only a panic on the UI thread ends the console, so only that one gives
//! the terminal back and prints. A panic on any other thread (a worker or
//! API task, which tokio catches) is logged instead: printing it, or
//! leaving raw mode, would wreck a screen that goes on being drawn.

use std::io::{self, IsTerminal, Stdout};
use std::panic::PanicHookInfo;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;
use std::thread::{self, ThreadId};

use crossterm::cursor::Show;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

pub type Screen = Terminal<CrosstermBackend<Stdout>>;

/// Restores the terminal when dropped.
pub struct Guard;

impl Drop for Guard {
    fn drop(&mut self) {
        restore();
    }
}

/// Switches to raw mode and the alternate screen with mouse reporting.
pub fn enter() -> io::Result<(Screen, Guard)> {
    if !io::stdout().is_terminal() || !io::stdin().is_terminal() {
        return Err(io::Error::other(
            "the console needs a terminal: run `contactcmd --headless` or a `contactcmd gateway` \
             command instead",
        ));
    }
    install_panic_hook();
    enable_raw_mode()?;
    TAKEN.store(true, Ordering::SeqCst);
    let guard = Guard;
    execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    let screen = Terminal::new(CrosstermBackend::new(io::stdout()))?;
    Ok((screen, guard))
}

/// Whether the terminal is taken over and not yet given back.
static TAKEN: AtomicBool = AtomicBool::new(false);

/// Leaves raw mode and the alternate screen; safe to call more than once.
/// Only the first call after `enter` acts: leaving the alternate screen a
/// second time would move the cursor back to where it was when the console
/// started, and the shell would then write over a panic message.
pub fn restore() {
    if !TAKEN.swap(false, Ordering::SeqCst) {
        return;
    }
    let _ = execute!(
        io::stdout(),
        DisableMouseCapture,
        LeaveAlternateScreen,
        Show
    );
    let _ = disable_raw_mode();
}

/// The thread that draws: the one that entered the terminal.
static UI_THREAD: OnceLock<ThreadId> = OnceLock::new();

/// On the UI thread, restores the terminal before the panic message prints,
/// so it is readable; elsewhere, logs the panic and prints nothing.
fn install_panic_hook() {
    let _ = UI_THREAD.set(thread::current().id());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if UI_THREAD.get() == Some(&thread::current().id()) {
            restore();
            previous(info);
        } else {
            log_panic(info);
        }
    }));
}

fn log_panic(info: &PanicHookInfo<'_>) {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(no message)");
    let location = info.location().map(ToString::to_string).unwrap_or_default();
    let current = thread::current();
    let name = current.name().unwrap_or("unnamed");
    tracing::error!(thread = name, %location, message, "a background thread panicked");
}
