//! API keys from the operator's side: `gateway keys add/list/revoke/webhook`.
//! A key is shown once and stored only as its SHA-256, revoking it locks the
//! agent out of a running server at once, and keys are named by full id,
//! unique id prefix or display prefix.

mod common;

use std::path::Path;

use common::{sms, TestDir};
use rusqlite::types::Value as SqlValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

#[tokio::test]
async fn new_key_is_printed_once_on_stdout_and_listed_without_its_secret() {
    let dir = TestDir::new();

    let added = dir.gateway(&["keys", "add", "mail-bot"]).await.success();
    let plaintext = added.stdout.trim_end().to_string();
    assert_is_key(&plaintext);
    assert_eq!(
        added.stdout,
        format!("{plaintext}\n"),
        "only the key on stdout"
    );
    assert!(added.stderr.contains("only this once"), "{}", added.stderr);

    let table = dir.gateway(&["keys", "list"]).await.success();
    let json = dir.gateway(&["keys", "list", "--json"]).await.success();
    for listing in [&table.stdout, &json.stdout] {
        assert!(
            !listing.contains(&plaintext),
            "listing shows the key: {listing}"
        );
        assert!(listing.contains("mail-bot") && listing.contains(&plaintext[..11]));
    }
    let keys = json.json();
    assert_eq!(keys.as_array().map(Vec::len), Some(1));
    assert_eq!(keys[0]["display_prefix"], plaintext[..11]);
    assert!(keys[0].get("key_hash").is_none(), "listing shows the hash");
}

#[tokio::test]
async fn json_flag_is_accepted_before_or_after_the_keys_subcommand() {
    let dir = TestDir::new();
    dir.add_key("bot").await;

    let before = dir.gateway(&["--json", "keys", "list"]).await.success();
    let after = dir.gateway(&["keys", "list", "--json"]).await.success();

    assert_eq!(before.json(), after.json());
    assert_eq!(before.json()[0]["name"], "bot");
}

#[tokio::test]
async fn database_stores_only_the_sha256_of_a_key() {
    let dir = TestDir::new();
    let plaintext = dir.add_key("mail-bot").await;

    let cells = stored_key_cells(&dir);
    for cell in &cells {
        assert!(
            !cell_contains(cell, &plaintext),
            "api_keys holds the key: {cell:?}"
        );
    }
    let expected_hash = Sha256::digest(plaintext.as_bytes()).to_vec();
    assert!(
        cells.contains(&SqlValue::Blob(expected_hash)),
        "api_keys has no SHA-256 of the key: {cells:?}"
    );
}

#[tokio::test]
async fn no_file_in_the_data_dir_holds_a_plaintext_key_and_logs_hold_no_message_body() {
    let dir = TestDir::new();
    let plaintext = dir.add_key("bot").await;
    let server = dir.start_server();
    let body = "a body that must stay out of the logs";
    let id = server
        .queue_message(&plaintext, &sms("+15550100", body))
        .await;
    server.approve(&id).await.ok();
    let stopped = server.stop();
    assert!(stopped.success(), "server exit: {stopped:?}");

    for file in files_under(dir.data_dir()) {
        let bytes = std::fs::read(&file).expect("read data dir file");
        assert!(
            !contains(&bytes, plaintext.as_bytes()),
            "{} holds the key",
            file.display()
        );
        if file.starts_with(dir.data_dir().join("logs")) {
            assert!(
                !contains(&bytes, body.as_bytes()),
                "{} logs the body",
                file.display()
            );
        }
    }
}

#[tokio::test]
async fn key_list_shows_when_a_key_was_last_used() {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let unused = dir
        .gateway(&["keys", "list", "--json"])
        .await
        .success()
        .json();
    assert!(unused[0]["last_used_at"].is_null(), "{unused}");

    let server = dir.start_server();
    server.queue_message(&key, &sms("+15550100", "Hello")).await;

    let used = dir
        .gateway(&["keys", "list", "--json"])
        .await
        .success()
        .json();
    assert!(used[0]["last_used_at"].is_string(), "{used}");
}

#[tokio::test]
async fn revoked_key_is_refused_at_once_by_a_running_server() {
    let dir = TestDir::new();
    let key = dir.add_key_json("bot").await;
    let plaintext = key["key_plaintext"].as_str().expect("key_plaintext");
    let server = dir.start_server();
    let id = server
        .queue_message(plaintext, &sms("+15550100", "first"))
        .await;

    let revoked = dir
        .gateway(&["keys", "revoke", str_field(&key, "display_prefix")])
        .await;
    assert!(revoked.success().stdout.contains("Revoked"));

    server
        .send(plaintext, &sms("+15550100", "second"))
        .await
        .rejected(401, "unauthorized", &["X-Gateway-Key"]);
    server
        .poll(plaintext, &id)
        .await
        .rejected(401, "unauthorized", &["X-Gateway-Key"]);
    assert_eq!(dir.count_actions(), 1, "the refused send wrote a row");
    let listed = dir
        .gateway(&["keys", "list", "--json"])
        .await
        .success()
        .json();
    assert!(listed[0]["revoked_at"].is_string(), "{listed}");
}

#[tokio::test]
async fn revoking_a_revoked_key_says_so_and_succeeds() {
    let dir = TestDir::new();
    let key = dir.add_key_json("bot").await;
    let id = str_field(&key, "id");
    dir.gateway(&["keys", "revoke", id]).await.success();

    let again = dir
        .gateway(&["keys", "revoke", id, "--json"])
        .await
        .success();

    assert_eq!(again.json()["already_revoked"], true);
    let text = dir.gateway(&["keys", "revoke", id]).await.success();
    assert!(text.stdout.contains("already revoked"), "{}", text.stdout);
}

#[tokio::test]
async fn key_is_found_by_full_id_unique_id_prefix_or_display_prefix() {
    let dir = TestDir::new();
    let first = dir.add_key_json("first").await;
    let second = dir.add_key_json("second").await;
    let (first_id, second_id) = (str_field(&first, "id"), str_field(&second, "id"));
    let unique_prefix = &first_id[..common_prefix_len(first_id, second_id) + 1];

    for query in [first_id, unique_prefix, str_field(&first, "display_prefix")] {
        let shown = dir.gateway(&["keys", "webhook", query, "--json"]).await;
        assert_eq!(shown.success().json()["id"], first_id, "query {query:?}");
    }
}

#[tokio::test]
async fn ambiguous_key_prefix_is_refused_and_lists_every_candidate() {
    let dir = TestDir::new();
    let first = dir.add_key_json("first").await;
    let second = dir.add_key_json("second").await;
    let (first_id, second_id) = (str_field(&first, "id"), str_field(&second, "id"));
    let shared = &first_id[..common_prefix_len(first_id, second_id)];
    assert!(
        !shared.is_empty(),
        "ids {first_id} and {second_id} share no prefix"
    );
    let before = dir.snapshot();

    dir.gateway(&["keys", "revoke", shared])
        .await
        .exit_code(2)
        .stderr_mentions(&["ambiguous", first_id, second_id, "first", "second"]);

    assert_eq!(
        dir.snapshot(),
        before,
        "an ambiguous revoke changed the database"
    );
}

#[tokio::test]
async fn a_display_prefix_two_keys_share_is_refused_as_ambiguous() {
    // New keys never share a display prefix, but keys issued before they
    // were kept apart may; naming one must not pick either at random.
    let dir = TestDir::new();
    let first = dir.add_key_json("first").await;
    let second = dir.add_key_json("second").await;
    let prefix = str_field(&first, "display_prefix");
    dir.db_for_writing()
        .execute(
            "UPDATE api_keys SET display_prefix = ?1 WHERE id = ?2",
            [prefix, str_field(&second, "id")],
        )
        .expect("share the prefix");
    let before = dir.snapshot();

    dir.gateway(&["keys", "revoke", prefix])
        .await
        .exit_code(2)
        .stderr_mentions(&["ambiguous", "first", "second"]);

    assert_eq!(
        dir.snapshot(),
        before,
        "an ambiguous revoke changed the database"
    );
}

#[tokio::test]
async fn webhook_url_is_set_shown_and_removed() {
    let dir = TestDir::new();
    let key = dir.add_key_json("bot").await;
    let prefix = str_field(&key, "display_prefix");
    let url = "https://agent.example/hooks";

    let set = dir
        .gateway(&["keys", "webhook", prefix, url])
        .await
        .success();
    assert!(set.stdout.contains(url), "{}", set.stdout);
    let shown = dir.gateway(&["keys", "webhook", prefix]).await.success();
    assert_eq!(shown.stdout.trim(), url);
    let listed = dir.gateway(&["keys", "list", "--json"]).await.success();
    assert_eq!(listed.json()[0]["webhook_url"], url);

    let removed = dir.gateway(&["keys", "webhook", prefix, "--remove"]).await;
    assert!(removed.success().stdout.contains("removed"));
    let shown = dir.gateway(&["keys", "webhook", prefix]).await.success();
    assert!(shown.stdout.contains("no webhook"), "{}", shown.stdout);
    let shown = dir
        .gateway(&["keys", "webhook", prefix, "--json"])
        .await
        .success();
    assert!(shown.json()["webhook_url"].is_null());
}

fn assert_is_key(text: &str) {
    let secret = text.strip_prefix("gw_").expect("key starts with gw_");
    assert_eq!(secret.len(), 64, "key {text:?}");
    assert!(
        secret.bytes().all(|b| b.is_ascii_hexdigit()),
        "key {text:?}"
    );
}

fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("no string {field} in {value}"))
}

fn common_prefix_len(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

/// Every cell of every row of `api_keys`.
fn stored_key_cells(dir: &TestDir) -> Vec<SqlValue> {
    let conn = dir.db();
    let mut statement = conn.prepare("SELECT * FROM api_keys").expect("prepare");
    let width = statement.column_count();
    let rows = statement
        .query_map([], |row| {
            (0..width)
                .map(|i| row.get::<_, SqlValue>(i))
                .collect::<Result<Vec<_>, _>>()
        })
        .expect("query api_keys");
    rows.flat_map(|row| row.expect("read api_keys row"))
        .collect()
}

fn cell_contains(cell: &SqlValue, text: &str) -> bool {
    match cell {
        SqlValue::Text(stored) => stored.contains(text),
        SqlValue::Blob(stored) => contains(stored, text.as_bytes()),
        _ => false,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}
