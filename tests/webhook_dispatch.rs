//! Who delivers, and when, over real `contactcmd` subprocesses sharing one
//! SQLite file and a loopback receiver: deciding never waits for a hanging
//! receiver; a server killed with SIGKILL loses no pending delivery, held or
//! not, and a send it cut short is reported as failed; a clean stop hands
//! back its leases; two dispatchers on one database never send a delivery
//! twice, also when each is pid 1 of a pid namespace of its own; a
//! dispatcher forgotten by its peers registers again; a one-shot CLI
//! decision hands its webhook to a live server, or with none makes one
//! attempt itself and leaves retries to the next server.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::receiver::{Received, Reply, OK};
use support::{eventually, text, Config, Hooked, Server};

const RECIPIENT: &str = "+15550100";

/// Far below the 10 s a hanging receiver holds an attempt, and far above
/// what a decision takes, so timing cannot decide the outcome by luck.
const PROMPT: Duration = Duration::from_secs(5);

/// A transport program that is still sending for as long as the gateway
/// that started it lives, and leaves no stray process behind it.
const SEND_UNTIL_THE_SERVER_DIES: &str = "while kill -0 $PPID 2>/dev/null; do sleep 0.1; done";

/// Submits `n` actions through `server`; returns their ids.
async fn submit_many(hooked: &Hooked, server: &Server, n: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(n);
    for _ in 0..n {
        ids.push(server.submit(&hooked.key, RECIPIENT).await);
    }
    ids
}

/// Requests grouped by webhook-id, each with the replies it got in order.
fn replies_by_id(requests: &[Received]) -> BTreeMap<String, Vec<Reply>> {
    let mut by_id: BTreeMap<String, Vec<Reply>> = BTreeMap::new();
    for request in requests {
        by_id
            .entry(request.webhook_id().to_string())
            .or_default()
            .push(request.reply.clone());
    }
    by_id
}

fn ids_of(deliveries: &[Value]) -> BTreeSet<String> {
    deliveries.iter().map(|d| text(&d["id"])).collect()
}

/// Waits until the receiver has seen `n` different webhook-ids.
async fn wait_for_distinct_ids(hooked: &Hooked, n: usize) {
    eventually(&format!("{n} different webhook-ids"), || async {
        (replies_by_id(&hooked.receiver.requests()).len() >= n).then_some(())
    })
    .await;
}

/// Runs `decide` and asserts it came back within [`PROMPT`].
async fn promptly<T>(what: &str, decide: impl std::future::Future<Output = T>) -> T {
    let started = Instant::now();
    let result = decide.await;
    let took = started.elapsed();
    assert!(
        took < PROMPT,
        "{what} took {took:?} while the receiver hangs"
    );
    result
}

#[tokio::test]
async fn deciding_returns_at_once_while_the_receiver_hangs() {
    // The default 10 s timeout: a decision that waited would take that long.
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer(Reply::Hang);
    let server = hooked.gateway.serve().await;
    let ids = submit_many(&hooked, &server, 5).await;
    server.approve(&ids[0]).await;
    hooked.receiver.wait_for(1).await;

    let approved = promptly("HTTP approve", server.approve(&ids[1])).await;
    assert_eq!(approved["status"], "sent");
    promptly("HTTP deny", server.deny(&ids[2], Some("no"))).await;
    let gateway = &hooked.gateway;
    let by_cli = promptly("CLI approve", gateway.json(&["approve", &ids[3]])).await;
    assert_eq!(by_cli["webhook"]["outcome"], "handed_off", "{by_cli}");
    let by_cli = promptly(
        "CLI deny",
        gateway.json(&["deny", &ids[4], "--reason", "no"]),
    )
    .await;
    assert_eq!(by_cli["webhook"]["outcome"], "handed_off", "{by_cli}");

    // All five are in flight at once, each hanging.
    hooked.receiver.wait_for(5).await;
}

#[tokio::test]
async fn after_kill_9_with_failing_deliveries_a_restart_delivers_every_one() {
    // Twenty one-second waits: far more than the test needs before the kill.
    let hooked = Hooked::new(&Config::fast().retries(&[1.0; 20])).await;
    hooked.receiver.answer(Reply::Status(500));
    let server = hooked.gateway.serve().await;
    for action_id in submit_many(&hooked, &server, 5).await {
        server.approve(&action_id).await;
    }
    wait_for_distinct_ids(&hooked, 5).await;

    server.kill9().await;
    let pending = hooked.gateway.wait_for_all(5, "pending").await;
    hooked.receiver.answer(OK);
    let _restarted = hooked.gateway.serve().await;

    let delivered = hooked.gateway.wait_for_all(5, "delivered").await;
    assert_eq!(ids_of(&delivered), ids_of(&pending));
    for (id, replies) in replies_by_id(&hooked.receiver.requests()) {
        let oks = replies.iter().filter(|r| **r == OK).count();
        assert_eq!(oks, 1, "{id} got {replies:?}");
        assert_eq!(replies.last(), Some(&OK), "{id} got {replies:?}");
    }
}

#[tokio::test]
async fn after_kill_9_mid_attempt_a_restart_takes_over_its_leases() {
    // The default 10 s timeout makes each lease 30 s, longer than the wait
    // below: delivery after the restart proves the dead process's leases
    // were released, not waited out.
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer(Reply::Hang);
    let server = hooked.gateway.serve().await;
    for action_id in submit_many(&hooked, &server, 3).await {
        server.approve(&action_id).await;
    }
    hooked.receiver.wait_for(3).await;

    server.kill9().await;
    hooked.receiver.answer(OK);
    let _restarted = hooked.gateway.serve().await;

    let delivered = hooked.gateway.wait_for_all(3, "delivered").await;
    let by_id = replies_by_id(&hooked.receiver.requests());
    assert_eq!(
        by_id.keys().cloned().collect::<BTreeSet<_>>(),
        ids_of(&delivered)
    );
    for (id, replies) in by_id {
        assert_eq!(replies, [Reply::Hang, OK], "{id}");
    }
}

#[tokio::test]
async fn a_send_cut_short_by_kill_9_is_reported_as_failed_after_restart() {
    // The transport is still running when the server dies. Whether the
    // message went out is unknown, so the restart marks it failed, and the
    // agent must hear about it like any other failure.
    let slow_sms = Config::fast().sms_command(&["/bin/sh", "-c", SEND_UNTIL_THE_SERVER_DIES]);
    let hooked = Hooked::new(&slow_sms).await;
    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;
    let approving = server.approve_in_background(&action_id);
    eventually("the action to be approved and sending", || async {
        let sending = hooked
            .gateway
            .json(&["history", "--status", "approved"])
            .await;
        (sending[0]["action_id"] == action_id.as_str()).then_some(())
    })
    .await;

    server.kill9().await;
    approving.abort();
    let _restarted = hooked.gateway.serve().await;

    let id = text(&hooked.gateway.delivery_of(&action_id).await["id"]);
    hooked.gateway.wait_for_status(&id, "delivered").await;
    let event = hooked.receiver.wait_for(1).await[0].json();
    assert_eq!(event["type"], "action.failed");
    assert_eq!(event["action_id"], action_id.as_str());
    assert!(
        text(&event["error_message"]).contains("stopped while sending"),
        "{event}"
    );
}

#[tokio::test]
async fn a_graceful_stop_mid_attempt_hands_back_its_leases() {
    // As with kill -9, each lease would last 30 s; a clean stop releases
    // them, so the next server sends at once instead of waiting them out.
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer(Reply::Hang);
    let server = hooked.gateway.serve().await;
    for action_id in submit_many(&hooked, &server, 2).await {
        server.approve(&action_id).await;
    }
    hooked.receiver.wait_for(2).await;

    server.stop().await;
    let pending = hooked.gateway.wait_for_all(2, "pending").await;
    hooked.receiver.answer(OK);
    let _restarted = hooked.gateway.serve().await;

    let delivered = hooked.gateway.wait_for_all(2, "delivered").await;
    assert_eq!(ids_of(&delivered), ids_of(&pending));
    assert_eq!(hooked.receiver.count(), 4);
}

#[tokio::test]
async fn two_dispatchers_on_one_database_never_send_a_delivery_twice() {
    // Every delivery fails once and is retried 0.1 s later, when both
    // dispatchers see it due at the same moment and race to claim it.
    const ACTIONS: usize = 50;
    let hooked = Hooked::new(&Config::fast().retries(&[0.1])).await;
    hooked.receiver.answer_per_id(&[Reply::Status(500), OK]);
    let first = hooked.gateway.serve().await;
    let second = hooked.gateway.serve().await;
    let ids = submit_many(&hooked, &first, ACTIONS).await;
    for (n, action_id) in ids.iter().enumerate() {
        let server = if n % 2 == 0 { &first } else { &second };
        server.approve(action_id).await;
    }

    let delivered = hooked.gateway.wait_for_all(ACTIONS, "delivered").await;
    let by_id = replies_by_id(&hooked.receiver.requests());
    assert_eq!(by_id.len(), ACTIONS);
    for (id, replies) in &by_id {
        assert_eq!(replies, &[Reply::Status(500), OK], "{id}");
    }
    for delivery in &delivered {
        assert_eq!(delivery["attempts"], 2, "{delivery}");
    }
}

#[tokio::test]
async fn a_one_shot_decision_with_no_server_attempts_once_and_reports_it() {
    let hooked = Hooked::new(&Config::fast()).await;
    let server = hooked.gateway.serve().await;
    let ids = submit_many(&hooked, &server, 3).await;
    server.stop().await;

    let approved = hooked.gateway.json(&["approve", &ids[0]]).await;
    assert_eq!(approved["status"], "sent");
    let webhook = &approved["webhook"];
    assert_eq!(webhook["outcome"], "delivered", "{approved}");
    assert_eq!(webhook["status_code"], 200);
    let request = hooked.receiver.wait_for(1).await.remove(0);
    assert_eq!(request.webhook_id(), webhook["delivery_id"]);
    assert_eq!(request.json()["action_id"], ids[0].as_str());

    let denied = hooked
        .gateway
        .json(&["deny", &ids[1], "--reason", "no"])
        .await;
    assert_eq!(denied["webhook"]["outcome"], "delivered", "{denied}");
    let request = hooked.receiver.wait_for(2).await.remove(1);
    assert_eq!(request.json()["error_message"], "no");

    // For people: the decision first, then what became of its webhook.
    let run = hooked.gateway.run(&["approve", &ids[2]]).await;
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("Sent "), "{run:#?}");
    assert!(lines[1].starts_with("Webhook: delivered (200"), "{run:#?}");
    assert_eq!(hooked.receiver.count(), 3);
}

#[tokio::test]
async fn a_one_shot_attempt_that_fails_is_retried_by_the_next_server() {
    let hooked = Hooked::new(&Config::fast()).await;
    hooked.receiver.answer(Reply::Status(500));
    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;
    server.stop().await;

    let approved = hooked.gateway.json(&["approve", &action_id]).await;
    let webhook = &approved["webhook"];
    assert_eq!(webhook["outcome"], "retrying", "{approved}");
    assert!(webhook["next_attempt_at"].is_string());
    let id = text(&webhook["delivery_id"]);
    let shown = hooked.gateway.delivery(&id).await;
    assert_eq!(shown["delivery"]["status"], "pending");
    assert_eq!(hooked.receiver.count(), 1);

    hooked.receiver.answer(OK);
    let _server = hooked.gateway.serve().await;
    hooked.gateway.wait_for_status(&id, "delivered").await;
    let requests = hooked.receiver.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.webhook_id() == id));
}

#[tokio::test]
async fn a_one_shot_decision_with_a_server_running_hands_off_to_it() {
    // The server looks at the database on its own only once a minute, so
    // deliveries within the deadline prove the command woke it.
    let hooked = Hooked::new(&Config::fast().idle_poll(60.0)).await;
    let server = hooked.gateway.serve().await;
    let ids = submit_many(&hooked, &server, 2).await;

    let approved = hooked.gateway.json(&["approve", &ids[0]]).await;
    let denied = hooked.gateway.json(&["deny", &ids[1]]).await;
    for decided in [&approved, &denied] {
        let webhook = &decided["webhook"];
        assert_eq!(webhook["outcome"], "handed_off", "{decided}");
        assert_eq!(webhook["dispatcher_pid"], server.pid());
        hooked
            .gateway
            .wait_for_status(&text(&webhook["delivery_id"]), "delivered")
            .await;
    }
    assert_eq!(hooked.receiver.count(), 2);
}

#[tokio::test]
async fn a_one_shot_decision_after_a_server_crashed_attempts_itself() {
    // The killed server's dispatcher row stays behind; its dead pid must
    // not be mistaken for a live dispatcher to hand off to.
    let hooked = Hooked::new(&Config::fast()).await;
    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;
    server.kill9().await;

    let approved = hooked.gateway.json(&["approve", &action_id]).await;
    assert_eq!(approved["webhook"]["outcome"], "delivered", "{approved}");
    assert_eq!(hooked.receiver.count(), 1);
}

/// The heartbeats in the database, by dispatcher id.
fn heartbeats(hooked: &Hooked) -> BTreeMap<String, String> {
    let conn = hooked.gateway.db();
    let mut statement = conn
        .prepare("SELECT id, heartbeat_at FROM dispatchers")
        .expect("prepare");
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
        .expect("read heartbeats");
    rows.map(|row| row.expect("heartbeat row")).collect()
}

/// Waits until a dispatcher not in `before` has written two heartbeats:
/// by then it has looked for dead peers at least once.
async fn wait_for_a_new_dispatcher_to_look_around(
    hooked: &Hooked,
    before: &BTreeMap<String, String>,
) {
    let (id, first) = eventually("the new dispatcher's heartbeat", || async {
        heartbeats(hooked)
            .into_iter()
            .find(|(id, _)| !before.contains_key(id))
    })
    .await;
    eventually("the new dispatcher's second heartbeat", || async {
        heartbeats(hooked)
            .get(&id)
            .is_some_and(|at| *at != first)
            .then_some(())
    })
    .await;
}

#[tokio::test]
async fn a_dispatcher_keeps_at_most_its_concurrency_in_flight() {
    // With two slots and a receiver that holds every request until the 4 s
    // timeout, a third request can only start once one of the first two has
    // timed out: arriving within 2 s of the first means the bound was not
    // kept. The other 2 s are for the first request's own way there.
    let hooked = Hooked::new(&Config::fast().retries(&[]).timeout(4.0).concurrency(2)).await;
    hooked.receiver.answer(Reply::Hang);
    let server = hooked.gateway.serve().await;
    for action_id in submit_many(&hooked, &server, 4).await {
        server.deny(&action_id, None).await;
    }

    let requests = hooked.receiver.wait_for(4).await;

    let first = requests[0].at;
    for later in &requests[2..] {
        let waited = later.at.duration_since(first);
        assert!(
            waited >= Duration::from_secs(2),
            "a third request started {waited:?} after the first, before a slot was free"
        );
    }
}

#[tokio::test]
async fn a_lease_held_by_a_vanished_holder_is_honoured_until_it_runs_out() {
    // A lease from a holder no dispatcher row accounts for (a one-shot
    // command that died, say) can only run out: nobody may send before then.
    let hooked = Hooked::new(&Config::fast()).await;
    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, RECIPIENT).await;
    hooked.receiver.answer(Reply::Status(500));
    server.deny(&action_id, None).await;
    let id = text(&hooked.gateway.delivery_of(&action_id).await["id"]);
    hooked.gateway.wait_for_status(&id, "failed").await;
    hooked.receiver.answer(OK);
    let before = hooked.receiver.count();

    let conn = hooked.gateway.db_for_writing();
    let until: String = conn
        .query_row(
            "UPDATE webhook_deliveries SET status = 'pending', max_attempts = attempts + 1, \
                 next_attempt_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now'), \
                 claimed_by = 'command_999999999', \
                 claimed_until = strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+2 seconds') \
             WHERE id = ?1 RETURNING claimed_until",
            [&id],
            |row| row.get(0),
        )
        .expect("stage a held lease");
    let delivered = hooked.gateway.wait_for_status(&id, "delivered").await;

    let attempted = text(&delivered["attempts"][before]["attempted_at"]);
    assert!(
        attempted >= until,
        "sent at {attempted}, inside the lease that ran to {until}"
    );
}

#[tokio::test]
async fn dispatchers_in_other_pid_namespaces_never_take_each_others_leases() {
    // Each server is pid 1 of its own namespace, as in two containers on one
    // volume. The second must not take the first one for a dead earlier
    // incarnation of itself and send what the first is still sending.
    // The first server's attempts hang for 15 s: time enough for the second
    // to start and look around twice however busy the machine is.
    let hooked = Hooked::new(&Config::fast().retries(&[0.1]).timeout(15.0)).await;
    hooked.receiver.answer_per_id(&[Reply::Hang, OK]);
    let Some(first) = hooked.gateway.serve_in_own_pid_namespace().await else {
        return;
    };
    for action_id in submit_many(&hooked, &first, 3).await {
        first.deny(&action_id, None).await;
    }
    hooked.receiver.wait_for(3).await;

    let before = heartbeats(&hooked);
    let Some(_second) = hooked.gateway.serve_in_own_pid_namespace().await else {
        return;
    };
    wait_for_a_new_dispatcher_to_look_around(&hooked, &before).await;
    let during = hooked.receiver.count();
    let delivered = hooked.gateway.wait_for_all(3, "delivered").await;

    assert_eq!(
        during, 3,
        "a delivery was sent again while its lease was held"
    );
    for (id, replies) in replies_by_id(&hooked.receiver.requests()) {
        assert_eq!(replies, [Reply::Hang, OK], "{id}");
    }
    for delivery in &delivered {
        assert_eq!(delivery["attempts"], 2, "{delivery}");
    }
}

#[tokio::test]
async fn a_dispatcher_whose_registration_was_cleared_registers_again() {
    // What another process does to a dispatcher that went silent for a while
    // (stopped, or its disk stalled): it forgets it. Once it speaks again it
    // must be counted as alive, or one-shot commands would stop handing
    // their webhooks to it.
    let hooked = Hooked::new(&Config::fast()).await;
    let _server = hooked.gateway.serve().await;
    let (id, _) = eventually("the dispatcher's heartbeat", || async {
        heartbeats(&hooked).into_iter().next()
    })
    .await;

    let conn = hooked.gateway.db_for_writing();
    conn.execute("DELETE FROM dispatchers", [])
        .expect("forget it");

    eventually("the dispatcher to register again", || async {
        heartbeats(&hooked).contains_key(&id).then_some(())
    })
    .await;
}
