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
mod fetch;
pub mod input;
pub mod jobs;
pub mod layout;
pub mod model;
mod terminal;
mod timing;
pub mod view;
pub mod worker;

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc;

use crate::config::Config;
use crate::paths::DataDir;
use action::Action;
use app::App;

/// How often time-based changes (fading messages) are checked.
const TICK: Duration = Duration::from_millis(250);

/// Runs the console until the operator quits.
pub async fn run(data: &DataDir, config: &Config, bind: SocketAddr) -> anyhow::Result<()> {
    let (results, mut incoming) = mpsc::unbounded_channel();
    let engine = engine::start(data, config, bind, results.clone()).await?;
    let worker = worker::Worker::new(engine.gateway.clone(), config.webhooks.settings(), results);

    let (mut screen, _guard) = terminal::enter().context("opening the terminal")?;
    let size = screen.size().context("reading the terminal size")?;
    let mut app = App::new(
        (size.width, size.height),
        std::env::var_os("NO_COLOR").is_some(),
    );
    for command in app.start() {
        worker.run(command);
    }

    let mut events = EventStream::new();
    let mut ticks = tokio::time::interval(TICK);
    let mut terminate = engine::terminate_signal();
    let mut timer = timing::FrameTimer::default();
    while !app.quit {
        screen
            .draw(|frame| view::render(&app, frame))
            .context("drawing the console")?;
        timer.drawn(app.queue.total);
        let action = tokio::select! {
            event = events.next() => match event {
                Some(Ok(event)) => translate(event),
                Some(Err(error)) => return Err(error).context("reading the terminal"),
                None => break,
            },
            Some(action) = incoming.recv() => Some(action),
            _ = ticks.tick() => Some(Action::Tick),
            () = &mut terminate => break,
        };
        let Some(action) = action else { continue };
        timer.saw(&action);
        for command in app.update(action) {
            worker.run(command);
        }
    }

    engine.stop().await;
    Ok(())
}

fn translate(event: Event) -> Option<Action> {
    match event {
        Event::Key(key) => Some(Action::Key(key)),
        Event::Mouse(mouse) => Some(Action::Mouse(mouse)),
        Event::Resize(width, height) => Some(Action::Resize(width, height)),
        _ => None,
    }
}
