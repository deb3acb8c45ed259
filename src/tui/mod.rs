//! The operator console: a full-screen terminal UI that also serves the API
//! and delivers webhooks from the same process.
//!
//! State (`app`), input (`input`), drawing (`view`) and database work
//! (`worker`) are kept apart: key presses and engine results arrive as
//! `Action`s on one loop, the app turns them into state and `Command`s, and
//! every frame is drawn from the state alone.

pub mod action;
pub mod app;
mod engine;
mod events;
mod fetch;
pub mod input;
pub mod jobs;
pub mod layout;
pub mod model;
mod port_holder;
mod terminal;
mod timing;
pub mod view;
pub mod worker;

use std::ffi::OsStr;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::time::{Duration, Instant};

use anyhow::Context;
use crossterm::event::{Event, KeyCode};
use futures_util::FutureExt;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::config::Config;
use crate::paths::DataDir;
use action::Action;
use app::App;
use events::Stamped;
use worker::Worker;

/// How often time-based changes (fading messages) are checked.
const TICK: Duration = Duration::from_millis(250);

/// Test hook, for checking the terminal comes back after a panic: with
/// `CONTACTCMD_CONSOLE_PANIC_ON_KEY=x` set, pressing `x` panics on the UI
/// thread. Read once at start; unset, it does nothing.
const PANIC_ON_KEY: &str = "CONTACTCMD_CONSOLE_PANIC_ON_KEY";

/// Runs the console until the operator quits.
pub async fn run(data: &DataDir, config: &Config, bind: SocketAddr) -> anyhow::Result<()> {
    // The benchmark times the first frame from here as well as from spawn.
    tracing::debug!("console starting");
    // Listening before anything is drawn: a SIGTERM from here on quits
    // cleanly instead of killing the process in raw mode.
    let terminate = crate::server::shutdown_signal();
    let (results, incoming) = tokio::sync::mpsc::unbounded_channel();
    let engine = engine::start(data, config, bind, results.clone()).await?;
    let worker = Worker::new(engine.gateway.clone(), config.webhooks.settings(), results);

    // The app state is not used again after a panic, only the engine is
    // stopped, so catching the unwind cannot observe a broken app.
    let outcome = AssertUnwindSafe(console(&worker, incoming, terminate))
        .catch_unwind()
        .await;
    // However the console ended, panic included, the dispatcher gives back
    // its leases.
    engine.stop().await;
    match outcome {
        Ok(outcome) => outcome,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

/// Whether `NO_COLOR` (its value, if set) asks for no colour: any value but
/// an empty one does, as no-color.org has it.
pub fn wants_monochrome(no_color: Option<&OsStr>) -> bool {
    no_color.is_some_and(|value| !value.is_empty())
}

/// Takes over the terminal and runs the loop; the terminal is given back
/// when this returns, whichever way it returns.
async fn console(
    worker: &Worker,
    incoming: UnboundedReceiver<Action>,
    terminate: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let (mut screen, _guard) = terminal::enter().context("opening the terminal")?;
    let size = screen.size().context("reading the terminal size")?;
    let monochrome = wants_monochrome(std::env::var_os("NO_COLOR").as_deref());
    let mut app = App::new((size.width, size.height), monochrome, action::Now::system());
    for command in app.start() {
        worker.run(command);
    }

    let (input, reader) = events::read();
    let sources = Sources {
        input,
        incoming,
        ticks: tokio::time::interval(TICK),
    };
    let outcome = event_loop(&mut screen, &mut app, worker, sources, terminate).await;
    // Stop reading before the terminal is given back, so nothing typed at
    // the shell afterwards is taken.
    reader.abort();
    outcome
}

/// Where the loop's actions come from.
struct Sources {
    input: UnboundedReceiver<std::io::Result<Stamped>>,
    incoming: UnboundedReceiver<Action>,
    ticks: tokio::time::Interval,
}

/// What the loop does next.
enum Next {
    Apply(Action, Option<Instant>),
    Wait,
    Stop,
}

async fn event_loop(
    screen: &mut terminal::Screen,
    app: &mut App,
    worker: &Worker,
    mut sources: Sources,
    terminate: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let panic_key = std::env::var(PANIC_ON_KEY)
        .ok()
        .and_then(|v| v.chars().next());
    let mut timer = timing::FrameTimer::default();
    tokio::pin!(terminate);
    while !app.quit {
        screen
            .draw(|frame| view::render(app, frame))
            .context("drawing the console")?;
        timer.drawn(app.queue.total);

        let (action, read_at) = match next(&mut sources, &mut terminate).await? {
            Next::Apply(action, read_at) => (action, read_at),
            Next::Wait => continue,
            Next::Stop => break,
        };
        if panic_key
            .is_some_and(|c| matches!(&action, Action::Key(k) if k.code == KeyCode::Char(c)))
        {
            panic!("{PANIC_ON_KEY} test hook: panicking on the UI thread as asked");
        }
        timer.saw(&action, read_at, app);
        let commands = app.update(action);
        timer.asked(&commands);
        for command in commands {
            worker.run(command);
        }
    }
    Ok(())
}

/// Waits for the next input, worker result, tick or termination.
async fn next(
    sources: &mut Sources,
    terminate: &mut std::pin::Pin<&mut impl Future<Output = ()>>,
) -> anyhow::Result<Next> {
    let next = tokio::select! {
        event = sources.input.recv() => match event {
            Some(Ok(stamped)) => translate(stamped),
            Some(Err(error)) => return Err(error).context("reading the terminal"),
            None => Next::Stop,
        },
        Some(action) = sources.incoming.recv() => Next::Apply(action, None),
        _ = sources.ticks.tick() => Next::Apply(Action::Tick(action::Now::system()), None),
        () = terminate.as_mut() => Next::Stop,
    };
    Ok(next)
}

fn translate(stamped: Stamped) -> Next {
    let action = match stamped.event {
        Event::Key(key) => Action::Key(key),
        Event::Mouse(mouse) => Action::Mouse(mouse),
        Event::Resize(width, height) => Action::Resize(width, height),
        _ => return Next::Wait,
    };
    Next::Apply(action, Some(stamped.at))
}
