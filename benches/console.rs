//! Console benchmark: the real binary in a real pseudo-terminal (tmux) over a
//! database with many pending actions. Reports the time to the first frame
//! showing the queue, how long a keypress takes to reach the screen, how
//! long a filter keystroke takes to show filtered rows, and resident memory.
//!
//! Run with `cargo bench --bench console` (needs tmux). `--pending N` sets
//! the queue size (default 100,000).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

const DEFAULT_PENDING: usize = 100_000;
const MOVES: usize = 60;
const PAUSE: Duration = Duration::from_millis(40);

fn main() {
    let pending = pending_from_args();
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_contactcmd"));
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();

    println!("console benchmark: {pending} pending actions");
    let key_id = create_key(&binary, data);
    let filled = Instant::now();
    prefill(data, &key_id, pending);
    println!("prefilled in {:.1} s", filled.elapsed().as_secs_f64());

    let tmux = Tmux::new(data);
    let spawned = Utc::now();
    tmux.start(&binary, data);
    let log = wait_for_log(data, "first frame with the queue", Duration::from_secs(30));
    let first_frame = log_time(&log) - spawned;
    println!(
        "first frame with the queue: {} ms after spawn",
        first_frame.num_milliseconds()
    );

    let keys = press_keys(&tmux, data);
    report("keypress to frame (move)", &keys.moves);
    report("keypress to frame (filter char)", &keys.filter_keys);
    report("filter char to filtered rows drawn", &keys.filtered_rows);
    let (rss, peak) = tmux.memory_kib();
    println!(
        "resident memory: {} MiB now, {} MiB peak",
        rss / 1024,
        peak / 1024
    );
    tmux.send("q");
}

fn pending_from_args() -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == "--pending")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_PENDING)
}

fn create_key(binary: &Path, data: &Path) -> String {
    let output = Command::new(binary)
        .args(["--data-dir"])
        .arg(data)
        .args(["gateway", "--json", "keys", "add", "bench-agent"])
        .output()
        .expect("run keys add");
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("keys add json");
    json["id"].as_str().expect("key id").to_string()
}

/// Stores `count` pending actions straight through SQLite, in one transaction.
fn prefill(data: &Path, key_id: &str, count: usize) {
    let mut conn = Connection::open(data.join("gateway.db")).expect("open db");
    let tx = conn.transaction().expect("begin");
    {
        let mut insert = tx
            .prepare(
                "INSERT INTO actions (id, key_id, channel, recipient_address, recipient_name, \
                 subject, body, priority, status, created_at) \
                 VALUES (?1, ?2, 'email', ?3, ?4, ?5, ?6, 'normal', 'pending', ?7)",
            )
            .expect("prepare");
        let created = contactcmd::clock::now_text();
        for n in 0..count {
            let recipient = format!("person{n}@example.com");
            let subject = format!("Message number {n}");
            let body = format!("Hello person {n}, this is a benchmark message.");
            let id = contactcmd::clock::new_id();
            let name = format!("Person {n}");
            insert
                .execute(params![id, key_id, recipient, name, subject, body, created])
                .expect("insert");
        }
    }
    tx.commit().expect("commit");
}

struct Keys {
    moves: Vec<f64>,
    filter_keys: Vec<f64>,
    filtered_rows: Vec<f64>,
}

fn press_keys(tmux: &Tmux, data: &Path) -> Keys {
    let before = log_lines(data).len();
    for n in 0..MOVES {
        let key = match n % 20 {
            10 => "PageDown",
            15 => "G",
            19 => "g",
            _ => "j",
        };
        tmux.send(key);
        std::thread::sleep(PAUSE);
    }
    std::thread::sleep(Duration::from_millis(500));
    let moves = values(
        &log_lines(data)[before..],
        "frame after key",
        "key_to_frame_us",
    );

    let before = log_lines(data).len();
    tmux.send("/");
    std::thread::sleep(PAUSE);
    for ch in ["p", "e", "r", "s", "o", "n", "4", "2"] {
        tmux.send(ch);
        std::thread::sleep(Duration::from_millis(400));
    }
    std::thread::sleep(Duration::from_millis(1500));
    let lines = &log_lines(data)[before..];
    Keys {
        moves,
        filter_keys: values(lines, "frame after key", "key_to_frame_us"),
        filtered_rows: values(lines, "frame after queue rows", "since_key_us"),
    }
}

fn report(what: &str, micros: &[f64]) {
    if micros.is_empty() {
        println!("{what}: no samples");
        return;
    }
    let mut sorted = micros.to_vec();
    sorted.sort_by(f64::total_cmp);
    let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize] / 1000.0;
    println!(
        "{what}: n={} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        sorted.len(),
        at(0.5),
        at(0.99),
        sorted[sorted.len() - 1] / 1000.0
    );
}

fn values(lines: &[String], message: &str, field: &str) -> Vec<f64> {
    let prefix = format!("{field}=");
    lines
        .iter()
        .filter(|line| line.contains(message))
        .filter_map(|line| {
            line.split_whitespace()
                .find_map(|word| word.strip_prefix(&prefix))
                .and_then(|v| v.parse().ok())
        })
        .collect()
}

fn log_lines(data: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(data.join("logs")) else {
        return Vec::new();
    };
    let mut text = String::new();
    for entry in entries.flatten() {
        text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
    }
    text.lines().map(str::to_string).collect()
}

fn wait_for_log(data: &Path, message: &str, limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Some(line) = log_lines(data).into_iter().find(|l| l.contains(message)) {
            return line;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no {message:?} in the log within {limit:?}");
}

fn log_time(line: &str) -> DateTime<Utc> {
    let stamp = line.split_whitespace().next().expect("timestamp");
    DateTime::parse_from_rfc3339(stamp)
        .expect("rfc3339 timestamp")
        .with_timezone(&Utc)
}

/// A private tmux server running the console.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new(data: &Path) -> Tmux {
        let name = data.file_name().and_then(|n| n.to_str()).unwrap_or("bench");
        Tmux {
            socket: format!("console-bench-{name}"),
        }
    }

    fn start(&self, binary: &Path, data: &Path) {
        let command = format!(
            "CONTACTCMD_LOG=contactcmd=debug {} --data-dir {} --bind 127.0.0.1:0",
            binary.display(),
            data.display()
        );
        let status = Command::new("tmux")
            .args([
                "-L",
                &self.socket,
                "new-session",
                "-d",
                "-x",
                "120",
                "-y",
                "40",
                &command,
            ])
            .status()
            .expect("tmux (install it to run this benchmark)");
        assert!(status.success(), "tmux could not start the console");
    }

    fn send(&self, key: &str) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "send-keys", key])
            .status();
    }

    /// (VmRSS, VmHWM) of the console process, in KiB.
    fn memory_kib(&self) -> (u64, u64) {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "display-message", "-p", "#{pane_pid}"])
            .output()
            .expect("tmux display-message");
        let pid = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}
