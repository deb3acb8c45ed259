//! The console's reads: each fetch command answered from the database as
//! the action that carries its rows back. These block, so the worker runs
//! them on tokio's blocking pool, never on the render loop.

use rusqlite::Connection;

use super::action::{Action, Anchor, Command, Loaded};
use super::model::{window_start, Counts, KeyEntry};
use crate::gateway::{Error, Gateway, Status};
use crate::store::{actions, deliveries, keys as key_rows, HistoryFilter, Store};

/// Most recent webhook attempts the status bar needs.
const RECENT_ATTEMPTS: u32 = 3;

/// Answers a read-only `command`.
pub fn answer(gateway: &Gateway, command: Command) -> Result<Action, Error> {
    match command {
        Command::FetchCounts => Ok(Action::CountsLoaded(gateway.store().read(counts)?)),
        Command::LoadAttempts(query) => {
            let (delivery, attempts) = gateway.delivery(&query)?;
            Ok(Action::Attempts {
                delivery: Box::new(delivery),
                attempts,
            })
        }
        list => list_window(gateway.store(), list),
    }
}

/// Answers a fetch of one of the lists with the window of it asked for.
fn list_window(store: &Store, command: Command) -> Result<Action, Error> {
    let action = match command {
        Command::FetchQueue {
            generation,
            filter,
            offset,
            limit,
            around,
            marked,
        } => {
            let query = QueueQuery {
                filter,
                offset,
                limit,
                around,
            };
            queue_loaded(store, generation, &query, &marked)?
        }
        Command::FetchKeys { generation } => {
            Action::KeysLoaded(store.read(keys)?.answering(generation))
        }
        Command::FetchDeliveries {
            generation,
            failed_only,
            offset,
            limit,
        } => Action::DeliveriesLoaded(
            store
                .read(|conn| delivery_log(conn, failed_only, offset, limit))?
                .answering(generation),
        ),
        Command::FetchHistory {
            generation,
            status,
            offset,
            limit,
        } => Action::HistoryLoaded(
            store
                .read(|conn| history(conn, status, offset, limit))?
                .answering(generation),
        ),
        other => Action::Failed(format!("unexpected console command {other:?}")),
    };
    Ok(action)
}

/// Rows read for a fetch, before it is stamped with the fetch's generation.
struct Rows<T> {
    total: u64,
    offset: usize,
    rows: Vec<T>,
    anchor: Option<Anchor>,
}

impl<T> Rows<T> {
    fn answering(self, generation: u64) -> Loaded<T> {
        Loaded {
            generation,
            total: to_usize(self.total),
            offset: self.offset,
            rows: self.rows,
            anchor: self.anchor,
        }
    }
}

struct QueueQuery {
    filter: String,
    offset: usize,
    limit: usize,
    around: Option<String>,
}

/// The queue's window, and which of the `marked` actions were decided.
fn queue_loaded(
    store: &Store,
    generation: u64,
    query: &QueueQuery,
    marked: &[String],
) -> Result<Action, Error> {
    let (window, decided_marks) =
        store.read(|conn| Ok((queue(conn, query)?, decided(conn, marked)?)))?;
    Ok(Action::QueueLoaded {
        window: window.answering(generation),
        decided_marks,
    })
}

/// The queue's window: around the action `around` names wherever it is now
/// (it moves down as newer ones arrive), else from `offset`.
fn queue(conn: &Connection, query: &QueueQuery) -> rusqlite::Result<Rows<crate::store::ActionRow>> {
    let total = actions::count_open_matching(conn, &query.filter)?;
    let anchor = match &query.around {
        Some(id) => {
            let index = actions::count_open_newer(conn, &query.filter, id)?;
            Some(Anchor {
                id: id.clone(),
                index: to_usize(index),
            })
        }
        None => None,
    };
    let offset = anchor
        .as_ref()
        .map_or(query.offset, |a| window_start(a.index, query.limit));
    let rows = actions::open_window(conn, &query.filter, to_u32(offset), to_u32(query.limit))?;
    Ok(Rows {
        total,
        offset,
        rows,
        anchor,
    })
}

/// Which of the `marked` actions are no longer waiting for a decision.
fn decided(conn: &Connection, marked: &[String]) -> rusqlite::Result<Vec<String>> {
    let mut decided = Vec::new();
    for id in marked {
        let waiting = actions::get(conn, id)?
            .is_some_and(|a| matches!(a.status, Status::Pending | Status::Flagged));
        if !waiting {
            decided.push(id.clone());
        }
    }
    Ok(decided)
}

/// Every key with its latest delivery; there are few, so all are fetched.
fn keys(conn: &Connection) -> rusqlite::Result<Rows<KeyEntry>> {
    let latest = deliveries::latest_per_key(conn)?;
    let entries: Vec<KeyEntry> = key_rows::list(conn)?
        .into_iter()
        .map(|key| {
            let last_delivery = latest.iter().find(|d| d.key_id == key.id).cloned();
            KeyEntry { key, last_delivery }
        })
        .collect();
    Ok(Rows {
        total: entries.len() as u64,
        offset: 0,
        rows: entries,
        anchor: None,
    })
}

fn delivery_log(
    conn: &Connection,
    failed_only: bool,
    offset: usize,
    limit: usize,
) -> rusqlite::Result<Rows<deliveries::DeliveryRow>> {
    Ok(Rows {
        total: deliveries::count(conn, failed_only)?,
        offset,
        rows: deliveries::window(conn, failed_only, to_u32(offset), to_u32(limit))?,
        anchor: None,
    })
}

fn history(
    conn: &Connection,
    status: Option<Status>,
    offset: usize,
    limit: usize,
) -> rusqlite::Result<Rows<crate::store::ActionRow>> {
    let filter = HistoryFilter {
        status,
        agent: None,
        limit: to_u32(limit),
        offset: to_u32(offset),
    };
    Ok(Rows {
        total: actions::count_history(conn, status)?,
        offset,
        rows: actions::list_history(conn, &filter)?,
        anchor: None,
    })
}

fn counts(conn: &Connection) -> rusqlite::Result<Counts> {
    let (retrying, failed) = deliveries::retrying_and_failed(conn)?;
    Ok(Counts {
        pending: actions::count_open(conn)?,
        recent: deliveries::recent_attempts(conn, RECENT_ATTEMPTS)?,
        retrying,
        failed,
    })
}

fn to_u32(value: usize) -> u32 {
    u32::try_from(value).unwrap_or(u32::MAX)
}

fn to_usize(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}
