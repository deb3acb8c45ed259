//! Webhooks: telling an agent the moment its action is sent, denied or
//! failed. Events are written to a durable outbox in the same transaction as
//! the status change, then sent, signed and retried by a dispatcher.

mod attempt;
mod dispatcher;
pub mod doorbell;
pub mod handoff;
pub mod liveness;
pub mod outbox;
pub mod payload;
pub mod schedule;
pub mod secret;
pub mod sender;

use std::time::Duration;

pub use attempt::Outcome;
pub use dispatcher::Dispatcher;
pub use schedule::RetryPolicy;

/// Default time a receiver has to answer one attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Default number of deliveries in flight at once per process.
pub const DEFAULT_CONCURRENCY: usize = 64;

/// Default longest wait between a dispatcher's looks at the database when
/// nothing wakes it: a safety net under the wake-ups (from this process, and
/// from one-shot commands by the doorbell), which normally start a send.
pub const DEFAULT_IDLE_POLL: Duration = Duration::from_secs(1);

/// How deliveries are made, from `[webhooks]` in config.toml.
#[derive(Clone, Debug)]
pub struct Settings {
    pub retry: RetryPolicy,
    pub timeout: Duration,
    pub concurrency: usize,
    pub idle_poll: Duration,
}

impl Settings {
    /// How long a claim keeps others off a delivery: longer than any attempt.
    pub fn lease(&self) -> chrono::Duration {
        chrono::Duration::from_std(self.timeout * 3).unwrap_or(chrono::Duration::seconds(30))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            retry: RetryPolicy::default(),
            timeout: DEFAULT_TIMEOUT,
            concurrency: DEFAULT_CONCURRENCY,
            idle_poll: DEFAULT_IDLE_POLL,
        }
    }
}
