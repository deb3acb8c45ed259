//! Harness for the webhook integration tests: a temporary data directory
//! with a config.toml the test chooses, the real `contactcmd` binary run as
//! one-shot commands and as serving subprocesses, HTTP helpers for the agent
//! and admin API, and waiting for a condition with a deadline instead of
//! sleeping and hoping.

// Each test file is its own crate and uses only part of the harness.
#![allow(dead_code)]

pub mod receiver;
// A test file that uses both harnesses loads this file twice, harmlessly:
// it holds only functions.
#[allow(clippy::duplicate_mod)]
#[path = "../common/skip.rs"]
pub mod skip;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{json, Value};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use receiver::Receiver;

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_contactcmd");

/// How long any awaited condition may take. Generous, since the tests share
/// two cores with each other and with other builds; a passing run waits
/// only as long as the condition really takes.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// Pause between two looks at a condition that cannot be awaited directly.
const POLL: Duration = Duration::from_millis(50);

/// Proxy variables are removed from the subprocesses so every request goes
/// straight to loopback, as the tests promise.
const PROXY_VARS: &[&str] = &[
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
];

/// What the test writes into config.toml.
#[derive(Clone, Debug)]
pub struct Config {
    retry_schedule_secs: Vec<f64>,
    timeout_secs: Option<f64>,
    concurrency: Option<usize>,
    idle_poll_secs: Option<f64>,
    sms_command: Option<Vec<String>>,
}

impl Config {
    /// Two quick retries, so a whole schedule runs in well under a second.
    pub fn fast() -> Config {
        Config {
            retry_schedule_secs: vec![0.1, 0.1],
            timeout_secs: None,
            concurrency: None,
            idle_poll_secs: None,
            sms_command: None,
        }
    }

    /// The waits between attempts, in seconds.
    pub fn retries(mut self, secs: &[f64]) -> Config {
        self.retry_schedule_secs = secs.to_vec();
        self
    }

    /// Time a receiver has to answer; the gateway's 10 s default otherwise.
    pub fn timeout(mut self, secs: f64) -> Config {
        self.timeout_secs = Some(secs);
        self
    }

    /// Deliveries a dispatcher has in flight at once.
    pub fn concurrency(mut self, deliveries: usize) -> Config {
        self.concurrency = Some(deliveries);
        self
    }

    /// Longest wait between a dispatcher's looks at the database when
    /// nothing wakes it.
    pub fn idle_poll(mut self, secs: f64) -> Config {
        self.idle_poll_secs = Some(secs);
        self
    }

    /// SMS goes through this program instead of the outbox.
    pub fn sms_command(mut self, argv: &[&str]) -> Config {
        self.sms_command = Some(argv.iter().map(|a| a.to_string()).collect());
        self
    }

    /// SMS goes through a command that always fails, with "boom" as the
    /// reason.
    pub fn failing_sms(self) -> Config {
        self.sms_command(&["/bin/sh", "-c", "echo boom >&2; exit 3"])
    }

    fn toml(&self) -> String {
        let mut text = format!(
            "[webhooks]\nretry_schedule_secs = {:?}\n",
            self.retry_schedule_secs
        );
        if let Some(timeout) = self.timeout_secs {
            text.push_str(&format!("timeout_secs = {timeout:?}\n"));
        }
        if let Some(concurrency) = self.concurrency {
            text.push_str(&format!("concurrency = {concurrency}\n"));
        }
        if let Some(poll) = self.idle_poll_secs {
            text.push_str(&format!("idle_poll_secs = {poll:?}\n"));
        }
        if let Some(argv) = &self.sms_command {
            // Debug quoting of plain strings is valid TOML.
            text.push_str(&format!(
                "[transport.sms]\nkind = \"command\"\ncommand = {argv:?}\n"
            ));
        }
        text
    }
}

/// An API key as created by `keys add`.
#[derive(Clone, Debug)]
pub struct Key {
    pub id: String,
    pub plaintext: String,
}

/// What a one-shot command did.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn succeeded(&self) -> bool {
        self.code == Some(0)
    }

    /// Stdout parsed as JSON; panics with the whole run if it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("command printed no JSON ({e}): {self:#?}"))
    }
}

/// A data directory of its own, with config.toml written, and the binary.
pub struct Gateway {
    dir: TempDir,
    servers: AtomicUsize,
}

impl Gateway {
    pub fn new(config: &Config) -> Gateway {
        let dir = tempfile::tempdir().expect("temp data dir");
        std::fs::write(dir.path().join("config.toml"), config.toml()).expect("write config");
        Gateway {
            dir,
            servers: AtomicUsize::new(0),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// A read-only connection to the gateway's database.
    pub fn db(&self) -> rusqlite::Connection {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let path = self.path().join("gateway.db");
        rusqlite::Connection::open_with_flags(path, flags).expect("open the database")
    }

    /// A connection for staging what no command of the binary would leave
    /// behind; it waits for the gateway's own writes.
    pub fn db_for_writing(&self) -> rusqlite::Connection {
        let conn =
            rusqlite::Connection::open(self.path().join("gateway.db")).expect("open the database");
        conn.busy_timeout(DEADLINE).expect("set busy timeout");
        conn
    }

    /// Runs `contactcmd --data-dir DIR gateway <args>` to completion.
    pub async fn run(&self, args: &[&str]) -> Run {
        let output = self
            .command()
            .arg("gateway")
            .args(args)
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .output()
            .await
            .expect("run contactcmd");
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs `gateway --json <args>`, which must succeed, and parses its output.
    pub async fn json(&self, args: &[&str]) -> Value {
        let run = self.run(&[&["--json"], args].concat()).await;
        assert!(run.succeeded(), "gateway {args:?} failed: {run:#?}");
        run.json()
    }

    pub async fn add_key(&self, name: &str) -> Key {
        let added = self.json(&["keys", "add", name]).await;
        Key {
            id: text(&added["id"]),
            plaintext: text(&added["key_plaintext"]),
        }
    }

    /// Sets the key's webhook URL; returns the signing secret if this
    /// created it (the first URL a key gets).
    pub async fn set_webhook(&self, key: &Key, url: &str) -> Option<String> {
        let set = self.json(&["keys", "webhook", &key.id, url]).await;
        set["signing_secret"].as_str().map(str::to_string)
    }

    /// Starts `gateway serve` on an ephemeral port and waits until it listens.
    pub async fn serve(&self) -> Server {
        self.serve_with(self.command()).await
    }

    /// Starts `gateway serve` as process 1 of a pid namespace of its own, as
    /// in a container, so its pids mean nothing to the other processes.
    /// `None` after a loud SKIPPED line where no namespace can be made (not
    /// root); with `CI` set that fails the test instead.
    pub async fn serve_in_own_pid_namespace(&self) -> Option<Server> {
        if !skip::is_root() {
            skip::skip_or_fail("making a pid namespace needs root");
            return None;
        }
        let mut command = Command::new("unshare");
        command.args(["--pid", "--fork", "--kill-child", BIN]);
        Some(self.serve_with(self.configure(command)).await)
    }

    /// Starts `gateway serve` with these extra environment variables.
    pub async fn serve_with_env(&self, env: &[(&str, &str)]) -> Server {
        let mut command = self.command();
        command.envs(env.iter().copied());
        self.serve_with(command).await
    }

    /// Starts `gateway serve` in a mount namespace of its own where
    /// /etc/hosts holds only `hosts`, so test names resolve where the test
    /// says. `None` after a loud SKIPPED line where that cannot be done (not
    /// root); with `CI` set that fails the test instead.
    pub async fn serve_with_hosts(&self, hosts: &str) -> Option<Server> {
        if !skip::is_root() {
            skip::skip_or_fail("making a mount namespace needs root");
            return None;
        }
        let file = self.path().join("test-hosts");
        std::fs::write(&file, hosts).expect("write the hosts file");
        let script = "mount --bind \"$1\" /etc/hosts && shift && exec \"$@\"";
        let mut command = Command::new("unshare");
        command.args([
            "--mount",
            "--propagation",
            "private",
            "sh",
            "-c",
            script,
            "sh",
        ]);
        command.arg(&file).arg(BIN);
        Some(self.serve_with(self.configure(command)).await)
    }

    async fn serve_with(&self, mut command: Command) -> Server {
        let n = self.servers.fetch_add(1, Ordering::Relaxed);
        let log = self.path().join(format!("serve-{n}.stderr"));
        let mut child = command
            .args(["gateway", "serve", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("server log file"))
            .kill_on_drop(true)
            .spawn()
            .expect("start contactcmd gateway serve");
        let base = listening_address(&mut child, &log).await;
        Server {
            child,
            base,
            log,
            http: http_client(),
        }
    }

    /// Every delivery, newest first, as `deliveries --json` lists them.
    pub async fn deliveries(&self) -> Vec<Value> {
        array(self.json(&["deliveries", "--limit", "1000"]).await)
    }

    /// One delivery with its attempts, as `deliveries show --json` prints it.
    pub async fn delivery(&self, id: &str) -> Value {
        self.json(&["deliveries", "show", id]).await
    }

    /// The one delivery written for `action_id`; panics if there are more.
    pub async fn delivery_of(&self, action_id: &str) -> Value {
        let mine: Vec<Value> = self
            .deliveries()
            .await
            .into_iter()
            .filter(|d| d["action_id"] == action_id)
            .collect();
        assert_eq!(
            mine.len(),
            1,
            "deliveries for action {action_id}: {mine:#?}"
        );
        mine.into_iter().next().unwrap_or_default()
    }

    /// Waits until delivery `id` has `status` and returns `deliveries show`.
    pub async fn wait_for_status(&self, id: &str, status: &str) -> Value {
        eventually(&format!("delivery {id} to be {status}"), || async {
            let shown = self.delivery(id).await;
            (shown["delivery"]["status"] == status).then_some(shown)
        })
        .await
    }

    /// Waits until there are `count` deliveries, all with `status`;
    /// returns them.
    pub async fn wait_for_all(&self, count: usize, status: &str) -> Vec<Value> {
        let what = format!("{count} deliveries to be {status}");
        self.wait_for_deliveries(&what, |all| {
            all.len() == count && all.iter().all(|d| d["status"] == status)
        })
        .await
    }

    /// Waits until there are `count` deliveries, none still pending.
    pub async fn wait_for_all_finished(&self, count: usize) -> Vec<Value> {
        let what = format!("{count} deliveries to finish");
        self.wait_for_deliveries(&what, |all| {
            all.len() == count && all.iter().all(|d| d["status"] != "pending")
        })
        .await
    }

    async fn wait_for_deliveries(&self, what: &str, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        eventually(what, || async {
            let all = self.deliveries().await;
            done(&all).then_some(all)
        })
        .await
    }

    fn command(&self) -> Command {
        self.configure(Command::new(BIN))
    }

    /// `command`, which runs the binary, pointed at this data directory with
    /// a quiet, proxy-free environment.
    fn configure(&self, mut command: Command) -> Command {
        command
            .arg("--data-dir")
            .arg(self.path())
            .env("NO_COLOR", "1")
            .env_remove("CONTACTCMD_LOG");
        for var in PROXY_VARS {
            command.env_remove(var);
        }
        command
    }
}

/// Reads the `listening on http://...` line a server prints once it is bound.
async fn listening_address(child: &mut Child, log: &Path) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout);
    let mut line = String::new();
    let read = tokio::time::timeout(DEADLINE, lines.read_line(&mut line)).await;
    let base = line
        .trim()
        .rsplit_once(" on ")
        .map(|(_, url)| url.to_string());
    match (read, base) {
        (Ok(Ok(n)), Some(base)) if n > 0 && base.starts_with("http://") => {
            // Keep draining stdout so a chatty server can never block on it.
            tokio::spawn(async move { tokio::io::copy(&mut lines, &mut tokio::io::sink()).await });
            base
        }
        _ => panic!(
            "gateway serve did not report its address (got {line:?}); stderr:\n{}",
            read_log(log)
        ),
    }
}

fn read_log(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(DEADLINE)
        .build()
        .expect("HTTP client")
}

/// A running `gateway serve`, killed with SIGKILL if dropped.
pub struct Server {
    child: Child,
    pub base: String,
    log: PathBuf,
    http: reqwest::Client,
}

impl Server {
    pub fn pid(&self) -> u32 {
        self.child.id().expect("server still running")
    }

    /// What the server has written to stderr so far (its log lines).
    pub fn stderr(&self) -> String {
        read_log(&self.log)
    }

    /// Where the server's stderr goes; it outlives the server.
    pub fn log_path(&self) -> &Path {
        &self.log
    }

    /// Queues an SMS from `key` and returns the action id.
    pub async fn submit(&self, key: &Key, recipient: &str) -> String {
        let body = json!({"channel": "sms", "recipient_address": recipient, "body": "hi"});
        let response = self
            .http
            .post(format!("{}/gateway/send", self.base))
            .header("X-Gateway-Key", &key.plaintext)
            .json(&body)
            .send()
            .await
            .expect("POST /gateway/send");
        text(&success(response).await["action_id"])
    }

    /// Approves through the admin endpoint; returns the action as decided.
    pub async fn approve(&self, action_id: &str) -> Value {
        let url = format!("{}/gateway/queue/{action_id}/approve", self.base);
        let response = self.http.post(url).send().await.expect("POST approve");
        success(response).await
    }

    /// POSTs `approve` or `deny` for the action and returns the HTTP status,
    /// whatever it is, for tests where refusals are expected.
    pub async fn try_decide(&self, action_id: &str, verb: &str) -> reqwest::StatusCode {
        let url = format!("{}/gateway/queue/{action_id}/{verb}", self.base);
        let response = self.http.post(url).send().await.expect("POST decision");
        response.status()
    }

    /// Starts an approval without waiting for its answer, for a test that
    /// kills the server while the message is being sent.
    pub fn approve_in_background(&self, action_id: &str) -> tokio::task::JoinHandle<()> {
        let url = format!("{}/gateway/queue/{action_id}/approve", self.base);
        let http = self.http.clone();
        tokio::spawn(async move {
            let _ = http.post(url).send().await;
        })
    }

    /// Denies through the admin endpoint, with a reason if given.
    pub async fn deny(&self, action_id: &str, reason: Option<&str>) -> Value {
        let url = format!("{}/gateway/queue/{action_id}/deny", self.base);
        let request = match reason {
            Some(reason) => self.http.post(url).json(&json!({ "reason": reason })),
            None => self.http.post(url),
        };
        success(request.send().await.expect("POST deny")).await
    }

    /// SIGKILL, and reap the process so its pid is really gone.
    pub async fn kill9(mut self) {
        self.child.kill().await.expect("kill -9 the server");
    }

    /// SIGTERM, and wait for a clean exit.
    pub async fn stop(mut self) {
        let pid = libc::pid_t::try_from(self.pid()).expect("pid fits");
        // SAFETY: sends a signal to our own child process; no memory involved.
        let sent = unsafe { libc::kill(pid, libc::SIGTERM) };
        assert_eq!(sent, 0, "could not signal the server");
        let status = tokio::time::timeout(DEADLINE, self.child.wait())
            .await
            .expect("server stops within the deadline after SIGTERM")
            .expect("wait for the server");
        assert!(
            status.success(),
            "server exited with {status}: {}",
            self.stderr()
        );
    }
}

/// The `data` of a `{"success": true, ...}` answer; panics with the body
/// otherwise.
async fn success(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("JSON answer");
    assert!(
        status.is_success() && body["success"] == true,
        "request failed with {status}: {body}"
    );
    body["data"].clone()
}

/// A key with its webhook set to a fresh receiver: the starting point of
/// most tests.
pub struct Hooked {
    pub gateway: Gateway,
    pub receiver: Receiver,
    pub key: Key,
    pub secret: String,
}

impl Hooked {
    pub async fn new(config: &Config) -> Hooked {
        let gateway = Gateway::new(config);
        let receiver = Receiver::start();
        let key = gateway.add_key("agent").await;
        let secret = gateway
            .set_webhook(&key, &receiver.url())
            .await
            .expect("a key's first webhook creates its secret");
        Hooked {
            gateway,
            receiver,
            key,
            secret,
        }
    }
}

/// Looks at `probe` until it returns `Some`, failing the test after
/// [`DEADLINE`] with `what` it was waiting for.
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = tokio::time::Instant::now();
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(
            started.elapsed() < DEADLINE,
            "waited {DEADLINE:?} for {what}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// A JSON string's contents; panics if it is not a string.
pub fn text(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("expected a JSON string, got {value}"))
        .to_string()
}

/// A JSON array's items; panics if it is not an array.
pub fn array(value: Value) -> Vec<Value> {
    match value {
        Value::Array(items) => items,
        other => panic!("expected a JSON array, got {other}"),
    }
}
