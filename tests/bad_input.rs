//! Every kind of bad input, over HTTP and on the command line: each gets
//! the right 4xx (or exit code 2) with a message naming what is wrong, and
//! leaves the database exactly as it was.

mod common;

use common::{sms, Reply, Server, TestDir};
use serde_json::{json, Value};

/// The largest request body the API accepts.
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// A running gateway with one key and one message already queued, so that
/// "unchanged" is checked against a database that holds something.
struct Fixture {
    // Declared before `dir` so the server stops before its files go.
    server: Server,
    dir: TestDir,
    key: String,
    queued_id: String,
}

impl Fixture {
    async fn start() -> Fixture {
        let dir = TestDir::new();
        let key = dir.add_key("bot").await;
        let server = dir.start_server();
        let queued_id = server.queue_message(&key, &sms("+15550100", "Hello")).await;
        Fixture {
            dir,
            server,
            key,
            queued_id,
        }
    }

    /// Sends `message` with the fixture's key; asserts a 400 whose message
    /// mentions `words`, and that nothing was written.
    async fn assert_send_refused(&self, message: &Value, words: &[&str]) {
        let body = serde_json::to_vec(message).expect("encode");
        self.assert_raw_send_refused(Some(&self.key), body, 400, "invalid_request", words)
            .await;
    }

    async fn assert_raw_send_refused(
        &self,
        key: Option<&str>,
        body: Vec<u8>,
        status: u16,
        code: &str,
        words: &[&str],
    ) {
        let before = self.dir.snapshot();
        self.server
            .send_raw(key, body)
            .await
            .rejected(status, code, words);
        assert_eq!(
            self.dir.snapshot(),
            before,
            "a refused send changed the database"
        );
    }

    /// Runs `gateway ARGS`; asserts exit 2 with `words` on stderr and that
    /// the database did not change.
    async fn assert_cli_refused(&self, args: &[&str], words: &[&str]) {
        let before = self.dir.snapshot();
        self.dir
            .gateway(args)
            .await
            .exit_code(2)
            .stderr_mentions(words);
        assert_eq!(
            self.dir.snapshot(),
            before,
            "refused {args:?} changed the database"
        );
    }

    /// Asserts `reply` is the refusal described, and the database unchanged
    /// since `before`.
    fn assert_refused(&self, reply: Reply, before: &[String], status: u16, code: &str) -> Reply {
        let reply = reply.rejected(status, code, &[]);
        assert_eq!(
            self.dir.snapshot(),
            before,
            "a refused request changed the database"
        );
        reply
    }
}

fn message_with(field: &str, value: Value) -> Value {
    let mut message = sms("+15550100", "Hello");
    message[field] = value;
    message
}

fn message_without(field: &str) -> Value {
    let mut message = sms("+15550100", "Hello");
    message.as_object_mut().expect("object").remove(field);
    message
}

#[tokio::test]
async fn malformed_json_is_refused() {
    let gateway = Fixture::start().await;
    let body = br#"{"channel": "sms", "recipient_address": "+15550100", "body": "Hi"#.to_vec();

    let key = Some(gateway.key.as_str());
    gateway
        .assert_raw_send_refused(key, body, 400, "invalid_request", &["not valid JSON"])
        .await;
}

#[tokio::test]
async fn json_followed_by_more_data_is_refused() {
    let gateway = Fixture::start().await;
    let mut body = serde_json::to_vec(&sms("+15550100", "Hi")).expect("encode");
    body.extend_from_slice(b" {}");

    let key = Some(gateway.key.as_str());
    gateway
        .assert_raw_send_refused(key, body, 400, "invalid_request", &["after the JSON"])
        .await;
}

#[tokio::test]
async fn json_that_is_not_an_object_is_refused() {
    let gateway = Fixture::start().await;

    for not_object in [json!(["sms", "+15550100", "Hi"]), json!("Hi"), json!(null)] {
        gateway
            .assert_send_refused(&not_object, &["must be a JSON object"])
            .await;
    }
}

#[tokio::test]
async fn field_of_the_wrong_type_is_refused_naming_the_field() {
    let gateway = Fixture::start().await;

    for (field, value) in [
        ("body", json!(42)),
        ("channel", json!(["sms"])),
        ("recipient_address", json!(15550100)),
        ("priority", json!(1)),
    ] {
        let words = [&format!("`{field}`") as &str, "wrong type"];
        gateway
            .assert_send_refused(&message_with(field, value), &words)
            .await;
    }
}

#[tokio::test]
async fn unknown_channel_is_refused_listing_the_channels() {
    let gateway = Fixture::start().await;

    let words = ["unknown channel", "fax", "email, sms, imessage"];
    gateway
        .assert_send_refused(&message_with("channel", json!("fax")), &words)
        .await;
}

#[tokio::test]
async fn missing_channel_is_refused() {
    let gateway = Fixture::start().await;

    let words = ["missing field `channel`", "email, sms, imessage"];
    gateway
        .assert_send_refused(&message_without("channel"), &words)
        .await;
}

#[tokio::test]
async fn empty_or_missing_recipient_is_refused() {
    let gateway = Fixture::start().await;
    let words = ["`recipient_address`", "missing or empty"];

    for empty in ["", "   "] {
        let message = message_with("recipient_address", json!(empty));
        gateway.assert_send_refused(&message, &words).await;
    }
    gateway
        .assert_send_refused(&message_without("recipient_address"), &words)
        .await;
}

#[tokio::test]
async fn recipient_that_does_not_suit_the_channel_is_refused() {
    let gateway = Fixture::start().await;
    let message = json!({
        "channel": "email", "recipient_address": "not-an-address",
        "subject": "Hi", "body": "Hello",
    });

    let words = ["not-an-address", "not an email address"];
    gateway.assert_send_refused(&message, &words).await;
    let words = ["call me", "not a phone number"];
    gateway
        .assert_send_refused(&message_with("recipient_address", json!("call me")), &words)
        .await;
}

#[tokio::test]
async fn empty_or_missing_body_is_refused() {
    let gateway = Fixture::start().await;
    let words = ["`body`", "missing or empty"];

    for empty in ["", " \n\t "] {
        gateway
            .assert_send_refused(&message_with("body", json!(empty)), &words)
            .await;
    }
    gateway
        .assert_send_refused(&message_without("body"), &words)
        .await;
}

#[tokio::test]
async fn email_without_a_subject_is_refused() {
    let gateway = Fixture::start().await;
    let mut message = json!({
        "channel": "email", "recipient_address": "ann@example.com", "body": "Hello",
    });
    let words = ["`subject`", "required for email"];

    gateway.assert_send_refused(&message, &words).await;
    for empty in ["", "   "] {
        message["subject"] = json!(empty);
        gateway.assert_send_refused(&message, &words).await;
    }
}

#[tokio::test]
async fn unknown_priority_is_refused_listing_the_priorities() {
    let gateway = Fixture::start().await;

    let words = ["unknown priority", "asap", "urgent, high, normal, low"];
    gateway
        .assert_send_refused(&message_with("priority", json!("asap")), &words)
        .await;
}

#[tokio::test]
async fn context_that_is_not_an_object_is_refused() {
    let gateway = Fixture::start().await;

    let words = ["`context`", "JSON object"];
    gateway
        .assert_send_refused(&message_with("context", json!("follow-up")), &words)
        .await;
}

#[tokio::test]
async fn send_without_a_key_is_refused_with_401() {
    let gateway = Fixture::start().await;
    let body = serde_json::to_vec(&sms("+15550100", "Hi")).expect("encode");

    gateway
        .assert_raw_send_refused(None, body, 401, "unauthorized", &["X-Gateway-Key"])
        .await;
}

#[tokio::test]
async fn send_with_an_unknown_key_is_refused_with_401() {
    let gateway = Fixture::start().await;
    let unknown = format!("gw_{}", "0".repeat(64));
    // A real key's display prefix with another tail: found by its prefix,
    // then refused by the hash comparison.
    let same_prefix = format!("{}{}", &gateway.key[..11], "f".repeat(56));
    assert_ne!(same_prefix, gateway.key);

    for key in [
        unknown.as_str(),
        &same_prefix,
        "gw_12",
        "not-a-gateway-key",
        "",
    ] {
        let body = serde_json::to_vec(&sms("+15550100", "Hi")).expect("encode");
        gateway
            .assert_raw_send_refused(Some(key), body, 401, "unauthorized", &["X-Gateway-Key"])
            .await;
    }
}

#[tokio::test]
async fn send_with_a_revoked_key_is_refused_with_401() {
    let gateway = Fixture::start().await;
    let prefix = &gateway.key[..11];
    gateway
        .dir
        .gateway(&["keys", "revoke", prefix])
        .await
        .success();
    let body = serde_json::to_vec(&sms("+15550100", "Hi")).expect("encode");

    let key = Some(gateway.key.as_str());
    gateway
        .assert_raw_send_refused(key, body, 401, "unauthorized", &["X-Gateway-Key"])
        .await;
}

/// A valid SMS request body exactly `total` bytes long.
fn send_body_of_length(total: usize) -> Vec<u8> {
    let head = br#"{"channel":"sms","recipient_address":"+15550100","body":""#;
    let tail = br#""}"#;
    let mut body = head.to_vec();
    body.resize(total - tail.len(), b'a');
    body.extend_from_slice(tail);
    body
}

#[tokio::test]
async fn body_over_one_mebibyte_is_refused_with_413() {
    let gateway = Fixture::start().await;
    let body = send_body_of_length(MAX_BODY_BYTES + 1);

    let key = Some(gateway.key.as_str());
    gateway
        .assert_raw_send_refused(
            key,
            body,
            413,
            "payload_too_large",
            &["larger than 1024 KiB"],
        )
        .await;
}

#[tokio::test]
async fn body_of_exactly_one_mebibyte_is_accepted() {
    let gateway = Fixture::start().await;

    let reply = gateway
        .server
        .send_raw(Some(&gateway.key), send_body_of_length(MAX_BODY_BYTES))
        .await;

    assert_eq!(reply.ok().data()["status"], "pending");
    assert_eq!(gateway.dir.count_actions(), 2);
}

#[tokio::test]
async fn unknown_action_id_is_404_over_http() {
    let gateway = Fixture::start().await;
    let unknown = "01900000-0000-7000-8000-000000000000";
    let before = gateway.dir.snapshot();

    let polled = gateway.server.poll(&gateway.key, unknown).await;
    let approved = gateway.server.approve(unknown).await;
    let denied = gateway.server.deny(unknown, Some("no")).await;

    for reply in [polled, approved, denied] {
        let reply = gateway.assert_refused(reply, &before, 404, "not_found");
        let error = reply.body["error"].as_str().expect("error");
        assert!(
            error.contains(unknown),
            "error does not name the id: {error}"
        );
    }
}

#[tokio::test]
async fn unknown_action_id_is_a_usage_error_on_the_cli() {
    let gateway = Fixture::start().await;
    let unknown = "01900000-0000-7000-8000-000000000000";

    for args in [["approve", unknown], ["deny", unknown]] {
        gateway
            .assert_cli_refused(&args, &["no action with id", unknown])
            .await;
    }
}

#[tokio::test]
async fn approving_or_denying_a_decided_action_is_409_over_http() {
    let gateway = Fixture::start().await;
    let id = gateway.queued_id.clone();
    gateway.server.approve(&id).await.ok();
    let before = gateway.dir.snapshot();

    let again = gateway.server.approve(&id).await;
    let denied = gateway.server.deny(&id, Some("too late")).await;

    for reply in [again, denied] {
        let reply = gateway.assert_refused(reply, &before, 409, "already_decided");
        assert_eq!(reply.body["status"], "sent", "{reply:?}");
        let error = reply.body["error"].as_str().expect("error");
        assert!(error.contains("already sent"), "{error}");
    }
    assert_eq!(gateway.dir.outbox_files().len(), 1, "sent twice");
}

#[tokio::test]
async fn approving_a_denied_action_is_409_over_http() {
    let gateway = Fixture::start().await;
    let id = gateway.queued_id.clone();
    gateway.server.deny(&id, None).await.ok();
    let before = gateway.dir.snapshot();

    let reply = gateway.server.approve(&id).await;

    let reply = gateway.assert_refused(reply, &before, 409, "already_decided");
    assert_eq!(reply.body["status"], "denied");
    assert!(
        gateway.dir.outbox_files().is_empty(),
        "a denied action was sent"
    );
}

#[tokio::test]
async fn approving_or_denying_a_decided_action_is_a_usage_error_on_the_cli() {
    let gateway = Fixture::start().await;
    let id = gateway.queued_id.clone();
    gateway.dir.gateway(&["deny", &id]).await.success();

    for args in [vec!["approve", &id], vec!["deny", &id, "--reason", "again"]] {
        gateway
            .assert_cli_refused(&args, &["already denied", &id])
            .await;
    }
}

#[tokio::test]
async fn deny_body_that_is_not_json_is_refused_and_the_action_stays_pending() {
    let gateway = Fixture::start().await;
    let url = gateway
        .server
        .url(&format!("/gateway/queue/{}/deny", gateway.queued_id));
    let before = gateway.dir.snapshot();

    let response = common::http_client()
        .post(url)
        .body("wrong recipient")
        .send()
        .await
        .expect("POST deny");

    assert_eq!(response.status().as_u16(), 400);
    let body: Value = response.json().await.expect("JSON error");
    assert!(
        body["error"].as_str().is_some_and(|e| e.contains("reason")),
        "{body}"
    );
    assert_eq!(gateway.dir.snapshot(), before);
    assert_eq!(gateway.dir.stored_status(&gateway.queued_id), "pending");
}

#[tokio::test]
async fn webhook_url_that_is_not_http_is_a_usage_error() {
    let gateway = Fixture::start().await;
    let prefix = &gateway.key[..11];

    let words = ["ftp://x", "scheme", "http and https"];
    gateway
        .assert_cli_refused(&["keys", "webhook", prefix, "ftp://x"], &words)
        .await;
    let words = ["not an absolute URL"];
    gateway
        .assert_cli_refused(&["keys", "webhook", prefix, "agent.example/hooks"], &words)
        .await;
}

#[tokio::test]
async fn unknown_key_id_is_a_usage_error_on_the_cli() {
    let gateway = Fixture::start().await;

    for args in [
        vec!["keys", "revoke", "gw_00000000"],
        vec!["keys", "webhook", "ffff", "https://agent.example/"],
    ] {
        gateway
            .assert_cli_refused(&args, &["no API key matches"])
            .await;
    }
}

#[tokio::test]
async fn unknown_history_status_is_a_usage_error() {
    let gateway = Fixture::start().await;

    let words = ["bogus", "pending, flagged, approved, sent, denied, failed"];
    gateway
        .assert_cli_refused(&["history", "--status", "bogus"], &words)
        .await;
}

#[tokio::test]
async fn a_limit_of_zero_is_a_usage_error() {
    let gateway = Fixture::start().await;

    for command in [&["queue"][..], &["history"], &["deliveries"]] {
        let args = [command, &["--limit", "0"]].concat();
        gateway.assert_cli_refused(&args, &["--limit", "0"]).await;
    }
}

#[tokio::test]
async fn a_config_file_that_does_not_parse_is_refused_naming_it() {
    let dir = TestDir::with_config("[server]\nbind = \"not an address\"\n");
    let config = dir.data_dir().join("config.toml").display().to_string();

    dir.gateway(&["queue"])
        .await
        .exit_code(1)
        .stderr_mentions(&[&config, "bind"]);
    dir.serve_expecting_failure()
        .await
        .exit_code(1)
        .stderr_mentions(&[&config]);
}
