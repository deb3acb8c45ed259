//! Which dispatchers are alive on this database, judged by heartbeat and
//! process id, and clearing out the ones that died holding leases.

use std::time::Duration;

use crate::clock;
use crate::store::dispatchers::{self, DispatcherRow};
use crate::store::{deliveries, Store, StoreError};

/// How often a dispatcher refreshes its heartbeat.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(2);

/// A heartbeat older than this means the dispatcher is gone.
const STALE_AFTER: Duration = Duration::from_secs(10);

/// Dispatchers other than `me` that are alive.
pub fn live(store: &Store, me: Option<&str>) -> Result<Vec<DispatcherRow>, StoreError> {
    let all = store.read(dispatchers::all)?;
    Ok(all
        .into_iter()
        .filter(|d| Some(d.id.as_str()) != me && is_alive(d))
        .collect())
}

/// Releases the leases of dead dispatchers and forgets them, so their
/// deliveries go out now rather than when the leases expire.
pub async fn reap_dead(store: &Store, me: &str) -> Result<(), StoreError> {
    let dead: Vec<String> = store
        .read(dispatchers::all)?
        .into_iter()
        .filter(|d| d.id != me && !is_alive(d))
        .map(|d| d.id)
        .collect();
    for id in dead {
        let gone = id.clone();
        let released = store
            .write(move |conn| {
                let released = deliveries::release_claims(conn, &gone)?;
                dispatchers::unregister(conn, &gone)?;
                Ok(released)
            })
            .await?;
        tracing::info!(dispatcher = %id, released, "cleared a dead dispatcher");
    }
    Ok(())
}

fn is_alive(dispatcher: &DispatcherRow) -> bool {
    // Our own pid on another dispatcher's row is an earlier incarnation of
    // this process (a container's pid 1, say), which is certainly dead.
    let pid_alive = dispatcher.pid != std::process::id() && crate::process::exists(dispatcher.pid);
    let fresh = clock::parse_time(&dispatcher.heartbeat_at).is_some_and(|at| {
        let age = chrono::Utc::now().signed_duration_since(at);
        age.to_std().map_or(true, |age| age < STALE_AFTER)
    });
    pid_alive && fresh
}
