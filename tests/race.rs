//! Many operators deciding one action at once, through the
//! HTTP admin API and `gateway approve/deny` processes together. Exactly one
//! decision wins, every other one is told the action was already decided,
//! and the message is sent at most once. The SMS transport is a command that
//! appends a line per send to a file, which counts the sends.

mod common;

use std::path::{Path, PathBuf};

use common::{eventually, run_contactcmd, sms, Endpoint, HeldSends, Server, TestDir};
use tokio::task::JoinSet;

/// Deciders going through the HTTP admin API.
const OVER_HTTP: usize = 24;
/// Deciders running `contactcmd gateway approve|deny` as processes.
const ON_THE_CLI: usize = 12;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Decision {
    Approve,
    Deny,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Way {
    Http,
    Cli,
}

/// What one decider was told.
#[derive(Debug, PartialEq)]
enum Verdict {
    Won(Decision),
    /// Refused; carries the status the action was said to have.
    AlreadyDecided(String),
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_approvals_over_http_and_the_cli_send_exactly_once() {
    let gateway = CountingGateway::start().await;
    gateway.held.release();
    let id = gateway.queue_one().await;

    let verdicts = gateway.race(&id, |_| Decision::Approve).await;

    assert_one_winner(&verdicts);
    assert_eq!(gateway.status_of(&id).await, "sent");
    assert_eq!(
        gateway.held.started(),
        [id],
        "the message was not sent exactly once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_approvals_and_denials_decide_exactly_once() {
    let gateway = CountingGateway::start().await;
    gateway.held.release();
    let id = gateway.queue_one().await;
    let alternate = |i: usize| [Decision::Approve, Decision::Deny][i % 2];

    let verdicts = gateway.race(&id, alternate).await;

    match assert_one_winner(&verdicts) {
        Decision::Approve => {
            assert_eq!(gateway.status_of(&id).await, "sent");
            assert_eq!(gateway.held.started(), [id]);
        }
        Decision::Deny => {
            assert_eq!(gateway.status_of(&id).await, "denied");
            assert!(
                gateway.held.started().is_empty(),
                "a denied message was sent"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_during_a_send_started_over_http_are_refused() {
    approvals_during_a_held_send_are_refused(Way::Http).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approvals_during_a_send_started_on_the_cli_are_refused() {
    approvals_during_a_held_send_are_refused(Way::Cli).await;
}

/// The transport holds the first approval's send open until the test lets
/// it finish; every approval that arrives meanwhile, by either way, must be
/// refused as already approved and must not send again.
async fn approvals_during_a_held_send_are_refused(first: Way) {
    let gateway = CountingGateway::start().await;
    let id = gateway.queue_one().await;
    let winner = tokio::spawn(gateway.decider(first, id.clone(), Decision::Approve));
    eventually("the first approval's send to start", || async {
        (gateway.held.started().len() == 1).then_some(())
    })
    .await;

    // A wrongly started second send would wait on the release too, so watch
    // for one rather than wait for deciders that cannot finish.
    let verdicts = tokio::select! {
        verdicts = gateway.race(&id, |_| Decision::Approve) => verdicts,
        () = gateway.second_send() => panic!("a second send started: {:?}", gateway.held.started()),
    };
    gateway.held.release();
    let first_verdict = winner.await.expect("first approval");

    assert_eq!(first_verdict, Verdict::Won(Decision::Approve));
    let during: Vec<&Verdict> = verdicts
        .iter()
        .filter(|v| **v != Verdict::AlreadyDecided("approved".into()))
        .collect();
    assert!(
        during.is_empty(),
        "not refused as already approved: {during:?}"
    );
    assert_eq!(gateway.status_of(&id).await, "sent");
    assert_eq!(gateway.held.started(), [id]);
}

/// A gateway with one key whose SMS transport notes each send and holds it
/// until the test releases sends.
struct CountingGateway {
    // Declared before `dir` so the server stops before its files go.
    server: Server,
    dir: TestDir,
    held: HeldSends,
    key: String,
}

impl CountingGateway {
    async fn start() -> CountingGateway {
        let dir = TestDir::new();
        let held = HeldSends::configure(&dir, "sms");
        let key = dir.add_key("bot").await;
        let server = dir.start_server();
        CountingGateway {
            dir,
            server,
            held,
            key,
        }
    }

    async fn queue_one(&self) -> String {
        let message = sms("+15550100", "Once only");
        self.server.queue_message(&self.key, &message).await
    }

    /// Completes once the transport has been started a second time.
    async fn second_send(&self) {
        while self.held.started().len() < 2 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    async fn status_of(&self, id: &str) -> String {
        let reply = self.server.poll(&self.key, id).await.ok();
        reply.data()["status"].as_str().expect("status").to_string()
    }

    /// Starts all deciders at once, CLI processes first since they take
    /// longer to reach the database; `decision(i)` says what decider `i`
    /// does.
    async fn race(&self, id: &str, decision: impl Fn(usize) -> Decision) -> Vec<Verdict> {
        let mut deciders = JoinSet::new();
        for i in 0..ON_THE_CLI + OVER_HTTP {
            let way = if i < ON_THE_CLI { Way::Cli } else { Way::Http };
            deciders.spawn(self.decider(way, id.to_string(), decision(i)));
        }
        let verdicts = deciders.join_all().await;
        assert_eq!(verdicts.len(), OVER_HTTP + ON_THE_CLI);
        verdicts
    }

    /// A future that makes one decision by `way` and reports its verdict.
    fn decider(
        &self,
        way: Way,
        id: String,
        decision: Decision,
    ) -> impl std::future::Future<Output = Verdict> + Send + 'static {
        let api = self.server.endpoint();
        let data_dir = self.dir.data_dir().to_path_buf();
        async move {
            match way {
                Way::Http => decide_over_http(api, id, decision).await,
                Way::Cli => decide_on_the_cli(data_dir, id, decision).await,
            }
        }
    }
}

impl Drop for CountingGateway {
    /// Lets any send still held finish, so a failed test leaves no
    /// transport waiting out its bound.
    fn drop(&mut self) {
        self.held.release();
    }
}

async fn decide_over_http(api: Endpoint, id: String, decision: Decision) -> Verdict {
    let reply = match decision {
        Decision::Approve => api.approve(&id).await,
        Decision::Deny => api.deny(&id, Some("no")).await,
    };
    if reply.status == 409 {
        let reply = reply.rejected(409, "already_decided", &["already"]);
        return Verdict::AlreadyDecided(reply.body["status"].as_str().expect("status").into());
    }
    let expected = match decision {
        Decision::Approve => "sent",
        Decision::Deny => "denied",
    };
    assert_eq!(reply.ok().data()["status"], expected);
    Verdict::Won(decision)
}

async fn decide_on_the_cli(data_dir: PathBuf, id: String, decision: Decision) -> Verdict {
    let args: &[&str] = match decision {
        Decision::Approve => &["gateway", "approve", &id, "--json"],
        Decision::Deny => &["gateway", "deny", &id, "--reason", "no", "--json"],
    };
    let run = run_contactcmd(Path::new(&data_dir), args).await;
    if run.code == 2 {
        return Verdict::AlreadyDecided(status_in_refusal(&run.stderr, &id));
    }
    run.success();
    Verdict::Won(decision)
}

/// The status named in the CLI's "action ID is already STATUS" error.
fn status_in_refusal(stderr: &str, id: &str) -> String {
    let marker = format!("action {id} is already ");
    let rest = stderr
        .split_once(&marker)
        .unwrap_or_else(|| panic!("exit 2 without an already-decided error: {stderr}"))
        .1;
    rest.split(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or_default()
        .to_string()
}

/// Asserts exactly one decider won and all others were refused; returns
/// what the winner decided.
fn assert_one_winner(verdicts: &[Verdict]) -> Decision {
    let winners: Vec<Decision> = verdicts
        .iter()
        .filter_map(|verdict| match verdict {
            Verdict::Won(decision) => Some(*decision),
            Verdict::AlreadyDecided(_) => None,
        })
        .collect();
    assert_eq!(winners.len(), 1, "not exactly one winner: {verdicts:?}");
    winners[0]
}
