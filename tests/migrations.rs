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

/// A database as the first schema left it: one key with a webhook URL (that
/// version stored URLs but had no signing secrets) and one pending action.
fn first_schema_database(dir: &TestDir) {
    std::fs::create_dir_all(dir.data_dir()).expect("create data dir");
    let conn = Connection::open(dir.database()).expect("create database");
    conn.execute_batch(include_str!("../migrations/0001_initial.sql"))
        .expect("first schema");
    conn.execute_batch(
        "INSERT INTO api_keys (id, name, key_hash, display_prefix, created_at, webhook_url) \
         VALUES ('0190a0b0-0000-7000-8000-000000000001', 'old-bot', x'00', 'gw_0ldb0t00', \
             '2026-11-01T10:00:00.000Z', 'http://127.0.0.1:9/hook'); \
         INSERT INTO actions (id, key_id, channel, recipient_address, body, priority, status, \
             created_at) \
         VALUES ('0190a0b0-0000-7000-8000-0000000000a1', \
             '0190a0b0-0000-7000-8000-000000000001', 'sms', '+15550100', 'still here', \
             'normal', 'pending', '2026-11-01T10:01:00.000Z'); \
         PRAGMA user_version = 1;",
    )
    .expect("first schema rows");
}

#[tokio::test]
async fn database_from_the_first_schema_is_upgraded_with_its_rows_and_a_signing_secret() {
    let dir = TestDir::new();
    first_schema_database(&dir);

    let queue = dir.gateway(&["queue", "--json"]).await.success().json();

    assert_eq!(user_version(&dir.db()), latest_migration());
    assert_eq!(queue[0]["body"], "still here", "{queue}");
    let keys = dir
        .gateway(&["keys", "list", "--json"])
        .await
        .success()
        .json();
    assert_eq!(keys[0]["webhook_url"], "http://127.0.0.1:9/hook", "{keys}");
    let secret = dir
        .gateway(&["keys", "webhook", "gw_0ldb0t00", "--secret"])
        .await
        .success()
        .stdout;
    assert!(
        secret.trim().starts_with("whsec_"),
        "the upgraded webhook has no signing secret: {secret}"
    );
}

#[tokio::test]
async fn a_migration_that_fails_is_rolled_back_and_named_in_the_error() {
    let dir = TestDir::new();
    first_schema_database(&dir);
    // A table the second migration creates last, already there: it fails
    // after its first statements have run.
    dir.db_for_writing()
        .execute_batch("CREATE TABLE dispatchers (id TEXT);")
        .expect("stage the clash");

    dir.gateway(&["queue"])
        .await
        .exit_code(1)
        .stderr_mentions(&[&dir.database().display().to_string(), "migrating"]);

    let conn = dir.db();
    assert_eq!(
        user_version(&conn),
        1,
        "the failed migration moved the version"
    );
    assert!(
        !tables(&conn).iter().any(|t| t == "webhook_deliveries"),
        "a table from the failed migration was kept"
    );
    let columns: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('api_keys') WHERE name = 'webhook_secret'",
            [],
            |row| row.get(0),
        )
        .expect("read columns");
    assert_eq!(columns, 0, "a column from the failed migration was kept");
}
