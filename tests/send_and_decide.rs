//! The happy paths end to end: an agent sends, the operator approves or
//! denies (over the loopback admin API or with `gateway approve/deny`), the
//! transport delivers, and the agent's poll shows the outcome. Covers the
//! default outbox transport's files and the command transport's success and
//! failure.

mod common;

use common::{command_transport, email, sms, HeldSends, Server, TestDir};
use serde_json::{json, Value};

#[tokio::test]
async fn email_approved_over_http_is_sent_and_written_to_the_outbox_as_eml() {
    let dir = TestDir::new();
    let key = dir.add_key("mail-bot").await;
    let server = dir.start_server();
    let mut message = email(
        "ann@example.com",
        "Lunch on Friday",
        "See you at noon.\nBen",
    );
    message["recipient_name"] = json!("Ann Lee");
    message["context"] = json!({ "thread": "lunch-plans" });

    let sent = server.send(&key, &message).await.ok();
    assert_eq!(sent.data()["status"], "pending");
    let id = sent.data()["action_id"]
        .as_str()
        .expect("action_id")
        .to_string();
    assert_eq!(poll_status(&server, &key, &id).await["status"], "pending");

    let approved = server.approve(&id).await.ok();
    assert_eq!(approved.data()["status"], "sent");

    let outcome = poll_status(&server, &key, &id).await;
    assert_eq!(outcome["status"], "sent");
    assert!(outcome["sent_at"].is_string(), "{outcome}");
    assert!(outcome.get("error_message").is_none(), "{outcome}");
    assert_eq!(dir.outbox_files(), [format!("{id}.eml")]);
    assert_eml(&read_outbox(&dir, &id, "eml"), &id);
}

fn assert_eml(eml: &str, id: &str) {
    assert!(
        eml.contains("To: \"Ann Lee\" <ann@example.com>\r\n"),
        "{eml}"
    );
    assert!(eml.contains("Subject: Lunch on Friday\r\n"), "{eml}");
    assert!(eml.contains(&format!("Message-ID: <{id}@")), "{eml}");
    let (headers, body) = eml.split_once("\r\n\r\n").expect("headers then body");
    assert!(headers.contains("From: "), "{eml}");
    assert_eq!(body.trim_end(), "See you at noon.\r\nBen");
    assert!(
        !eml.contains("lunch-plans"),
        "the agent's context was sent: {eml}"
    );
}

#[tokio::test]
async fn sms_approved_from_the_cli_is_sent_and_written_to_the_outbox_as_json() {
    let dir = TestDir::new();
    let key = dir.add_key("sms-bot").await;
    let server = dir.start_server();
    let mut message = sms("+1 555 010 0199", "Your table is ready.");
    message["context"] = json!({ "booking": 42 });
    let id = server.queue_message(&key, &message).await;

    let approved = dir.gateway(&["approve", &id]).await.success();
    assert!(
        approved.stdout.contains(&format!("Sent {id}")),
        "{}",
        approved.stdout
    );

    assert_eq!(poll_status(&server, &key, &id).await["status"], "sent");
    assert_eq!(dir.outbox_files(), [format!("{id}.json")]);
    let file: Value = serde_json::from_str(&read_outbox(&dir, &id, "json")).expect("JSON");
    assert_eq!(file["action_id"], id.as_str());
    assert_eq!(file["channel"], "sms");
    assert_eq!(file["recipient_address"], "+1 555 010 0199");
    assert_eq!(file["body"], "Your table is ready.");
    assert_eq!(file["agent"], "sms-bot");
    assert!(
        file.get("context").is_none(),
        "the agent's context was sent: {file}"
    );
}

#[tokio::test]
async fn imessage_approved_from_the_cli_by_id_prefix_is_written_to_the_outbox_as_json() {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let message = json!({
        "channel": "imessage", "recipient_address": "ben@example.com", "body": "On my way",
    });
    let id = server.queue_message(&key, &message).await;

    dir.gateway(&["approve", &id[..13], "--json"])
        .await
        .success();

    assert_eq!(poll_status(&server, &key, &id).await["status"], "sent");
    let file: Value = serde_json::from_str(&read_outbox(&dir, &id, "json")).expect("JSON");
    assert_eq!(file["channel"], "imessage");
    assert_eq!(file["recipient_address"], "ben@example.com");
}

#[tokio::test]
async fn denied_over_http_with_a_reason_is_reported_to_the_agent_and_never_sent() {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "Hello")).await;

    let denied = server.deny(&id, Some("wrong recipient")).await.ok();
    assert_eq!(denied.data()["status"], "denied");

    assert_denied_with_reason(&dir, &server, &key, &id).await;
}

#[tokio::test]
async fn denied_from_the_cli_with_a_reason_is_reported_to_the_agent_and_never_sent() {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "Hello")).await;

    let denied = dir
        .gateway(&["deny", &id, "--reason", "wrong recipient"])
        .await;
    assert!(denied.success().stdout.contains("wrong recipient"));

    assert_denied_with_reason(&dir, &server, &key, &id).await;
}

async fn assert_denied_with_reason(dir: &TestDir, server: &Server, key: &str, id: &str) {
    let outcome = poll_status(server, key, id).await;
    assert_eq!(outcome["status"], "denied");
    assert_eq!(outcome["error_message"], "wrong recipient");
    assert!(outcome.get("sent_at").is_none(), "{outcome}");
    assert_eq!(dir.outbox_files(), Vec::<String>::new());
    assert_eq!(server.queue().await.ok().data(), &json!([]));
}

#[tokio::test]
async fn denied_without_a_reason_has_no_error_message() {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "Hello")).await;

    server.deny(&id, None).await.ok();

    let outcome = poll_status(&server, &key, &id).await;
    assert_eq!(outcome["status"], "denied");
    assert!(outcome.get("error_message").is_none(), "{outcome}");
}

#[tokio::test]
async fn queue_shows_the_operator_the_whole_message_and_its_context() {
    let dir = TestDir::new();
    let key = dir.add_key("mail-bot").await;
    let server = dir.start_server();
    let mut message = email("ann@example.com", "Invoice", "Attached.");
    message["priority"] = json!("urgent");
    message["context"] = json!({ "why": "overdue" });
    let id = server.queue_message(&key, &message).await;

    let over_http = server.queue().await.ok();
    let from_cli = dir.gateway(&["queue", "--json"]).await.success().json();

    assert_eq!(over_http.data(), &from_cli);
    let queued = &from_cli[0];
    assert_eq!(queued["action_id"], id.as_str());
    assert_eq!(queued["agent"], "mail-bot");
    assert_eq!(queued["subject"], "Invoice");
    assert_eq!(queued["body"], "Attached.");
    assert_eq!(queued["priority"], "urgent");
    assert_eq!(queued["context"], json!({ "why": "overdue" }));
}

#[tokio::test]
async fn message_that_seems_to_hold_a_card_number_is_flagged_and_can_still_be_approved() {
    let dir = TestDir::new();
    let key = dir.add_key("bot").await;
    let server = dir.start_server();

    let sent = server
        .send(&key, &sms("+15550100", "card 4111 1111 1111 1111"))
        .await;
    let id = sent.ok().data()["action_id"]
        .as_str()
        .expect("id")
        .to_string();

    let queued = dir.gateway(&["queue", "--json"]).await.success().json();
    assert_eq!(queued[0]["status"], "flagged");
    assert!(queued[0]["flag_reason"]
        .as_str()
        .is_some_and(|r| r.contains("card")));
    assert_eq!(server.approve(&id).await.ok().data()["status"], "sent");
}

#[tokio::test]
async fn failing_command_transport_fails_the_action_with_its_stderr_and_cli_exits_1() {
    let dir = TestDir::with_config(&failing_sms_config());
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "Hello")).await;

    let approve = dir.gateway(&["approve", &id]).await.exit_code(1);
    assert!(approve.stdout.contains("boom"), "{}", approve.stdout);

    assert_failed_with_boom(&poll_status(&server, &key, &id).await);
}

#[tokio::test]
async fn failing_command_transport_answers_the_http_approval_with_the_failure() {
    let dir = TestDir::with_config(&failing_sms_config());
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "Hello")).await;

    let approved = server.approve(&id).await.ok();

    assert_failed_with_boom(approved.data());
    assert_failed_with_boom(&poll_status(&server, &key, &id).await);
    assert_eq!(dir.outbox_files(), Vec::<String>::new());
}

fn failing_sms_config() -> String {
    command_transport("sms", &["/bin/sh", "-c", "echo boom >&2; exit 3"])
}

fn assert_failed_with_boom(action: &Value) {
    assert_eq!(action["status"], "failed", "{action}");
    let error = action["error_message"].as_str().expect("error_message");
    assert!(
        error.contains("boom"),
        "error does not carry stderr: {error}"
    );
    assert!(
        error.contains("status 3"),
        "error does not give the exit status: {error}"
    );
}

#[tokio::test]
async fn succeeding_command_transport_gets_the_message_as_json_on_stdin() {
    let dir = TestDir::new();
    let (stdin_copy, env_copy) = (dir.scratch("stdin.json"), dir.scratch("env.txt"));
    let script = "cat > \"$1\"; \
        echo \"$CONTACTCMD_ACTION_ID $CONTACTCMD_CHANNEL $CONTACTCMD_RECIPIENT\" > \"$2\"";
    let argv = [
        "/bin/sh",
        "-c",
        script,
        "sh",
        path_str(&stdin_copy),
        path_str(&env_copy),
    ];
    dir.write_config(&command_transport("sms", &argv));
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "Hello")).await;

    dir.gateway(&["approve", &id]).await.success();

    assert_eq!(poll_status(&server, &key, &id).await["status"], "sent");
    let piped: Value = serde_json::from_slice(&std::fs::read(&stdin_copy).expect("stdin copy"))
        .expect("stdin was JSON");
    assert_eq!(piped["action_id"], id.as_str());
    assert_eq!(piped["body"], "Hello");
    assert_eq!(piped["recipient_address"], "+15550100");
    let env = std::fs::read_to_string(&env_copy).expect("env copy");
    assert_eq!(env.trim(), format!("{id} sms +15550100"));
    assert_eq!(
        dir.outbox_files(),
        Vec::<String>::new(),
        "outbox used instead"
    );
}

/// The agent's view of its action.
async fn poll_status(server: &Server, key: &str, id: &str) -> Value {
    server.poll(key, id).await.ok().data().clone()
}

fn read_outbox(dir: &TestDir, id: &str, extension: &str) -> String {
    let path = dir.outbox().join(format!("{id}.{extension}"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
}

fn path_str(path: &std::path::Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

#[tokio::test]
async fn an_http_approval_whose_client_hangs_up_still_finishes_the_send() {
    let dir = TestDir::new();
    let held = HeldSends::configure(&dir, "sms");
    let key = dir.add_key("bot").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "Hi")).await;

    let mut client = tokio::net::TcpStream::connect(server.address)
        .await
        .expect("connect");
    let request = format!(
        "POST /gateway/queue/{id}/approve HTTP/1.1\r\nHost: gateway\r\ncontent-length: 0\r\n\r\n"
    );
    tokio::io::AsyncWriteExt::write_all(&mut client, request.as_bytes())
        .await
        .expect("send the approval");
    held.wait_for(1).await;
    drop(client);
    // Time for the server to see the client gone, and cancel whatever runs
    // inside the request, before the send may finish. Waiting longer can
    // only slow this test, never make it pass wrongly.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    held.release();

    let status = common::eventually("the send to finish", || async {
        let status = poll_status(&server, &key, &id).await["status"].clone();
        (status != "approved").then_some(status)
    })
    .await;
    assert_eq!(
        status, "sent",
        "the send did not finish after the client left"
    );
}

#[tokio::test]
async fn the_server_listens_where_the_config_says_and_logs_each_outbox_file() {
    let port = {
        let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        probe.local_addr().expect("address").port()
    };
    let dir = TestDir::with_config(&format!("[server]\nbind = \"127.0.0.1:{port}\"\n"));
    let key = dir.add_key("bot").await;

    let server = dir.start_server_as_configured();
    assert_eq!(server.address.port(), port);
    let id = server.queue_message(&key, &sms("+15550100", "Hi")).await;
    server.approve(&id).await.ok();

    let file = dir
        .outbox()
        .join(format!("{id}.json"))
        .display()
        .to_string();
    let log = server.stderr();
    assert!(
        log.lines()
            .any(|l| l.contains("outbox") && l.contains(&file)),
        "the outbox file {file} is not in the log:\n{log}"
    );
}
