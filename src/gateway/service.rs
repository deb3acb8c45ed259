//! `Gateway`: the engine both faces use. The HTTP API and the headless
//! commands call these methods; all state lives in the store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::Notify;

use super::auth::{AgentKey, KeyCache};
use super::decide::{self, Decided};
use super::{intake, keys, Error};
use crate::clock;
use crate::store::actions::SendingAction;
use crate::store::{actions, keys as key_rows, ActionRow, HistoryFilter, KeyRow, Store};
use crate::transport::{SendError, Transports};

/// Longest a transport may take before its send is given up as failed.
/// An `approved` action older than this belongs to no running send.
pub const MAX_SEND_DURATION: Duration = Duration::from_secs(300);

/// How stale the health endpoint's pending count may be; counting is kept
/// off the request path under load.
const PENDING_COUNT_TTL: Duration = Duration::from_secs(1);

/// Slack on top of [`MAX_SEND_DURATION`] before an approved action is
/// considered abandoned whatever its sender's pid says.
const SEND_GRACE: Duration = Duration::from_secs(60);

/// New keys drawn before giving up on one with an unused display prefix;
/// with 32 bits of prefix, a second draw is already rare.
const ISSUE_TRIES: usize = 5;

/// The gateway engine over one database.
pub struct Gateway {
    store: Arc<Store>,
    /// Wakes this process's webhook dispatcher, if it runs one.
    dispatcher: Option<Arc<Notify>>,
    transports: Transports,
    keys: KeyCache,
    started: Instant,
    pending_count: Mutex<Option<(Instant, u64)>>,
    /// Actions this process is sending right now, with how many callers
    /// are approving each (a losing second approval must not unregister the
    /// winner's send).
    sending: Arc<Mutex<HashMap<String, usize>>>,
}

/// What `/gateway/health` reports.
#[derive(Debug, Serialize)]
pub struct Health {
    pub status: &'static str,
    pub uptime_secs: u64,
    pub pending_count: u64,
    pub version: &'static str,
}

impl Gateway {
    /// An engine over `store`; `dispatcher` is notified after each commit
    /// that queues a webhook, when this process runs a dispatcher.
    pub fn new(
        store: Arc<Store>,
        transports: Transports,
        dispatcher: Option<Arc<Notify>>,
    ) -> Gateway {
        Gateway {
            store,
            dispatcher,
            transports,
            keys: KeyCache::default(),
            started: Instant::now(),
            pending_count: Mutex::new(None),
            sending: Arc::default(),
        }
    }

    pub fn store(&self) -> &Arc<Store> {
        &self.store
    }

    /// True when webhooks queued by this process are sent by this process.
    pub fn has_dispatcher(&self) -> bool {
        self.dispatcher.is_some()
    }

    /// Tells the local dispatcher a delivery was just committed.
    pub(super) fn queued_delivery(&self, decided: &Decided) {
        if decided.delivery_id.is_some() {
            self.wake_dispatcher();
        }
    }

    pub(super) fn wake_dispatcher(&self) {
        if let Some(wake) = &self.dispatcher {
            wake.notify_one();
        }
    }

    /// The live key presented by an agent.
    pub fn authenticate(&self, presented: Option<&str>) -> Result<Arc<AgentKey>, Error> {
        self.keys.authenticate(&self.store, presented)
    }

    /// Validates and queues a message from `key`; answers once it is committed.
    pub async fn submit(&self, key: &AgentKey, body: &[u8]) -> Result<ActionRow, Error> {
        let row = intake::parse(body, &key.id)?;

        // The row travels to the writer and back rather than being copied.
        let (inserted, row) = self
            .store
            .write_statement(move |conn| Ok((actions::insert(conn, &row)?, row)))
            .await?;
        if !inserted {
            self.keys.forget(&key.id);
            return Err(Error::Unauthorized);
        }
        tracing::debug!(action_id = %row.id, key = %key.name, channel = %row.channel, "queued");
        Ok(queued_row(row, &key.name))
    }

    /// Records that key `key_id` was just used.
    pub async fn touch_key(&self, key_id: &str) -> Result<(), Error> {
        let (id, at) = (key_id.to_string(), clock::now_text());
        Ok(self
            .store
            .write(move |conn| key_rows::touch(conn, &id, &at))
            .await?)
    }

    /// Action `id` if it belongs to `key` and the key is still live.
    pub fn action_for_key(&self, key: &AgentKey, id: &str) -> Result<ActionRow, Error> {
        let (live, action) = self.store.read_in_task(|conn| {
            let live = key_rows::get(conn, &key.id)?.is_some_and(|k| k.revoked_at.is_none());
            Ok((live, actions::get(conn, id)?))
        })?;
        if !live {
            self.keys.forget(&key.id);
            return Err(Error::Unauthorized);
        }
        action
            .filter(|action| action.key_id == key.id)
            .ok_or_else(|| Error::NotFound(format!("no action with id {id} for this API key")))
    }

    /// The full id of the action `query` names (an id or unique prefix).
    pub fn resolve_action(&self, query: &str) -> Result<String, Error> {
        let query = query.trim();
        if query.is_empty() {
            return Err(Error::invalid(
                "action id is empty: pass an id from `gateway queue`",
            ));
        }
        let ids = self
            .store
            .read(|conn| actions::ids_with_prefix(conn, query, 10))?;
        match ids.as_slice() {
            [] => Err(Error::NotFound(format!(
                "no action with id {query:?}: run `contactcmd gateway queue` to list pending ids"
            ))),
            [only] => Ok(only.clone()),
            several if several.iter().any(|id| id == query) => Ok(query.to_string()),
            several => Err(Error::invalid(format!(
                "action id {query:?} is ambiguous; it matches {}: type more of the id",
                several.join(", ")
            ))),
        }
    }

    /// Pending and flagged actions, newest first.
    pub fn queue(&self, limit: u32) -> Result<Vec<ActionRow>, Error> {
        Ok(self
            .store
            .read_in_task(|conn| actions::list_open(conn, limit))?)
    }

    /// Decided actions, newest decision first.
    pub fn history(&self, filter: &HistoryFilter) -> Result<Vec<ActionRow>, Error> {
        Ok(self
            .store
            .read(|conn| actions::list_history(conn, filter))?)
    }

    /// Approves action `id` and sends it; returns it as sent or failed.
    pub async fn approve(&self, id: &str) -> Result<Decided, Error> {
        // Registered before the approval commits, so a sweep for interrupted
        // sends never mistakes this one for an abandoned one.
        let _sending = SendingGuard::register(&self.sending, id);
        let (owned_id, at) = (id.to_string(), clock::now_text());
        let pid = std::process::id();
        let action = self
            .store
            .write(move |conn| decide::approve(conn, &owned_id, pid, &at))
            .await??
            .action;
        tracing::info!(action_id = %id, channel = %action.channel, "approved; sending");

        let outcome = self.send(&action).await;
        if let Err(error) = &outcome {
            // A transport's error is often its program's stderr, which may
            // echo the message it could not send: only its size at warn.
            tracing::warn!(action_id = %id, channel = %action.channel,
                error_bytes = error.reason().len(),
                "send failed; the error is stored with the action");
            tracing::debug!(action_id = %id, %error, "send failed");
        }
        let (owned_id, at) = (id.to_string(), clock::now_text());
        let decided = self
            .store
            .write(move |conn| {
                let outcome = outcome.as_ref().map(|_| ()).map_err(SendError::reason);
                decide::finish(conn, &owned_id, outcome, &at)
            })
            .await??;
        self.queued_delivery(&decided);
        tracing::info!(action_id = %id, status = %decided.action.status, "send finished");
        Ok(decided)
    }

    async fn send(&self, action: &ActionRow) -> Result<(), SendError> {
        match tokio::time::timeout(MAX_SEND_DURATION, self.transports.send(action)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(SendError::from(format!(
                "the transport did not finish within {} s; the message may or may not have \
                 gone out",
                MAX_SEND_DURATION.as_secs()
            ))),
        }
    }

    /// Denies action `id`, keeping the operator's reason if given.
    pub async fn deny(&self, id: &str, reason: Option<String>) -> Result<Decided, Error> {
        let reason = reason
            .map(|r| r.trim().to_string())
            .filter(|r| !r.is_empty());
        let (owned_id, at) = (id.to_string(), clock::now_text());
        let decided = self
            .store
            .write(move |conn| decide::deny(conn, &owned_id, reason.as_deref(), &at))
            .await??;
        self.queued_delivery(&decided);
        tracing::info!(action_id = %id, "denied");
        Ok(decided)
    }

    /// Marks failed every approved action whose sending process is gone, so
    /// that an interrupted send is reported, never silently repeated.
    pub async fn fail_interrupted_sends(&self) -> Result<Vec<Decided>, Error> {
        let at = clock::now_text();
        let ours = self.sending.clone();
        let still_sending = move |action: &SendingAction| send_may_be_running(action, &ours);
        let failed = self
            .store
            .write(move |conn| decide::fail_interrupted(conn, still_sending, &at))
            .await?;
        for decided in &failed {
            self.queued_delivery(decided);
            tracing::warn!(action_id = %decided.action.id, "send was interrupted; marked failed");
        }
        Ok(failed)
    }

    /// Liveness and queue depth.
    pub fn health(&self) -> Result<Health, Error> {
        Ok(Health {
            status: "ok",
            uptime_secs: self.started.elapsed().as_secs(),
            pending_count: self.pending_count()?,
            version: env!("CARGO_PKG_VERSION"),
        })
    }

    fn pending_count(&self) -> Result<u64, Error> {
        let cached = *self.pending_count.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, count)) = cached.filter(|(at, _)| at.elapsed() < PENDING_COUNT_TTL) {
            return Ok(count);
        }
        // Counted without the lock held: a slow count must not hold up
        // other health checks, which may count too.
        let count = self.store.read_in_task(actions::count_open)?;
        *self.pending_count.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((Instant::now(), count));
        Ok(count)
    }

    /// Issues a new key named `name`; the plaintext is returned only here.
    /// Its display prefix is one no other key has, so it names this key alone.
    pub async fn add_key(&self, name: &str) -> Result<keys::IssuedKey, Error> {
        for _ in 0..ISSUE_TRIES {
            let issued = keys::issue(name)?;
            let row = issued.row.clone();
            let stored = self
                .store
                .write(move |conn| key_rows::insert_unless_prefix_taken(conn, &row))
                .await?;
            if stored {
                tracing::info!(key_id = %issued.row.id, name = %issued.row.name, "API key created");
                return Ok(issued);
            }
        }
        Err(Error::Internal(format!(
            "{ISSUE_TRIES} new keys in a row had a display prefix already in use"
        )))
    }

    pub fn list_keys(&self) -> Result<Vec<KeyRow>, Error> {
        Ok(self.store.read(key_rows::list)?)
    }

    /// The key `query` names (id, unique prefix or display prefix).
    pub fn find_key(&self, query: &str) -> Result<KeyRow, Error> {
        keys::resolve(&self.store, query)
    }

    /// Revokes the key `query` names; false if it was already revoked.
    pub async fn revoke_key(&self, query: &str) -> Result<(KeyRow, bool), Error> {
        let key = self.find_key(query)?;
        let (id, at) = (key.id.clone(), clock::now_text());
        let changed = self
            .store
            .write(move |conn| key_rows::revoke(conn, &id, &at))
            .await?;
        self.keys.forget(&key.id);
        tracing::info!(key_id = %key.id, "API key revoked");
        Ok((key, changed))
    }
}

/// The stored form of a just-queued action, without a read back.
fn queued_row(row: crate::store::NewActionRow, key_name: &str) -> ActionRow {
    ActionRow {
        id: row.id,
        key_id: row.key_id,
        key_name: key_name.to_string(),
        channel: row.channel,
        recipient_address: row.recipient_address,
        recipient_name: row.recipient_name,
        subject: row.subject,
        body: row.body,
        priority: row.priority,
        status: row.status,
        flag_reason: row.flag_reason,
        agent_context: row.agent_context,
        created_at: row.created_at,
        reviewed_at: None,
        sent_at: None,
        error_message: None,
    }
}

/// Whether an approved action's send may still be in progress somewhere.
fn send_may_be_running(action: &SendingAction, ours: &Mutex<HashMap<String, usize>>) -> bool {
    let approved_at = action.approved_at.as_deref().and_then(clock::parse_time);
    let overdue = approved_at.is_none_or(|at| {
        let age = chrono::Utc::now().signed_duration_since(at);
        age.to_std()
            .is_ok_and(|age| age > MAX_SEND_DURATION + SEND_GRACE)
    });
    if overdue {
        return false;
    }
    match action.sender_pid {
        // A row naming our own pid is ours only if we are sending it; otherwise
        // an earlier process with the same pid (a container's pid 1) left it.
        Some(pid) if pid == std::process::id() => ours
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&action.id),
        Some(pid) => crate::process::exists(pid),
        None => false,
    }
}

/// Marks an action as being sent by this process for as long as it lives.
struct SendingGuard<'a> {
    set: &'a Mutex<HashMap<String, usize>>,
    id: String,
}

impl<'a> SendingGuard<'a> {
    fn register(set: &'a Mutex<HashMap<String, usize>>, id: &str) -> Self {
        let mut callers = set.lock().unwrap_or_else(|p| p.into_inner());
        *callers.entry(id.to_string()).or_default() += 1;
        SendingGuard {
            set,
            id: id.to_string(),
        }
    }
}

impl Drop for SendingGuard<'_> {
    fn drop(&mut self) {
        let mut callers = self.set.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = callers.get_mut(&self.id) {
            *count -= 1;
            if *count == 0 {
                callers.remove(&self.id);
            }
        }
    }
}
