//! What a webhook event is, end to end over a real `gateway serve`
//! subprocess, its SQLite file and a loopback receiver: the one event each
//! of sent, denied and failed produces (payload fields and headers), also
//! when two servers race to decide; its signature, a rotated secret's
//! double signature and its end after the grace period; when no delivery is
//! written at all; the URL an event keeps; the delivery log's filters;
//! `keys list`'s latest result; `webhook test`; URLs refused when set; host
//! names checked by the delivery-time guard; and proxies in the environment
//! left unused.

mod support;

use std::collections::BTreeSet;

use contactcmd::webhook::secret;
use serde_json::Value;
use support::receiver::{Received, Receiver, Reply};
use support::{array, text, Config, Gateway, Hooked};

const RECIPIENT: &str = "+15550100";

/// Fields every action event carries, whatever its status.
const EVENT_FIELDS: [&str; 6] = [
    "type",
    "timestamp",
    "action_id",
    "status",
    "recipient",
    "channel",
];

/// Checks the payload of an action event and returns it. `extra` names the
/// optional fields it must have; every other optional field must be absent.
fn assert_event(request: &Received, action_id: &str, status: &str, extra: &[&str]) -> Value {
    let event = request.json();
    let fields: BTreeSet<&str> = event
        .as_object()
        .expect("event is a JSON object")
        .keys()
        .map(String::as_str)
        .collect();
    let expected: BTreeSet<&str> = EVENT_FIELDS.iter().chain(extra).copied().collect();
    assert_eq!(fields, expected, "fields of {event}");

    assert_eq!(event["type"], format!("action.{status}"));
    assert_eq!(event["status"], status);
    assert_eq!(event["action_id"], action_id);
    assert_eq!(event["recipient"], RECIPIENT);
    assert_eq!(event["channel"], "sms");
    let timestamp = text(&event["timestamp"]);
    assert!(
        chrono::DateTime::parse_from_rfc3339(&timestamp).is_ok(),
        "timestamp {timestamp:?} is RFC 3339"
    );
    event
}

/// Checks the Standard Webhooks headers and that the key's secret signed it.
fn assert_headers(request: &Received, delivery_id: &str, secret: &str) {
    assert_eq!(request.path, "/hook");
    assert_eq!(request.webhook_id(), delivery_id);
    assert!(request.webhook_id().starts_with("msg_"));
    assert_eq!(request.header("content-type"), "application/json");
    let agent = format!("contactcmd-gateway/{}", env!("CARGO_PKG_VERSION"));
    assert_eq!(request.header("user-agent"), agent);
    // A sanity bound an hour wide: the header is unix seconds of "now".
    let age = chrono::Utc::now().timestamp() - request.timestamp();
    assert!(age.abs() < 3_600, "webhook-timestamp is {age} s off");
    assert!(request.signed_by(secret), "signature does not verify");
}

/// Waits until the action's one delivery is delivered; returns its id.
async fn delivered(gateway: &Gateway, action_id: &str) -> String {
    let id = text(&gateway.delivery_of(action_id).await["id"]);
    gateway.wait_for_status(&id, "delivered").await;
    id
}

/// The request carrying `action_id`'s event; panics unless exactly one did.
fn only_request_for(receiver: &Receiver, action_id: &str) -> Received {
    let mine: Vec<Received> = receiver
        .requests()
        .into_iter()
        .filter(|r| r.json()["action_id"] == action_id)
        .collect();
    assert_eq!(mine.len(), 1, "requests for {action_id}: {mine:#?}");
    mine.into_iter().next().expect("one request")
}

#[tokio::test]
async fn a_sent_action_produces_one_signed_event_with_sent_at() {
    let hooked = Hooked::new(&Config::fast()).await;
    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;

    let approved = server.approve(&action_id).await;
    assert_eq!(approved["status"], "sent");
    let delivery_id = delivered(&hooked.gateway, &action_id).await;

    assert_eq!(hooked.receiver.count(), 1);
    let request = only_request_for(&hooked.receiver, &action_id);
    let event = assert_event(&request, &action_id, "sent", &["sent_at"]);
    assert_eq!(event["sent_at"], approved["sent_at"]);
    assert_headers(&request, &delivery_id, &hooked.secret);
}

#[tokio::test]
async fn a_denied_action_carries_the_reason_only_when_one_was_given() {
    let hooked = Hooked::new(&Config::fast()).await;
    let server = hooked.gateway.serve().await;
    let with_reason = server.submit(&hooked.key, RECIPIENT).await;
    let without = server.submit(&hooked.key, RECIPIENT).await;
    let blank_reason = server.submit(&hooked.key, RECIPIENT).await;

    server.deny(&with_reason, Some("wrong recipient")).await;
    server.deny(&without, None).await;
    server.deny(&blank_reason, Some("   ")).await;
    for action_id in [&with_reason, &without, &blank_reason] {
        delivered(&hooked.gateway, action_id).await;
    }

    assert_eq!(hooked.receiver.count(), 3);
    let request = only_request_for(&hooked.receiver, &with_reason);
    let event = assert_event(&request, &with_reason, "denied", &["error_message"]);
    assert_eq!(event["error_message"], "wrong recipient");
    for action_id in [&without, &blank_reason] {
        let request = only_request_for(&hooked.receiver, action_id);
        assert_event(&request, action_id, "denied", &[]);
        assert!(request.signed_by(&hooked.secret));
    }
}

#[tokio::test]
async fn a_failed_send_produces_one_event_with_the_error_message() {
    let hooked = Hooked::new(&Config::fast().failing_sms()).await;
    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;

    let approved = server.approve(&action_id).await;
    assert_eq!(approved["status"], "failed");
    let delivery_id = delivered(&hooked.gateway, &action_id).await;

    assert_eq!(hooked.receiver.count(), 1);
    let request = only_request_for(&hooked.receiver, &action_id);
    let event = assert_event(&request, &action_id, "failed", &["error_message"]);
    assert!(
        text(&event["error_message"]).contains("boom"),
        "the transport's stderr is the reason: {event}"
    );
    assert_eq!(event["error_message"], approved["error_message"]);
    assert_headers(&request, &delivery_id, &hooked.secret);
}

#[tokio::test]
async fn racing_decisions_on_one_action_produce_one_event() {
    // Two servers on one database, each asked to decide every action at
    // the same moment: one decision wins, and only it is reported.
    const ACTIONS: usize = 10;
    let hooked = Hooked::new(&Config::fast()).await;
    let (first, second) = (hooked.gateway.serve().await, hooked.gateway.serve().await);
    for _ in 0..ACTIONS {
        let action_id = first.submit(&hooked.key, RECIPIENT).await;
        let (approve, deny) = tokio::join!(
            first.try_decide(&action_id, "approve"),
            second.try_decide(&action_id, "deny")
        );
        let won = [approve, deny].iter().filter(|s| s.is_success()).count();
        assert_eq!(won, 1, "approve {approve}, deny {deny}");
    }

    let deliveries = hooked.gateway.wait_for_all(ACTIONS, "delivered").await;
    let actions: BTreeSet<String> = deliveries.iter().map(|d| text(&d["action_id"])).collect();
    assert_eq!(actions.len(), ACTIONS, "one delivery per action");
    let requests = hooked.receiver.requests();
    assert_eq!(requests.len(), ACTIONS);
    let reported: BTreeSet<String> = requests
        .iter()
        .map(|r| text(&r.json()["action_id"]))
        .collect();
    assert_eq!(reported, actions);
}

#[tokio::test]
async fn the_signature_verifies_with_the_key_secret_and_no_other() {
    let hooked = Hooked::new(&Config::fast()).await;
    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&action_id).await;
    let request = hooked.receiver.wait_for(1).await.remove(0);

    let shown = hooked
        .gateway
        .json(&["keys", "webhook", &hooked.key.id, "--secret"])
        .await;
    assert_eq!(shown["signing_secret"], hooked.secret.as_str());
    assert!(hooked.secret.starts_with("whsec_"));
    assert!(request.signed_by(&hooked.secret));

    let other = secret::generate().expect("a second secret");
    assert!(
        !request.signed_by(&other),
        "verified with a stranger's secret"
    );
    let mut tampered = request.clone();
    tampered.body.extend_from_slice(b" ");
    assert!(
        !tampered.signed_by(&hooked.secret),
        "verified a changed body"
    );
}

#[tokio::test]
async fn after_rotation_each_of_two_signatures_verifies_with_one_secret() {
    let hooked = Hooked::new(&Config::fast()).await;
    let old = hooked.secret.clone();
    let rotated = hooked
        .gateway
        .json(&["keys", "webhook", &hooked.key.id, "--rotate-secret"])
        .await;
    let new = text(&rotated["signing_secret"]);
    assert_ne!(new, old);
    assert!(rotated["previous_secret_expires_at"].is_string());

    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&action_id).await;
    let request = hooked.receiver.wait_for(1).await.remove(0);

    let header = request.header("webhook-signature");
    let signatures: Vec<&str> = header.split(' ').collect();
    assert_eq!(signatures.len(), 2, "header {header:?}");
    let verifies = |secret: &str, signature: &str| {
        secret::verify(
            secret,
            request.webhook_id(),
            request.timestamp(),
            &request.body,
            signature,
        )
    };
    assert!(verifies(&new, signatures[0]) && !verifies(&old, signatures[0]));
    assert!(verifies(&old, signatures[1]) && !verifies(&new, signatures[1]));
}

#[tokio::test]
async fn once_the_rotation_grace_is_over_only_the_new_secret_signs() {
    let hooked = Hooked::new(&Config::fast()).await;
    let old = hooked.secret.clone();
    let rotated = hooked
        .gateway
        .json(&["keys", "webhook", &hooked.key.id, "--rotate-secret"])
        .await;
    let new = text(&rotated["signing_secret"]);
    // The 24 hours pass in the database, where the grace period is kept.
    let conn = hooked.gateway.db_for_writing();
    conn.execute(
        "UPDATE api_keys SET previous_secret_expires_at = \
             strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-1 seconds')",
        [],
    )
    .expect("end the grace period");
    drop(conn);

    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&action_id).await;
    let request = hooked.receiver.wait_for(1).await.remove(0);

    let header = request.header("webhook-signature");
    assert_eq!(header.split(' ').count(), 1, "header {header:?}");
    assert!(request.signed_by(&new));
    assert!(!request.signed_by(&old), "the expired secret still signs");
}

#[tokio::test]
async fn a_key_without_a_webhook_gets_no_delivery() {
    let gateway = Gateway::new(&Config::fast());
    let key = gateway.add_key("no-hook").await;
    let server = gateway.serve().await;
    let by_http = server.submit(&key, RECIPIENT).await;
    let by_cli = server.submit(&key, RECIPIENT).await;

    assert_eq!(server.approve(&by_http).await["status"], "sent");
    let decided = gateway.json(&["deny", &by_cli]).await;
    assert_eq!(decided["status"], "denied");
    assert!(
        decided["webhook"].is_null(),
        "no webhook to report: {decided}"
    );

    // The row would be written in the decision's own transaction, so its
    // absence now is final.
    assert!(gateway.deliveries().await.is_empty());
    let keys = array(gateway.json(&["keys", "list"]).await);
    assert!(keys[0]["last_delivery"].is_null());
}

#[tokio::test]
async fn removing_the_webhook_stops_future_deliveries() {
    let hooked = Hooked::new(&Config::fast()).await;
    let server = hooked.gateway.serve().await;
    let before = server.submit(&hooked.key, RECIPIENT).await;
    let after = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&before).await;
    delivered(&hooked.gateway, &before).await;

    let removed = hooked
        .gateway
        .json(&["keys", "webhook", &hooked.key.id, "--remove"])
        .await;
    assert!(removed["webhook_url"].is_null());
    assert_eq!(server.approve(&after).await["status"], "sent");

    let deliveries = hooked.gateway.deliveries().await;
    assert_eq!(
        deliveries.len(),
        1,
        "only the first decision: {deliveries:#?}"
    );
    assert_eq!(deliveries[0]["action_id"], before.as_str());
    assert_eq!(hooked.receiver.count(), 1);
}

#[tokio::test]
async fn a_queued_event_keeps_the_url_it_was_written_with() {
    // The URL is fixed when the delivery row is written: moving the webhook
    // redirects new events only, even when an old one is retried by hand.
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer(Reply::Status(410));
    let server = hooked.gateway.serve().await;
    let old_event = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&old_event).await;
    let old_id = text(&hooked.gateway.delivery_of(&old_event).await["id"]);
    hooked.gateway.wait_for_status(&old_id, "failed").await;

    let moved = Receiver::start();
    hooked.gateway.set_webhook(&hooked.key, &moved.url()).await;
    hooked.receiver.answer(Reply::Status(200));
    hooked.gateway.json(&["deliveries", "retry", &old_id]).await;
    hooked.gateway.wait_for_status(&old_id, "delivered").await;
    let new_event = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&new_event).await;
    delivered(&hooked.gateway, &new_event).await;

    assert_eq!(hooked.receiver.count(), 2, "the old event, twice");
    assert_eq!(moved.count(), 1);
    only_request_for(&moved, &new_event);
}

#[tokio::test]
async fn keys_list_shows_the_latest_delivery_result() {
    let hooked = Hooked::new(&Config::fast()).await;
    let server = hooked.gateway.serve().await;
    let first = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&first).await;
    delivered(&hooked.gateway, &first).await;

    let listed = array(hooked.gateway.json(&["keys", "list"]).await).remove(0);
    assert_eq!(listed["webhook_url"], hooked.receiver.url());
    let last = &listed["last_delivery"];
    assert_eq!(last["status"], "delivered");
    assert_eq!(last["status_code"], 200);
    assert_eq!(last["event_type"], "action.sent");

    hooked.receiver.answer(Reply::Status(410));
    let second = server.submit(&hooked.key, RECIPIENT).await;
    server.deny(&second, None).await;
    let id = text(&hooked.gateway.delivery_of(&second).await["id"]);
    hooked.gateway.wait_for_status(&id, "failed").await;

    let listed = array(hooked.gateway.json(&["keys", "list"]).await).remove(0);
    let last = &listed["last_delivery"];
    assert_eq!(last["id"], id.as_str());
    assert_eq!(last["status"], "failed");
    assert_eq!(last["status_code"], 410);
    let table = hooked.gateway.run(&["keys", "list"]).await;
    assert!(
        table.stdout.contains("failed: receiver answered 410"),
        "{table:#?}"
    );
}

#[tokio::test]
async fn the_delivery_log_filters_by_key_failure_and_limit() {
    let gateway = Gateway::new(&Config::fast());
    let (happy, gone) = (Receiver::start(), Receiver::start());
    gone.answer(Reply::Status(410));
    let (good_key, bad_key) = (gateway.add_key("good").await, gateway.add_key("bad").await);
    gateway.set_webhook(&good_key, &happy.url()).await;
    gateway.set_webhook(&bad_key, &gone.url()).await;
    let server = gateway.serve().await;
    for key in [&good_key, &bad_key] {
        let action_id = server.submit(key, RECIPIENT).await;
        server.approve(&action_id).await;
    }
    let all = gateway.wait_for_all_finished(2).await;

    let by_key = array(gateway.json(&["deliveries", "--key", &good_key.id]).await);
    assert_eq!(by_key.len(), 1);
    assert_eq!(by_key[0]["key_id"], good_key.id.as_str());
    let failed = array(gateway.json(&["deliveries", "--failed"]).await);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["key_id"], bad_key.id.as_str());
    let newest = array(gateway.json(&["deliveries", "--limit", "1"]).await);
    assert_eq!(newest, all[..1]);
}

#[tokio::test]
async fn webhook_test_delivers_a_signed_ping_and_exits_zero() {
    let hooked = Hooked::new(&Config::fast()).await;

    let run = hooked
        .gateway
        .run(&["webhook", "test", &hooked.key.id])
        .await;
    assert!(run.succeeded(), "{run:#?}");
    assert!(run.stdout.contains("delivered (200"), "{run:#?}");
    assert!(
        run.stdout.contains("receiver said 200"),
        "the answer is not shown: {run:#?}"
    );

    let ping = hooked.receiver.wait_for(1).await.remove(0);
    assert!(ping.signed_by(&hooked.secret));
    let event = ping.json();
    assert_eq!(event["type"], "ping");
    assert_eq!(event["key_id"], hooked.key.id.as_str());
    let reported = hooked
        .gateway
        .json(&["webhook", "test", &hooked.key.id])
        .await;
    assert_eq!(reported["outcome"], "delivered");
    assert_eq!(reported["status_code"], 200);
}

#[tokio::test]
async fn webhook_test_reports_a_failing_receiver_and_exits_one() {
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer(Reply::Status(500));

    let run = hooked
        .gateway
        .run(&["--json", "webhook", "test", &hooked.key.id])
        .await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    let report = run.json();
    assert_eq!(
        report["outcome"], "failed",
        "a ping gets one attempt: {report}"
    );
    assert!(text(&report["error"]).contains("500"));
    assert_eq!(report["response_snippet"], "receiver said 500");
    assert_eq!(hooked.receiver.count(), 1);

    let unreachable = closed_port_url();
    hooked.gateway.set_webhook(&hooked.key, &unreachable).await;
    let run = hooked
        .gateway
        .run(&["webhook", "test", &hooked.key.id])
        .await;
    assert_eq!(run.code, Some(1), "{run:#?}");
    assert!(run.stdout.contains("could not connect"), "{run:#?}");
}

#[tokio::test]
async fn webhook_test_with_a_server_running_attempts_the_ping_itself() {
    // A ping is due the moment it is written. A running dispatcher must not
    // take it from under the command, which would then report "in progress"
    // and exit 1. The race is narrow, so several pings guard against it.
    const PINGS: usize = 20;
    let hooked = Hooked::new(&Config::fast()).await;
    let _server = hooked.gateway.serve().await;
    for n in 1..=PINGS {
        let report = hooked
            .gateway
            .json(&["webhook", "test", &hooked.key.id])
            .await;
        assert_eq!(report["outcome"], "delivered", "ping {n}: {report}");
    }
    assert_eq!(hooked.receiver.count(), PINGS);
}

#[tokio::test]
async fn link_local_and_metadata_urls_are_refused_when_set() {
    let gateway = Gateway::new(&Config::fast());
    let key = gateway.add_key("agent").await;
    let refused = [
        "http://169.254.169.254/latest/meta-data",
        "http://[fe80::1]/hook",
        "http://metadata.google.internal/computeMetadata",
        "ftp://127.0.0.1/hook",
    ];
    for url in refused {
        let run = gateway.run(&["keys", "webhook", &key.id, url]).await;
        assert_eq!(run.code, Some(2), "{url} should be refused: {run:#?}");
        assert!(!run.stderr.is_empty());
    }
    let listed = array(gateway.json(&["keys", "list"]).await).remove(0);
    assert!(listed["webhook_url"].is_null());
}

#[tokio::test]
async fn a_host_name_is_resolved_through_the_guard_at_delivery_time() {
    // The server runs where /etc/hosts says what the names resolve to: one
    // name reaches the receiver, another points at the metadata address,
    // which set-time validation cannot see and delivery must refuse.
    let hooked = Hooked::new(&Config::fast().retries(&[])).await;
    let hosts = "127.0.0.1 receiver.test\n169.254.169.254 sneaky.test\n";
    let Some(server) = hooked.gateway.serve_with_hosts(hosts).await else {
        return;
    };
    let port = hooked.receiver.port();

    hooked
        .gateway
        .set_webhook(&hooked.key, &format!("http://receiver.test:{port}/hook"))
        .await;
    let allowed = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&allowed).await;
    delivered(&hooked.gateway, &allowed).await;
    assert!(only_request_for(&hooked.receiver, &allowed).signed_by(&hooked.secret));

    hooked
        .gateway
        .set_webhook(&hooked.key, &format!("http://sneaky.test:{port}/hook"))
        .await;
    let refused = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&refused).await;
    let id = text(&hooked.gateway.delivery_of(&refused).await["id"]);
    let shown = hooked.gateway.wait_for_status(&id, "failed").await;
    let error = text(&shown["attempts"][0]["error"]);
    assert!(error.contains("link-local or metadata"), "{error}");
    assert_eq!(hooked.receiver.count(), 1, "the refused delivery was sent");
}

#[tokio::test]
async fn a_proxy_in_the_environment_is_not_used_for_deliveries() {
    // A proxy would resolve the receiver's host itself, past the address
    // guard, and carry loopback deliveries off the machine.
    let hooked = Hooked::new(&Config::fast()).await;
    let proxy = Receiver::start();
    let proxy_url = format!("http://127.0.0.1:{}", proxy.port());
    let env: Vec<(&str, &str)> = ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .into_iter()
        .map(|var| (var, proxy_url.as_str()))
        .collect();
    let server = hooked.gateway.serve_with_env(&env).await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&action_id).await;

    delivered(&hooked.gateway, &action_id).await;
    only_request_for(&hooked.receiver, &action_id);
    assert_eq!(proxy.count(), 0, "a delivery went through the proxy");
}

/// A loopback URL nobody listens on: a port the OS just handed out and took
/// back.
fn closed_port_url() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    drop(listener);
    format!("http://127.0.0.1:{port}/hook")
}
