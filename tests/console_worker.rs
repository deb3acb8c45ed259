//! The console's worker against a real database in a temp dir: list reads
//! run one at a time with only the newest waiting one kept, and the answers
//! it sends are the ones the app would ask for.

use std::sync::Arc;

use contactcmd::config::Config;
use contactcmd::gateway::Gateway;
use contactcmd::paths::DataDir;
use contactcmd::tui::action::{Action, Command};
use contactcmd::tui::jobs::Latest;
use contactcmd::tui::worker::Worker;
use tokio::sync::mpsc;

#[test]
fn a_job_offered_while_one_runs_waits_and_a_newer_one_replaces_it() {
    let slot = Latest::default();

    assert_eq!(slot.offer(1), Some(1), "nothing runs, so 1 starts");
    assert_eq!(slot.offer(2), None);
    assert_eq!(slot.offer(3), None, "3 replaces 2");

    assert_eq!(slot.next(), Some(3));
    assert_eq!(slot.next(), None, "the slot is free again");
    assert_eq!(slot.offer(4), Some(4));
}

/// A gateway on a fresh data dir: no keys, no messages.
async fn gateway(dir: &std::path::Path) -> Arc<Gateway> {
    let data = DataDir::locate(Some(dir)).expect("a data dir");
    data.create().expect("the data dir is created");
    let (gateway, _dispatcher) = contactcmd::server::open_serving(&data, &Config::default())
        .await
        .expect("the database opens");
    gateway
}

/// A worker over `gateway`, and where its answers arrive.
fn worker(gateway: Arc<Gateway>) -> (Worker, mpsc::UnboundedReceiver<Action>) {
    let (results, answers) = mpsc::unbounded_channel();
    let worker = Worker::new(gateway, Config::default().webhooks.settings(), results);
    (worker, answers)
}

fn queue_fetch(generation: u64, filter: &str) -> Command {
    Command::FetchQueue {
        generation,
        filter: filter.into(),
        offset: 0,
        limit: 200,
        around: None,
        marked: Vec::new(),
    }
}

/// Queues an SMS as `key`'s agent would; returns its action id.
async fn send(gateway: &Gateway, key: &str, body: &str) -> String {
    let agent = gateway.authenticate(Some(key)).expect("the key is valid");
    let json =
        serde_json::json!({"channel": "sms", "recipient_address": "+15550100", "body": body});
    let action = gateway.submit(&agent, json.to_string().as_bytes()).await;
    action.expect("the message is queued").id
}

/// Generations of the queue loads among `actions`, in arrival order.
fn queue_generations(actions: &[Action]) -> Vec<u64> {
    let loads = actions.iter().filter_map(|action| match action {
        Action::QueueLoaded { window, .. } => Some(window.generation),
        _ => None,
    });
    loads.collect()
}

#[tokio::test(flavor = "current_thread")]
async fn a_burst_of_queue_fetches_runs_the_first_and_the_last_only() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (worker, mut answers) = worker(gateway(dir.path()).await);

    // No await between the calls: on this one-thread runtime none of them
    // starts before all are offered, as when keys arrive faster than scans.
    for (generation, filter) in
        (1..=8).zip(["p", "pe", "per", "pers", "perso", "person", "x", "xy"])
    {
        worker.run(queue_fetch(generation, filter));
    }
    worker.run(Command::FetchCounts);

    let mut seen = Vec::new();
    while queue_generations(&seen).last() != Some(&8) {
        seen.push(answers.recv().await.expect("the worker answers"));
    }
    assert_eq!(queue_generations(&seen), [1, 8]);
}

#[tokio::test(flavor = "current_thread")]
async fn reads_of_different_lists_do_not_replace_each_other() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let (worker, mut answers) = worker(gateway(dir.path()).await);

    worker.run(queue_fetch(1, ""));
    worker.run(Command::FetchKeys { generation: 2 });
    worker.run(Command::FetchCounts);

    let mut kinds = Vec::new();
    for _ in 0..3 {
        let kind = match answers.recv().await.expect("the worker answers") {
            Action::QueueLoaded { .. } => "queue",
            Action::KeysLoaded(_) => "keys",
            Action::CountsLoaded(_) => "counts",
            other => panic!("unexpected answer {other:?}"),
        };
        kinds.push(kind);
    }
    kinds.sort_unstable();
    assert_eq!(kinds, ["counts", "keys", "queue"]);
}

/// Asks for the queue around `around` with `marked` marked; returns the
/// index the fetch found for it, the ids loaded, and the marks decided.
async fn fetch_around(
    worker: &Worker,
    answers: &mut mpsc::UnboundedReceiver<Action>,
    around: &str,
    marked: &[String],
) -> (usize, Vec<String>, Vec<String>) {
    worker.run(Command::FetchQueue {
        generation: 1,
        filter: String::new(),
        offset: 0,
        limit: 200,
        around: Some(around.to_string()),
        marked: marked.to_vec(),
    });
    let Some(Action::QueueLoaded {
        window,
        decided_marks,
    }) = answers.recv().await
    else {
        panic!("a queue load expected");
    };
    let anchor = window.anchor.expect("the fetch says where the row is");
    assert_eq!(anchor.id, around);
    let ids = window.rows.into_iter().map(|row| row.id).collect();
    (anchor.index, ids, decided_marks)
}

#[tokio::test]
async fn the_queue_is_fetched_around_the_selected_message_wherever_it_moved() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let gateway = gateway(dir.path()).await;
    let key = gateway.add_key("mail-bot").await.expect("a key").plaintext;
    let oldest = send(&gateway, &key, "one").await;
    let middle = send(&gateway, &key, "two").await;
    let (worker, mut answers) = worker(gateway.clone());

    let (index, _, _) = fetch_around(&worker, &mut answers, &middle, &[]).await;
    assert_eq!(index, 0, "nothing is newer than the middle one yet");

    let newest = send(&gateway, &key, "three").await;
    let (index, ids, _) = fetch_around(&worker, &mut answers, &middle, &[]).await;
    assert_eq!(index, 1);
    assert_eq!(ids, [newest.clone(), middle.clone(), oldest.clone()]);

    gateway.deny(&middle, None).await.expect("denied elsewhere");
    let marked = [middle.clone(), newest.clone()];
    let (index, ids, decided) = fetch_around(&worker, &mut answers, &middle, &marked).await;
    assert_eq!(
        ids.get(index),
        Some(&oldest),
        "the row after it takes its place"
    );
    assert_eq!(decided, [middle]);
}
