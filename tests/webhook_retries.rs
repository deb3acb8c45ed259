//! Retries, over a real `gateway serve` subprocess, its SQLite file and a
//! loopback receiver: a 500, a timeout and a dropped connection are retried
//! under one webhook-id until delivered; after the last attempt the
//! delivery is failed and a manual retry sends it again; 410 stops at once;
//! `Retry-After` on 429 and 503 is honoured; redirects are failures, never
//! followed; each failed attempt is logged without the secret, and the log
//! keeps the first KiB of each answer.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::receiver::{Received, Reply, OK};
use support::{array, eventually, text, Config, Hooked};

const RECIPIENT: &str = "+15550100";

/// Starts a server, submits and approves one action, and returns the id of
/// the delivery that reports it, with the server.
async fn approve_one(hooked: &Hooked) -> (support::Server, String) {
    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;
    server.approve(&action_id).await;
    let delivery = hooked.gateway.delivery_of(&action_id).await;
    (server, text(&delivery["id"]))
}

/// Asserts every request is the same delivery: one webhook-id, the same
/// bytes, each signed with the key's secret for its own timestamp.
fn assert_one_delivery(requests: &[Received], delivery_id: &str, secret: &str) {
    for request in requests {
        assert_eq!(request.webhook_id(), delivery_id);
        assert_eq!(request.body, requests[0].body, "the body changed on retry");
        assert!(request.signed_by(secret));
    }
}

/// The recorded attempts of a `deliveries show --json` answer.
fn attempts(shown: &Value) -> Vec<Value> {
    array(shown["attempts"].clone())
}

fn status_codes(shown: &Value) -> Vec<Value> {
    attempts(shown)
        .iter()
        .map(|a| a["status_code"].clone())
        .collect()
}

#[tokio::test]
async fn a_500_is_retried_until_delivered_under_one_webhook_id() {
    let hooked = Hooked::new(&Config::fast().retries(&[0.1, 0.1, 0.1])).await;
    let failures = [Reply::Status(500), Reply::Status(500)];
    hooked.receiver.answer_next(&failures, OK);
    let (_server, id) = approve_one(&hooked).await;

    let shown = hooked.gateway.wait_for_status(&id, "delivered").await;
    let requests = hooked.receiver.requests();
    assert_eq!(requests.len(), 3);
    assert_one_delivery(&requests, &id, &hooked.secret);
    assert_eq!(status_codes(&shown), [500, 500, 200]);
    let first = &attempts(&shown)[0];
    assert!(text(&first["error"]).contains("500"), "{first}");
    assert_eq!(first["response_snippet"], "receiver said 500");
}

#[tokio::test]
async fn a_timeout_is_retried_until_delivered_under_one_webhook_id() {
    // Spare attempts: on a loaded machine even a prompt answer might miss
    // a half-second timeout, and that must not fail the test.
    let hooked = Hooked::new(&Config::fast().timeout(0.5).retries(&[0.1; 4])).await;
    hooked.receiver.answer_next(&[Reply::Hang], OK);
    let (_server, id) = approve_one(&hooked).await;

    let shown = hooked.gateway.wait_for_status(&id, "delivered").await;
    let requests = hooked.receiver.requests();
    assert_eq!(requests.len(), attempts(&shown).len());
    assert_eq!(requests[0].reply, Reply::Hang);
    assert_one_delivery(&requests, &id, &hooked.secret);
    let first = &attempts(&shown)[0];
    assert!(first["status_code"].is_null());
    assert!(text(&first["error"]).contains("timed out"), "{first}");
}

#[tokio::test]
async fn a_dropped_connection_is_retried_until_delivered() {
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer_next(&[Reply::Drop], OK);
    let (_server, id) = approve_one(&hooked).await;

    let shown = hooked.gateway.wait_for_status(&id, "delivered").await;
    let requests = hooked.receiver.requests();
    assert_eq!(requests.len(), 2);
    assert_one_delivery(&requests, &id, &hooked.secret);
    let first = &attempts(&shown)[0];
    assert!(first["status_code"].is_null());
    assert!(first["error"].is_string(), "{first}");
}

#[tokio::test]
async fn after_the_last_attempt_it_fails_and_a_manual_retry_sends_it_again() {
    // Two waits: three attempts in all, then failed.
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer(Reply::Status(500));
    let (server, id) = approve_one(&hooked).await;

    hooked.gateway.wait_for_status(&id, "failed").await;
    assert_eq!(hooked.receiver.count(), 3);
    let failed = array(hooked.gateway.json(&["deliveries", "--failed"]).await);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["id"], id.as_str());

    // With a server running, a retry is handed to it and gets one attempt.
    let retried = hooked.gateway.json(&["deliveries", "retry", &id]).await;
    assert_eq!(retried["outcome"], "handed_off", "{retried}");
    assert_eq!(retried["dispatcher_pid"], server.pid());
    eventually("the handed-off retry to fail again", || async {
        let shown = hooked.gateway.delivery(&id).await;
        (shown["delivery"]["status"] == "failed" && attempts(&shown).len() == 4).then_some(())
    })
    .await;
    assert_eq!(hooked.receiver.count(), 4);

    // With none, the command attempts it itself and reports the answer.
    server.stop().await;
    hooked.receiver.answer(OK);
    let retried = hooked.gateway.json(&["deliveries", "retry", &id]).await;
    assert_eq!(retried["outcome"], "delivered", "{retried}");
    let shown = hooked.gateway.delivery(&id).await;
    assert_eq!(shown["delivery"]["status"], "delivered");
    assert_eq!(status_codes(&shown), [500, 500, 500, 500, 200]);
    assert_one_delivery(&hooked.receiver.requests(), &id, &hooked.secret);
    assert!(array(hooked.gateway.json(&["deliveries", "--failed"]).await).is_empty());
}

#[tokio::test]
async fn a_410_fails_the_delivery_at_once() {
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer(Reply::Status(410));
    let (_server, id) = approve_one(&hooked).await;

    let shown = hooked.gateway.wait_for_status(&id, "failed").await;
    assert_eq!(status_codes(&shown), [410]);
    assert_eq!(shown["delivery"]["last_status_code"], 410);
    assert_eq!(hooked.receiver.count(), 1);
}

#[tokio::test]
async fn retry_after_on_a_429_holds_the_next_attempt_back() {
    let hooked = Hooked::new(&Config::fast()).await;
    hooked
        .receiver
        .answer_next(&[Reply::RetryAfter(429, 2)], OK);
    let (_server, id) = approve_one(&hooked).await;

    let shown = hooked.gateway.wait_for_status(&id, "delivered").await;
    assert_eq!(status_codes(&shown), [429, 200]);
    let requests = hooked.receiver.requests();
    assert_eq!(requests.len(), 2);
    // A lower bound only: the retry is not due until 2 s after the gateway
    // read the 429, which was after the receiver logged the first request.
    // The millisecond stored timestamps round by at most 1 ms.
    let gap = requests[1].at - requests[0].at;
    assert!(gap >= Duration::from_millis(1_990), "retried after {gap:?}");
}

#[tokio::test]
async fn retry_after_on_a_503_sets_the_next_attempt_time() {
    // The schedule says 0.1 s; the receiver asks for ten minutes.
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer(Reply::RetryAfter(503, 600));
    let (_server, id) = approve_one(&hooked).await;

    let shown = eventually("the first attempt to be recorded", || async {
        let shown = hooked.gateway.delivery(&id).await;
        (attempts(&shown).len() == 1).then_some(shown)
    })
    .await;
    assert_eq!(shown["delivery"]["status"], "pending");
    let attempted = time(&attempts(&shown)[0]["attempted_at"]);
    let next = time(&shown["delivery"]["next_attempt_at"]);
    let wait = (next - attempted).num_seconds();
    assert!((599..=600).contains(&wait), "next attempt {wait} s later");
    assert_eq!(hooked.receiver.count(), 1);
}

#[tokio::test]
async fn a_redirect_is_a_failure_and_is_not_followed() {
    let hooked = Hooked::new(&Config::fast().retries(&[0.1])).await;
    let elsewhere = format!("http://127.0.0.1:{}/elsewhere", hooked.receiver.port());
    hooked.receiver.answer(Reply::Redirect(elsewhere));
    let (_server, id) = approve_one(&hooked).await;

    let shown = hooked.gateway.wait_for_status(&id, "failed").await;
    assert_eq!(status_codes(&shown), [302, 302]);
    let first = &attempts(&shown)[0];
    assert!(text(&first["error"]).contains("redirect"), "{first}");
    let paths: Vec<String> = hooked
        .receiver
        .requests()
        .into_iter()
        .map(|r| r.path)
        .collect();
    assert_eq!(paths, ["/hook", "/hook"]);
}

#[tokio::test]
async fn failed_attempts_are_logged_at_warn_without_the_secret() {
    let hooked = Hooked::new(&Config::fast().retries(&[0.1])).await;
    hooked.receiver.answer(Reply::Status(500));
    let (server, id) = approve_one(&hooked).await;
    hooked.gateway.wait_for_status(&id, "failed").await;

    // The line is written just after the attempt is recorded, so wait for it.
    let log = eventually("two failed attempts in the server log", || async {
        let log = server.stderr();
        (log.matches("webhook attempt failed").count() == 2).then_some(log)
    })
    .await;
    let line = log
        .lines()
        .find(|l| l.contains("webhook attempt failed"))
        .expect("a failure line");
    assert!(line.contains("WARN"), "{line}");
    let action_id = text(&hooked.gateway.delivery(&id).await["delivery"]["action_id"]);
    let needles = [
        id.as_str(),
        action_id.as_str(),
        "agent",
        "127.0.0.1",
        "attempt=1",
        "500",
    ];
    for needle in needles {
        assert!(line.contains(needle), "{needle:?} missing from {line}");
    }
    let key_bytes = hooked.secret.trim_start_matches("whsec_");
    assert!(!log.contains(key_bytes), "the secret leaked into the log");
}

#[tokio::test]
async fn the_delivery_log_keeps_the_first_kib_of_an_answer() {
    let hooked = Hooked::new(&Config::fast().retries(&[])).await;
    hooked.receiver.answer(Reply::Long(500, 2_000));
    let (_server, id) = approve_one(&hooked).await;

    let shown = hooked.gateway.wait_for_status(&id, "failed").await;

    let snippet = text(&shown["attempts"][0]["response_snippet"]);
    assert_eq!(snippet, "x".repeat(1024));
}

fn time(value: &Value) -> chrono::DateTime<chrono::FixedOffset> {
    let text = text(value);
    chrono::DateTime::parse_from_rfc3339(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"))
}
