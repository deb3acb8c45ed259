//! Sends cut short by a crash (issue 2, point 4). An action found still
//! `approved` when the server starts, whose sending process is gone, is
//! marked failed with an error saying the send may or may not have gone
//! out, and is never sent again on its own. One whose sender is alive is
//! left alone. The server finishes this sweep before it reports that it
//! listens, so each test can check right after startup.

mod common;

use common::{dead_pid, sms, TestDir};

/// A data dir holding one action that looks approved and mid-send by
/// process `sender_pid`, since `approved_at` (an SQLite time modifier).
async fn approved_mid_send(sender_pid: u32, approved_at: &str) -> (TestDir, String, String) {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "Hello")).await;
    assert!(server.stop().success());

    // The crash is staged by hand: no command of the binary leaves an
    // action approved with its sender gone.
    let changed = dir
        .db_for_writing()
        .execute(
            "UPDATE actions SET status = 'approved', sender_pid = ?2, \
             reviewed_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?3) WHERE id = ?1",
            rusqlite::params![id, sender_pid, approved_at],
        )
        .expect("stage an interrupted send");
    assert_eq!(changed, 1);
    (dir, key, id)
}

#[tokio::test]
async fn send_whose_process_died_is_marked_failed_when_the_server_starts() {
    let (dir, key, id) = approved_mid_send(dead_pid(), "+0 seconds").await;

    let server = dir.start_server();

    let outcome = server.poll(&key, &id).await.ok();
    assert_eq!(outcome.data()["status"], "failed");
    let error = outcome.data()["error_message"]
        .as_str()
        .expect("error_message");
    assert!(error.contains("stopped while sending"), "{error}");
    assert!(error.contains("may or may not have gone out"), "{error}");
    assert!(
        dir.outbox_files().is_empty(),
        "the interrupted send was repeated"
    );
}

#[tokio::test]
async fn interrupted_send_is_not_sent_again_or_approved_again() {
    let (dir, key, id) = approved_mid_send(dead_pid(), "+0 seconds").await;
    drop(dir.start_server());

    let server = dir.start_server();
    dir.gateway(&["approve", &id])
        .await
        .exit_code(2)
        .stderr_mentions(&["already failed"]);

    assert_eq!(server.poll(&key, &id).await.ok().data()["status"], "failed");
    assert!(
        dir.outbox_files().is_empty(),
        "the interrupted send was repeated"
    );
    let history = dir
        .gateway(&["history", "--status", "failed", "--json"])
        .await;
    assert_eq!(history.success().json()[0]["action_id"], id.as_str());
}

#[tokio::test]
async fn send_whose_process_is_alive_is_left_alone_when_the_server_starts() {
    let (dir, key, id) = approved_mid_send(std::process::id(), "+0 seconds").await;

    let server = dir.start_server();

    assert_eq!(
        server.poll(&key, &id).await.ok().data()["status"],
        "approved"
    );
    assert!(dir.outbox_files().is_empty());
}

#[tokio::test]
async fn send_older_than_any_send_may_take_is_failed_even_if_its_pid_is_alive() {
    // A live pid this old belongs to another process that reused it.
    let (dir, key, id) = approved_mid_send(std::process::id(), "-1 hours").await;

    let server = dir.start_server();

    assert_eq!(server.poll(&key, &id).await.ok().data()["status"], "failed");
}
