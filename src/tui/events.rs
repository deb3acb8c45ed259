//! Terminal input, read on a task of its own and stamped with the moment
//! each event was read, so a key that waits while a frame is drawn has that
//! wait counted in the frame timings.

use std::io;
use std::time::Instant;

use crossterm::event::{Event, EventStream};
use futures_util::StreamExt;
use tokio::sync::mpsc::{self, UnboundedReceiver};
use tokio::task::JoinHandle;

/// A terminal event and when it was read.
pub struct Stamped {
    pub event: Event,
    pub at: Instant,
}

/// Starts reading terminal events; they arrive on the receiver until the
/// terminal closes or the task is aborted.
pub fn read() -> (UnboundedReceiver<io::Result<Stamped>>, JoinHandle<()>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        let mut events = EventStream::new();
        while let Some(event) = events.next().await {
            let stamped = event.map(|event| Stamped {
                event,
                at: Instant::now(),
            });
            if sender.send(stamped).is_err() {
                return;
            }
        }
    });
    (receiver, reader)
}
