//! Which dispatchers are alive on this database, and clearing out the ones
//! that are gone.
//!
//! A fresh heartbeat means alive. A process id is trusted only where it
//! means something: on a row written from our own pid namespace (same boot,
//! same container), a pid that no longer exists, or that is now ours, is
//! certainly dead, and its leases are handed back at once. A dispatcher that
//! merely went silent may only be paused, so its leases are left to run out:
//! releasing them early could let a second process send what it is sending.

use std::time::Duration;

use crate::clock;
use crate::store::dispatchers::{self, DispatcherRow};
use crate::store::{deliveries, Store, StoreError};

/// How often a dispatcher refreshes its heartbeat.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);

/// A heartbeat older than this means the dispatcher is not delivering.
const STALE_AFTER: Duration = Duration::from_secs(10);

/// A silent dispatcher's row is forgotten after this long; it registers
/// again by itself if it was only paused.
const FORGET_AFTER: Duration = Duration::from_secs(600);

/// What can be said of another dispatcher from its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Its heartbeat is fresh.
    Alive,
    /// No fresh heartbeat, but it may only be paused.
    Silent { forget: bool },
    /// Its process is certainly gone.
    Dead,
}

/// Dispatchers other than `me` that are alive.
pub fn live(store: &Store, me: Option<&str>) -> Result<Vec<DispatcherRow>, StoreError> {
    let here = crate::process::pid_namespace();
    let all = store.read_in_task(dispatchers::all)?;
    Ok(all
        .into_iter()
        .filter(|d| Some(d.id.as_str()) != me && state(d, here) == State::Alive)
        .collect())
}

/// Hands back the leases of dead dispatchers and forgets them, so their
/// deliveries go out now rather than when the leases run out; forgets
/// long-silent ones without touching their leases. Returns how many
/// deliveries were handed back.
pub async fn reap(store: &Store, me: &str) -> Result<usize, StoreError> {
    let here = crate::process::pid_namespace();
    let mut released = 0;
    for other in store.read_in_task(dispatchers::all)? {
        if other.id == me {
            continue;
        }
        match state(&other, here) {
            State::Dead => released += release_and_forget(store, other.id).await?,
            State::Silent { forget: true } => forget(store, other.id).await?,
            State::Alive | State::Silent { forget: false } => {}
        }
    }
    Ok(released)
}

async fn release_and_forget(store: &Store, id: String) -> Result<usize, StoreError> {
    let gone = id.clone();
    let released = store
        .write(move |conn| {
            let released = deliveries::release_claims(conn, &gone)?;
            dispatchers::unregister(conn, &gone)?;
            Ok(released)
        })
        .await?;
    tracing::info!(dispatcher = %id, released, "cleared a dead dispatcher");
    Ok(released)
}

async fn forget(store: &Store, id: String) -> Result<(), StoreError> {
    let gone = id.clone();
    store
        .write(move |conn| dispatchers::unregister(conn, &gone))
        .await?;
    tracing::info!(dispatcher = %id, "forgot a long-silent dispatcher; its leases run out");
    Ok(())
}

/// Judges another dispatcher's row, seen from pid namespace `here`.
pub fn state(dispatcher: &DispatcherRow, here: Option<&str>) -> State {
    let same_pids = here.is_some() && dispatcher.pid_namespace.as_deref() == here;
    // Our own pid on another dispatcher's row is an earlier incarnation of
    // this process (a container's pid 1, say).
    let gone = dispatcher.pid == std::process::id() || !crate::process::exists(dispatcher.pid);
    if same_pids && gone {
        return State::Dead;
    }
    match heartbeat_age(dispatcher) {
        Some(age) if age < STALE_AFTER => State::Alive,
        Some(age) => State::Silent {
            forget: age > FORGET_AFTER,
        },
        None => State::Silent { forget: true },
    }
}

/// How old the heartbeat is; zero if it is in the future (clock skew).
fn heartbeat_age(dispatcher: &DispatcherRow) -> Option<Duration> {
    let at = clock::parse_time(&dispatcher.heartbeat_at)?;
    let age = chrono::Utc::now().signed_duration_since(at);
    Some(age.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pid: u32, namespace: Option<&str>, age_secs: i64) -> DispatcherRow {
        let at = chrono::Utc::now() - chrono::Duration::seconds(age_secs);
        DispatcherRow {
            id: "dispatcher_other".into(),
            pid,
            pid_namespace: namespace.map(str::to_string),
            doorbell_port: None,
            heartbeat_at: clock::format_time(at),
        }
    }

    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        pid
    }

    #[test]
    fn a_fresh_heartbeat_from_another_namespace_is_alive_whatever_its_pid() {
        let other = row(dead_pid(), Some("elsewhere"), 1);
        assert_eq!(state(&other, Some("here")), State::Alive);
        let same_pid = row(std::process::id(), Some("elsewhere"), 1);
        assert_eq!(state(&same_pid, Some("here")), State::Alive);
    }

    #[test]
    fn a_gone_pid_in_our_namespace_is_dead_even_with_a_fresh_heartbeat() {
        assert_eq!(
            state(&row(dead_pid(), Some("here"), 1), Some("here")),
            State::Dead
        );
        let earlier_me = row(std::process::id(), Some("here"), 1);
        assert_eq!(state(&earlier_me, Some("here")), State::Dead);
    }

    #[test]
    fn a_stale_heartbeat_is_silent_not_dead_and_forgotten_only_when_old() {
        let paused = row(std::process::id() + 1_000_000, Some("elsewhere"), 30);
        assert_eq!(
            state(&paused, Some("here")),
            State::Silent { forget: false }
        );
        let long_gone = row(1, Some("elsewhere"), 3_600);
        assert_eq!(
            state(&long_gone, Some("here")),
            State::Silent { forget: true }
        );
    }

    #[test]
    fn without_a_namespace_no_pid_is_trusted() {
        assert_eq!(state(&row(dead_pid(), None, 1), None), State::Alive);
        assert_eq!(state(&row(dead_pid(), Some("x"), 1), None), State::Alive);
    }
}
