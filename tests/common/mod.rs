//! The harness every integration test shares: a temporary data directory,
//! the real `contactcmd` binary run as a one-shot command or as a server
//! subprocess on an ephemeral loopback port, an HTTP client for the API,
//! and read-only looks into the gateway's SQLite file. [`netns`] runs a
//! server in a private network namespace, for clients that must not be on
//! its loopback; [`mounts`] puts a data dir on a file system a test can
//! fill up or turn read-only; [`openapi`] checks answers against the spec.

// Each test file is its own crate and uses only part of this harness.
#![allow(dead_code)]

pub mod mounts;
pub mod netns;
pub mod openapi;
pub mod skip;

use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use serde_json::{json, Value};
use tempfile::TempDir;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_contactcmd");

/// How long anything may take before a test gives up on it. Generous,
/// because the machine is small and shared; nothing waits this long unless
/// something is broken.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// The line the server prints on stdout once it is listening.
const LISTENING: &str = "contactcmd gateway listening on http://";

/// A temporary directory holding a gateway data directory (`data/`) and,
/// beside it, files the tests themselves write (scripts' output, the
/// server's stderr), so those never mix with the gateway's own files.
pub struct TestDir {
    temp: TempDir,
    data: PathBuf,
}

impl TestDir {
    /// A new directory with no data directory in it yet.
    pub fn new() -> TestDir {
        let temp = tempfile::Builder::new()
            .prefix("contactcmd-test-")
            .tempdir()
            .expect("create temp dir");
        let data = temp.path().join("data");
        TestDir { temp, data }
    }

    /// A new directory whose data directory holds `config` as config.toml.
    pub fn with_config(config: &str) -> TestDir {
        let dir = TestDir::new();
        dir.write_config(config);
        dir
    }

    /// Writes `config` as the data directory's config.toml.
    pub fn write_config(&self, config: &str) {
        std::fs::create_dir_all(&self.data).expect("create data dir");
        std::fs::write(self.data.join("config.toml"), config).expect("write config.toml");
    }

    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// A path outside the data directory, for the test's own files.
    pub fn scratch(&self, name: &str) -> PathBuf {
        self.temp.path().join(name)
    }

    pub fn database(&self) -> PathBuf {
        self.data.join("gateway.db")
    }

    pub fn outbox(&self) -> PathBuf {
        self.data.join("outbox")
    }

    /// Names of the files in the outbox (none if it does not exist yet).
    pub fn outbox_files(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.outbox()) else {
            return Vec::new();
        };
        let mut names: Vec<String> = entries
            .map(|entry| entry.expect("read outbox entry").file_name())
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Runs `contactcmd --data-dir DATA gateway ARGS...` to completion.
    pub async fn gateway(&self, args: &[&str]) -> CliRun {
        self.gateway_with_env(args, &[]).await
    }

    /// Runs `contactcmd --data-dir DATA gateway ARGS...` to completion with
    /// these environment variables set.
    pub async fn gateway_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> CliRun {
        let mut all = vec!["gateway"];
        all.extend_from_slice(args);
        run_contactcmd_with_env(&self.data, &all, env).await
    }

    /// Creates a key named `name` and returns its plaintext.
    pub async fn add_key(&self, name: &str) -> String {
        let run = self.gateway(&["keys", "add", name]).await.success();
        run.stdout.trim().to_string()
    }

    /// Creates a key named `name`; returns what `keys add --json` prints,
    /// the plaintext in `key_plaintext`.
    pub async fn add_key_json(&self, name: &str) -> Value {
        self.gateway(&["keys", "add", name, "--json"])
            .await
            .success()
            .json()
    }

    /// Starts `gateway serve` on an ephemeral loopback port.
    pub fn start_server(&self) -> Server {
        self.start_server_on("127.0.0.1:0")
    }

    /// Starts `gateway serve --bind BIND` and waits until it listens.
    pub fn start_server_on(&self, bind: &str) -> Server {
        self.start_server_with_env(bind, &[])
    }

    /// Starts `gateway serve --bind BIND` with these environment variables
    /// set (say, `CONTACTCMD_LOG=debug`) and waits until it listens.
    pub fn start_server_with_env(&self, bind: &str, env: &[(&str, &str)]) -> Server {
        self.spawn_server(Command::new(BIN), Some(bind), env)
    }

    /// Starts `gateway serve` without `--bind`, so it listens where the
    /// config says (or on the default address).
    pub fn start_server_as_configured(&self) -> Server {
        self.spawn_server(Command::new(BIN), None, &[])
    }

    /// Starts `gateway serve --bind BIND` inside `netns` and waits until it
    /// listens. The address it reports is one of the namespace's: the test
    /// process reaches the server only through the namespace's veth address
    /// (it is a remote host from there), and its loopback only through
    /// [`netns::Netns::request`].
    pub fn start_server_in(&self, netns: &netns::Netns, bind: &str) -> Server {
        let mut command = Command::new("ip");
        // `ip netns exec` execs the binary in place, so the child's pid is
        // the server's and stopping or killing it reaches the server.
        command.args(["netns", "exec", netns.name(), BIN]);
        self.spawn_server(command, Some(bind), &[])
    }

    /// Runs `command` (the binary, or something that execs it) with the
    /// serve arguments and waits for the line saying where it listens.
    fn spawn_server(
        &self,
        mut command: Command,
        bind: Option<&str>,
        env: &[(&str, &str)],
    ) -> Server {
        let stderr_path = self.scratch(&format!("server-{}.stderr", unique_suffix()));
        let stderr = std::fs::File::create(&stderr_path).expect("create server stderr file");
        let mut child = command
            .arg("--data-dir")
            .arg(&self.data)
            .args(["gateway", "serve"])
            .args(bind.map(|bind| ["--bind", bind]).into_iter().flatten())
            .env_remove("CONTACTCMD_DATA_DIR")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start contactcmd gateway serve");
        let stdout = child.stdout.take().expect("server stdout");
        let first_line = read_first_line(stdout);
        Server::from_listening_line(child, first_line, stderr_path)
    }

    /// Runs `gateway serve` expecting it to fail at startup; returns how.
    pub async fn serve_expecting_failure(&self) -> CliRun {
        self.gateway(&["serve", "--bind", "127.0.0.1:0"]).await
    }

    /// A read-only connection to the gateway's database.
    pub fn db(&self) -> Connection {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Connection::open_with_flags(self.database(), flags).expect("open database read-only")
    }

    /// A writable connection, for tests that stage a state the binary
    /// cannot produce on its own (a crash mid-send, a newer schema).
    pub fn db_for_writing(&self) -> Connection {
        let conn = Connection::open(self.database()).expect("open database");
        conn.busy_timeout(DEADLINE).expect("set busy timeout");
        conn
    }

    /// Every stored row of every table, as text, to compare before and after.
    ///
    /// `last_used_at` is left out: it records successful use of a key, which
    /// an earlier good request may still be writing in the background. So
    /// is `dispatchers`, whose heartbeats change by themselves.
    pub fn snapshot(&self) -> Vec<String> {
        let conn = self.db();
        let mut statement = conn
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'table' \
                 AND name NOT LIKE 'sqlite_%' AND name != 'dispatchers' ORDER BY name",
            )
            .expect("list tables");
        let tables: Vec<String> = statement
            .query_map([], |row| row.get(0))
            .expect("list tables")
            .map(|name| name.expect("table name"))
            .collect();
        tables
            .iter()
            .flat_map(|table| table_rows(&conn, table))
            .collect()
    }

    pub fn count_actions(&self) -> i64 {
        self.db()
            .query_row("SELECT count(*) FROM actions", [], |row| row.get(0))
            .expect("count actions")
    }

    /// The action's status straight from the database.
    pub fn stored_status(&self, action_id: &str) -> String {
        self.db()
            .query_row(
                "SELECT status FROM actions WHERE id = ?1",
                [action_id],
                |row| row.get(0),
            )
            .expect("read action status")
    }
}

/// Runs `contactcmd --data-dir DATA_DIR ARGS...` to completion.
pub async fn run_contactcmd(data_dir: &Path, args: &[&str]) -> CliRun {
    run_contactcmd_with_env(data_dir, args, &[]).await
}

/// Runs `contactcmd --data-dir DATA_DIR ARGS...` to completion with these
/// environment variables set.
pub async fn run_contactcmd_with_env(
    data_dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> CliRun {
    let output = tokio::process::Command::new(BIN)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("CONTACTCMD_DATA_DIR")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(DEADLINE, output)
        .await
        .unwrap_or_else(|_| panic!("contactcmd {args:?} did not finish in {DEADLINE:?}"))
        .expect("run contactcmd");
    CliRun {
        args: args.iter().map(|a| a.to_string()).collect(),
        code: output.status.code().expect("contactcmd killed by a signal"),
        stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("stderr is UTF-8"),
    }
}

fn table_rows(conn: &Connection, table: &str) -> Vec<String> {
    // Every table but the attempt log has an id; rowid orders that one.
    let sql = format!("SELECT * FROM {table} ORDER BY rowid");
    let mut statement = conn.prepare(&sql).expect("prepare snapshot query");
    let names: Vec<String> = statement
        .column_names()
        .iter()
        .map(|name| name.to_string())
        .collect();
    let rows = statement
        .query_map([], |row| {
            let mut cells = vec![table.to_string()];
            for (index, name) in names.iter().enumerate() {
                if name != "last_used_at" {
                    let value: rusqlite::types::Value = row.get(index)?;
                    cells.push(format!("{name}={value:?}"));
                }
            }
            Ok(cells.join(" "))
        })
        .expect("run snapshot query");
    rows.map(|row| row.expect("read snapshot row")).collect()
}

/// Distinguishes files of several servers started in one test.
fn unique_suffix() -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed).to_string()
}

/// Reads the server's first stdout line on a thread, so a server that never
/// prints it fails the test at the deadline instead of hanging it. The
/// thread then drains stdout until the server exits.
fn read_first_line(stdout: impl Read + Send + 'static) -> Option<String> {
    let (first_tx, first_rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let read = reader.read_line(&mut line);
        let _ = first_tx.send(read.ok().filter(|&n| n > 0).map(|_| line));
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    first_rx.recv_timeout(DEADLINE).ok().flatten()
}

/// What a finished command did.
#[derive(Debug)]
pub struct CliRun {
    pub args: Vec<String>,
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliRun {
    /// Asserts exit code 0 and returns the run.
    pub fn success(self) -> CliRun {
        self.exit_code(0)
    }

    /// Asserts the exit code and returns the run.
    pub fn exit_code(self, expected: i32) -> CliRun {
        assert_eq!(
            self.code, expected,
            "contactcmd {:?} exited {} (expected {expected})\nstdout: {}\nstderr: {}",
            self.args, self.code, self.stdout, self.stderr
        );
        self
    }

    /// Asserts stderr mentions every one of `words`.
    pub fn stderr_mentions(self, words: &[&str]) -> CliRun {
        for word in words {
            assert!(
                self.stderr.contains(word),
                "stderr of contactcmd {:?} does not mention {word:?}: {}",
                self.args,
                self.stderr
            );
        }
        self
    }

    /// Stdout parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout of contactcmd {:?} is not JSON ({e}): {}",
                self.args, self.stdout
            )
        })
    }
}

/// A running `contactcmd gateway serve`, killed when dropped.
pub struct Server {
    child: Child,
    pub address: SocketAddr,
    stderr_path: PathBuf,
    http: reqwest::Client,
}

impl Server {
    fn from_listening_line(mut child: Child, line: Option<String>, stderr_path: PathBuf) -> Self {
        let Some(address) = line.as_deref().and_then(parse_listening_line) else {
            let _ = child.kill();
            let _ = child.wait();
            let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            panic!("server did not report where it listens (stdout: {line:?})\nstderr: {stderr}");
        };
        Server {
            child,
            address,
            stderr_path,
            http: http_client(),
        }
    }

    /// `http://ADDRESS/PATH` on the address the server reported.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    /// The same server reached through another address it listens on.
    pub fn via(&self, ip: IpAddr) -> Endpoint {
        Endpoint {
            base: format!("http://{}", SocketAddr::new(ip, self.address.port())),
            http: self.http.clone(),
        }
    }

    /// The server reached through the address it reported.
    pub fn endpoint(&self) -> Endpoint {
        self.via(self.address.ip())
    }

    pub async fn send(&self, key: &str, message: &Value) -> Reply {
        self.endpoint().send(key, message).await
    }

    pub async fn send_raw(&self, key: Option<&str>, body: Vec<u8>) -> Reply {
        self.endpoint().send_raw(key, body).await
    }

    /// Sends `message`, asserts it was queued, and returns its action id.
    pub async fn queue_message(&self, key: &str, message: &Value) -> String {
        let reply = self.send(key, message).await.ok();
        reply.data()["action_id"]
            .as_str()
            .expect("action_id in send reply")
            .to_string()
    }

    pub async fn poll(&self, key: &str, action_id: &str) -> Reply {
        self.endpoint().poll(key, action_id).await
    }

    pub async fn approve(&self, action_id: &str) -> Reply {
        self.endpoint().approve(action_id).await
    }

    pub async fn deny(&self, action_id: &str, reason: Option<&str>) -> Reply {
        self.endpoint().deny(action_id, reason).await
    }

    pub async fn queue(&self) -> Reply {
        self.endpoint().queue().await
    }

    pub async fn health(&self) -> Reply {
        self.endpoint().health().await
    }

    /// Asks the server to stop (SIGTERM) and waits for it to exit.
    pub fn stop(mut self) -> ExitStatus {
        self.signal(libc::SIGTERM);
        self.wait_for_exit()
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends `signal` to the server process.
    pub fn signal(&self, signal: libc::c_int) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits pid_t");
        // SAFETY: signals only the server process this harness started; it
        // has not been reaped yet (`wait_for_exit` consumes or follows it).
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "could not signal the server");
    }

    /// Waits (polling, without blocking the async runtime for long) until
    /// the server exits; fails the test at the deadline.
    pub fn wait_for_exit(&mut self) -> ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for server") {
                return status;
            }
            assert!(
                started.elapsed() < DEADLINE,
                "server did not exit within {DEADLINE:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the server process has exited (reaping it if so).
    pub fn has_exited(&mut self) -> bool {
        self.child.try_wait().expect("wait for server").is_some()
    }

    /// SIGKILL, and reap the process so its pid is really gone.
    pub fn kill9(mut self) {
        self.child.kill().expect("kill -9 the server");
        self.child.wait().expect("reap the server");
    }

    /// What the server wrote to standard error (its log lines) so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// Where the server's standard error goes.
    pub fn stderr_path(&self) -> &Path {
        &self.stderr_path
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        // The log lives in the temp dir, which goes away with the test; show
        // it with the failure instead.
        if std::thread::panicking() {
            let log = std::fs::read_to_string(&self.stderr_path).unwrap_or_default();
            eprintln!("--- server stderr ---\n{log}--- end of server stderr ---");
        }
    }
}

fn parse_listening_line(line: &str) -> Option<SocketAddr> {
    line.trim_end().strip_prefix(LISTENING)?.parse().ok()
}

/// A client that never goes through a proxy (the tests speak only to this
/// machine) and gives up on a request at the deadline.
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(DEADLINE)
        .build()
        .expect("build HTTP client")
}

/// One way of reaching a server: a base URL and a client.
#[derive(Clone)]
pub struct Endpoint {
    base: String,
    http: reqwest::Client,
}

impl Endpoint {
    /// A new client of the server at `address`.
    pub fn at(address: SocketAddr) -> Endpoint {
        Endpoint {
            base: format!("http://{address}"),
            http: http_client(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(&self, key: &str, message: &Value) -> Reply {
        let body = serde_json::to_vec(message).expect("encode message");
        self.send_raw(Some(key), body).await
    }

    /// POST /gateway/send with exactly these bytes, and the key if given.
    pub async fn send_raw(&self, key: Option<&str>, body: Vec<u8>) -> Reply {
        let mut request = self
            .http
            .post(self.url("/gateway/send"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(key) = key {
            request = request.header("X-Gateway-Key", key);
        }
        Reply::fetch(request).await
    }

    pub async fn poll(&self, key: &str, action_id: &str) -> Reply {
        let request = self
            .http
            .get(self.url(&format!("/gateway/actions/{action_id}")))
            .header("X-Gateway-Key", key);
        Reply::fetch(request).await
    }

    pub async fn approve(&self, action_id: &str) -> Reply {
        let url = self.url(&format!("/gateway/queue/{action_id}/approve"));
        Reply::fetch(self.http.post(url)).await
    }

    pub async fn deny(&self, action_id: &str, reason: Option<&str>) -> Reply {
        let url = self.url(&format!("/gateway/queue/{action_id}/deny"));
        let request = match reason {
            Some(reason) => self.http.post(url).json(&json!({ "reason": reason })),
            None => self.http.post(url),
        };
        Reply::fetch(request).await
    }

    pub async fn queue(&self) -> Reply {
        Reply::fetch(self.http.get(self.url("/gateway/queue"))).await
    }

    pub async fn health(&self) -> Reply {
        Reply::fetch(self.http.get(self.url("/gateway/health"))).await
    }
}

/// An HTTP answer: status and JSON body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    async fn fetch(request: reqwest::RequestBuilder) -> Reply {
        let response = request.send().await.expect("HTTP request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("read HTTP body");
        let body = serde_json::from_str(&text)
            .unwrap_or_else(|e| panic!("HTTP {status} body is not JSON ({e}): {text}"));
        Reply { status, body }
    }

    /// Asserts a 200 `{"success": true, ...}` and returns the reply.
    pub fn ok(self) -> Reply {
        assert_eq!(self.status, 200, "expected 200, got {self:?}");
        assert_eq!(self.body["success"], json!(true), "{self:?}");
        self
    }

    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// Asserts an error reply with this status and code whose message
    /// mentions every one of `words`; returns the reply.
    pub fn rejected(self, status: u16, code: &str, words: &[&str]) -> Reply {
        assert_eq!(self.status, status, "unexpected status: {self:?}");
        assert_eq!(self.body["success"], json!(false), "{self:?}");
        assert_eq!(self.body["code"], json!(code), "{self:?}");
        let message = self.body["error"].as_str().expect("error message");
        for word in words {
            assert!(
                message.contains(word),
                "error {message:?} does not mention {word:?}"
            );
        }
        self
    }
}

/// An SMS message as an agent would send it.
pub fn sms(to: &str, body: &str) -> Value {
    json!({ "channel": "sms", "recipient_address": to, "body": body })
}

/// An email message as an agent would send it.
pub fn email(to: &str, subject: &str, body: &str) -> Value {
    json!({ "channel": "email", "recipient_address": to, "subject": subject, "body": body })
}

/// A config.toml that hands `channel`'s messages to `argv`.
pub fn command_transport(channel: &str, argv: &[&str]) -> String {
    // A JSON array of strings is also a valid TOML array of basic strings,
    // whatever characters the paths in it contain.
    let command = serde_json::to_string(argv).expect("encode command");
    format!("[transport.{channel}]\nkind = \"command\"\ncommand = {command}\n")
}

/// A command transport that notes each send's action id in a file, then
/// holds the send open until the test releases it (at most 30 s, so a
/// failed test leaves nothing running).
pub struct HeldSends {
    log: PathBuf,
    release: PathBuf,
}

const HOLDING_SCRIPT: &str = "echo \"$CONTACTCMD_ACTION_ID\" >> \"$1\"; i=0; \
    while [ ! -e \"$2\" ] && [ $i -lt 3000 ]; do sleep 0.01; i=$((i + 1)); done";

impl HeldSends {
    /// Writes `dir`'s config so `channel` goes through the holding transport.
    pub fn configure(dir: &TestDir, channel: &str) -> HeldSends {
        let held = HeldSends {
            log: dir.scratch("sends.log"),
            release: dir.scratch("release"),
        };
        let (log, release) = (utf8(&held.log), utf8(&held.release));
        let argv = ["/bin/sh", "-c", HOLDING_SCRIPT, "sh", log, release];
        dir.write_config(&command_transport(channel, &argv));
        held
    }

    /// Action ids the transport was started for, one per send.
    pub fn started(&self) -> Vec<String> {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().map(str::to_string).collect()
    }

    /// Waits until `n` sends have started.
    pub async fn wait_for(&self, n: usize) {
        eventually(&format!("{n} send(s) to start"), || async {
            (self.started().len() >= n).then_some(())
        })
        .await;
    }

    /// Lets held sends finish, and later ones run without waiting.
    pub fn release(&self) {
        std::fs::write(&self.release, b"").expect("release sends");
    }
}

fn utf8(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}

/// Polls `check` until it returns `Some`, failing the test at the deadline.
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "gave up waiting for {what} after {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A pid that belonged to a process which has since exited and been reaped.
pub fn dead_pid() -> u32 {
    let mut child = Command::new("true").spawn().expect("run true");
    let pid = child.id();
    child.wait().expect("wait for true");
    pid
}

/// An HTTP answer read straight off a socket, for clients that misbehave
/// below what an HTTP library lets a test do.
#[derive(Debug)]
pub struct RawReply {
    pub status: u16,
    /// Status line and headers, as text.
    pub head: String,
    pub body: Vec<u8>,
}

impl RawReply {
    /// The body parsed as JSON; panics with the whole reply if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body of {self:?} is not JSON ({e})"))
    }
}

/// Reads one HTTP/1.1 response; `None` if the connection ended (closed or
/// reset) before a whole status line and headers arrived.
pub async fn read_raw_reply(stream: &mut (impl tokio::io::AsyncRead + Unpin)) -> Option<RawReply> {
    use tokio::io::AsyncReadExt;

    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at + 4;
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length = header_value(&head, "content-length").and_then(|v| v.parse::<usize>().ok());
    let mut body = buffer[head_end..].to_vec();
    while length.is_some_and(|length| body.len() < length) {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some(RawReply { status, head, body })
}

/// Whether `stream` is closed by the peer: reads (and discards) until end
/// of stream or an error such as a reset.
pub async fn wait_until_closed(stream: &mut (impl tokio::io::AsyncRead + Unpin)) {
    use tokio::io::AsyncReadExt;

    let mut chunk = [0u8; 1024];
    while let Ok(n) = stream.read(&mut chunk).await {
        if n == 0 {
            return;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn header_value<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}
