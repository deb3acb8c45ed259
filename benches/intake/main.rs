//! Load generator for `POST /gateway/send`.
//!
//! By default it builds nothing itself: it starts the release `contactcmd`
//! binary on a fresh data directory, creates a key, drives sends over
//! keep-alive HTTP/1.1 connections and prints accepted/s and latencies.
//! `--prefill N` stores N actions first (straight through SQLite), `--url`
//! and `--key` aim it at a gateway already running on this machine, and
//! `--kill-after S` kill -9s the server mid-load and checks that every
//! acknowledged action is in the database.
//!
//! Run with `cargo bench --bench intake -- --help`.

mod cpu;
mod durability;
mod load;
mod prefill;
mod report;
mod server;

use std::time::Duration;

use anyhow::{bail, Context};
use clap::Parser;

use load::{Kill, Plan, Target};
use server::Server;

/// Drive POST /gateway/send and report throughput and latency.
#[derive(Debug, Parser)]
#[command(name = "intake")]
struct Args {
    /// Connections, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,

    /// Seconds measured, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    secs: f64,

    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,

    /// Stop measuring after this many requests even if time remains.
    #[arg(long, default_value_t = 2_000_000)]
    max_requests: u64,

    /// Store this many actions before starting the server.
    #[arg(long, default_value_t = 0)]
    prefill: u64,

    /// Measure this many times over (each after its own warm-up) and also
    /// print the median of the runs.
    #[arg(long, default_value_t = 1, conflicts_with = "kill_after")]
    repeat: usize,

    /// Threads the load generator's own runtime uses.
    #[arg(long, default_value_t = 1)]
    client_threads: usize,

    /// A gateway already running on this machine, e.g. http://127.0.0.1:9810.
    #[arg(long, env = "INTAKE_URL", requires = "key", conflicts_with = "prefill")]
    url: Option<String>,

    /// The API key to use with --url.
    #[arg(long, env = "INTAKE_KEY", requires = "url")]
    key: Option<String>,

    /// Serve with this contactcmd binary instead of the one cargo built, to
    /// compare two builds.
    #[arg(long, value_name = "PATH", conflicts_with = "url")]
    server_bin: Option<std::path::PathBuf>,

    /// Kill -9 the server this many seconds into the measurement, then check
    /// that every acknowledged action was committed.
    #[arg(long, conflicts_with = "url")]
    kill_after: Option<f64>,

    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.concurrency == 0 || args.client_threads == 0 || args.repeat == 0 {
        bail!("--concurrency, --client-threads and --repeat must be at least 1");
    }
    match &args.url {
        Some(url) => against_running(&args, url),
        None => against_own_server(&args),
    }
}

fn against_running(args: &Args, url: &str) -> anyhow::Result<()> {
    let key = args.key.clone().context("--key is required with --url")?;
    let target = Target::from_url(url, key)?;
    println!("target: {url} (already running)");
    measure(args, &target, None)
}

fn against_own_server(args: &Args) -> anyhow::Result<()> {
    let data = tempfile::tempdir().context("creating a temporary data directory")?;
    let binary = args.server_bin.clone().unwrap_or_else(server::built_binary);
    let key = server::add_key(&binary, data.path())?;
    if args.prefill > 0 {
        prefill::run(&data.path().join("gateway.db"), args.prefill)?;
    }
    let server = Server::start(&binary, data.path())?;
    println!(
        "target: {} (data dir {})",
        server.url(),
        data.path().display()
    );

    let target = Target::new(server.addr(), key)?;
    match args.kill_after {
        Some(secs) => kill_mid_load(args, target, server, secs, data.path()),
        None => measure(args, &target, Some(server.pid())),
    }
}

/// Runs the load `--repeat` times and reports each run, then the median.
fn measure(args: &Args, target: &Target, server_pid: Option<u32>) -> anyhow::Result<()> {
    let runtime = runtime(args)?;
    let mut summaries = Vec::new();
    for run in 1..=args.repeat {
        let load = load::run(target.clone(), plan(args), server_pid, None);
        let results = runtime.block_on(load)?;
        if args.repeat > 1 {
            println!("run {run} of {}:", args.repeat);
        }
        report::print(&results);
        summaries.push(report::Summary::of(&results));
    }
    if args.repeat > 1 {
        report::print_median(&summaries);
    }
    Ok(())
}

/// Kills the server during the load, then checks every acknowledged action
/// is in the database.
fn kill_mid_load(
    args: &Args,
    target: Target,
    server: Server,
    secs: f64,
    data_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let mut plan = plan(args);
    plan.keep_ids = true;
    let kill = Kill {
        pid: server.pid(),
        after: plan.warmup + secs_arg(secs),
    };
    let load = load::run(target, plan, Some(server.pid()), Some(kill));
    let results = runtime(args)?.block_on(load)?;
    report::print(&results);

    drop(server);
    durability::check(&data_dir.join("gateway.db"), &results.ids, args.prefill)
}

fn plan(args: &Args) -> Plan {
    Plan {
        concurrency: args.concurrency,
        warmup: secs_arg(args.warmup),
        measure: secs_arg(args.secs),
        max_requests: args.max_requests,
        keep_ids: false,
    }
}

fn secs_arg(secs: f64) -> Duration {
    Duration::from_secs_f64(secs.clamp(0.0, 3_600.0))
}

fn runtime(args: &Args) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = match args.client_threads {
        1 => tokio::runtime::Builder::new_current_thread(),
        n => {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(n);
            builder
        }
    };
    Ok(builder.enable_all().build()?)
}
