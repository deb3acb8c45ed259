//! The load: connections that each keep one `POST /gateway/send` in flight,
//! timed from just before the request is written to the last body byte.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::header::{HeaderValue, CONTENT_TYPE, HOST};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::{sleep_until, timeout, Instant};

use crate::cpu::cpu_time;

/// A request still unanswered after this long counts as an error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Pause before reconnecting after a connection fails.
const RECONNECT_PAUSE: Duration = Duration::from_millis(50);

/// Messages sent in turn: the three channels, with and without the optional
/// fields, at sizes an agent might really send.
const BODIES: [&str; 3] = [
    r#"{"channel":"sms","recipient_address":"+15550100","body":"Your table for two is confirmed for 7pm tonight. Reply if plans change.","priority":"normal","context":{"task":"reservation","step":3}}"#,
    r#"{"channel":"email","recipient_address":"alex@example.com","recipient_name":"Alex Doe","subject":"Notes from Tuesday","body":"Hi Alex,\n\nAttached are the notes from Tuesday's call. The next review is on the 14th; let me know if that still works.\n\nBest,\nSam's assistant","priority":"high"}"#,
    r#"{"channel":"imessage","recipient_address":"+1 (555) 010-0199","body":"Running ten minutes late, sorry!"}"#,
];

/// Where the load goes.
#[derive(Clone)]
pub struct Target {
    addr: SocketAddr,
    host: HeaderValue,
    key: HeaderValue,
}

impl Target {
    pub fn new(addr: SocketAddr, key: String) -> anyhow::Result<Target> {
        Ok(Target {
            addr,
            host: HeaderValue::from_str(&addr.to_string())?,
            key: HeaderValue::from_str(&key).context("the key is not a valid header value")?,
        })
    }

    /// A running gateway at `url`, which must be on this machine.
    pub fn from_url(url: &str, key: String) -> anyhow::Result<Target> {
        let url = url::Url::parse(url).with_context(|| format!("bad --url {url:?}"))?;
        if url.scheme() != "http" {
            bail!("--url must be http://, the gateway serves plain HTTP");
        }
        let host = url.host_str().context("--url has no host")?;
        let port = url.port_or_known_default().unwrap_or(80);
        let addr = (host, port)
            .to_socket_addrs()?
            .next()
            .context("--url host does not resolve")?;
        if !is_loopback(addr.ip()) {
            bail!("--url must be a loopback address: this tool only loads this machine");
        }
        Target::new(addr, key)
    }

    fn request(&self, body: Bytes) -> anyhow::Result<Request<Full<Bytes>>> {
        Ok(Request::builder()
            .method(Method::POST)
            .uri("/gateway/send")
            .header(HOST, self.host.clone())
            .header(CONTENT_TYPE, "application/json")
            .header("x-gateway-key", self.key.clone())
            .body(Full::new(body))?)
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// How much load, for how long.
#[derive(Clone, Debug)]
pub struct Plan {
    pub concurrency: usize,
    pub warmup: Duration,
    pub measure: Duration,
    pub max_requests: u64,
    /// Keep every acknowledged action id (for the durability check).
    pub keep_ids: bool,
}

/// Kill -9 this process this long after the load starts.
#[derive(Clone, Copy, Debug)]
pub struct Kill {
    pub pid: u32,
    pub after: Duration,
}

/// What the load measured, merged over all connections.
#[derive(Debug, Default)]
pub struct Results {
    /// Latency of every accepted send in the window, in µs, sorted.
    pub latencies_us: Vec<u32>,
    /// Answers other than 200 in the window, by status code.
    pub rejected: BTreeMap<u16, u64>,
    /// Connection failures and timeouts, at any time.
    pub io_errors: u64,
    /// From the first measured request to the last measured answer.
    pub window: Duration,
    /// Every action id answered with 200, warm-up included, if kept.
    pub ids: Vec<String>,
    pub concurrency: usize,
    /// CPU time over the window: the load generator's, then the server's.
    pub cpu: Option<(Duration, Option<Duration>)>,
}

/// State every connection shares.
struct Shared {
    target: Target,
    plan: Plan,
    bodies: Vec<Bytes>,
    measure_from: Instant,
    end: Instant,
    measured: AtomicU64,
    killed: AtomicBool,
}

impl Shared {
    fn should_stop(&self, now: Instant) -> bool {
        now >= self.end || self.measured.load(Ordering::Relaxed) >= self.plan.max_requests
    }
}

/// Runs the plan against `target` and gathers the results.
pub async fn run(
    target: Target,
    plan: Plan,
    server_pid: Option<u32>,
    kill: Option<Kill>,
) -> anyhow::Result<Results> {
    let start = Instant::now();
    let shared = Arc::new(Shared {
        target,
        bodies: BODIES
            .iter()
            .map(|b| Bytes::from_static(b.as_bytes()))
            .collect(),
        measure_from: start + plan.warmup,
        end: start + plan.warmup + plan.measure,
        measured: AtomicU64::new(0),
        killed: AtomicBool::new(false),
        plan,
    });
    let cpu_before = tokio::spawn(sample_cpu_at(shared.measure_from, server_pid));
    if let Some(kill) = kill {
        tokio::spawn(kill_at(shared.clone(), start + kill.after, kill.pid));
    }

    let workers: Vec<_> = (0..shared.plan.concurrency)
        .map(|index| tokio::spawn(connection(shared.clone(), index)))
        .collect();
    let mut results = Results {
        concurrency: shared.plan.concurrency,
        ..Results::default()
    };
    for worker in workers {
        results.merge(worker.await?, shared.measure_from);
    }

    results.cpu = cpu_window(cpu_before, server_pid).await;
    results.latencies_us.sort_unstable();
    Ok(results)
}

async fn sample_cpu_at(at: Instant, pid: Option<u32>) -> Option<(Duration, Option<Duration>)> {
    sleep_until(at).await;
    Some((cpu_time(None)?, pid.and_then(|pid| cpu_time(Some(pid)))))
}

/// CPU used since the window opened, if it did open.
async fn cpu_window(
    before: tokio::task::JoinHandle<Option<(Duration, Option<Duration>)>>,
    pid: Option<u32>,
) -> Option<(Duration, Option<Duration>)> {
    if !before.is_finished() {
        before.abort();
        return None;
    }
    let (own, server) = before.await.ok()??;
    let own = cpu_time(None)?.checked_sub(own)?;
    let server = server.zip(pid.and_then(|pid| cpu_time(Some(pid))));
    Some((own, server.and_then(|(then, now)| now.checked_sub(then))))
}

async fn kill_at(shared: Arc<Shared>, at: Instant, pid: u32) {
    sleep_until(at).await;
    shared.killed.store(true, Ordering::SeqCst);
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return;
    };
    // SAFETY: sends SIGKILL to the server process this tool started.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    println!("kill -9 sent to the server (pid {pid})");
}

/// One connection's tally.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u32>,
    rejected: BTreeMap<u16, u64>,
    io_errors: u64,
    ids: Vec<String>,
    last_answer: Option<Instant>,
}

impl Results {
    fn merge(&mut self, tally: Tally, measure_from: Instant) {
        self.latencies_us.extend(tally.latencies_us);
        for (status, count) in tally.rejected {
            *self.rejected.entry(status).or_default() += count;
        }
        self.io_errors += tally.io_errors;
        self.ids.extend(tally.ids);
        if let Some(last) = tally.last_answer {
            self.window = self
                .window
                .max(last.saturating_duration_since(measure_from));
        }
    }
}

/// Keeps one connection busy until the plan ends, reconnecting on failure.
async fn connection(shared: Arc<Shared>, index: usize) -> Tally {
    let mut tally = Tally::default();
    while !shared.should_stop(Instant::now()) {
        if drive(&shared, index, &mut tally).await.is_ok() {
            break;
        }
        tally.io_errors += 1;
        if shared.killed.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(RECONNECT_PAUSE).await;
    }
    tally
}

/// Sends requests one after another on a fresh keep-alive connection.
async fn drive(shared: &Shared, index: usize, tally: &mut Tally) -> anyhow::Result<()> {
    let stream = TcpStream::connect(shared.target.addr).await?;
    stream.set_nodelay(true)?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);

    for turn in index.. {
        let started = Instant::now();
        if shared.should_stop(started) {
            break;
        }
        let body = shared.bodies[turn % shared.bodies.len()].clone();
        let request = shared.target.request(body)?;
        let response = timeout(REQUEST_TIMEOUT, sender.send_request(request)).await??;
        let status = response.status();
        let bytes = timeout(REQUEST_TIMEOUT, response.into_body().collect())
            .await??
            .to_bytes();
        tally.record(shared, started, status, &bytes)?;
    }
    Ok(())
}

impl Tally {
    fn record(
        &mut self,
        shared: &Shared,
        started: Instant,
        status: StatusCode,
        body: &[u8],
    ) -> anyhow::Result<()> {
        let now = Instant::now();
        if status == StatusCode::OK && shared.plan.keep_ids {
            self.ids.push(action_id(body)?);
        }
        if started < shared.measure_from {
            return Ok(());
        }
        shared.measured.fetch_add(1, Ordering::Relaxed);
        self.last_answer = Some(now);
        if status == StatusCode::OK {
            let micros = (now - started).as_micros();
            self.latencies_us
                .push(u32::try_from(micros).unwrap_or(u32::MAX));
        } else {
            *self.rejected.entry(status.as_u16()).or_default() += 1;
        }
        Ok(())
    }
}

/// The `action_id` in an accepted send's answer.
fn action_id(body: &[u8]) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        data: Accepted,
    }
    #[derive(serde::Deserialize)]
    struct Accepted {
        action_id: String,
    }
    let answer: Answer = serde_json::from_slice(body).context("a 200 without an action_id")?;
    Ok(answer.data.action_id)
}
