//! Webhook benchmark: how soon an agent hears of a decision, how many
//! deliveries per second the dispatcher keeps up, and whether a receiver that
//! never answers slows the operator's approvals.
//!
//! It starts the release `contactcmd` binary on a fresh data directory with a
//! webhook receiver of its own on a loopback port, and measures three things:
//! the time from a deny to its event's arrival, one decision at a time; the
//! delivery rate when thousands of denials are committed at once; and
//! approve latency with no webhook and with a receiver that hangs.
//!
//! Run with `cargo bench --bench webhooks`; `-- --help` lists the sizes.

#[path = "../intake/cpu.rs"]
mod cpu;
mod receiver;
// Shared with the intake bench, which also uses the parts this one does not.
#[allow(dead_code)]
#[path = "../intake/server.rs"]
mod server;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;
use futures_util::stream::{self, StreamExt};
use serde_json::Value;
use tokio::time::{timeout, Instant};

use receiver::Arrivals;
use server::Server;

/// Longest the bench waits for one event before calling the run broken.
const ARRIVAL_DEADLINE: Duration = Duration::from_secs(30);

/// Measure webhook delivery latency, throughput and its effect on approvals.
#[derive(Debug, Parser)]
#[command(name = "webhooks")]
struct Args {
    /// Decisions made one at a time, each waiting for its event.
    #[arg(long, default_value_t = 1_000)]
    one_by_one: usize,

    /// Actions denied at once for the delivery-rate measurement.
    #[arg(long, default_value_t = 10_000)]
    burst: usize,

    /// Approvals timed without a webhook and again with a hanging receiver.
    #[arg(long, default_value_t = 1_000)]
    approvals: usize,

    /// Serve with this contactcmd binary instead of the one cargo built.
    #[arg(long, value_name = "PATH")]
    server_bin: Option<std::path::PathBuf>,

    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The gateway under test, seen from an agent and from the operator.
struct Gateway {
    http: reqwest::Client,
    url: String,
    key: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let data = tempfile::tempdir().context("creating a temporary data directory")?;
    let binary = args.server_bin.clone().unwrap_or_else(server::built_binary);
    let key = server::add_key(&binary, data.path())?;
    let server = Server::start(&binary, data.path())?;
    println!(
        "target: {} (data dir {})",
        server.url(),
        data.path().display()
    );

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let arrivals = Arc::new(Arrivals::default());
        let hook = format!("http://{}/hook", receiver::start(arrivals.clone()).await?);
        let gateway = Gateway {
            http: reqwest::Client::builder().no_proxy().build()?,
            url: server.url(),
            key,
        };
        set_webhook(&binary, data.path(), &gateway.key, Some(&hook))?;

        one_by_one(&gateway, &arrivals, args.one_by_one).await?;
        burst(&gateway, &arrivals, args.burst, (data.path(), server.pid())).await?;

        set_webhook(&binary, data.path(), &gateway.key, None)?;
        let without = approvals(&gateway, args.approvals).await?;
        print_latencies("approve, no webhook", &without);
        arrivals.hang(true);
        set_webhook(&binary, data.path(), &gateway.key, Some(&hook))?;
        let hanging = approvals(&gateway, args.approvals).await?;
        print_latencies("approve, receiver hangs", &hanging);
        anyhow::Ok(())
    })?;
    drop(server);
    Ok(())
}

/// Denies actions one at a time and times each event's arrival.
///
/// The commit happens between the deny request leaving and its answer
/// arriving, so the two spans printed bound commit-to-arrival from above and
/// from below.
async fn one_by_one(gateway: &Gateway, arrivals: &Arrivals, count: usize) -> anyhow::Result<()> {
    let mut from_request = Vec::with_capacity(count);
    let mut from_answer = Vec::with_capacity(count);
    for _ in 0..count {
        let id = gateway.send().await?;
        let asked = Instant::now();
        gateway.decide(&id, "deny").await?;
        let answered = Instant::now();
        let arrived = arrival_of(arrivals, &id).await?;
        from_request.push(arrived - asked);
        from_answer.push(arrived.saturating_duration_since(answered));
    }
    println!("\none decision at a time, {count} denies:");
    print_latencies("deny request sent -> event arrived", &from_request);
    print_latencies("deny answered -> event arrived", &from_answer);
    Ok(())
}

async fn arrival_of(arrivals: &Arrivals, id: &str) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + ARRIVAL_DEADLINE;
    loop {
        if let Some(at) = arrivals.of(id) {
            return Ok(at);
        }
        if Instant::now() > deadline {
            bail!("no event for action {id} within {ARRIVAL_DEADLINE:?}");
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    }
}

/// Queues `count` actions, denies them all at once, and reports how fast
/// their events arrived and how the two cores were shared meanwhile.
///
/// The denials are committed by this process through the gateway library
/// on the same database, as fast as the writer takes them, the way a bulk
/// decision in the console is: so the figure is the dispatcher's own rate,
/// not bounded by how fast HTTP deny requests can be made. The server's
/// dispatcher hears of them by its doorbell, as from a one-shot command.
async fn burst(
    gateway: &Gateway,
    arrivals: &Arrivals,
    count: usize,
    (data_dir, server_pid): (&Path, u32),
) -> anyhow::Result<()> {
    let ids = queue(gateway, count).await?;
    let deciding = in_process_gateway(data_dir)?;
    let before = arrivals.count();

    let cpu_before = (cpu::cpu_time(Some(server_pid)), cpu::cpu_time(None));
    let started = Instant::now();
    let denials = ids.iter().map(|id| deciding.deny(id, None));
    for denied in futures_util::future::join_all(denials).await {
        denied.context("denying in process")?;
    }
    let committed = started.elapsed();
    ring_doorbells(&deciding)?;

    timeout(ARRIVAL_DEADLINE, arrivals.wait_for(before + count))
        .await
        .with_context(|| format!("not every one of {count} events arrived"))?;
    let delivered = arrivals.last().context("no arrivals")? - started;
    let cpu_after = (cpu::cpu_time(Some(server_pid)), cpu::cpu_time(None));

    println!("\n{count} denies committed at once:");
    println!(
        "  committed in {:.3} s; every event arrived {:.2} s after the first commit began: \
         {:.0} deliveries/s",
        committed.as_secs_f64(),
        delivered.as_secs_f64(),
        count as f64 / delivered.as_secs_f64(),
    );
    let per_action = |before: Option<Duration>, after: Option<Duration>| {
        after.zip(before).map_or("-".into(), |(after, before)| {
            format!(
                "{:.0} µs",
                (after - before).as_secs_f64() * 1e6 / count as f64
            )
        })
    };
    println!(
        "  CPU per delivery: server {}, this bench (its commits and its receiver) {}",
        per_action(cpu_before.0, cpu_after.0),
        per_action(cpu_before.1, cpu_after.1),
    );
    Ok(())
}

/// The gateway engine over the server's database, in this process.
fn in_process_gateway(data_dir: &Path) -> anyhow::Result<contactcmd::gateway::Gateway> {
    let data = contactcmd::paths::DataDir::locate(Some(data_dir))?;
    let config = contactcmd::config::Config::load(&data.config())?;
    contactcmd::server::open_gateway(&data, &config)
}

/// Tells every live dispatcher on the database to look for deliveries now.
fn ring_doorbells(gateway: &contactcmd::gateway::Gateway) -> anyhow::Result<()> {
    for dispatcher in contactcmd::webhook::liveness::live(gateway.store(), None)? {
        if let Some(port) = dispatcher.doorbell_port {
            contactcmd::webhook::doorbell::ring(port);
        }
    }
    Ok(())
}

/// Queues `count` actions and approves them one at a time, timing each.
async fn approvals(gateway: &Gateway, count: usize) -> anyhow::Result<Vec<Duration>> {
    let ids = queue(gateway, count).await?;
    let mut latencies = Vec::with_capacity(count);
    for id in &ids {
        let asked = Instant::now();
        gateway.decide(id, "approve").await?;
        latencies.push(asked.elapsed());
    }
    Ok(latencies)
}

async fn queue(gateway: &Gateway, count: usize) -> anyhow::Result<Vec<String>> {
    stream::iter(0..count)
        .map(|_| gateway.send())
        .buffer_unordered(32)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect()
}

impl Gateway {
    /// Queues one SMS as the agent and returns its action id.
    async fn send(&self) -> anyhow::Result<String> {
        let answer: Value = self
            .http
            .post(format!("{}/gateway/send", self.url))
            .header("x-gateway-key", &self.key)
            .json(&serde_json::json!({
                "channel": "sms",
                "recipient_address": "+15550100",
                "body": "Your table for two is confirmed for 7pm tonight.",
            }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        answer["data"]["action_id"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("send answered {answer}"))
    }

    /// Approves or denies `id` as the operator.
    async fn decide(&self, id: &str, verb: &str) -> anyhow::Result<()> {
        self.http
            .post(format!("{}/gateway/queue/{id}/{verb}", self.url))
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("{verb} {id}"))?;
        Ok(())
    }
}

/// Points the key's webhook at `url`, or removes it, with the real command.
fn set_webhook(
    binary: &std::path::Path,
    data_dir: &std::path::Path,
    key: &str,
    url: Option<&str>,
) -> anyhow::Result<()> {
    let display_prefix = &key[..11];
    let mut command = std::process::Command::new(binary);
    command
        .arg("--data-dir")
        .arg(data_dir)
        .args(["gateway", "keys", "webhook", display_prefix]);
    match url {
        Some(url) => command.arg(url),
        None => command.arg("--remove"),
    };
    let output = command.output().context("running `keys webhook`")?;
    if !output.status.success() {
        bail!(
            "`keys webhook` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

fn print_latencies(what: &str, latencies: &[Duration]) {
    let mut sorted = latencies.to_vec();
    sorted.sort_unstable();
    let at = |q: f64| {
        let index = ((sorted.len() - 1) as f64 * q).round() as usize;
        sorted[index].as_secs_f64() * 1000.0
    };
    println!(
        "  {what}: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms ({} samples)",
        at(0.5),
        at(0.9),
        at(0.99),
        at(1.0),
        sorted.len()
    );
}
