//! What the gateway leaves on disk.
//!
//! - a new data dir is 0700 and everything in it private (directories
//!   0700, files 0600: database, WAL, config, logs, outbox), after
//!   `keys add`, while `serve` runs and after it stops;
//! - a data dir left with looser permissions (by an older version, or by
//!   hand) is tightened by the next command;
//! - the plaintext API key appears in the output of `keys add` and nowhere
//!   else: not in any file of the data dir, not in any log at
//!   `CONTACTCMD_LOG=debug`, not in other commands' output; message bodies
//!   stay out of the logs too;
//! - webhook signing secrets, old and rotated, never appear in any log at
//!   debug level, through setting, showing, rotating, delivering, retrying
//!   and test pings.

mod common;
mod support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use common::{sms, CliRun, TestDir};
use support::receiver::{Receiver, Reply, OK};

/// Logging as chatty as an operator can make it.
const DEBUG: &[(&str, &str)] = &[("CONTACTCMD_LOG", "debug")];

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// Every file and directory under `root`, `root` first.
fn walk(root: &Path) -> Vec<PathBuf> {
    let mut found = vec![root.to_path_buf()];
    let mut next = 0;
    while next < found.len() {
        let path = found[next].clone();
        next += 1;
        // A file may vanish between listing and looking (the WAL on close).
        if path.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                found.extend(entries.map(|entry| entry.expect("dir entry").path()));
            }
        }
    }
    found
}

/// Asserts `root` and everything in it are private to their owner, and
/// that the files named in `expected` are among them.
fn assert_private(root: &Path, expected: &[&str], when: &str) {
    let all = walk(root);
    for name in expected {
        assert!(
            all.iter().any(|path| path.ends_with(name)),
            "{when}: no {name} in {all:?}"
        );
    }
    let loose: Vec<String> = all
        .iter()
        .filter_map(|path| {
            let meta = std::fs::symlink_metadata(path).ok()?;
            let wanted = if meta.is_dir() { 0o700 } else { 0o600 };
            let mode = meta.permissions().mode() & 0o777;
            (mode != wanted).then(|| format!("{} is {mode:o}", path.display()))
        })
        .collect();
    assert!(loose.is_empty(), "{when}: not private: {loose:#?}");
}

#[tokio::test]
async fn a_new_data_dir_and_everything_in_it_are_private() {
    let dir = TestDir::new();
    let key = dir.add_key("agent").await;
    let data = dir.data_dir();
    assert_private(
        data,
        &["gateway.db", "config.toml", "logs"],
        "after keys add",
    );

    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "hi")).await;
    server.approve(&id).await.ok();
    assert_private(
        data,
        &["gateway.db-wal", "gateway.db-shm", "outbox"],
        "while serving",
    );
    assert!(server.stop().success());
    assert_private(data, &["gateway.db", "outbox"], "after serve stopped");
    let logs = walk(&data.join("logs"));
    assert!(logs.len() > 1, "no log file in {logs:?}");
}

#[tokio::test]
async fn a_data_dir_with_loose_permissions_is_tightened_by_the_next_command() {
    let dir = TestDir::new();
    let key = dir.add_key("agent").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "hi")).await;
    server.approve(&id).await.ok();
    assert!(server.stop().success());

    // As an older version, or a careless copy, would have left it.
    for path in walk(dir.data_dir()) {
        set_mode(&path, if path.is_dir() { 0o755 } else { 0o644 });
    }
    assert_eq!(mode(&dir.database()), 0o644);

    dir.gateway(&["keys", "list"]).await.success();
    assert_private(
        dir.data_dir(),
        &["gateway.db", "config.toml", "logs", "outbox"],
        "after keys list",
    );
}

#[tokio::test]
async fn a_config_written_before_the_first_run_is_tightened() {
    let dir = TestDir::with_config("[webhooks]\ntimeout_secs = 5\n");
    set_mode(dir.data_dir(), 0o755);
    set_mode(&dir.data_dir().join("config.toml"), 0o644);

    let server = dir.start_server();
    assert_private(
        dir.data_dir(),
        &["config.toml", "gateway.db", "logs"],
        "while serving",
    );
    assert!(server.stop().success());
}

/// Paths of the files under `root` whose bytes contain `needle`.
fn files_containing(root: &Path, needle: &str) -> Vec<PathBuf> {
    walk(root)
        .into_iter()
        .filter(|path| path.is_file())
        .filter(|path| {
            let bytes = std::fs::read(path).unwrap_or_default();
            bytes
                .windows(needle.len())
                .any(|window| window == needle.as_bytes())
        })
        .collect()
}

/// Asserts no command output in `runs` mentions `secret`.
fn assert_not_printed(runs: &[CliRun], secret: &str, what: &str) {
    for run in runs {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "{what} printed by contactcmd {:?}",
            run.args
        );
    }
}

#[tokio::test]
async fn the_plaintext_key_appears_only_in_the_output_of_keys_add() {
    let dir = TestDir::new();
    let added = dir.gateway_with_env(&["keys", "add", "agent"], DEBUG).await;
    let key = added.success().stdout.trim().to_string();
    let added_json = dir
        .gateway_with_env(&["keys", "add", "other", "--json"], DEBUG)
        .await
        .success();
    let other = added_json.json()["key_plaintext"]
        .as_str()
        .expect("key_plaintext")
        .to_string();
    let body = "a message body that must stay out of the logs";

    let server = dir.start_server_with_env("127.0.0.1:0", DEBUG);
    let first = server.queue_message(&key, &sms("+15550100", body)).await;
    let second = server.queue_message(&other, &sms("+15550101", body)).await;
    server.poll(&key, &first).await.ok();
    server
        .send(&format!("{key}x"), &sms("+15550100", body))
        .await;
    server.approve(&first).await.ok();
    let mut runs = Vec::new();
    for args in [
        &["keys", "list"][..],
        &["keys", "list", "--json"],
        &["queue", "--json"],
        &["deny", &second],
        &["history", "--json"],
    ] {
        runs.push(dir.gateway_with_env(args, DEBUG).await.success());
    }
    let server_log = server.stderr_path().to_path_buf();
    assert!(server.stop().success());

    for secret in [&key, &other] {
        assert_eq!(
            files_containing(dir.data_dir(), secret),
            Vec::<PathBuf>::new()
        );
        assert!(
            files_containing(&server_log, secret).is_empty(),
            "key on stderr"
        );
        assert_not_printed(&runs, secret, "the plaintext key");
    }
    // The scan reads the database: the body is there, and only there.
    assert!(!files_containing(dir.data_dir(), body).is_empty());
    assert_eq!(
        files_containing(&dir.data_dir().join("logs"), body),
        Vec::<PathBuf>::new()
    );
    assert!(
        files_containing(&server_log, body).is_empty(),
        "body on stderr"
    );
    let debug_lines = std::fs::read_to_string(&server_log).expect("server log");
    assert!(debug_lines.contains("DEBUG"), "debug logging was not on");
}

/// Runs `gateway ARGS --json` at debug level, which must succeed; returns
/// the run and the `signing_secret` it printed.
async fn secret_from(dir: &TestDir, args: &[&str]) -> (CliRun, String) {
    let args = [args, &["--json"]].concat();
    let run = dir.gateway_with_env(&args, DEBUG).await.success();
    let secret = run.json()["signing_secret"]
        .as_str()
        .unwrap_or_else(|| panic!("no signing_secret from {args:?}: {}", run.stdout))
        .to_string();
    (run, secret)
}

#[tokio::test]
async fn webhook_secrets_never_appear_in_logs_even_at_debug_level() {
    let dir = TestDir::with_config("[webhooks]\nretry_schedule_secs = [0.2]\n");
    let receiver = Receiver::start();
    // The first attempt fails, so retries and warnings are logged too.
    receiver.answer_next(&[Reply::Status(500)], OK);
    let added = dir
        .gateway_with_env(&["keys", "add", "agent", "--json"], DEBUG)
        .await
        .success()
        .json();
    let (id, key) = (
        added["id"].as_str().expect("id").to_string(),
        added["key_plaintext"].as_str().expect("key").to_string(),
    );

    let (_, first) = secret_from(&dir, &["keys", "webhook", &id, &receiver.url()]).await;
    let (_, shown) = secret_from(&dir, &["keys", "webhook", &id, "--secret"]).await;
    assert_eq!(shown, first);
    let (_, rotated) = secret_from(&dir, &["keys", "webhook", &id, "--rotate-secret"]).await;
    assert_ne!(rotated, first);

    let server = dir.start_server_with_env("127.0.0.1:0", DEBUG);
    let approved = server.queue_message(&key, &sms("+15550100", "hi")).await;
    let denied = server.queue_message(&key, &sms("+15550100", "hi")).await;
    server.approve(&approved).await.ok();
    server.deny(&denied, Some("no")).await.ok();
    let delivered = receiver.wait_for(3).await;
    assert!(delivered.iter().all(|hook| hook.signed_by(&rotated)));
    assert!(delivered.iter().all(|hook| hook.signed_by(&first)));
    let ping = dir
        .gateway_with_env(&["webhook", "test", &id], DEBUG)
        .await
        .success();
    receiver.wait_for(4).await;
    let server_log = server.stderr_path().to_path_buf();
    assert!(server.stop().success());

    for secret in [&first, &rotated] {
        // The part after `whsec_` is the key itself; look for it alone too.
        let bare = secret.trim_start_matches("whsec_");
        for needle in [secret.as_str(), bare] {
            let logs = dir.data_dir().join("logs");
            assert_eq!(files_containing(&logs, needle), Vec::<PathBuf>::new());
            assert!(
                files_containing(&server_log, needle).is_empty(),
                "secret on stderr"
            );
            assert!(!ping.stdout.contains(needle) && !ping.stderr.contains(needle));
        }
    }
    let server_lines = std::fs::read_to_string(&server_log).expect("server log");
    assert!(server_lines.contains("DEBUG"), "debug logging was not on");
}
