//! Frame timings logged at debug level, so the console benchmark can read
//! from the log how fast the real binary draws in a real terminal.
//!
//! Every time runs from the moment a key was read off the terminal (the
//! reader task stamps it, so time spent waiting behind a frame counts) to
//! the end of the frame that shows its effect: `key_to_frame_us` for the
//! frame right after the key (the selection moved, the filter's text grew),
//! `key_to_rows_us` for the first frame drawn with the queue rows that key
//! asked for. Only loads the app took count: an answer to an older fetch
//! is dropped by the app and by this timer alike.

use std::time::Instant;

use super::action::{Action, Command};
use super::app::App;

/// Tracks what the next frame answers to.
#[derive(Default)]
pub struct FrameTimer {
    /// When the key the next frame answers was read.
    key_at: Option<Instant>,
    /// The newest queue fetch a key asked for, and when that key was read.
    asked: Option<(u64, Instant)>,
    /// When the key was read whose queue rows the next frame draws.
    rows_for_key: Option<Instant>,
    queue_loaded: bool,
    first_queue_drawn: bool,
}

impl FrameTimer {
    /// Notes an action `app` is about to apply; a key with when it was read.
    pub fn saw(&mut self, action: &Action, read_at: Option<Instant>, app: &App) {
        match action {
            Action::Key(_) => self.key_at = Some(read_at.unwrap_or_else(Instant::now)),
            Action::QueueLoaded { window, .. } => {
                // The app takes a window unless a newer fetch was asked for.
                if window.generation < app.queue.generation {
                    return;
                }
                self.queue_loaded = true;
                if let Some((generation, at)) = self.asked.take() {
                    if generation == window.generation {
                        self.rows_for_key = Some(at);
                    }
                }
            }
            _ => {}
        }
    }

    /// Notes the commands the last action led to: a queue fetch asked for
    /// by a key is timed from that key.
    pub fn asked(&mut self, commands: &[Command]) {
        let Some(at) = self.key_at else {
            return;
        };
        for command in commands {
            if let Command::FetchQueue { generation, .. } = command {
                self.asked = Some((*generation, at));
            }
        }
    }

    /// Logs what the frame just drawn answered.
    pub fn drawn(&mut self, queue_rows: usize) {
        if self.queue_loaded && !self.first_queue_drawn {
            self.first_queue_drawn = true;
            tracing::debug!(queue_rows, "first frame with the queue");
        }
        if let Some(at) = self.key_at.take() {
            let key_to_frame_us = at.elapsed().as_micros();
            tracing::debug!(key_to_frame_us, "frame after key");
        }
        if let Some(at) = self.rows_for_key.take() {
            let key_to_rows_us = at.elapsed().as_micros();
            tracing::debug!(queue_rows, key_to_rows_us, "queue rows after key");
        }
        self.queue_loaded = false;
    }
}
