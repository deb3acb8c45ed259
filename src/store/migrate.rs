//! Schema migrations: numbered SQL files embedded at build time, applied in
//! order, each in its own transaction, with the version in `user_version`.

use std::path::Path;

use rusqlite::{Connection, TransactionBehavior};

use super::{keys, StoreError};
use crate::webhook::secret;

/// A numbered schema change.
pub struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
    /// Data changes SQL alone cannot make, run after `sql` in the same
    /// transaction.
    pub then: Option<fn(&Connection) -> rusqlite::Result<()>>,
}

/// Every migration, in order; `version` is the file's number.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "0001_initial.sql",
        sql: include_str!("../../migrations/0001_initial.sql"),
        then: None,
    },
    Migration {
        version: 2,
        name: "0002_webhooks.sql",
        sql: include_str!("../../migrations/0002_webhooks.sql"),
        then: None,
    },
    Migration {
        version: 3,
        name: "0003_dispatcher_namespaces.sql",
        sql: include_str!("../../migrations/0003_dispatcher_namespaces.sql"),
        then: Some(sign_existing_webhooks),
    },
];

/// The schema version this binary writes.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Brings the database up to [`latest_version`], refusing a newer one.
pub fn apply(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let current =
        user_version(conn).map_err(|e| StoreError::sqlite("reading version of", path, e))?;
    check_not_newer(current, path)?;

    for migration in MIGRATIONS.iter().filter(|m| m.version > current) {
        let from = user_version(conn).unwrap_or(current);
        apply_one(conn, migration).map_err(|e| StoreError::migration(path, migration, from, e))?;
        tracing::info!(
            version = migration.version,
            file = migration.name,
            "applied migration"
        );
    }
    Ok(())
}

fn check_not_newer(found: i64, path: &Path) -> Result<(), StoreError> {
    if found > latest_version() {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: latest_version(),
        });
    }
    Ok(())
}

/// Applies one migration unless another process got there first.
fn apply_one(conn: &mut Connection, migration: &Migration) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if user_version(&tx)? >= migration.version {
        return Ok(());
    }
    tx.execute_batch(migration.sql)?;
    if let Some(then) = migration.then {
        then(&tx)?;
    }
    tx.pragma_update(None, "user_version", migration.version)?;
    tx.commit()
}

/// Gives every key that has a webhook URL but no signing secret one, so no
/// delivery ever goes out unsigned. Such keys got their URL from a version
/// that stored URLs before it had secrets.
fn sign_existing_webhooks(conn: &Connection) -> rusqlite::Result<()> {
    let unsigned = keys::unsigned_webhooks(conn)?;
    for id in &unsigned {
        let secret = secret::generate()
            .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.to_string().into()))?;
        keys::set_secret_if_missing(conn, id, &secret)?;
    }
    if !unsigned.is_empty() {
        tracing::warn!(
            keys = unsigned.len(),
            "created signing secrets for webhooks set before secrets existed; show one with \
             `contactcmd gateway keys webhook <key-id> --secret`"
        );
    }
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_listed_in_order() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut files: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".sql"))
            .collect();
        files.sort();

        let listed: Vec<&str> = MIGRATIONS.iter().map(|m| m.name).collect();
        assert_eq!(files, listed);
        for (index, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, index as i64 + 1);
            assert!(migration
                .name
                .starts_with(&format!("{:04}_", migration.version)));
        }
    }
}
