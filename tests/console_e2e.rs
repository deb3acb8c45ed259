//! The real `contactcmd` console in a real pseudo-terminal: tmux runs it
//! against a temp data dir and an ephemeral port, the test types with
//! `send-keys` and reads the screen with `capture-pane`, an agent's message
//! arrives over HTTP, and a loopback receiver takes the webhook.
//!
//! The console runs under `sh -c '...; stty -a > FILE; echo EXITED $code'`
//! so that after it quits the test can see its exit code, whether the
//! alternate screen was left, and whether the terminal's modes came back.
//!
//! Nothing waits a fixed time: every step polls the screen until the text
//! it expects appears, or fails after a generous deadline showing the screen.
//! Each test has its own tmux server (`-S` socket in its temp dir), so tests
//! run in parallel.

#[path = "common/skip.rs"]
mod skip;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long to wait for any one thing to appear; long because CI machines
/// are slow and shared, and a pass never waits this long.
const DEADLINE: Duration = Duration::from_secs(20);

/// How often the screen is read while waiting.
const POLL: Duration = Duration::from_millis(50);

const WIDTH: &str = "100";
const HEIGHT: &str = "30";

/// Whether the tests can run here; fails loudly on CI, where they must.
fn tmux_available() -> bool {
    let found = Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|out| out.status.success());
    if !found {
        skip::skip_or_fail(
            "tmux is not installed: install it (apt-get install tmux); .ci/run does",
        );
    }
    found
}

/// A tmux server of its own with one session, killed when dropped.
struct Tmux {
    /// The server's socket, in the test's temp dir so it goes with it.
    socket: PathBuf,
}

impl Tmux {
    /// Starts `sh -c script` in a detached WIDTH×HEIGHT session whose server
    /// listens on a socket in `dir`.
    fn start(dir: &Path, script: &str) -> Tmux {
        let tmux = Tmux {
            socket: dir.join("tmux.sock"),
        };
        let size = ["-x", WIDTH, "-y", HEIGHT];
        let session = ["new-session", "-d", "-s", "console"];
        let args = [&session[..], &size[..], &["sh", "-c", script]].concat();
        tmux.run(&args);
        tmux
    }

    /// Runs a tmux command on this server and returns its output.
    fn run(&self, args: &[&str]) -> Output {
        let output = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(["-f", "/dev/null"])
            .args(args)
            // A tmux running these tests must not become the server we talk to.
            .env_remove("TMUX")
            .output()
            .expect("tmux runs");
        let error = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "tmux {args:?} failed: {error}");
        output
    }

    /// Presses keys by tmux name: "a", "Enter", "C-u", "Escape".
    fn keys(&self, keys: &[&str]) {
        self.run(&[&["send-keys", "-t", "console"], keys].concat());
    }

    /// Types `text` literally.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "console", "-l", text]);
    }

    fn screen(&self) -> String {
        let output = self.run(&["capture-pane", "-p", "-t", "console"]);
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Waits until the screen shows `text`; returns that screen.
    fn wait_for(&self, text: &str) -> String {
        self.wait_until(&format!("{text:?} on screen"), |screen| {
            screen.contains(text)
        })
    }

    /// Waits until `ready` holds for the screen, failing with the last screen.
    fn wait_until(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "waited {DEADLINE:?} for {what}; the screen was:\n{screen}"
            );
            thread::sleep(POLL);
        }
    }

    /// Whether the pane is on the alternate screen.
    fn alternate_on(&self) -> bool {
        let output = self.run(&["display-message", "-p", "-t", "console", "#{alternate_on}"]);
        String::from_utf8_lossy(&output.stdout).trim() == "1"
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        // Best effort: the server may have gone already.
        let _ = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .arg("kill-server")
            .env_remove("TMUX")
            .output();
    }
}

/// A data dir with an API key for mail-bot, and a port for the API.
struct Setup {
    dir: TempDir,
    api_key: String,
    port: u16,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("a temp dir");
    let api_key = add_key(dir.path(), "mail-bot");
    Setup {
        dir,
        api_key,
        port: free_port(),
    }
}

/// A `contactcmd --headless` serving the API, killed when dropped.
struct Headless(Child);

impl Headless {
    /// Starts one on `setup`'s data dir and port and waits until it answers.
    fn start(setup: &Setup) -> Headless {
        let child = Command::new(binary())
            .arg("--data-dir")
            .arg(setup.dir.path())
            .args(["--headless", "--bind", &format!("127.0.0.1:{}", setup.port)])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("contactcmd --headless starts");
        let headless = Headless(child);
        let start = Instant::now();
        while request(setup.port, "GET /gateway/health", "", "").is_none() {
            assert!(
                start.elapsed() < DEADLINE,
                "the headless server never answered"
            );
            thread::sleep(POLL);
        }
        headless
    }
}

impl Drop for Headless {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The console under test: its terminal, data dir and API port.
struct Console {
    /// The fields drop in this order: the console is stopped, then any
    /// headless server beside it, then their data dir is removed.
    tmux: Tmux,
    _headless: Option<Headless>,
    dir: TempDir,
    port: u16,
    api_key: String,
}

impl Console {
    /// Opens the console on a fresh data dir and waits until it serves the API.
    fn start() -> Console {
        let console = Console::open(setup(), None);
        console.wait_until_serving();
        console
    }

    fn wait_until_serving(&self) {
        self.wait_for(&format!("API http://127.0.0.1:{}", self.port));
    }

    /// Opens the console in tmux on `setup`, beside an optional headless server.
    fn open(setup: Setup, headless: Option<Headless>) -> Console {
        Console::open_with(setup, headless, "")
    }

    /// Opens the console with `env` ("NAME=value ...") in its environment.
    fn open_with(setup: Setup, headless: Option<Headless>, env: &str) -> Console {
        let script = console_script(setup.dir.path(), setup.port, env);
        Console {
            tmux: Tmux::start(setup.dir.path(), &script),
            _headless: headless,
            dir: setup.dir,
            port: setup.port,
            api_key: setup.api_key,
        }
    }

    fn wait_for(&self, text: &str) -> String {
        self.tmux.wait_for(text)
    }

    fn wait_until(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.tmux.wait_until(what, ready)
    }

    fn keys(&self, keys: &[&str]) {
        self.tmux.keys(keys);
    }

    /// Queues an SMS as an agent would; returns its action id.
    fn send_sms(&self, recipient: &str, body: &str) -> String {
        let json = serde_json::json!({
            "channel": "sms",
            "recipient_address": recipient,
            "body": body,
        });
        let answer = self.api("POST /gateway/send", &json.to_string());
        let id = answer["data"]["action_id"].as_str();
        id.unwrap_or_else(|| panic!("no action id in {answer}"))
            .to_string()
    }

    /// The status of action `id`, as its agent would see it.
    fn status_of(&self, id: &str) -> String {
        let answer = self.api(&format!("GET /gateway/actions/{id}"), "");
        let status = answer["data"]["status"].as_str();
        status
            .unwrap_or_else(|| panic!("no status in {answer}"))
            .to_string()
    }

    /// What the API answers an agent with mail-bot's key.
    fn api(&self, line: &str, body: &str) -> serde_json::Value {
        let answer = request(self.port, line, &self.api_key, body);
        let answer = answer.unwrap_or_else(|| panic!("{line} failed"));
        serde_json::from_str(&answer).expect("a JSON answer")
    }

    /// Waits for the shell to report the console's exit, then checks the
    /// terminal is back to normal: main screen, line editing and echo on,
    /// and nothing printed on it (logs go to the data dir).
    fn assert_exited_cleanly(&self) {
        let screen = self.assert_terminal_restored();
        assert_eq!(screen.trim(), "EXITED 0", "the console exited uncleanly");
        let logs = std::fs::read_dir(self.dir.path().join("logs")).expect("a log dir");
        assert!(logs.count() > 0, "the console logged nowhere");
    }

    /// Waits for the shell to report the console's exit and checks the main
    /// screen, line editing and echo are back; returns the screen.
    fn assert_terminal_restored(&self) -> String {
        let screen = self.wait_for("EXITED");
        assert!(!self.tmux.alternate_on(), "still on the alternate screen");
        let stty = std::fs::read_to_string(self.dir.path().join("stty.txt")).expect("stty -a");
        let modes: Vec<&str> = stty.split_whitespace().collect();
        for mode in ["icanon", "echo"] {
            assert!(modes.contains(&mode), "{mode} is not restored:\n{stty}");
        }
        screen
    }

    /// The console's process id, found by its unique data dir.
    fn pid(&self) -> String {
        let entries = std::fs::read_dir("/proc").expect("/proc");
        let names = entries.flatten().map(|entry| entry.file_name());
        let mut pids = names.filter_map(|name| name.into_string().ok());
        let found = pids.find(|pid| runs_console_in(pid, self.dir.path()));
        found.expect("the console's process")
    }
}

/// Whether process `pid` is a console on `dir` (not the shell around it,
/// whose script names the same dir).
fn runs_console_in(pid: &str, dir: &Path) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let args: Vec<&[u8]> = cmdline.split(|&byte| byte == 0).collect();
    let dir = dir.to_string_lossy();
    args.get(1..3) == Some(&[&b"--data-dir"[..], dir.as_bytes()][..])
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_contactcmd")
}

/// Single-quotes `text` for sh.
fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// The console with `env` set, then what the test inspects after it exits.
fn console_script(dir: &Path, port: u16, env: &str) -> String {
    let dir_text = dir.to_string_lossy();
    let stty = dir.join("stty.txt");
    format!(
        "{env} {} --data-dir {} --bind 127.0.0.1:{port}; code=$?; stty -a > {}; \
         echo \"EXITED $code\"; sleep 30",
        quoted(binary()),
        quoted(&dir_text),
        quoted(&stty.to_string_lossy())
    )
}

/// Creates an API key with the headless CLI; returns its plaintext.
fn add_key(dir: &Path, name: &str) -> String {
    let output = Command::new(binary())
        .arg("--data-dir")
        .arg(dir)
        .args(["gateway", "keys", "add", name])
        .output()
        .expect("contactcmd runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "keys add failed: {stderr}");
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A loopback port free a moment ago. Another process could take it before
/// the console binds it; the console then says so and the test times out
/// showing that screen.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("its address").port()
}

/// Sends `line` ("POST /gateway/send") with `body` to the API on `port`;
/// the response body if it was a 200, `None` if it could not be reached.
fn request(port: u16, line: &str, key: &str, body: &str) -> Option<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    let request = format!(
        "{line} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Gateway-Key: {key}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let (head, body) = response.split_once("\r\n\r\n")?;
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "the API refused {line}: {response}"
    );
    Some(body.to_string())
}

/// Denies action `id` from another process, as a script would.
fn deny_with_cli(dir: &Path, id: &str) {
    let output = Command::new(binary())
        .arg("--data-dir")
        .arg(dir)
        .args(["gateway", "deny", id])
        .output()
        .expect("contactcmd runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "gateway deny failed: {stderr}");
}

/// A webhook receiver on a loopback port that answers 200 to everything
/// and hands each request (head and body) to the test.
struct Receiver {
    url: String,
    requests: mpsc::Receiver<String>,
}

impl Receiver {
    fn start() -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let url = format!(
            "http://{}/hook",
            listener.local_addr().expect("its address")
        );
        let (sender, requests) = mpsc::channel();
        // The thread stays blocked in accept until the test process ends.
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(request) = answer_ok(&stream) {
                    if sender.send(request).is_err() {
                        return;
                    }
                }
            }
        });
        Receiver { url, requests }
    }

    fn next(&self) -> String {
        let request = self.requests.recv_timeout(DEADLINE);
        request.expect("a webhook within the deadline")
    }
}

/// Reads one HTTP request and answers 200.
fn answer_ok(mut stream: &TcpStream) -> Option<String> {
    stream.set_read_timeout(Some(DEADLINE)).ok()?;
    let mut reader = BufReader::new(stream);
    let mut request = String::new();
    let mut length = 0;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        if line.trim().is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().ok()?;
        }
        request.push_str(&line);
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    request.push_str(&String::from_utf8_lossy(&body));
    let reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    stream.write_all(reply.as_bytes()).ok()?;
    Some(request)
}

/// Sets mail-bot's webhook from the Keys tab, after seeing a bad URL refused.
fn set_webhook(console: &Console, url: &str) {
    console.keys(&["2"]);
    console.wait_for("Keys (1)");
    console.keys(&["w"]);
    console.wait_for("Webhook for mail-bot");

    console.tmux.type_text("ftp://127.0.0.1/hook");
    console.keys(&["Enter"]);
    console.wait_for("uses scheme \"ftp\"");

    console.keys(&["C-u"]);
    console.tmux.type_text(url);
    console.keys(&["Enter"]);
    console.wait_for(&format!("Webhook of mail-bot set to {url}"));
}

#[test]
fn queue_approve_webhook_and_quit_in_a_real_terminal() {
    if !tmux_available() {
        return;
    }
    let receiver = Receiver::start();
    let console = Console::start();
    console.wait_for("No messages waiting");

    // No key is pressed: the console notices the new action by itself.
    let id = console.send_sms("+15550100", "Lunch at noon?");
    console.wait_for("+15550100");
    console.wait_for("1 pending");

    set_webhook(&console, &receiver.url);

    console.keys(&["1"]);
    console.wait_for("Lunch at noon?");
    console.keys(&["a"]);
    console.wait_for("Queue (0)");
    console.wait_for("✓ mail-bot 200");
    let webhook = receiver.next();
    assert!(
        webhook.contains(&id),
        "the webhook names the action: {webhook}"
    );
    assert!(webhook.contains("action.sent"), "{webhook}");

    console.keys(&["2"]);
    console.wait_for("Keys (1)");
    console.keys(&["t"]);
    console.wait_for("Test ping to mail-bot: 200 in");
    let ping = receiver.next();
    assert!(ping.contains("\"type\":\"ping\""), "{ping}");

    console.keys(&["x"]);
    console.wait_for("Remove the webhook of");
    console.keys(&["y"]);
    console.wait_for("Webhook of mail-bot removed.");

    console.keys(&["q"]);
    console.assert_exited_cleanly();
}

#[test]
fn sigterm_restores_the_terminal_and_exits_0() {
    if !tmux_available() {
        return;
    }
    let console = Console::start();
    console.wait_for("No messages waiting");

    let status = Command::new("kill")
        .args(["-TERM", &console.pid()])
        .status()
        .expect("kill runs");
    assert!(status.success());

    console.assert_exited_cleanly();
}

#[test]
fn a_panic_in_the_console_gives_the_terminal_back_with_the_message() {
    if !tmux_available() {
        return;
    }
    // No backtrace, so the message itself stays on the 30-line screen.
    let hook = "RUST_BACKTRACE=0 CONTACTCMD_CONSOLE_PANIC_ON_KEY=%";
    let console = Console::open_with(setup(), None, hook);
    console.wait_until_serving();
    console.wait_for("No messages waiting");

    console.tmux.type_text("%");

    let screen = console.assert_terminal_restored();
    assert!(
        screen.contains("test hook: panicking on the UI thread"),
        "the panic message is not readable:\n{screen}"
    );
    assert!(screen.contains("EXITED 101"), "{screen}");
    assert!(
        !screen.contains("Queue ("),
        "the console's screen is left:\n{screen}"
    );
    // Its dispatcher stopped as on a normal quit, handing back its leases
    // and its registration, instead of leaving them to run out.
    let db = rusqlite::Connection::open(console.dir.path().join("gateway.db")).expect("database");
    let registered: u32 = db
        .query_row("SELECT count(*) FROM dispatchers", [], |row| row.get(0))
        .expect("count dispatchers");
    assert_eq!(
        registered, 0,
        "the panicked console's dispatcher is still registered"
    );
}

#[test]
fn esc_closes_help_and_ctrl_c_quits_from_it() {
    if !tmux_available() {
        return;
    }
    let console = Console::start();
    console.keys(&["?"]);
    console.wait_for("Everywhere");

    // Waiting for the help to go is also the pause that keeps the next key
    // from reaching the console glued to Escape, as Alt+key.
    console.keys(&["Escape"]);
    console.wait_until("help to close", |screen| {
        !screen.contains("Everywhere") && screen.contains("1 Queue")
    });
    console.keys(&["?"]);
    console.wait_for("Everywhere");

    console.keys(&["C-c"]);

    console.assert_exited_cleanly();
}

#[test]
fn beside_a_headless_server_the_console_follows_the_shared_database() {
    if !tmux_available() {
        return;
    }
    let setup = setup();
    let headless = Headless::start(&setup);
    let pid = headless.0.id();
    let console = Console::open(setup, Some(headless));
    // The console finds the port's holder among this database's processes.
    console.wait_for(&format!("API served by pid {pid}, same db"));

    // They arrive through the other process; the console sees its commits.
    let keep = console.send_sms("+15550111", "Deny me here");
    let other = console.send_sms("+15550122", "Deny me elsewhere");
    console.wait_for("Queue (2)");

    // The older one is selected, then a newer one arrives above both: the
    // selection stays on the message, not on the second row.
    console.keys(&["j"]);
    let newest = console.send_sms("+15550133", "Arrived last");
    console.wait_for("Queue (3)");
    console.keys(&["d"]);
    console.wait_for("Reason, for the agent");
    console.tmux.type_text("not now");
    console.keys(&["Enter"]);
    console.wait_for("Queue (2)");
    assert_eq!(console.status_of(&keep), "denied");
    assert_eq!(console.status_of(&other), "pending");

    deny_with_cli(console.dir.path(), &other);
    console.wait_until("the row denied elsewhere to leave", |screen| {
        screen.contains("Queue (1)") && !screen.contains("Deny me elsewhere")
    });
    assert_eq!(console.status_of(&newest), "pending");

    console.keys(&["q"]);
    console.assert_exited_cleanly();
}

#[test]
fn the_console_redraws_to_fit_a_resized_terminal() {
    if !tmux_available() {
        return;
    }
    let console = Console::start();
    console.wait_for("No messages waiting");

    console
        .tmux
        .run(&["resize-window", "-t", "console", "-x", "80", "-y", "24"]);

    let fits = |screen: &str| {
        let lines: Vec<&str> = screen.lines().collect();
        let box_top = lines
            .get(1)
            .map_or(0, |line| line.trim_end().chars().count());
        let status = lines
            .get(21)
            .is_some_and(|line| line.starts_with("0 pending") && line.contains("API http://"));
        box_top == 80 && status
    };
    console.wait_until("the console redrawn at 80×24", fits);

    console.keys(&["q"]);
    console.assert_exited_cleanly();
}

#[test]
fn a_gateway_on_another_database_holding_the_port_is_named_as_such() {
    if !tmux_available() {
        return;
    }
    let elsewhere = setup();
    let other = Headless::start(&elsewhere);
    let here = Setup {
        port: elsewhere.port,
        ..setup()
    };
    let console = Console::open(here, Some(other));

    console.wait_for("API OFF: port used for other db");
    console.keys(&["?"]);
    console.wait_for("a contactcmd on another database");

    console.keys(&["Escape"]);
    console.wait_until("help to close", |screen| !screen.contains("Everywhere"));
    console.keys(&["q"]);
    console.assert_exited_cleanly();
}

#[test]
fn a_port_held_by_another_program_is_named_as_such() {
    if !tmux_available() {
        return;
    }
    let setup = setup();
    let listener = TcpListener::bind(("127.0.0.1", setup.port)).expect("the port is still free");
    // A web server of some other kind: it answers every request with a 404.
    thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0; 1024];
            let _ = stream.read(&mut request);
            let reply = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found";
            let _ = stream.write_all(reply.as_bytes());
        }
    });
    let console = Console::open(setup, None);

    console.wait_for("API OFF: port used by other app");
    // The console still works on its own database.
    console.wait_for("No messages waiting");
    console.keys(&["q"]);
    console.assert_exited_cleanly();
}

/// Makes SMS go through a program that waits until `gate` exists, so a
/// send takes exactly as long as the test wants.
fn hold_sms_until(dir: &Path, gate: &Path) {
    let script = r#"while [ ! -e "$0" ]; do sleep 0.05; done; cat > /dev/null"#;
    let config = format!(
        "[transport.sms]\nkind = \"command\"\ncommand = ['sh', '-c', '{script}', '{}']\n",
        gate.to_string_lossy()
    );
    std::fs::write(dir.join("config.toml"), config).expect("config.toml is written");
}

#[test]
fn a_slow_send_runs_in_the_background_and_shows_its_outcome() {
    if !tmux_available() {
        return;
    }
    let setup = setup();
    let gate = setup.dir.path().join("release-the-send");
    hold_sms_until(setup.dir.path(), &gate);
    let console = Console::open(setup, None);
    console.wait_until_serving();
    console.send_sms("+15550133", "Slow one");
    console.wait_for("Slow one");

    console.keys(&["a"]);
    console.wait_for("sending…");
    // The console still answers keys while the transport holds the send.
    console.keys(&["2"]);
    console.wait_for("Keys (1)");
    console.keys(&["1"]);
    console.wait_for("sending…");

    std::fs::write(&gate, "").expect("the gate opens");
    console.wait_for("✓ sent");
    console.wait_for("Queue (0)");

    console.keys(&["q"]);
    console.assert_exited_cleanly();
}
