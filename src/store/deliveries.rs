//! SQL for webhook deliveries: the durable outbox, lease claims, the
//! attempt log, and live dispatchers' heartbeats.

use rusqlite::{named_params, params, Connection, OptionalExtension, Row};

/// A webhook event to be written beside the status change it reports.
#[derive(Clone, Debug)]
pub struct NewDelivery {
    pub id: String,
    pub key_id: String,
    pub action_id: Option<String>,
    pub event_type: String,
    pub url: String,
    pub payload: String,
    pub created_at: String,
}

/// A stored delivery with its key's name.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRow {
    pub id: String,
    pub key_id: String,
    pub key_name: String,
    pub action_id: Option<String>,
    pub event_type: String,
    pub url: String,
    pub payload: String,
    pub status: String,
    pub attempts: u32,
    /// Set by a manual retry; otherwise the retry schedule decides.
    pub max_attempts: Option<u32>,
    pub next_attempt_at: String,
    pub created_at: String,
    pub finished_at: Option<String>,
    pub last_status_code: Option<u16>,
    pub last_error: Option<String>,
    pub last_latency_ms: Option<u64>,
}

/// One recorded attempt.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRow {
    pub delivery_id: String,
    pub attempt: u32,
    pub attempted_at: String,
    pub status_code: Option<u16>,
    pub latency_ms: u64,
    pub error: Option<String>,
    pub response_snippet: Option<String>,
}

/// What became of an attempt, and so of the delivery.
#[derive(Clone, Debug)]
pub enum AttemptVerdict {
    Delivered,
    /// Try again at this time.
    Retry {
        at: String,
    },
    /// No more attempts.
    GiveUp,
}

/// Which deliveries to list.
#[derive(Clone, Debug, Default)]
pub struct DeliveryFilter {
    pub failed_only: bool,
    pub key_id: Option<String>,
    pub limit: u32,
}

const SELECT_DELIVERY: &str = "SELECT d.id, d.key_id, k.name, d.action_id, d.event_type, d.url, \
     d.payload, d.status, d.attempts, d.max_attempts, d.next_attempt_at, d.created_at, \
     d.finished_at, d.last_status_code, d.last_error, d.last_latency_ms \
     FROM webhook_deliveries d JOIN api_keys k ON k.id = d.key_id";

pub fn insert(conn: &Connection, delivery: &NewDelivery) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO webhook_deliveries (id, key_id, action_id, event_type, url, payload, \
             status, next_attempt_at, created_at) \
         VALUES (:id, :key_id, :action_id, :event_type, :url, :payload, 'pending', \
             :created_at, :created_at)",
    )?
    .execute(named_params! {
        ":id": delivery.id,
        ":key_id": delivery.key_id,
        ":action_id": delivery.action_id,
        ":event_type": delivery.event_type,
        ":url": delivery.url,
        ":payload": delivery.payload,
        ":created_at": delivery.created_at,
    })?;
    Ok(())
}

/// Leases up to `limit` due deliveries to `dispatcher` until `lease_until`.
/// A delivery whose lease has run out (its holder died) is due again.
pub fn claim_due(
    conn: &Connection,
    dispatcher: &str,
    now: &str,
    lease_until: &str,
    limit: u32,
) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare_cached(
        "UPDATE webhook_deliveries SET claimed_by = ?1, claimed_until = ?2 \
         WHERE id IN (SELECT id FROM webhook_deliveries \
             WHERE status = 'pending' AND next_attempt_at <= ?3 \
                 AND (claimed_until IS NULL OR claimed_until < ?3) \
             ORDER BY next_attempt_at LIMIT ?4) \
         RETURNING id",
    )?;
    let rows = statement.query_map(params![dispatcher, lease_until, now, limit], |r| r.get(0))?;
    rows.collect()
}

/// Leases one delivery, whatever its schedule, if nobody else holds it.
pub fn claim_one(
    conn: &Connection,
    id: &str,
    dispatcher: &str,
    now: &str,
    lease_until: &str,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE webhook_deliveries SET claimed_by = ?2, claimed_until = ?4 \
             WHERE id = ?1 AND status = 'pending' \
                 AND (claimed_until IS NULL OR claimed_until < ?3 OR claimed_by = ?2)",
        )?
        .execute(params![id, dispatcher, now, lease_until])?;
    Ok(changed == 1)
}

/// Records an attempt by `holder` and what it means for the delivery.
///
/// The attempt is always logged, numbered after those already logged. A
/// delivered answer settles the delivery whoever holds it; any other verdict
/// reschedules or fails it only while `holder` still holds the lease, since
/// a holder whose lease ran out no longer decides what happens next.
pub fn record_attempt(
    conn: &Connection,
    holder: &str,
    attempt: &AttemptRow,
    verdict: &AttemptVerdict,
) -> rusqlite::Result<()> {
    log_attempt(conn, attempt)?;
    count_attempt(conn, attempt)?;
    settle(conn, holder, attempt, verdict)
}

fn log_attempt(conn: &Connection, attempt: &AttemptRow) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, \
             latency_ms, error, response_snippet) \
         VALUES (?1, (SELECT coalesce(max(attempt), 0) + 1 FROM webhook_attempts \
             WHERE delivery_id = ?1), ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        attempt.delivery_id,
        attempt.attempted_at,
        attempt.status_code,
        attempt.latency_ms,
        attempt.error,
        attempt.response_snippet,
    ])?;
    Ok(())
}

fn count_attempt(conn: &Connection, attempt: &AttemptRow) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status_code = ?2, \
             last_error = ?3, last_latency_ms = ?4 \
         WHERE id = ?1 AND status = 'pending'",
    )?
    .execute(params![
        attempt.delivery_id,
        attempt.status_code,
        attempt.error,
        attempt.latency_ms,
    ])?;
    Ok(())
}

fn settle(
    conn: &Connection,
    holder: &str,
    attempt: &AttemptRow,
    verdict: &AttemptVerdict,
) -> rusqlite::Result<()> {
    let (status, next_at, anyone) = match verdict {
        AttemptVerdict::Delivered => ("delivered", None, true),
        AttemptVerdict::Retry { at } => ("pending", Some(at), false),
        AttemptVerdict::GiveUp => ("failed", None, false),
    };
    let finished_at = (status != "pending").then_some(&attempt.attempted_at);
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET status = ?2, \
             next_attempt_at = coalesce(?3, next_attempt_at), finished_at = ?4, \
             claimed_by = NULL, claimed_until = NULL \
         WHERE id = ?1 AND status = 'pending' AND (?5 OR claimed_by = ?6)",
    )?
    .execute(params![
        attempt.delivery_id,
        status,
        next_at,
        finished_at,
        anyone,
        holder,
    ])?;
    Ok(())
}

/// When the earliest pending delivery is due.
pub fn next_due_at(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.prepare_cached(
        "SELECT min(max(next_attempt_at, coalesce(claimed_until, ''))) \
         FROM webhook_deliveries WHERE status = 'pending'",
    )?
    .query_row([], |row| row.get(0))
}

/// Puts a failed delivery back in line for one more attempt now.
pub fn retry(conn: &Connection, id: &str, now: &str) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = ?2, \
                 max_attempts = attempts + 1, finished_at = NULL, \
                 claimed_by = NULL, claimed_until = NULL \
             WHERE id = ?1 AND status = 'failed'",
        )?
        .execute(params![id, now])?;
    Ok(changed == 1)
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<DeliveryRow>> {
    let sql = format!("{SELECT_DELIVERY} WHERE d.id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], delivery_from_row)
        .optional()
}

/// Deliveries, newest first.
pub fn list(conn: &Connection, filter: &DeliveryFilter) -> rusqlite::Result<Vec<DeliveryRow>> {
    let sql = format!(
        "{SELECT_DELIVERY} WHERE (?1 = 0 OR d.status = 'failed') \
             AND (?2 IS NULL OR d.key_id = ?2) \
         ORDER BY d.id DESC LIMIT ?3"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(
        params![filter.failed_only, filter.key_id, filter.limit],
        delivery_from_row,
    )?;
    rows.collect()
}

/// The newest delivery of each key that has one.
pub fn latest_per_key(conn: &Connection) -> rusqlite::Result<Vec<DeliveryRow>> {
    let sql = format!(
        "{SELECT_DELIVERY} WHERE d.id IN \
             (SELECT max(id) FROM webhook_deliveries GROUP BY key_id)"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([], delivery_from_row)?;
    rows.collect()
}

/// Every attempt of one delivery, first first.
pub fn attempts(conn: &Connection, delivery_id: &str) -> rusqlite::Result<Vec<AttemptRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT delivery_id, attempt, attempted_at, status_code, latency_ms, error, \
             response_snippet \
         FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY attempt",
    )?;
    let rows = statement.query_map([delivery_id], |row| {
        Ok(AttemptRow {
            delivery_id: row.get(0)?,
            attempt: row.get(1)?,
            attempted_at: row.get(2)?,
            status_code: row.get(3)?,
            latency_ms: row.get(4)?,
            error: row.get(5)?,
            response_snippet: row.get(6)?,
        })
    })?;
    rows.collect()
}

/// Ids starting with `prefix`, for resolving short ids.
pub fn ids_with_prefix(conn: &Connection, prefix: &str) -> rusqlite::Result<Vec<String>> {
    let upper = format!("{prefix}\u{7f}");
    let mut statement = conn.prepare_cached(
        "SELECT id FROM webhook_deliveries WHERE id >= ?1 AND id < ?2 ORDER BY id LIMIT 10",
    )?;
    let rows = statement.query_map(params![prefix, upper], |row| row.get(0))?;
    rows.collect()
}

/// Releases every lease held by `dispatcher`, so others may send at once.
pub fn release_claims(conn: &Connection, dispatcher: &str) -> rusqlite::Result<usize> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET claimed_by = NULL, claimed_until = NULL \
         WHERE claimed_by = ?1 AND status = 'pending'",
    )?
    .execute([dispatcher])
}

fn delivery_from_row(row: &Row<'_>) -> rusqlite::Result<DeliveryRow> {
    Ok(DeliveryRow {
        id: row.get(0)?,
        key_id: row.get(1)?,
        key_name: row.get(2)?,
        action_id: row.get(3)?,
        event_type: row.get(4)?,
        url: row.get(5)?,
        payload: row.get(6)?,
        status: row.get(7)?,
        attempts: row.get(8)?,
        max_attempts: row.get(9)?,
        next_attempt_at: row.get(10)?,
        created_at: row.get(11)?,
        finished_at: row.get(12)?,
        last_status_code: row.get(13)?,
        last_error: row.get(14)?,
        last_latency_ms: row.get(15)?,
    })
}

/// Caps how many attempts a delivery gets in all.
pub fn limit_attempts(conn: &Connection, id: &str, max_attempts: u32) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE webhook_deliveries SET max_attempts = ?2 WHERE id = ?1")?
        .execute(params![id, max_attempts])?;
    Ok(())
}

/// Deliveries for the console, newest first, one window.
pub fn window(
    conn: &Connection,
    failed_only: bool,
    offset: u32,
    limit: u32,
) -> rusqlite::Result<Vec<DeliveryRow>> {
    let sql = format!(
        "{SELECT_DELIVERY} WHERE (?1 = 0 OR d.status = 'failed') \
         ORDER BY d.id DESC LIMIT ?2 OFFSET ?3"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params![failed_only, limit, offset], delivery_from_row)?;
    rows.collect()
}

/// How many deliveries `window` can page through.
pub fn count(conn: &Connection, failed_only: bool) -> rusqlite::Result<u64> {
    conn.prepare_cached(
        "SELECT count(*) FROM webhook_deliveries WHERE (?1 = 0 OR status = 'failed')",
    )?
    .query_row([failed_only], |row| row.get(0))
}

/// Deliveries waiting for another attempt, and ones that gave up.
pub fn retrying_and_failed(conn: &Connection) -> rusqlite::Result<(u64, u64)> {
    let retrying = conn
        .prepare_cached(
            "SELECT count(*) FROM webhook_deliveries WHERE status = 'pending' AND attempts > 0",
        )?
        .query_row([], |row| row.get(0))?;
    let failed = conn
        .prepare_cached("SELECT count(*) FROM webhook_deliveries WHERE status = 'failed'")?
        .query_row([], |row| row.get(0))?;
    Ok((retrying, failed))
}

/// A recent attempt with what the status bar shows about it.
#[derive(Clone, Debug, PartialEq)]
pub struct RecentAttempt {
    pub key_name: String,
    pub attempt: AttemptRow,
    pub delivery_status: String,
    pub next_attempt_at: String,
}

/// The newest `limit` attempts, newest first.
pub fn recent_attempts(conn: &Connection, limit: u32) -> rusqlite::Result<Vec<RecentAttempt>> {
    let mut statement = conn.prepare_cached(
        "SELECT k.name, a.delivery_id, a.attempt, a.attempted_at, a.status_code, a.latency_ms, \
             a.error, d.status, d.next_attempt_at \
         FROM webhook_attempts a \
         JOIN webhook_deliveries d ON d.id = a.delivery_id \
         JOIN api_keys k ON k.id = d.key_id \
         ORDER BY a.attempted_at DESC LIMIT ?1",
    )?;
    let rows = statement.query_map([limit], |row| {
        Ok(RecentAttempt {
            key_name: row.get(0)?,
            attempt: AttemptRow {
                delivery_id: row.get(1)?,
                attempt: row.get(2)?,
                attempted_at: row.get(3)?,
                status_code: row.get(4)?,
                latency_ms: row.get(5)?,
                error: row.get(6)?,
                response_snippet: None,
            },
            delivery_status: row.get(7)?,
            next_attempt_at: row.get(8)?,
        })
    })?;
    rows.collect()
}
