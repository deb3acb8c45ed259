//! `gateway history`: decided messages, most recent decision first, narrowed
//! by `--status`, `--agent` and `--limit`, as JSON for scripts and as a
//! table for people.

mod common;

use common::{sms, TestDir};

/// Two agents' messages, decided in a known order: alpha's first is sent,
/// alpha's second denied, beta's sent; alpha's third still waits.
struct Decided {
    dir: TestDir,
    alpha_sent: String,
    alpha_denied: String,
    beta_sent: String,
    alpha_pending: String,
}

impl Decided {
    async fn build() -> Decided {
        let dir = TestDir::new();
        let alpha = dir.add_key("alpha").await;
        let beta = dir.add_key("beta").await;
        let server = dir.start_server();
        let alpha_sent = server.queue_message(&alpha, &sms("+15550101", "a1")).await;
        let alpha_denied = server.queue_message(&alpha, &sms("+15550102", "a2")).await;
        let beta_sent = server.queue_message(&beta, &sms("+15550103", "b1")).await;
        let alpha_pending = server.queue_message(&alpha, &sms("+15550104", "a3")).await;

        server.approve(&alpha_sent).await.ok();
        server.deny(&alpha_denied, Some("not now")).await.ok();
        server.approve(&beta_sent).await.ok();
        Decided {
            dir,
            alpha_sent,
            alpha_denied,
            beta_sent,
            alpha_pending,
        }
    }

    /// Action ids `gateway history ARGS --json` lists, in order.
    async fn ids(&self, args: &[&str]) -> Vec<String> {
        let mut all = vec!["history", "--json"];
        all.extend_from_slice(args);
        let listed = self.dir.gateway(&all).await.success().json();
        let entries = listed.as_array().expect("history is a JSON array");
        entries
            .iter()
            .map(|entry| entry["action_id"].as_str().expect("action_id").to_string())
            .collect()
    }
}

#[tokio::test]
async fn history_lists_decided_messages_most_recent_decision_first() {
    let decided = Decided::build().await;

    let ids = decided.ids(&[]).await;

    let expected = [
        decided.beta_sent.as_str(),
        decided.alpha_denied.as_str(),
        decided.alpha_sent.as_str(),
    ];
    assert_eq!(ids, expected, "pending messages are not history");
}

#[tokio::test]
async fn history_status_filter_keeps_only_that_status() {
    let decided = Decided::build().await;

    assert_eq!(
        decided.ids(&["--status", "sent"]).await,
        [decided.beta_sent.as_str(), decided.alpha_sent.as_str()]
    );
    assert_eq!(
        decided.ids(&["--status", "denied"]).await,
        [decided.alpha_denied.as_str()]
    );
    assert!(decided.ids(&["--status", "failed"]).await.is_empty());
    assert_eq!(
        decided.ids(&["--status", "pending"]).await,
        [decided.alpha_pending.as_str()]
    );
}

#[tokio::test]
async fn history_agent_filter_keeps_only_that_keys_messages() {
    let decided = Decided::build().await;

    assert_eq!(
        decided.ids(&["--agent", "alpha"]).await,
        [decided.alpha_denied.as_str(), decided.alpha_sent.as_str()]
    );
    assert_eq!(
        decided.ids(&["--agent", "beta"]).await,
        [decided.beta_sent.as_str()]
    );
    assert!(decided.ids(&["--agent", "nobody"]).await.is_empty());
}

#[tokio::test]
async fn history_limit_keeps_the_most_recent_decisions() {
    let decided = Decided::build().await;

    assert_eq!(
        decided.ids(&["--limit", "2"]).await,
        [decided.beta_sent.as_str(), decided.alpha_denied.as_str()]
    );
    let narrowed = ["--status", "sent", "--agent", "alpha", "--limit", "1"];
    assert_eq!(decided.ids(&narrowed).await, [decided.alpha_sent.as_str()]);
}

#[tokio::test]
async fn history_table_shows_each_decision_and_the_reason_for_a_denial() {
    let decided = Decided::build().await;

    let table = decided.dir.gateway(&["history"]).await.success().stdout;
    let empty = decided.dir.gateway(&["history", "--agent", "nobody"]).await;

    let lines: Vec<&str> = table.lines().collect();
    assert!(
        lines[0].starts_with("ID") && lines[0].contains("STATUS"),
        "{table}"
    );
    assert_eq!(lines.len(), 4, "{table}");
    let denied = lines
        .iter()
        .find(|l| l.contains(decided.alpha_denied.as_str()))
        .expect("row");
    assert!(
        denied.contains("denied") && denied.contains("not now"),
        "{denied}"
    );
    assert!(empty.success().stdout.contains("No decided messages"));
}
