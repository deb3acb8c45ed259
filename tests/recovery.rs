//! Sends cut short by a crash. An action found still
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

/// A second approval of an action this process is already sending is
/// refused; the sweep for interrupted sends that runs meanwhile must still
/// see the first one as running, and leave it to finish as `sent`. Run in
/// process so the sweep can be called at the moment that matters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_second_approval_does_not_make_a_running_send_look_interrupted() {
    let dir = TestDir::new();
    let held = common::HeldSends::configure(&dir, "sms");
    let key = dir.add_key("bot").await;
    let gateway = in_process_gateway(&dir);
    let agent = gateway.authenticate(Some(&key)).expect("key");
    let body = serde_json::to_vec(&sms("+15550100", "Once only")).expect("encode");
    let id = gateway.submit(&agent, &body).await.expect("queue").id;

    let first = tokio::spawn({
        let (gateway, id) = (gateway.clone(), id.clone());
        async move { gateway.approve(&id).await }
    });
    held.wait_for(1).await;
    let second = gateway.approve(&id).await;
    let swept = gateway.fail_interrupted_sends().await.expect("sweep");
    held.release();
    let first = first.await.expect("first approval task");

    assert!(second.is_err(), "the second approval was not refused");
    assert!(
        swept.is_empty(),
        "the sweep failed a running send: {swept:?}"
    );
    assert_eq!(
        first.expect("first approval").action.status.to_string(),
        "sent"
    );
}

fn in_process_gateway(dir: &TestDir) -> std::sync::Arc<contactcmd::gateway::Gateway> {
    let data = contactcmd::paths::DataDir::locate(Some(dir.data_dir())).expect("data dir");
    let config = contactcmd::config::Config::load(&data.config()).expect("config");
    let gateway = contactcmd::server::open_gateway(&data, &config).expect("open the gateway");
    std::sync::Arc::new(gateway)
}
