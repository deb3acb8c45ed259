//! One job of a kind at a time, with the newest waiting job replacing any
//! older one: a burst of requests (a filter typed a key at a time) costs a
//! run for the first and a run for the last, not a run for each.

use std::sync::{Mutex, PoisonError};

/// A slot for jobs of one kind.
#[derive(Debug)]
pub struct Latest<J> {
    state: Mutex<State<J>>,
}

#[derive(Debug)]
struct State<J> {
    running: bool,
    waiting: Option<J>,
}

impl<J> Default for Latest<J> {
    fn default() -> Self {
        Latest {
            state: Mutex::new(State {
                running: false,
                waiting: None,
            }),
        }
    }
}

impl<J> Latest<J> {
    /// Offers `job`. Returns it if nothing runs, for the caller to run now;
    /// otherwise it waits, replacing (dropping) any job that waited before.
    pub fn offer(&self, job: J) -> Option<J> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.running {
            state.waiting = Some(job);
            return None;
        }
        state.running = true;
        Some(job)
    }

    /// Says the running job is done. Returns the job waiting, which the
    /// caller runs next, or `None`, after which the slot is free.
    pub fn next(&self) -> Option<J> {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let next = state.waiting.take();
        state.running = next.is_some();
        next
    }
}
