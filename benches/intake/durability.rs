//! After a kill -9 mid-load: is every action the server acknowledged with a
//! 200 in the database?

use std::path::Path;

use anyhow::{bail, Context};
use rusqlite::{Connection, OptionalExtension};

/// Opens the database the killed server left (SQLite recovers its WAL) and
/// looks up every acknowledged id; fails if any is missing.
pub fn check(database: &Path, acknowledged: &[String], prefilled: u64) -> anyhow::Result<()> {
    let conn = Connection::open(database).context("opening the database after the kill")?;
    let mut lookup = conn.prepare("SELECT 1 FROM actions WHERE id = ?1")?;
    let mut missing = Vec::new();
    for id in acknowledged {
        if lookup.query_row([id], |_| Ok(())).optional()?.is_none() {
            missing.push(id.as_str());
        }
    }
    let rows: u64 = conn.query_row("SELECT count(*) FROM actions", [], |row| row.get(0))?;
    let stored = rows.saturating_sub(prefilled);

    println!(
        "durability: {} acknowledged, {} of them in the database, {} missing; \
         {stored} rows stored by the load ({} committed but unanswered when killed)",
        acknowledged.len(),
        acknowledged.len() - missing.len(),
        missing.len(),
        stored.saturating_sub(acknowledged.len() as u64),
    );
    if !missing.is_empty() {
        bail!(
            "acknowledged actions lost: {:?}",
            &missing[..missing.len().min(10)]
        );
    }
    Ok(())
}
