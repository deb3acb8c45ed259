//! Stopping and restarting the real server.
//!
//! - SIGTERM stops accepting at once, lets the request in flight finish
//!   (an approve whose transport is still sending), and exits 0;
//! - Ctrl-C (SIGINT) does the same, with the send still running when the
//!   signal lands;
//! - a request in flight that outlasts the 4 s grace (a transport that
//!   never finishes) does not hold the server: it exits 0 in time, the
//!   transport and everything it started are killed, the action stays
//!   `approved`, and the next start marks it failed as interrupted;
//! - SIGTERM the moment the server says it listens is a clean stop too;
//! - a client stuck halfway through its headers does not keep the server
//!   from exiting;
//! - SIGTERM with a webhook attempt in flight (a receiver that hangs)
//!   releases the delivery's lease, and a restart delivers it;
//! - kill -9 at random moments (seeded from the clock, printed, and
//!   replayable with `CONTACTCMD_KILL_SEED`) of a load run of sends,
//!   approvals and denials loses no acknowledged action and no acknowledged
//!   decision: after each restart every acknowledged id is stored with the
//!   status it was acknowledged with, no action is left mid-send, and
//!   every decided action has exactly one webhook delivery.
//!
//! The promise is an exit within 5 s. The server logs how long its
//! shutdown took, from the signal to the end; the tests hold that to 5 s,
//! and the wall clock, which adds process start-up and exit on a busy
//! machine, to a generous 10 s.

mod common;
mod support;

use std::collections::HashMap;
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{command_transport, eventually, sms, Server, TestDir};
use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// The promised bound on a stop, held against the server's own measure.
const PROMISED_STOP: Duration = Duration::from_secs(5);

/// Bound on a stop by the wall clock: twice the promise.
const STOP_BOUND: Duration = Duration::from_secs(10);

/// How long the server says its shutdown took, from its `gateway stopped`
/// log line.
fn reported_shutdown(log: &str) -> Duration {
    let line = log
        .lines()
        .find(|line| line.contains("gateway stopped"))
        .unwrap_or_else(|| panic!("no `gateway stopped` line in the log:\n{log}"));
    let millis = line
        .split_whitespace()
        .find_map(|field| field.strip_prefix("shutdown_ms="))
        .and_then(|ms| ms.parse().ok())
        .unwrap_or_else(|| panic!("no shutdown_ms in {line:?}"));
    Duration::from_millis(millis)
}

/// Asserts the stop kept the promise by the server's measure, and took
/// under [`STOP_BOUND`] by the wall clock.
fn assert_stopped_in_time(what: &str, wall: Duration, log: &str) {
    let reported = reported_shutdown(log);
    println!("{what}: the server reports a {reported:?} shutdown; {wall:?} by the wall clock");
    assert!(
        reported <= PROMISED_STOP,
        "{what}: shutdown took {reported:?}"
    );
    assert!(wall < STOP_BOUND, "{what}: stopping took {wall:?}");
}

/// A transport program that keeps sending until the test creates `gate`.
fn gated_transport(gate: &Path) -> String {
    let script = format!(
        "cat >/dev/null; while [ ! -e '{}' ]; do sleep 0.05; done",
        gate.display()
    );
    command_transport("sms", &["/bin/sh", "-c", &script])
}

/// Whether a new connection to `address` is refused.
fn refuses_connections(address: SocketAddr) -> bool {
    TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_err()
}

/// Queues a message and starts approving it over HTTP; returns once its
/// transport is running, with the approval's answer still to come.
async fn approve_in_flight(
    dir: &TestDir,
    server: &Server,
) -> tokio::task::JoinHandle<common::Reply> {
    let key = dir.add_key("agent").await;
    let id = server.queue_message(&key, &sms("+15550100", "hi")).await;
    let endpoint = server.endpoint();
    let approving = tokio::spawn({
        let id = id.clone();
        async move { endpoint.approve(&id).await }
    });
    eventually("the approved message to be sending", || async {
        (dir.stored_status(&id) == "approved").then_some(())
    })
    .await;
    approving
}

#[tokio::test]
async fn sigterm_stops_accepting_lets_the_request_in_flight_finish_and_exits_0() {
    approval_in_flight_finishes_on(libc::SIGTERM, "SIGTERM").await;
}

#[tokio::test]
async fn ctrl_c_lets_an_approval_in_flight_finish_and_exits_0() {
    approval_in_flight_finishes_on(libc::SIGINT, "SIGINT").await;
}

/// Sends `signal` (called `name`) while an approval's send is held: the
/// server stops accepting at once, lets the send finish, and exits 0 in
/// time.
async fn approval_in_flight_finishes_on(signal: libc::c_int, name: &str) {
    let dir = TestDir::new();
    let gate = dir.scratch("send-may-finish");
    dir.write_config(&gated_transport(&gate));
    let mut server = dir.start_server();
    let approving = approve_in_flight(&dir, &server).await;

    let signalled = Instant::now();
    server.signal(signal);
    eventually("the server to stop accepting", || async {
        refuses_connections(server.address).then_some(())
    })
    .await;
    assert!(
        !approving.is_finished() && !server.has_exited(),
        "the approval ended before {name} closed the listener"
    );
    std::fs::write(&gate, b"").expect("open the gate");

    let reply = approving.await.expect("approval task").ok();
    assert_eq!(reply.data()["status"], "sent");
    let status = server.wait_for_exit();
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status}");
    let what = format!("{name} with an approval in flight");
    assert_stopped_in_time(&what, took, &server.stderr());
}

/// A transport that never finishes: it records its own pid and that of a
/// `sleep` it started, then waits for a gate no one opens.
fn never_finishing_transport(pids: &Path) -> String {
    let script = format!(
        "cat >/dev/null; sleep 300 & echo $! > '{pids}'; echo $$ >> '{pids}'; \
         while :; do sleep 0.05; done",
        pids = pids.display()
    );
    command_transport("sms", &["/bin/sh", "-c", &script])
}

/// Whether `pid` is a running process (not gone, not a zombie).
fn running(pid: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    let state = stat
        .rsplit(')')
        .next()
        .and_then(|rest| rest.split_whitespace().next());
    state != Some("Z")
}

#[tokio::test]
async fn a_request_outlasting_the_grace_is_cut_off_its_transport_killed_and_marked_at_restart() {
    let dir = TestDir::new();
    let pids = dir.scratch("transport-pids");
    dir.write_config(&never_finishing_transport(&pids));
    let mut server = dir.start_server();
    let approving = approve_in_flight(&dir, &server).await;
    let id = server_actions(&dir).pop().expect("the approved action");
    eventually("the transport to record its pids", || async {
        let text = std::fs::read_to_string(&pids).unwrap_or_default();
        (text.lines().count() == 2).then_some(())
    })
    .await;

    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    let status = server.wait_for_exit();
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status}");
    assert_stopped_in_time(
        "SIGTERM with a send that never ends",
        took,
        &server.stderr(),
    );
    assert!(
        server
            .stderr()
            .contains("requests still running at shutdown were cut off"),
        "{}",
        server.stderr()
    );
    approving.abort();
    let _ = approving.await;

    let left: Vec<String> = std::fs::read_to_string(&pids)
        .expect("read pids")
        .lines()
        .map(str::to_string)
        .collect();
    eventually("the transport and what it started to be gone", || async {
        left.iter().all(|pid| !running(pid)).then_some(())
    })
    .await;
    assert_eq!(dir.stored_status(&id), "approved");

    let restarted = dir.start_server();
    assert_eq!(dir.stored_status(&id), "failed");
    let error: String = dir
        .db()
        .query_row(
            "SELECT error_message FROM actions WHERE id = ?1",
            [&id],
            |row| row.get(0),
        )
        .expect("read the error");
    assert!(error.contains("interrupted"), "{error}");
    assert!(restarted.stop().success());
}

/// Every action's id, oldest first.
fn server_actions(dir: &TestDir) -> Vec<String> {
    let conn = dir.db();
    let mut statement = conn
        .prepare("SELECT id FROM actions ORDER BY id")
        .expect("prepare");
    let ids = statement.query_map([], |row| row.get(0)).expect("query");
    ids.map(|id| id.expect("id")).collect()
}

#[tokio::test]
async fn sigterm_on_an_idle_server_exits_0_at_once() {
    let dir = TestDir::new();
    let mut server = dir.start_server();
    server.health().await.ok();

    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    let status = server.wait_for_exit();
    let took = signalled.elapsed();

    assert!(status.success(), "exit status {status}");
    assert_stopped_in_time("SIGTERM on an idle server", took, &server.stderr());
}

#[tokio::test]
async fn a_client_stuck_in_its_headers_does_not_keep_the_server_from_exiting() {
    let dir = TestDir::new();
    let mut server = dir.start_server();
    let mut stuck = tokio::net::TcpStream::connect(server.address)
        .await
        .expect("connect");
    stuck
        .write_all(b"POST /gateway/send HTTP/1.1\r\nHost: gateway\r\nX-Half: ")
        .await
        .expect("write half the headers");
    server.health().await.ok();

    let signalled = Instant::now();
    server.signal(libc::SIGTERM);
    let status = server.wait_for_exit();
    let took = signalled.elapsed();

    assert!(status.success(), "exit status {status}");
    let log = server.stderr();
    assert_stopped_in_time("SIGTERM with a client stuck mid-headers", took, &log);
}

#[tokio::test]
async fn sigterm_releases_the_lease_of_a_delivery_in_flight_and_a_restart_delivers_it() {
    use support::receiver::{Reply, OK};

    // Receivers get 30 s, so the attempt is still waiting when the server
    // is told to stop: only the stop can hand its lease back.
    let config = support::Config::fast().timeout(30.0);
    let hooked = support::Hooked::new(&config).await;
    hooked.receiver.answer(Reply::Hang);
    let server = hooked.gateway.serve().await;
    let action_id = server.submit(&hooked.key, "+15550100").await;
    server.deny(&action_id, None).await;
    let first = hooked.receiver.wait_for(1).await;

    let log_path = server.log_path().to_path_buf();
    let signalled = Instant::now();
    server.stop().await;
    let took = signalled.elapsed();
    let log = std::fs::read_to_string(&log_path).expect("read the server's log");
    assert_stopped_in_time("SIGTERM with a webhook attempt hanging", took, &log);

    let database = hooked.gateway.path().join("gateway.db");
    let (status, claimed_by) = delivery_lease(&database);
    assert_eq!(status, "pending");
    assert_eq!(
        claimed_by, None,
        "the stopped server kept the delivery's lease"
    );

    hooked.receiver.answer(OK);
    let _restarted = hooked.gateway.serve().await;
    let all = hooked.receiver.wait_for(2).await;
    assert_eq!(all[1].webhook_id(), first[0].webhook_id());
    hooked.gateway.wait_for_all(1, "delivered").await;
}

/// The one delivery's status and lease holder.
fn delivery_lease(database: &Path) -> (String, Option<String>) {
    let conn = rusqlite::Connection::open(database).expect("open database");
    conn.query_row(
        "SELECT status, claimed_by FROM webhook_deliveries",
        [],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )
    .expect("read the delivery")
}

/// Environment variable that replays a run's kill moments by its seed.
const KILL_SEED_ENV: &str = "CONTACTCMD_KILL_SEED";

/// The seed of the kill moments: from the environment to replay a run,
/// else from the clock, so each run explores other moments.
fn kill_seed() -> u64 {
    if let Ok(seed) = std::env::var(KILL_SEED_ENV) {
        return seed
            .parse()
            .unwrap_or_else(|_| panic!("{KILL_SEED_ENV}={seed:?} is not a number"));
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    now.map_or(0, |since| since.as_nanos() as u64)
}
/// Load runs, each ended by kill -9.
const ROUNDS: usize = 5;
/// Agents sending at once during a load run.
const AGENTS: usize = 6;
/// Operators approving or denying at once during a load run.
const DECIDERS: usize = 2;
/// Bound on what one agent or decider does in a round, whatever happens.
const MAX_REQUESTS_PER_TASK: usize = 2_000;

/// A small seeded generator (SplitMix64), so a failing round can be
/// replayed with the same kill moments.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `low..high`.
    fn between(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low)
    }
}

/// What the server acknowledged with a 200 during one load run.
#[derive(Default)]
struct Ledger {
    /// Action ids whose send was answered 200.
    sent: Vec<String>,
    /// Action id and the status a 200 approval or denial reported.
    decided: Vec<(String, String)>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_at_random_moments_of_a_load_run_loses_no_acknowledged_action_or_decision() {
    let dir = TestDir::new();
    // Sends take a moment, so some kills land while a message is sending.
    dir.write_config(&command_transport(
        "sms",
        &["/bin/sh", "-c", "cat >/dev/null; sleep 0.1"],
    ));
    let key = dir.add_key_json("agent").await;
    let receiver = support::receiver::Receiver::start();
    let key_id = key["id"].as_str().expect("key id");
    dir.gateway(&["keys", "webhook", key_id, &receiver.url()])
        .await
        .success();
    let key = key["key_plaintext"].as_str().expect("key").to_string();
    let seed = kill_seed();
    println!("kill moments seeded with {seed}; replay with {KILL_SEED_ENV}={seed}");
    let mut moments = Seeded(seed);
    let mut all = Ledger::default();

    for round in 1..=ROUNDS {
        let server = dir.start_server();
        check_against_database(&dir, &all, &format!("before round {round}"));
        assert_one_delivery_per_decision(&dir, &format!("before round {round}"));
        let kill_after = Duration::from_millis(moments.between(300, 2_000));
        let ledger = load_until_killed(server, &key, kill_after, moments.next()).await;
        println!(
            "round {round}: killed after {kill_after:?}; acknowledged {} sends and {} decisions",
            ledger.sent.len(),
            ledger.decided.len()
        );
        all.sent.extend(ledger.sent);
        all.decided.extend(ledger.decided);
    }

    let server = dir.start_server();
    let counts = check_against_database(&dir, &all, "after the last restart");
    assert_one_delivery_per_decision(&dir, "after the last restart");
    println!("kill -9 over {ROUNDS} rounds: {counts}");
    assert!(server.stop().success());
}

/// Runs agents and deciders against `server`, kills it with SIGKILL after
/// `kill_after`, and returns what was acknowledged before that.
async fn load_until_killed(server: Server, key: &str, kill_after: Duration, seed: u64) -> Ledger {
    let ledger = Arc::new(Mutex::new(Ledger::default()));
    let http = common::http_client();
    let (queued, to_decide) = mpsc::unbounded_channel();
    let to_decide = Arc::new(tokio::sync::Mutex::new(to_decide));
    let mut load = JoinSet::new();
    for _ in 0..AGENTS {
        let agent = Agent {
            http: http.clone(),
            base: server.url(""),
            key: key.to_string(),
        };
        load.spawn(agent.run(ledger.clone(), queued.clone()));
    }
    drop(queued);
    for n in 0..DECIDERS {
        let decider = Decider {
            http: http.clone(),
            base: server.url(""),
            choices: Seeded(seed.wrapping_add(n as u64)),
        };
        load.spawn(decider.run(ledger.clone(), to_decide.clone()));
    }

    tokio::time::sleep(kill_after).await;
    server.kill9();
    tokio::time::timeout(common::DEADLINE, load.join_all())
        .await
        .expect("the load stops once the server is gone");
    let mut ledger = ledger.lock().unwrap_or_else(|p| p.into_inner());
    std::mem::take(&mut *ledger)
}

/// An agent that sends until the server stops answering.
struct Agent {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Agent {
    async fn run(self, ledger: Arc<Mutex<Ledger>>, queued: mpsc::UnboundedSender<String>) {
        for n in 0..MAX_REQUESTS_PER_TASK {
            let request = self
                .http
                .post(format!("{}/gateway/send", self.base))
                .header("X-Gateway-Key", &self.key)
                .json(&sms("+15550100", &format!("message {n}")));
            let Some((200, body)) = answer(request).await else {
                return;
            };
            let id = body["data"]["action_id"].as_str().expect("action_id");
            lock(&ledger).sent.push(id.to_string());
            let _ = queued.send(id.to_string());
        }
    }
}

/// An operator that approves or denies what agents queued, at random,
/// until the server stops answering.
struct Decider {
    http: reqwest::Client,
    base: String,
    choices: Seeded,
}

impl Decider {
    async fn run(
        mut self,
        ledger: Arc<Mutex<Ledger>>,
        queued: Arc<tokio::sync::Mutex<mpsc::UnboundedReceiver<String>>>,
    ) {
        for _ in 0..MAX_REQUESTS_PER_TASK {
            let Some(id) = queued.lock().await.recv().await else {
                return;
            };
            let verb = if self.choices.next().is_multiple_of(2) {
                "approve"
            } else {
                "deny"
            };
            let url = format!("{}/gateway/queue/{id}/{verb}", self.base);
            match answer(self.http.post(url)).await {
                Some((200, body)) => {
                    let status = body["data"]["status"].as_str().expect("status");
                    lock(&ledger).decided.push((id, status.to_string()));
                }
                Some(_) => {}
                None => return,
            }
        }
    }
}

/// The status and JSON body, or `None` if the server did not answer (it
/// was killed).
async fn answer(request: reqwest::RequestBuilder) -> Option<(u16, Value)> {
    let response = request.send().await.ok()?;
    let status = response.status().as_u16();
    let body = response.json().await.ok()?;
    Some((status, body))
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Asserts every acknowledged send is stored, every acknowledged decision
/// has its status, and nothing is left mid-send; returns the counts.
fn check_against_database(dir: &TestDir, ledger: &Ledger, when: &str) -> String {
    let stored = stored_actions(dir);
    let missing: Vec<&String> = ledger
        .sent
        .iter()
        .filter(|id| !stored.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "{when}: acknowledged but not stored: {missing:?}"
    );
    for (id, status) in &ledger.decided {
        let (stored_status, _) = &stored[id];
        assert_eq!(stored_status, status, "{when}: action {id}");
    }
    let sending: Vec<&String> = stored
        .iter()
        .filter(|(_, (status, _))| status == "approved")
        .map(|(id, _)| id)
        .collect();
    assert!(sending.is_empty(), "{when}: left mid-send: {sending:?}");

    let interrupted = stored
        .values()
        .filter(|(_, error)| error.as_deref().is_some_and(|e| e.contains("interrupted")))
        .count();
    format!(
        "{} acknowledged sends, {} rows stored ({} stored without an acknowledgement), \
         {} acknowledged decisions all with their status, {interrupted} interrupted sends \
         marked failed",
        ledger.sent.len(),
        stored.len(),
        stored.len() - ledger.sent.len(),
        ledger.decided.len()
    )
}

/// Asserts every decided action (sent, denied or failed) has exactly one
/// webhook delivery, and no undecided one has any.
fn assert_one_delivery_per_decision(dir: &TestDir, when: &str) {
    let conn = dir.db();
    let mut statement = conn
        .prepare(
            "SELECT a.id, a.status, count(d.id) FROM actions a \
             LEFT JOIN webhook_deliveries d ON d.action_id = a.id \
             GROUP BY a.id \
             HAVING count(d.id) != (a.status IN ('sent', 'denied', 'failed'))",
        )
        .expect("prepare");
    let wrong = statement.query_map([], |row| {
        Ok(format!(
            "{} {}: {} deliveries",
            row.get::<_, String>(0)?,
            row.get::<_, String>(1)?,
            row.get::<_, i64>(2)?
        ))
    });
    let wrong: Vec<String> = wrong.expect("query").map(|row| row.expect("row")).collect();
    assert!(wrong.is_empty(), "{when}: {wrong:#?}");
}

/// Every action's status and error message, by id.
fn stored_actions(dir: &TestDir) -> HashMap<String, (String, Option<String>)> {
    let conn = dir.db();
    let mut statement = conn
        .prepare("SELECT id, status, error_message FROM actions")
        .expect("prepare");
    let rows = statement
        .query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))
        .expect("query actions");
    rows.map(|row| row.expect("read action")).collect()
}

#[tokio::test]
async fn sigterm_right_after_startup_is_a_clean_stop() {
    // A supervisor may stop a service the moment it reports it is up; the
    // signal must find the handler already installed, every time.
    let dir = TestDir::new();
    for _ in 0..10 {
        let server = dir.start_server();
        let status = server.stop();
        assert!(
            status.success(),
            "exit status {status} for a SIGTERM just after startup"
        );
    }
}
