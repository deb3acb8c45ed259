//! What a one-shot command does with a delivery it just created: hand it to
//! a live dispatcher if there is one, or make one attempt itself.

use super::attempt::{self, Outcome};
use super::sender::Sender;
use super::{doorbell, liveness, Settings};
use crate::clock;
use crate::gateway::Error;
use crate::store::{deliveries, Store};

/// How a delivery left the one-shot command.
#[derive(Debug)]
pub enum Handoff {
    /// A running gateway (this pid) will deliver it.
    Dispatcher { pid: u32 },
    /// This process tried once; retries are left to the next dispatcher.
    Attempted(Box<Outcome>),
    /// Someone else holds it right now.
    Busy,
}

/// Leaves delivery `id` to a live dispatcher, or attempts it once now.
pub async fn deliver_or_hand_off(
    store: &Store,
    settings: &Settings,
    id: &str,
) -> Result<Handoff, Error> {
    let live = liveness::live(store, None)?;
    if let Some(first) = live.first() {
        for dispatcher in &live {
            if let Some(port) = dispatcher.doorbell_port {
                doorbell::ring(port);
            }
        }
        return Ok(Handoff::Dispatcher { pid: first.pid });
    }
    attempt_now(store, settings, id).await
}

/// The lease holder name of this one-shot command process.
pub fn command_holder() -> String {
    format!("command_{}", std::process::id())
}

/// Claims delivery `id` and attempts it once, whatever its schedule says.
pub async fn attempt_now(store: &Store, settings: &Settings, id: &str) -> Result<Handoff, Error> {
    let holder = command_holder();
    let now = chrono::Utc::now();
    let lease_until = clock::format_time(now + settings.lease());
    let (owned, now) = (id.to_string(), clock::format_time(now));
    let claimer = holder.clone();
    let claimed = store
        .write(move |conn| {
            if !deliveries::claim_one(conn, &owned, &claimer, &now, &lease_until)? {
                return Ok(None);
            }
            attempt::load_claimed(conn, &owned)
        })
        .await?;
    let Some(claimed) = claimed else {
        return Ok(Handoff::Busy);
    };

    let sender = Sender::new(settings.timeout)
        .map_err(|e| Error::Internal(format!("cannot build the webhook HTTP client: {e}")))?;
    let outcome = attempt::attempt(store, &sender, &settings.retry, &holder, claimed).await?;
    Ok(Handoff::Attempted(Box::new(outcome)))
}
