//! Frame timings logged at debug level, so the console benchmark can read
//! from the log how fast the real binary draws in a real terminal.

use std::time::Instant;

use super::action::Action;

/// Tracks what the next frame answers to.
#[derive(Default)]
pub struct FrameTimer {
    key_at: Option<Instant>,
    last_key: Option<Instant>,
    queue_loaded: bool,
    first_queue_drawn: bool,
}

impl FrameTimer {
    /// Notes an action about to be applied; a key with when it was read.
    pub fn saw(&mut self, action: &Action, read_at: Option<Instant>) {
        match action {
            Action::Key(_) => {
                self.key_at = Some(read_at.unwrap_or_else(Instant::now));
                self.last_key = self.key_at;
            }
            Action::QueueLoaded { .. } => self.queue_loaded = true,
            _ => {}
        }
    }

    /// Logs what the frame just drawn answered.
    pub fn drawn(&mut self, queue_rows: usize) {
        if self.queue_loaded && !self.first_queue_drawn {
            self.first_queue_drawn = true;
            tracing::debug!(queue_rows, "first frame with the queue");
        }
        if let Some(at) = self.key_at.take() {
            tracing::debug!(
                key_to_frame_us = at.elapsed().as_micros(),
                "frame after key"
            );
        } else if let (true, Some(key)) = (self.queue_loaded, self.last_key) {
            let since_key_us = key.elapsed().as_micros();
            tracing::debug!(queue_rows, since_key_us, "frame after queue rows");
        }
        self.queue_loaded = false;
    }
}
