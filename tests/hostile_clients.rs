//! Clients that misbehave, against the real server over
//! loopback. Each test names the hostile case it plays, and every refusal
//! is checked against the OpenAPI spec as well:
//!
//! - headers over the 16 KiB cap get 431, and the server keeps serving;
//! - too many headers get 431 too, and bytes that are not HTTP get 400 or a
//!   closed connection;
//! - a body over 1 MiB gets 413, whether its length is declared up front or
//!   it is streamed in chunks;
//! - clients that send their headers a byte a second are cut off by the
//!   header deadline, and other agents are served while they are still
//!   connected;
//! - a client that sends its headers and then trickles its body gets 408;
//! - a bad key refused before its body arrived leaves a kept-alive
//!   connection usable for the next request;
//! - hundreds of idle connections do not hold up an agent; with the
//!   connection cap filled by idle clients, one more is not answered until
//!   the header deadline closes idle ones, and then it is; a kept-alive
//!   connection left idle is closed at that deadline;
//! - a flood of bad keys is refused with 401 every time, promptly, and
//!   slows good agents' sends by no more than a generous factor.
//!
//! Bounds are far above the server's real deadlines (10 s) and what a send
//! takes (milliseconds), so a slow machine cannot fail a test that the
//! server passes; where a test asserts that something did not happen yet,
//! an early answer is what fails it, and slowness only delays it.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::openapi::{Answer, Spec};
use common::{read_raw_reply, sms, wait_until_closed, Endpoint, RawReply, Server, TestDir};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// A client still connected this long was not cut off: three times the
/// server's header and body deadlines.
const CUT_OFF_BOUND: Duration = Duration::from_secs(30);

/// What a good agent's send may take while hostile clients are connected.
/// A send takes milliseconds; only a server held up by them comes near.
const PROMPT: Duration = Duration::from_secs(5);

/// The server's connection cap (`Limits::max_connections`).
const MAX_CONNECTIONS: usize = 1_024;

/// Held by the tests that load the machine (a thousand connections, a
/// flood) so that the flood's timings are not another test's noise.
static HEAVY: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// A served data dir with one key.
async fn serving() -> (TestDir, Server, String) {
    let dir = TestDir::new();
    let key = dir.add_key("agent").await;
    let server = dir.start_server();
    (dir, server, key)
}

/// A send whose one header `X-Padding` is `padding` bytes long.
fn send_with_padding(key: &str, padding: usize) -> Vec<u8> {
    let body = serde_json::to_vec(&sms("+15550100", "padded")).expect("encode");
    let mut request = format!(
        "POST /gateway/send HTTP/1.1\r\nHost: gateway\r\nX-Gateway-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\
         X-Padding: {}\r\n\r\n",
        body.len(),
        "p".repeat(padding)
    )
    .into_bytes();
    request.extend_from_slice(&body);
    request
}

/// Writes `request` whole (as far as the server lets it) and reads the answer.
async fn exchange(address: SocketAddr, request: &[u8]) -> Option<RawReply> {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    // The server may answer and close before reading it all; the answer is
    // what matters.
    let _ = stream.write_all(request).await;
    tokio::time::timeout(CUT_OFF_BOUND, read_raw_reply(&mut stream))
        .await
        .expect("the server answered")
}

/// Asserts `reply` is an answer the spec documents for `method template`.
fn assert_in_spec(method: &str, template: &str, reply: &RawReply) {
    Spec::committed_once().check(method, template, &Answer::from_raw(reply));
}

/// Sends one message as a well-behaved agent and returns how long it took.
async fn timed_send(endpoint: &Endpoint, key: &str) -> Duration {
    let started = Instant::now();
    endpoint.send(key, &sms("+15550100", "hello")).await.ok();
    started.elapsed()
}

#[tokio::test]
async fn oversize_headers_get_431_and_the_server_keeps_serving() {
    let (_dir, server, key) = serving().await;

    let refused = exchange(server.address, &send_with_padding(&key, 20 * 1024)).await;
    let refused = refused.expect("an answer to oversize headers");
    assert_eq!(refused.status, 431, "{refused:?}");
    assert_in_spec("POST", "/gateway/send", &refused);

    // Big but within the cap is fine, and ordinary agents are still served.
    let allowed = exchange(server.address, &send_with_padding(&key, 8 * 1024)).await;
    assert_eq!(allowed.expect("an answer").status, 200);
    let took = timed_send(&server.endpoint(), &key).await;
    assert!(took < PROMPT, "a send after the 431 took {took:?}");
}

#[tokio::test]
async fn too_many_headers_get_431_and_garbage_gets_400() {
    let (_dir, server, key) = serving().await;
    let many: String = (0..200).map(|n| format!("X-H{n}: {n}\r\n")).collect();
    let request = format!("GET /gateway/health HTTP/1.1\r\nHost: gateway\r\n{many}\r\n");
    let reply = exchange(server.address, request.as_bytes()).await;
    let reply = reply.expect("an answer to 200 headers");
    assert_eq!(reply.status, 431, "{reply:?}");
    assert_in_spec("GET", "/gateway/health", &reply);

    let mut garbage = b"\x16\x03\x01 this is not HTTP at all\r\n\r\n".to_vec();
    garbage.extend_from_slice(&[0xff; 512]);
    let answer = exchange(server.address, &garbage).await;
    println!(
        "garbage answered with {:?}",
        answer.as_ref().map(|r| r.status)
    );
    if let Some(reply) = answer {
        assert_eq!(reply.status, 400, "{reply:?}");
    }
    let took = timed_send(&server.endpoint(), &key).await;
    assert!(took < PROMPT, "a send after the garbage took {took:?}");
}

#[tokio::test]
async fn body_declared_over_one_mebibyte_gets_413_without_being_sent() {
    let (dir, server, key) = serving().await;
    let head = format!(
        "POST /gateway/send HTTP/1.1\r\nHost: gateway\r\nX-Gateway-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        2 * 1024 * 1024
    );
    let mut stream = TcpStream::connect(server.address).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("write head");
    // A little of the body, then nothing: the declared length alone decides.
    stream.write_all(&[b' '; 1024]).await.expect("write body");

    let started = Instant::now();
    let reply = tokio::time::timeout(CUT_OFF_BOUND, read_raw_reply(&mut stream))
        .await
        .expect("the server answered")
        .expect("an answer, not a closed connection");

    assert_eq!(reply.status, 413, "{reply:?}");
    assert_eq!(reply.json()["code"], "payload_too_large");
    assert_in_spec("POST", "/gateway/send", &reply);
    println!("declared 2 MiB body refused after {:?}", started.elapsed());
    assert_eq!(dir.count_actions(), 0);
}

#[tokio::test]
async fn body_streamed_past_one_mebibyte_gets_413() {
    let (dir, server, key) = serving().await;
    let head = format!(
        "POST /gateway/send HTTP/1.1\r\nHost: gateway\r\nX-Gateway-Key: {key}\r\n\
         Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    let stream = TcpStream::connect(server.address).await.expect("connect");
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        write.write_all(head.as_bytes()).await?;
        // 20 chunks of 64 KiB: 1.25 MiB, with no length announced anywhere.
        let chunk = [b'a'; 64 * 1024];
        for _ in 0..20 {
            write.write_all(b"10000\r\n").await?;
            write.write_all(&chunk).await?;
            write.write_all(b"\r\n").await?;
        }
        write.write_all(b"0\r\n\r\n").await?;
        std::io::Result::Ok(write)
    });

    let reply = tokio::time::timeout(CUT_OFF_BOUND, read_raw_reply(&mut read))
        .await
        .expect("the server answered")
        .expect("an answer, not a closed connection");
    writer.abort();

    assert_eq!(reply.status, 413, "{reply:?}");
    assert_eq!(reply.json()["code"], "payload_too_large");
    assert_in_spec("POST", "/gateway/send", &reply);
    assert_eq!(dir.count_actions(), 0);
    server.send(&key, &sms("+15550100", "after")).await.ok();
}

/// How a client that trickled bytes ended: when the server closed it, and
/// what it answered first, if anything.
#[derive(Debug)]
struct CutOff {
    at: Instant,
    after: Duration,
    reply: Option<RawReply>,
}

/// Connects, sends `prefix`, says so on `started`, then sends one byte of
/// `filler` a second until the server answers or closes; fails at
/// [`CUT_OFF_BOUND`].
async fn trickle(
    address: SocketAddr,
    prefix: Vec<u8>,
    filler: u8,
    started: tokio::sync::mpsc::Sender<()>,
) -> CutOff {
    let connected = Instant::now();
    let stream = TcpStream::connect(address).await.expect("connect");
    let (mut read, mut write) = stream.into_split();
    let writer = tokio::spawn(async move {
        write.write_all(&prefix).await?;
        let _ = started.send(()).await;
        // Bounded: at one byte a second this outlasts CUT_OFF_BOUND.
        for _ in 0..45 {
            write.write_all(&[filler]).await?;
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        std::io::Result::Ok(())
    });

    let ended = tokio::time::timeout(CUT_OFF_BOUND, async {
        let reply = read_raw_reply(&mut read).await;
        if reply.is_some() {
            wait_until_closed(&mut read).await;
        }
        reply
    })
    .await;
    writer.abort();
    let reply = ended.unwrap_or_else(|_| {
        panic!("a client trickling bytes was still connected after {CUT_OFF_BOUND:?}")
    });
    CutOff {
        at: Instant::now(),
        after: connected.elapsed(),
        reply,
    }
}

/// Slow clients trickling through their headers, once each has sent its
/// first bytes.
async fn slow_header_clients(address: SocketAddr, count: usize) -> JoinSet<CutOff> {
    let (started, mut all_started) = tokio::sync::mpsc::channel(count);
    let mut slow = JoinSet::new();
    for _ in 0..count {
        // The header line never ends, so only the deadline can end it.
        let prefix = b"POST /gateway/send HTTP/1.1\r\nHost: gateway\r\nX-Slow: ".to_vec();
        slow.spawn(trickle(address, prefix, b'z', started.clone()));
    }
    drop(started);
    for _ in 0..count {
        all_started.recv().await.expect("a slow client started");
    }
    slow
}

#[tokio::test]
async fn clients_sending_headers_a_byte_a_second_are_cut_off_and_others_are_served() {
    let (dir, server, key) = serving().await;
    let slow = slow_header_clients(server.address, 6).await;

    // Sends at once, side by side, while the slow clients are connected.
    let endpoint = server.endpoint();
    let sends: Vec<_> = (0..5).map(|_| timed_send(&endpoint, &key)).collect();
    let took = futures_util::future::join_all(sends).await;
    let sent_at = Instant::now();
    for took in &took {
        assert!(*took < PROMPT, "a send took {took:?} beside slow clients");
    }

    let cut_offs = slow.join_all().await;
    println!("sends took {took:?}; slow header clients cut off: {cut_offs:?}");
    for cut in &cut_offs {
        assert!(
            cut.at > sent_at,
            "a slow client was cut off before the sends were done, so they proved nothing: \
             {cut:?}"
        );
        assert!(cut.after < CUT_OFF_BOUND);
    }
    assert_eq!(dir.count_actions(), 5);
}

#[tokio::test]
async fn a_client_that_trickles_its_body_gets_408() {
    let (dir, server, key) = serving().await;
    let head = format!(
        "POST /gateway/send HTTP/1.1\r\nHost: gateway\r\nX-Gateway-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: 200\r\n\r\n"
    );
    let (started, _) = tokio::sync::mpsc::channel(1);

    let cut_off = trickle(server.address, head.into_bytes(), b' ', started).await;

    println!("body trickler cut off: {cut_off:?}");
    let reply = cut_off.reply.as_ref().expect("an answer before the close");
    assert_eq!(reply.status, 408, "{cut_off:?}");
    assert_in_spec("POST", "/gateway/send", reply);
    assert!(cut_off.after < CUT_OFF_BOUND);
    assert_eq!(dir.count_actions(), 0);
    let took = timed_send(&server.endpoint(), &key).await;
    assert!(took < PROMPT, "a send after the 408 took {took:?}");
}

#[tokio::test]
async fn a_bad_key_refused_before_its_body_arrived_leaves_the_connection_usable() {
    let (dir, server, key) = serving().await;
    let body = serde_json::to_vec(&sms("+15550100", "let me in")).expect("encode");
    let head = format!(
        "POST /gateway/send HTTP/1.1\r\nHost: gateway\r\nX-Gateway-Key: gw_{}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        "0".repeat(64),
        body.len()
    );
    let stream = TcpStream::connect(server.address).await.expect("connect");
    let (mut read, mut write) = stream.into_split();
    let (replies, mut replied) = tokio::sync::mpsc::channel(2);
    let reader = tokio::spawn(async move {
        while let Some(reply) = read_raw_reply(&mut read).await {
            let _ = replies.send(reply).await;
        }
    });

    // The body follows a moment later, as from a client that writes the
    // headers and the body separately; then the next request.
    write.write_all(head.as_bytes()).await.expect("write head");
    let early = tokio::time::timeout(Duration::from_millis(300), replied.recv()).await;
    let _ = write.write_all(&body).await;
    let refused = match early {
        Ok(reply) => reply,
        Err(_) => replied.recv().await,
    };
    let refused = refused.expect("an answer to the bad key");
    assert_eq!(refused.status, 401, "{refused:?}");
    assert_in_spec("POST", "/gateway/send", &refused);

    let _ = write.write_all(&send_with_padding(&key, 0)).await;
    let next = tokio::time::timeout(CUT_OFF_BOUND, replied.recv()).await;
    let next = next.expect("the connection answered or closed");
    reader.abort();
    // The refusal waits for the body, so the connection is not closed.
    let closing = refused
        .head
        .to_ascii_lowercase()
        .contains("connection: close");
    assert!(!closing, "the 401 closed the connection: {refused:?}");
    let next = next.expect("the kept-alive connection carried the next request");
    assert_eq!(next.status, 200, "{next:?}");
    assert_eq!(dir.count_actions(), 1);
}

/// Opens `count` connections that never send a byte.
async fn idle_connections(address: SocketAddr, count: usize) -> Vec<TcpStream> {
    let mut held = Vec::with_capacity(count);
    for _ in 0..count {
        held.push(TcpStream::connect(address).await.expect("connect idle"));
    }
    held
}

#[tokio::test]
async fn hundreds_of_idle_connections_do_not_hold_up_an_agent() {
    let (dir, server, key) = serving().await;
    let held = idle_connections(server.address, 300).await;

    let endpoint = server.endpoint();
    for _ in 0..5 {
        let took = timed_send(&endpoint, &key).await;
        assert!(
            took < PROMPT,
            "a send took {took:?} beside 300 idle connections"
        );
    }
    assert_eq!(dir.count_actions(), 5);
    drop(held);
}

#[tokio::test]
async fn a_kept_alive_connection_left_idle_is_closed_at_the_header_deadline() {
    let (_dir, server, _key) = serving().await;
    let mut stream = TcpStream::connect(server.address).await.expect("connect");
    let request = b"GET /gateway/health HTTP/1.1\r\nHost: gateway\r\n\r\n";
    stream.write_all(request).await.expect("write request");
    let reply = read_raw_reply(&mut stream).await.expect("an answer");
    assert_eq!(reply.status, 200);
    assert!(!reply
        .head
        .to_ascii_lowercase()
        .contains("connection: close"));

    // Kept alive, then silent: the slot must not be held forever.
    let idle = Instant::now();
    tokio::time::timeout(CUT_OFF_BOUND, wait_until_closed(&mut stream))
        .await
        .expect("the server closes a kept-alive connection that sends nothing more");
    println!(
        "idle kept-alive connection closed after {:?}",
        idle.elapsed()
    );
}

/// Raises this process's open-file limit to its hard limit, which the
/// server it starts next inherits; returns the limit now in force.
fn raise_open_files_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read and write the struct given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 0;
        }
        let raised = libc::rlimit {
            rlim_cur: limit.rlim_max,
            rlim_max: limit.rlim_max,
        };
        if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
            return raised.rlim_cur;
        }
    }
    limit.rlim_cur
}

/// Files this test process and the server each need beyond the held
/// connections: the other tests of this file hold up to 300 connections
/// at once, plus the harness's own.
const OTHER_FILES: u64 = 700;

/// How long a client beyond the cap must go unanswered: far longer than a
/// send takes, so a server without the cap would have answered.
const UNANSWERED_FOR: Duration = Duration::from_secs(2);

/// The server closes the idle connections this long after accepting them.
const HEADER_DEADLINE: Duration = Duration::from_secs(10);

#[tokio::test]
async fn with_the_connection_cap_filled_one_more_client_waits_for_the_header_deadline() {
    let needed = MAX_CONNECTIONS as u64 + 1 + OTHER_FILES;
    let limit = raise_open_files_limit();
    if limit < needed {
        common::skip::skip_or_fail(&format!(
            "holding {MAX_CONNECTIONS} connections needs {needed} open files, the hard limit \
             here is {limit}; raise it with ulimit -Hn"
        ));
        return;
    }
    // Held until the held connections are gone, so their teardown at the
    // header deadline cannot slow the flood test's sends.
    let _heavy = HEAVY.lock().await;
    let (dir, server, key) = serving().await;
    let first_opened = Instant::now();
    let mut held = idle_connections(server.address, MAX_CONNECTIONS).await;
    println!(
        "opened {} idle connections in {:?}",
        held.len(),
        first_opened.elapsed()
    );

    // One more, with a whole request: it waits in the accept queue.
    let mut extra = TcpStream::connect(server.address).await.expect("connect");
    let health = b"GET /gateway/health HTTP/1.1\r\nHost: gateway\r\nConnection: close\r\n\r\n";
    extra.write_all(health).await.expect("write request");
    let asked = Instant::now();
    // The held connections are closed no sooner than the header deadline
    // after they were opened; an answer before that means no cap held it.
    let quiet_until =
        (first_opened + HEADER_DEADLINE - Duration::from_secs(1)).min(asked + UNANSWERED_FOR);
    assert!(
        quiet_until > asked + Duration::from_millis(500),
        "opening the connections took {:?}, too long to tell a cap from the deadline",
        asked - first_opened
    );
    let mut answer = Box::pin(read_raw_reply(&mut extra));
    let early = tokio::time::timeout(quiet_until - asked, &mut answer).await;
    assert!(
        early.is_err(),
        "a client beyond the cap was answered at once: {early:?}"
    );

    let reply = tokio::time::timeout(CUT_OFF_BOUND, answer)
        .await
        .expect("the client beyond the cap is answered once idle ones are closed")
        .expect("an answer, not a closed connection");
    println!(
        "the client beyond the cap was answered after {:?}",
        asked.elapsed()
    );
    assert_eq!(reply.status, 200, "{reply:?}");
    let first = held.first_mut().expect("held connections");
    tokio::time::timeout(CUT_OFF_BOUND, wait_until_closed(first))
        .await
        .expect("the server closes a connection that never sends a request");
    server.send(&key, &sms("+15550100", "after")).await.ok();
    assert_eq!(dir.count_actions(), 1);
}

/// Requests each flooding connection makes.
const FLOOD_PER_CONNECTION: usize = 500;
/// Connections flooding at once.
const FLOOD_CONNECTIONS: usize = 6;
/// Sends good agents make as a baseline before the flood, and at least as
/// many during it.
const GOOD_SENDS: usize = 30;
/// Bound on the good sends made during the flood, whatever happens.
const MAX_GOOD_SENDS: usize = 3_000;
/// How much slower good sends may get during the flood: a generous factor
/// of the baseline median plus a fixed allowance, so that a busy machine
/// cannot fail it, while bad keys costing a database scan or a sleep each
/// would.
const FLOOD_SLOWDOWN: u32 = 10;
const FLOOD_ALLOWANCE: Duration = Duration::from_millis(5);
/// What refusing a bad key may take at the 99th percentile.
const REFUSAL_P99_BOUND: Duration = Duration::from_secs(1);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_bad_keys_gets_401_every_time_while_good_agents_are_served() {
    let _heavy = HEAVY.lock().await;
    let (dir, server, key) = serving().await;
    let revoked = dir.add_key_json("revoked").await;
    let revoked_id = revoked["id"].as_str().expect("key id");
    dir.gateway(&["keys", "revoke", revoked_id]).await.success();
    let revoked = revoked["key_plaintext"].as_str().expect("key").to_string();

    let endpoint = server.endpoint();
    let mut baseline = Vec::new();
    for _ in 0..GOOD_SENDS {
        baseline.push(timed_send(&endpoint, &key).await);
    }

    let started = Instant::now();
    let mut flood = JoinSet::new();
    for worker in 0..FLOOD_CONNECTIONS {
        let (endpoint, revoked) = (server.endpoint(), revoked.clone());
        flood.spawn(async move { flood_with_bad_keys(&endpoint, worker, &revoked).await });
    }
    // Good sends for as long as the flood lasts, so their median speaks for
    // all of it rather than a moment.
    let (mut during, mut finished) = (Vec::new(), Vec::new());
    while during.len() < GOOD_SENDS || (!flood.is_empty() && during.len() < MAX_GOOD_SENDS) {
        during.push(timed_send(&endpoint, &key).await);
        while let Some(done) = flood.try_join_next() {
            finished.push(done.expect("a flooding task"));
        }
    }
    let good_done = started.elapsed();
    let sent = during.len();

    let refused: Vec<Vec<Duration>> = flood.join_all().await;
    let flood_done = started.elapsed();
    let mut refusals: Vec<Duration> = finished.into_iter().chain(refused).flatten().collect();
    assert_eq!(refusals.len(), FLOOD_CONNECTIONS * FLOOD_PER_CONNECTION);
    assert_eq!(dir.count_actions(), (GOOD_SENDS + sent) as i64);

    let (baseline, during) = (median(baseline), median(during));
    refusals.sort();
    let refusal_median = refusals[refusals.len() / 2];
    let refusal_p99 = refusals[refusals.len() * 99 / 100];
    println!(
        "{} bad-key requests refused in {flood_done:?} (median {refusal_median:?}, p99 \
         {refusal_p99:?}); good sends took median {baseline:?} before the flood and \
         {during:?} during it ({sent} of them, finished at {good_done:?})",
        refusals.len()
    );
    let bound = baseline * FLOOD_SLOWDOWN + FLOOD_ALLOWANCE;
    assert!(
        during < bound,
        "good sends slowed from {baseline:?} to {during:?} (bound {bound:?})"
    );
    assert!(
        refusal_median < bound,
        "refusing a bad key took {refusal_median:?} at the median (bound {bound:?})"
    );
    assert!(
        refusal_p99 < REFUSAL_P99_BOUND,
        "refusing a bad key took {refusal_p99:?} at p99"
    );
}

/// Sends requests with missing, malformed, unknown and revoked keys, each of
/// which must get 401; returns how long each took.
async fn flood_with_bad_keys(endpoint: &Endpoint, worker: usize, revoked: &str) -> Vec<Duration> {
    let body = serde_json::to_vec(&sms("+15550100", "let me in")).expect("encode");
    let mut took = Vec::with_capacity(FLOOD_PER_CONNECTION);
    for n in 0..FLOOD_PER_CONNECTION {
        let unknown = format!("gw_{worker:04}{n:028}");
        let key = match n % 4 {
            0 => None,
            1 => Some("not-a-gateway-key"),
            2 => Some(unknown.as_str()),
            _ => Some(revoked),
        };
        let asked = Instant::now();
        let reply = endpoint.send_raw(key, body.clone()).await;
        took.push(asked.elapsed());
        reply.rejected(401, "unauthorized", &[]);
    }
    took
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}
