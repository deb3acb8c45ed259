//! SQL for API keys.

use rusqlite::{params, Connection, OptionalExtension, Row};

/// A stored API key (never the plaintext). Its `Debug` form leaves the
/// signing secrets out, so a key in a log line never carries them.
#[derive(Clone, PartialEq)]
pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub key_hash: Vec<u8>,
    pub display_prefix: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
    pub revoked_at: Option<String>,
    pub webhook_url: Option<String>,
    /// `whsec_...`, created with the first webhook URL.
    pub webhook_secret: Option<String>,
    /// The secret before the last rotation, still signing until it expires.
    pub previous_webhook_secret: Option<String>,
    pub previous_secret_expires_at: Option<String>,
}

impl std::fmt::Debug for KeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |secret: &Option<String>| secret.as_ref().map(|_| "<redacted>");
        f.debug_struct("KeyRow")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("display_prefix", &self.display_prefix)
            .field("created_at", &self.created_at)
            .field("last_used_at", &self.last_used_at)
            .field("revoked_at", &self.revoked_at)
            .field("webhook_url", &self.webhook_url)
            .field("webhook_secret", &redacted(&self.webhook_secret))
            .field(
                "previous_webhook_secret",
                &redacted(&self.previous_webhook_secret),
            )
            .field(
                "previous_secret_expires_at",
                &self.previous_secret_expires_at,
            )
            .finish_non_exhaustive()
    }
}

const SELECT_KEY: &str = "SELECT id, name, key_hash, display_prefix, created_at, last_used_at, \
     revoked_at, webhook_url, webhook_secret, previous_webhook_secret, \
     previous_secret_expires_at FROM api_keys";

pub fn insert(conn: &Connection, key: &KeyRow) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO api_keys (id, name, key_hash, display_prefix, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        key.id,
        key.name,
        key.key_hash,
        key.display_prefix,
        key.created_at
    ])?;
    Ok(())
}

/// Stores `key` unless another key has its display prefix; false if so.
pub fn insert_unless_prefix_taken(conn: &Connection, key: &KeyRow) -> rusqlite::Result<bool> {
    let taken: bool = conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM api_keys WHERE display_prefix = ?1)")?
        .query_row([&key.display_prefix], |row| row.get(0))?;
    if taken {
        return Ok(false);
    }
    insert(conn, key)?;
    Ok(true)
}

/// Every key, oldest first.
pub fn list(conn: &Connection) -> rusqlite::Result<Vec<KeyRow>> {
    let sql = format!("{SELECT_KEY} ORDER BY id");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([], key_from_row)?;
    rows.collect()
}

pub fn get(conn: &Connection, id: &str) -> rusqlite::Result<Option<KeyRow>> {
    let sql = format!("{SELECT_KEY} WHERE id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id], key_from_row)
        .optional()
}

/// Keys, revoked or not, with this display prefix: one, but for keys issued
/// before prefixes were kept apart.
pub fn with_display_prefix(conn: &Connection, prefix: &str) -> rusqlite::Result<Vec<KeyRow>> {
    let sql = format!("{SELECT_KEY} WHERE display_prefix = ?1");
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map([prefix], key_from_row)?;
    rows.collect()
}

/// Keys whose id starts with `query` or whose display prefix equals it.
pub fn matching(conn: &Connection, query: &str) -> rusqlite::Result<Vec<KeyRow>> {
    let upper = format!("{query}\u{7f}");
    let sql = format!(
        "{SELECT_KEY} WHERE (id >= ?1 AND id < ?2) OR display_prefix = ?1 ORDER BY id LIMIT 20"
    );
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(params![query, upper], key_from_row)?;
    rows.collect()
}

/// Marks the key revoked; false if it already was.
pub fn revoke(conn: &Connection, id: &str, at: &str) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL")?
        .execute(params![id, at])?;
    Ok(changed == 1)
}

/// Sets or clears the key's webhook URL.
pub fn set_webhook_url(conn: &Connection, id: &str, url: Option<&str>) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE api_keys SET webhook_url = ?2 WHERE id = ?1")?
        .execute(params![id, url])?;
    Ok(changed == 1)
}

/// Sets the key's signing secret if it has none; false if it already had one.
pub fn set_secret_if_missing(conn: &Connection, id: &str, secret: &str) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE api_keys SET webhook_secret = ?2 WHERE id = ?1 AND webhook_secret IS NULL",
        )?
        .execute(params![id, secret])?;
    Ok(changed == 1)
}

/// Replaces the signing secret, keeping the old one valid until `old_expires_at`.
pub fn rotate_secret(
    conn: &Connection,
    id: &str,
    secret: &str,
    old_expires_at: &str,
) -> rusqlite::Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE api_keys SET previous_webhook_secret = webhook_secret, \
                 previous_secret_expires_at = CASE WHEN webhook_secret IS NULL THEN NULL \
                     ELSE ?3 END, \
                 webhook_secret = ?2 \
             WHERE id = ?1",
        )?
        .execute(params![id, secret, old_expires_at])?;
    Ok(changed == 1)
}

/// Records that the key was just used.
/// Ids of keys with a webhook URL but no signing secret.
pub fn unsigned_webhooks(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare(
        "SELECT id FROM api_keys WHERE webhook_url IS NOT NULL AND webhook_secret IS NULL",
    )?;
    let ids = statement.query_map([], |row| row.get(0))?;
    ids.collect()
}

pub fn touch(conn: &Connection, id: &str, at: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1")?
        .execute(params![id, at])?;
    Ok(())
}

fn key_from_row(row: &Row<'_>) -> rusqlite::Result<KeyRow> {
    Ok(KeyRow {
        id: row.get(0)?,
        name: row.get(1)?,
        key_hash: row.get(2)?,
        display_prefix: row.get(3)?,
        created_at: row.get(4)?,
        last_used_at: row.get(5)?,
        revoked_at: row.get(6)?,
        webhook_url: row.get(7)?,
        webhook_secret: row.get(8)?,
        previous_webhook_secret: row.get(9)?,
        previous_secret_expires_at: row.get(10)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_printed_for_debugging_hides_its_signing_secrets() {
        let key = KeyRow {
            id: "k1".into(),
            name: "bot".into(),
            key_hash: vec![1, 2, 3],
            display_prefix: "gw_12345678".into(),
            created_at: "2026-12-04T00:00:00.000Z".into(),
            last_used_at: None,
            revoked_at: None,
            webhook_url: Some("http://127.0.0.1/hook".into()),
            webhook_secret: Some("whsec_current".into()),
            previous_webhook_secret: Some("whsec_previous".into()),
            previous_secret_expires_at: None,
        };
        let printed = format!("{key:?}");
        assert!(!printed.contains("whsec_"), "{printed}");
        assert!(printed.contains("gw_12345678"), "{printed}");
    }
}
