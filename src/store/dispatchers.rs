//! SQL for the registry of live webhook dispatchers and their heartbeats.

use rusqlite::{params, Connection};

/// A dispatcher process registered on this database.
#[derive(Clone, Debug, PartialEq)]
pub struct DispatcherRow {
    pub id: String,
    pub pid: u32,
    pub doorbell_port: Option<u16>,
    pub heartbeat_at: String,
}

pub fn register(
    conn: &Connection,
    id: &str,
    pid: u32,
    doorbell_port: Option<u16>,
    now: &str,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO dispatchers (id, pid, doorbell_port, started_at, heartbeat_at) \
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![id, pid, doorbell_port, now])?;
    Ok(())
}

pub fn heartbeat(conn: &Connection, id: &str, now: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE dispatchers SET heartbeat_at = ?2 WHERE id = ?1")?
        .execute(params![id, now])?;
    Ok(())
}

pub fn unregister(conn: &Connection, id: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM dispatchers WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Every registered dispatcher, live or not.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<DispatcherRow>> {
    let mut statement =
        conn.prepare_cached("SELECT id, pid, doorbell_port, heartbeat_at FROM dispatchers")?;
    let rows = statement.query_map([], |row| {
        Ok(DispatcherRow {
            id: row.get(0)?,
            pid: row.get(1)?,
            doorbell_port: row.get(2)?,
            heartbeat_at: row.get(3)?,
        })
    })?;
    rows.collect()
}
