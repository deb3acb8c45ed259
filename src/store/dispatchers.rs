//! SQL for the registry of webhook dispatchers and their heartbeats.

use rusqlite::{named_params, Connection};

/// A dispatcher process registered on this database.
#[derive(Clone, Debug, PartialEq)]
pub struct DispatcherRow {
    pub id: String,
    pub pid: u32,
    /// Where `pid` means something (see `process::pid_namespace`).
    pub pid_namespace: Option<String>,
    pub doorbell_port: Option<u16>,
    pub heartbeat_at: String,
}

/// Registers the dispatcher or refreshes its heartbeat. Also re-registers
/// one whose row was cleared while it was silent (stopped, say), so it is
/// counted as alive again as soon as it speaks.
pub fn heartbeat(conn: &Connection, dispatcher: &DispatcherRow) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO dispatchers (id, pid, pid_namespace, doorbell_port, started_at, \
             heartbeat_at) \
         VALUES (:id, :pid, :namespace, :port, :at, :at) \
         ON CONFLICT (id) DO UPDATE SET pid = excluded.pid, \
             pid_namespace = excluded.pid_namespace, doorbell_port = excluded.doorbell_port, \
             heartbeat_at = excluded.heartbeat_at",
    )?
    .execute(named_params! {
        ":id": dispatcher.id,
        ":pid": dispatcher.pid,
        ":namespace": dispatcher.pid_namespace,
        ":port": dispatcher.doorbell_port,
        ":at": dispatcher.heartbeat_at,
    })?;
    Ok(())
}

pub fn unregister(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM dispatchers WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Every registered dispatcher, live or not.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<DispatcherRow>> {
    let mut statement = conn.prepare_cached(
        "SELECT id, pid, pid_namespace, doorbell_port, heartbeat_at FROM dispatchers",
    )?;
    let rows = statement.query_map([], |row| {
        Ok(DispatcherRow {
            id: row.get(0)?,
            pid: row.get(1)?,
            pid_namespace: row.get(2)?,
            doorbell_port: row.get(3)?,
            heartbeat_at: row.get(4)?,
        })
    })?;
    rows.collect()
}
