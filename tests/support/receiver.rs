//! A webhook receiver for the tests: a small HTTP/1.1 server on an
//! ephemeral loopback port that answers each request as it is told and
//! records every request it reads.
//!
//! It speaks HTTP over a plain tokio socket instead of going through axum,
//! because the tests need it to misbehave below HTTP: read a request and
//! then hang without answering, or close the connection without a word.
//! It runs on its own thread and runtime, so it keeps answering whatever
//! the test's own runtime is busy with.

use std::collections::{HashMap, VecDeque};
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::DEADLINE;

/// How the receiver answers one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Reply {
    /// This status code with a short text body.
    Status(u16),
    /// This status code (429 or 503) with `Retry-After: <secs>`.
    RetryAfter(u16, u64),
    /// This status code with a body of this many bytes.
    Long(u16, usize),
    /// 302 to this location.
    Redirect(String),
    /// Never answer; hold the connection until the client gives up.
    Hang,
    /// Close the connection after reading the request, answering nothing.
    Drop,
}

/// 200 OK, the answer that delivers.
pub const OK: Reply = Reply::Status(200);

/// One request as it arrived, and how it was answered.
#[derive(Clone, Debug)]
pub struct Received {
    pub path: String,
    /// Header names in lower case.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
    pub at: Instant,
    pub reply: Reply,
}

impl Received {
    /// The header's value; panics naming it if the request lacked it.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("request has no {name} header: {:?}", self.headers))
    }

    pub fn webhook_id(&self) -> &str {
        self.header("webhook-id")
    }

    pub fn timestamp(&self) -> i64 {
        let text = self.header("webhook-timestamp");
        text.parse()
            .unwrap_or_else(|_| panic!("webhook-timestamp {text:?} is not unix seconds"))
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }

    /// Whether `webhook-signature` holds a signature made with `secret`.
    pub fn signed_by(&self, secret: &str) -> bool {
        contactcmd::webhook::secret::verify(
            secret,
            self.webhook_id(),
            self.timestamp(),
            &self.body,
            self.header("webhook-signature"),
        )
    }
}

/// Which reply each coming request gets.
enum Plan {
    /// The same for every request.
    Always(Reply),
    /// These in order, one per request, then `then` for the rest.
    Sequence(VecDeque<Reply>, Reply),
    /// The n-th request carrying a given webhook-id gets the n-th reply; the
    /// last reply repeats.
    PerId(Vec<Reply>),
}

struct State {
    plan: Plan,
    log: Vec<Received>,
}

impl State {
    fn next_reply(&mut self, webhook_id: Option<&str>) -> Reply {
        match &mut self.plan {
            Plan::Always(reply) => reply.clone(),
            Plan::Sequence(queue, then) => queue.pop_front().unwrap_or_else(|| then.clone()),
            Plan::PerId(replies) => {
                let seen = self
                    .log
                    .iter()
                    .filter(|r| r.headers.get("webhook-id").map(String::as_str) == webhook_id)
                    .count();
                replies[seen.min(replies.len() - 1)].clone()
            }
        }
    }
}

struct Shared {
    state: Mutex<State>,
    /// How many requests have been recorded, for waiting without polling.
    count: watch::Sender<usize>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A running receiver; it stops when dropped.
pub struct Receiver {
    address: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
    thread: Option<JoinHandle<()>>,
}

impl Receiver {
    /// Starts a receiver that answers 200 until told otherwise.
    pub fn start() -> Receiver {
        let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let address = listener.local_addr().expect("local address");
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                plan: Plan::Always(OK),
                log: Vec::new(),
            }),
            count: watch::channel(0).0,
        });
        let stop = CancellationToken::new();
        let thread = spawn_server(listener, shared.clone(), stop.clone());
        Receiver {
            address,
            shared,
            stop,
            thread: Some(thread),
        }
    }

    /// The URL to set as a key's webhook.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.address)
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// From now on, answer every request with `reply`.
    pub fn answer(&self, reply: Reply) {
        self.shared.lock().plan = Plan::Always(reply);
    }

    /// Answer the next requests with `replies` in order, then with `then`.
    pub fn answer_next(&self, replies: &[Reply], then: Reply) {
        self.shared.lock().plan = Plan::Sequence(replies.iter().cloned().collect(), then);
    }

    /// Answer each webhook-id's n-th request with `replies[n]`; the last
    /// reply repeats.
    pub fn answer_per_id(&self, replies: &[Reply]) {
        assert!(
            !replies.is_empty(),
            "answer_per_id needs at least one reply"
        );
        self.shared.lock().plan = Plan::PerId(replies.to_vec());
    }

    /// Every request so far, first first.
    pub fn requests(&self) -> Vec<Received> {
        self.shared.lock().log.clone()
    }

    pub fn count(&self) -> usize {
        self.shared.lock().log.len()
    }

    /// Waits until at least `n` requests have arrived and returns them all;
    /// panics with what did arrive if that takes longer than [`DEADLINE`].
    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let mut count = self.shared.count.subscribe();
        let arrived = tokio::time::timeout(DEADLINE, count.wait_for(|&c| c >= n)).await;
        if arrived.is_err() {
            let got: Vec<_> = self.requests().iter().map(summary).collect();
            panic!("waited {DEADLINE:?} for {n} webhook requests; got {got:#?}");
        }
        self.requests()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.cancel();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn summary(request: &Received) -> String {
    let id = request
        .headers
        .get("webhook-id")
        .map_or("-", String::as_str);
    format!("{} {id} -> {:?}", request.path, request.reply)
}

fn spawn_server(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stop: CancellationToken,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("receiver runtime");
        runtime.block_on(async move {
            let listener = TcpListener::from_std(listener).expect("tokio listener");
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    accepted = listener.accept() => {
                        if let Ok((stream, _)) = accepted {
                            tokio::spawn(serve_connection(stream, shared.clone()));
                        }
                    }
                }
            }
        });
    })
}

/// Serves requests on one connection until it closes or a reply ends it.
async fn serve_connection(stream: TcpStream, shared: Arc<Shared>) {
    let mut reader = BufReader::new(stream);
    while let Ok(Some(request)) = read_request(&mut reader).await {
        let reply = record(&shared, request);
        let keep_going = match reply {
            Reply::Hang => {
                wait_for_close(&mut reader).await;
                false
            }
            Reply::Drop => false,
            answer => write_answer(reader.get_mut(), &answer).await.is_ok(),
        };
        if !keep_going {
            return;
        }
    }
}

/// Logs the request with the reply it gets, and wakes waiters.
fn record(shared: &Shared, request: Parsed) -> Reply {
    let mut state = shared.lock();
    let reply = state.next_reply(request.headers.get("webhook-id").map(String::as_str));
    state.log.push(Received {
        path: request.path,
        headers: request.headers,
        body: request.body,
        at: Instant::now(),
        reply: reply.clone(),
    });
    let count = state.log.len();
    drop(state);
    shared.count.send_replace(count);
    reply
}

struct Parsed {
    path: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// Reads one request; `None` when the client closed the connection.
async fn read_request(reader: &mut BufReader<TcpStream>) -> std::io::Result<Option<Parsed>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let path = line
        .split_whitespace()
        .nth(1)
        .unwrap_or_default()
        .to_string();
    let mut headers = HashMap::new();
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let Some((name, value)) = line.trim_end().split_once(':') else {
            break;
        };
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let length = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await?;
    Ok(Some(Parsed {
        path,
        headers,
        body,
    }))
}

async fn write_answer(stream: &mut TcpStream, reply: &Reply) -> std::io::Result<()> {
    let (code, extra) = match reply {
        Reply::Status(code) | Reply::Long(code, _) => (*code, String::new()),
        Reply::RetryAfter(code, secs) => (*code, format!("retry-after: {secs}\r\n")),
        Reply::Redirect(to) => (302, format!("location: {to}\r\n")),
        Reply::Hang | Reply::Drop => unreachable!("not an answer"),
    };
    let body = match reply {
        Reply::Long(_, length) => "x".repeat(*length),
        _ => format!("receiver said {code}"),
    };
    let head = format!(
        "HTTP/1.1 {code} Test\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{extra}\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.flush().await
}

/// Holds the connection open, answering nothing, until the client hangs up.
async fn wait_for_close(reader: &mut BufReader<TcpStream>) {
    let mut sink = [0u8; 256];
    while matches!(reader.read(&mut sink).await, Ok(n) if n > 0) {}
}
