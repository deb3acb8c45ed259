//! SQL for actions: intake, the conditional status changes, and listings.

use rusqlite::{named_params, params, Connection, OptionalExtension, Row};

use crate::gateway::model::{Channel, Priority, Status};

/// A validated message ready to be stored.
#[derive(Clone, Debug)]
pub struct NewActionRow {
    pub id: String,
    pub key_id: String,
    pub channel: Channel,
    pub recipient_address: String,
    pub recipient_name: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub priority: Priority,
    pub status: Status,
    pub flag_reason: Option<String>,
    pub agent_context: Option<String>,
    pub created_at: String,
}

/// A stored action with the name of the key that submitted it.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRow {
    pub id: String,
    pub key_id: String,
    pub key_name: String,
    pub channel: Channel,
    pub recipient_address: String,
    pub recipient_name: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub priority: Priority,
    pub status: Status,
    pub flag_reason: Option<String>,
    pub agent_context: Option<String>,
    pub created_at: String,
    pub reviewed_at: Option<String>,
    pub sent_at: Option<String>,
    pub error_message: Option<String>,
}

/// What `history` should list.
#[derive(Clone, Debug, Default)]
pub struct HistoryFilter {
    /// Only this status; otherwise every terminal one.
    pub status: Option<Status>,
    /// Only actions submitted by keys with this name.
    pub agent: Option<String>,
    pub limit: u32,
    /// Rows to skip, for paging.
    pub offset: u32,
}

/// A status change applied with one conditional UPDATE.
#[derive(Clone, Copy, Debug)]
pub enum Transition<'a> {
    /// Undecided → approved, held by process `sender_pid` while it sends.
    Approve { sender_pid: u32 },
    /// Undecided → denied, with the operator's reason if given.
    Deny { reason: Option<&'a str> },
    /// Approved → sent.
    Sent,
    /// Approved → failed, with what went wrong.
    Failed { error: &'a str },
}

const SELECT_ACTION: &str = "SELECT a.id, a.key_id, k.name, a.channel, a.recipient_address, \
     a.recipient_name, a.subject, a.body, a.priority, a.status, a.flag_reason, a.agent_context, \
     a.created_at, a.reviewed_at, a.sent_at, a.error_message \
     FROM actions a JOIN api_keys k ON k.id = a.key_id";

/// The WHERE clause of the `actions_decided` index, which SQLite uses only for
/// queries that repeat it exactly (an equivalent `IN` list does not match).
const DECIDED: &str = "a.status = 'sent' OR a.status = 'denied' OR a.status = 'failed'";

/// Stores `action` if its key exists and is not revoked; false otherwise.
///
/// The key is checked inside the writer's transaction, so a revocation
/// committed a moment earlier is never overtaken by a send that
/// authenticated before it. The INSERT is the only statement that writes,
/// which lets intake use [`crate::store::Store::write_statement`].
pub fn insert(conn: &Connection, action: &NewActionRow) -> rusqlite::Result<bool> {
    let live = conn
        .prepare_cached("SELECT 1 FROM api_keys WHERE id = ?1 AND revoked_at IS NULL")?
        .exists([&action.key_id])?;
    if !live {
        return Ok(false);
    }
    // A plain single-row INSERT: unlike INSERT ... SELECT it needs no
    // statement journal, so it writes no copy of the pages it changes.
    // Numbered rather than named parameters, because binding by name looks
    // each one up by string on every call.
    conn.prepare_cached(
        "INSERT INTO actions (id, key_id, channel, recipient_address, recipient_name, subject, \
             body, priority, status, flag_reason, agent_context, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        action.id,
        action.key_id,
        action.channel,
        action.recipient_address,
        action.recipient_name,
        action.subject,
        action.body,
        action.priority,
        action.status,
        action.flag_reason,
        action.agent_context,
        action.created_at,
    ])?;
    Ok(true)
}

/// The action with exactly this id.
pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<ActionRow>> {
    let sql = format!("{SELECT_ACTION} WHERE a.id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], action_from_row)
        .optional()
}

/// Applies `change` to action `id` if it is in a status the change starts
/// from; returns whether it was applied.
pub fn transition(
    conn: &Connection,
    id: &str,
    change: Transition<'_>,
    at: &str,
) -> rusqlite::Result<bool> {
    let changed = match change {
        Transition::Approve { sender_pid } => conn
            .prepare_cached(
                "UPDATE actions SET status = 'approved', reviewed_at = ?2, sender_pid = ?3 \
                 WHERE id = ?1 AND status IN ('pending', 'flagged')",
            )?
            .execute(params![id, at, sender_pid])?,
        Transition::Deny { reason } => conn
            .prepare_cached(
                "UPDATE actions SET status = 'denied', reviewed_at = ?2, error_message = ?3 \
                 WHERE id = ?1 AND status IN ('pending', 'flagged')",
            )?
            .execute(params![id, at, reason])?,
        Transition::Sent => conn
            .prepare_cached(
                "UPDATE actions SET status = 'sent', sent_at = ?2, sender_pid = NULL \
                 WHERE id = ?1 AND status = 'approved'",
            )?
            .execute(params![id, at])?,
        Transition::Failed { error } => conn
            .prepare_cached(
                "UPDATE actions SET status = 'failed', error_message = ?2, sender_pid = NULL \
                 WHERE id = ?1 AND status = 'approved'",
            )?
            .execute(params![id, error])?,
    };
    Ok(changed == 1)
}

/// Pending and flagged actions, newest first.
pub fn list_open(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<ActionRow>> {
    let sql = format!(
        "{SELECT_ACTION} WHERE a.status IN ('pending', 'flagged') ORDER BY a.id DESC LIMIT ?1"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([limit], action_from_row)?;
    rows.collect()
}

/// Decided actions, most recently decided first.
pub fn list_history(conn: &Connection, filter: &HistoryFilter) -> rusqlite::Result<Vec<ActionRow>> {
    // Two statements, so the common case can walk the index of decided actions.
    let (sql, status) = match filter.status {
        None => (
            format!(
                "{SELECT_ACTION} WHERE ({DECIDED}) \
                 AND (:agent IS NULL OR k.name = :agent) \
                 ORDER BY a.reviewed_at DESC, a.id DESC LIMIT :limit OFFSET :offset"
            ),
            None,
        ),
        Some(status) => (
            format!(
                "{SELECT_ACTION} WHERE a.status = :status AND (:agent IS NULL OR k.name = :agent) \
                 ORDER BY coalesce(a.reviewed_at, a.created_at) DESC, a.id DESC \
                 LIMIT :limit OFFSET :offset"
            ),
            Some(status),
        ),
    };
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = match status {
        None => statement.query_map(
            named_params! {
                ":agent": filter.agent, ":limit": filter.limit, ":offset": filter.offset,
            },
            action_from_row,
        )?,
        Some(status) => statement.query_map(
            named_params! {
                ":agent": filter.agent, ":limit": filter.limit, ":offset": filter.offset,
                ":status": status,
            },
            action_from_row,
        )?,
    };
    rows.collect()
}

/// How many actions wait for a decision.
pub fn count_open(conn: &Connection) -> rusqlite::Result<u64> {
    conn.prepare_cached("SELECT count(*) FROM actions WHERE status IN ('pending', 'flagged')")?
        .query_row([], |row| row.get(0))
}

/// An approved action whose transport has not reported back yet.
#[derive(Clone, Debug)]
pub struct SendingAction {
    pub id: String,
    /// The process that approved it and runs its transport.
    pub sender_pid: Option<u32>,
    pub approved_at: Option<String>,
}

/// Actions approved but not yet sent or failed.
pub fn list_sending(conn: &Connection) -> rusqlite::Result<Vec<SendingAction>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, sender_pid, reviewed_at FROM actions WHERE status = 'approved'",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(SendingAction {
            id: row.get(0)?,
            sender_pid: row.get(1)?,
            approved_at: row.get(2)?,
        })
    })?;
    rows.collect()
}

/// Ids starting with `prefix` (at most `limit`), for resolving short ids.
pub fn ids_with_prefix(
    conn: &Connection,
    prefix: &str,
    limit: u32,
) -> rusqlite::Result<Vec<String>> {
    // Ids are ASCII, so every id starting with `prefix` sorts below prefix + DEL.
    let upper = format!("{prefix}\u{7f}");
    let mut statement = conn
        .prepare_cached("SELECT id FROM actions WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT ?3")?;
    let rows = statement.query_map(params![prefix, upper, limit], |row| row.get(0))?;
    rows.collect()
}

fn action_from_row(row: &Row<'_>) -> rusqlite::Result<ActionRow> {
    Ok(ActionRow {
        id: row.get(0)?,
        key_id: row.get(1)?,
        key_name: row.get(2)?,
        channel: row.get(3)?,
        recipient_address: row.get(4)?,
        recipient_name: row.get(5)?,
        subject: row.get(6)?,
        body: row.get(7)?,
        priority: row.get(8)?,
        status: row.get(9)?,
        flag_reason: row.get(10)?,
        agent_context: row.get(11)?,
        created_at: row.get(12)?,
        reviewed_at: row.get(13)?,
        sent_at: row.get(14)?,
        error_message: row.get(15)?,
    })
}

/// Undecided actions matching `filter` (case-insensitive text in recipient,
/// subject, body or agent name; empty matches all), newest first, one window.
pub fn open_window(
    conn: &Connection,
    filter: &str,
    offset: u32,
    limit: u32,
) -> rusqlite::Result<Vec<ActionRow>> {
    let sql = format!(
        "{SELECT_ACTION} WHERE a.status IN ('pending', 'flagged') AND ({OPEN_FILTER}) \
         ORDER BY a.id DESC LIMIT ?2 OFFSET ?3"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params![filter, limit, offset], action_from_row)?;
    rows.collect()
}

/// How many undecided actions match `filter`.
pub fn count_open_matching(conn: &Connection, filter: &str) -> rusqlite::Result<u64> {
    if filter.is_empty() {
        return count_open(conn);
    }
    let sql = format!(
        "SELECT count(*) FROM actions a JOIN api_keys k ON k.id = a.key_id \
         WHERE a.status IN ('pending', 'flagged') AND ({OPEN_FILTER})"
    );
    conn.prepare_cached(&sql)?
        .query_row([filter], |row| row.get(0))
}

/// How many undecided actions matching `filter` are newer than `id`: the
/// place `id` has in [`open_window`]'s order, or would have if it were still
/// undecided, so a caller can find a row again after others came or went.
pub fn count_open_newer(conn: &Connection, filter: &str, id: &str) -> rusqlite::Result<u64> {
    if filter.is_empty() {
        return conn
            .prepare_cached(
                "SELECT count(*) FROM actions WHERE status IN ('pending', 'flagged') AND id > ?1",
            )?
            .query_row([id], |row| row.get(0));
    }
    let sql = format!(
        "SELECT count(*) FROM actions a JOIN api_keys k ON k.id = a.key_id \
         WHERE a.status IN ('pending', 'flagged') AND ({OPEN_FILTER}) AND a.id > ?2"
    );
    conn.prepare_cached(&sql)?
        .query_row(params![filter, id], |row| row.get(0))
}

/// Matches `?1` anywhere in what an operator would search for.
const OPEN_FILTER: &str = "?1 = '' OR instr(lower(a.recipient_address || ' ' || \
     coalesce(a.recipient_name, '') || ' ' || coalesce(a.subject, '') || ' ' || a.body || ' ' || \
     k.name), lower(?1)) > 0";

/// How many decided actions the history can page through.
pub fn count_history(conn: &Connection, status: Option<Status>) -> rusqlite::Result<u64> {
    match status {
        None => conn
            .prepare_cached(&format!("SELECT count(*) FROM actions a WHERE {DECIDED}"))?
            .query_row([], |row| row.get(0)),
        Some(status) => conn
            .prepare_cached("SELECT count(*) FROM actions WHERE status = ?1")?
            .query_row([status], |row| row.get(0)),
    }
}
