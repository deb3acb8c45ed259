//! Storing many actions fast, straight through SQLite in one transaction,
//! so intake can be measured against a full table.
//!
//! The rows go into the schema the gateway itself created (the key was added
//! through the binary first), so every index the gateway maintains is there.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use rusqlite::{params, Connection};

use contactcmd::clock;

/// Decided rows carry these statuses in turn; every tenth row is pending.
const DECIDED: [&str; 4] = ["sent", "sent", "denied", "failed"];

const CHANNELS: [&str; 3] = ["sms", "email", "imessage"];

/// Adds `count` actions owned by the database's first key.
pub fn run(database: &Path, count: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut conn = Connection::open(database).context("opening the database to prefill")?;
    let key_id: String = conn
        .query_row("SELECT id FROM api_keys ORDER BY id LIMIT 1", [], |row| {
            row.get(0)
        })
        .context("the database has no key to own the prefilled actions")?;

    let tx = conn.transaction()?;
    insert_rows(&tx, &key_id, count)?;
    tx.commit()?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    println!(
        "prefilled {count} actions in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

fn insert_rows(conn: &Connection, key_id: &str, count: u64) -> anyhow::Result<()> {
    let mut insert = conn.prepare(
        "INSERT INTO actions (id, key_id, channel, recipient_address, subject, body, priority, \
             status, created_at, reviewed_at, sent_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'normal', ?7, ?8, ?9, ?10)",
    )?;
    let at = clock::now_text();
    for n in 0..count {
        let index = usize::try_from(n)?;
        let channel = CHANNELS[index % CHANNELS.len()];
        let email = channel == "email";
        let recipient = if email {
            "alex@example.com"
        } else {
            "+15550100"
        };
        let subject = email.then_some("Prefilled message");
        let body = format!("Prefilled message number {n}.");
        let status = match index % 10 {
            0 => "pending",
            i => DECIDED[i % DECIDED.len()],
        };
        let reviewed = (status != "pending").then_some(at.as_str());
        let sent = (status == "sent").then_some(at.as_str());
        insert.execute(params![
            clock::new_id(),
            key_id,
            channel,
            recipient,
            subject,
            body,
            status,
            at,
            reviewed,
            sent
        ])?;
    }
    Ok(())
}
