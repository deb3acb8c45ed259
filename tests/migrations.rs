//! Opening the database: a fresh data directory gets the latest schema, an
//! existing database is reopened with its data intact, and a database
//! written by a newer contactcmd is refused with a clear error and left
//! byte for byte as it was.

mod common;

use common::TestDir;
use rusqlite::Connection;
use serde_json::json;

/// The schema version this build should write: the highest number among
/// the `migrations/NNNN_*.sql` files.
fn latest_migration() -> i64 {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    std::fs::read_dir(dir)
        .expect("read migrations/")
        .map(|entry| entry.expect("migration entry").file_name())
        .filter_map(|name| name.to_str()?.split('_').next()?.parse().ok())
        .max()
        .expect("at least one migration")
}

fn user_version(conn: &Connection) -> i64 {
    conn.pragma_query_value(None, "user_version", |row| row.get(0))
        .expect("read user_version")
}

fn tables(conn: &Connection) -> Vec<String> {
    let mut statement = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .expect("prepare");
    let names = statement
        .query_map([], |row| row.get(0))
        .expect("list tables");
    names.map(|name| name.expect("table name")).collect()
}

#[tokio::test]
async fn fresh_data_dir_is_created_with_the_latest_schema_in_wal_mode() {
    let dir = TestDir::new();
    assert!(!dir.data_dir().exists());

    let listed = dir.gateway(&["keys", "list", "--json"]).await.success();

    assert_eq!(listed.json(), json!([]));
    let conn = dir.db();
    assert_eq!(user_version(&conn), latest_migration());
    let tables = tables(&conn);
    for table in ["actions", "api_keys"] {
        assert!(
            tables.iter().any(|t| t == table),
            "no {table} table: {tables:?}"
        );
    }
    let journal: String = conn
        .pragma_query_value(None, "journal_mode", |row| row.get(0))
        .expect("read journal_mode");
    assert_eq!(journal, "wal");
    assert!(
        dir.data_dir().join("config.toml").is_file(),
        "no default config"
    );
}

#[tokio::test]
async fn existing_database_is_reopened_with_its_data_intact() {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let sent = server
        .queue_message(&key, &common::sms("+15550100", "one"))
        .await;
    server.approve(&sent).await.ok();
    let pending = server
        .queue_message(&key, &common::sms("+15550100", "two"))
        .await;
    assert!(server.stop().success(), "server did not stop cleanly");
    let before = dir.snapshot();

    let server = dir.start_server();

    assert_eq!(dir.snapshot(), before, "reopening changed the data");
    assert_eq!(user_version(&dir.db()), latest_migration());
    assert_eq!(server.poll(&key, &sent).await.ok().data()["status"], "sent");
    let queue = server.queue().await.ok();
    assert_eq!(queue.data()[0]["action_id"], pending.as_str());
    server
        .send(&key, &common::sms("+15550100", "three"))
        .await
        .ok();
}

#[tokio::test]
async fn database_from_a_newer_contactcmd_is_refused_and_left_unchanged() {
    let dir = TestDir::new();
    dir.add_key("bot").await;
    let newer = latest_migration() + 1;
    dir.db_for_writing()
        .pragma_update(None, "user_version", newer)
        .expect("set user_version");
    let bytes_before = std::fs::read(dir.database()).expect("read database");
    let path = dir.database().display().to_string();
    let version = newer.to_string();

    for args in [
        &["keys", "list"][..],
        &["queue", "--json"],
        &["approve", "0190"],
    ] {
        dir.gateway(args)
            .await
            .exit_code(1)
            .stderr_mentions(&[&path, "newer", &version]);
    }
    dir.serve_expecting_failure()
        .await
        .exit_code(1)
        .stderr_mentions(&[&path, "newer", &version]);

    let bytes_after = std::fs::read(dir.database()).expect("read database");
    assert!(
        bytes_after == bytes_before,
        "the refused database was modified"
    );
    assert_eq!(user_version(&dir.db()), newer);
}
