//! Console benchmark: the real binary in a real pseudo-terminal (tmux) over a
//! database with many pending actions, measured against the targets the
//! console was built to: the first frame showing the queue within 300 ms of
//! starting, a keypress (moving, typing a filter character) shown within
//! 16 ms, and under 100 MB resident.
//!
//! What each figure is, precisely:
//! - first frame: from just before `tmux new-session` (so tmux's own start
//!   is counted too) to the end of the first frame drawn with queue rows,
//!   read from the console's debug log; also from the console's first log
//!   line, which leaves out tmux and the process's exec.
//! - keypress to frame: from the moment the console read the key off the
//!   terminal (stamped by its input task, so a key waiting behind a frame
//!   counts the wait) to the end of the next frame. The time tmux takes to
//!   hand the key over is not in it.
//! - filter character to filtered rows: from reading the key to the end of
//!   the frame drawing the rows its fetch returned, for fetches the console
//!   took (answers to older fetches are dropped, and not counted). Each
//!   fetch counts and scans the whole queue, so no 16 ms target applies.
//! - resident memory: VmRSS and its peak VmHWM of the console process (not
//!   the shell or tmux) after all the keys.
//!
//! Run with `cargo bench --bench console` (needs tmux). `--pending N` sets
//! the queue size (default 100,000); `--repeat N` runs it N times on the
//! same database and prints each figure's median and range.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

const DEFAULT_PENDING: usize = 100_000;
const MOVES: usize = 60;
const PAUSE: Duration = Duration::from_millis(40);
/// Between filter characters: long enough for each one's scan to finish,
/// so every character has filtered rows to time.
const FILTER_PAUSE: Duration = Duration::from_millis(600);
const FILTER: [&str; 8] = ["p", "e", "r", "s", "o", "n", "4", "2"];

const FIRST_FRAME_MS: f64 = 300.0;
const KEY_MS: f64 = 16.0;
const RSS_MIB: f64 = 100.0;

fn main() {
    let pending = arg("--pending").unwrap_or(DEFAULT_PENDING);
    let repeat = arg("--repeat").unwrap_or(1).max(1);
    let binary = PathBuf::from(env!("CARGO_BIN_EXE_contactcmd"));
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path();

    println!("console benchmark: {pending} pending actions, {repeat} run(s)");
    let key_id = create_key(&binary, data);
    let filled = Instant::now();
    prefill(data, &key_id, pending);
    println!("prefilled in {:.1} s", filled.elapsed().as_secs_f64());

    let runs: Vec<Figures> = (1..=repeat)
        .map(|run| {
            let figures = measure(&binary, data, run);
            figures.print(&format!("run {run}"));
            figures
        })
        .collect();
    summary(&runs);
}

fn arg(name: &str) -> Option<usize> {
    let args: Vec<String> = std::env::args().collect();
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
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

/// One run's figures, times in milliseconds.
struct Figures {
    first_frame: f64,
    first_frame_in_process: f64,
    moves: Vec<f64>,
    filter_keys: Vec<f64>,
    filtered_rows: Vec<f64>,
    rss_mib: f64,
    peak_mib: f64,
}

/// Starts the console on `data`, presses the keys, reads the figures.
fn measure(binary: &Path, data: &Path, run: usize) -> Figures {
    let before = log_lines(data).len();
    let tmux = Tmux::new(data, run);
    let spawned = Utc::now();
    tmux.start(binary, data);
    let frame = wait_for_log(data, before, "first frame with the queue");
    let started = wait_for_log(data, before, "console starting");
    let first_frame = millis(log_time(&frame) - spawned);
    let first_frame_in_process = millis(log_time(&frame) - log_time(&started));

    let moves = timings(&tmux, data, &move_keys(), PAUSE, "frame after key");
    tmux.send("/");
    std::thread::sleep(PAUSE);
    let filtering = log_lines(data).len();
    let filter_keys = timings(&tmux, data, &FILTER, FILTER_PAUSE, "frame after key");
    let filtered_rows = values(
        &log_lines(data)[filtering..],
        "queue rows after key",
        "key_to_rows_us",
    );
    let (rss, peak) = tmux.memory_kib(data);
    tmux.send("Enter");
    tmux.send("q");
    Figures {
        first_frame,
        first_frame_in_process,
        moves,
        filter_keys,
        filtered_rows,
        rss_mib: rss as f64 / 1024.0,
        peak_mib: peak as f64 / 1024.0,
    }
}

fn millis(delta: chrono::TimeDelta) -> f64 {
    delta.num_microseconds().unwrap_or(i64::MAX) as f64 / 1000.0
}

/// Down a line at a time, with a page down, a jump to the end and back.
fn move_keys() -> Vec<&'static str> {
    let key = |n| match n % 20 {
        10 => "PageDown",
        15 => "G",
        19 => "g",
        _ => "j",
    };
    (0..MOVES).map(key).collect()
}

/// Presses `keys` `pause` apart; returns the `message` timings they caused.
fn timings(tmux: &Tmux, data: &Path, keys: &[&str], pause: Duration, message: &str) -> Vec<f64> {
    let before = log_lines(data).len();
    for key in keys {
        tmux.send(key);
        std::thread::sleep(pause);
    }
    std::thread::sleep(Duration::from_millis(500));
    values(&log_lines(data)[before..], message, "key_to_frame_us")
}

impl Figures {
    fn print(&self, title: &str) {
        println!("\n{title}");
        println!(
            "  first frame with the queue: {:.0} ms after spawn ({:.0} ms after the \
             console's first log line)",
            self.first_frame, self.first_frame_in_process
        );
        for (what, samples) in [
            ("keypress to frame, move", &self.moves),
            ("keypress to frame, filter char", &self.filter_keys),
            ("filter char to filtered rows", &self.filtered_rows),
        ] {
            match Stats::of(samples) {
                Some(stats) => println!("  {what}: {stats}"),
                None => println!("  {what}: no samples"),
            }
        }
        println!(
            "  resident memory: {:.1} MiB, peak {:.1} MiB",
            self.rss_mib, self.peak_mib
        );
    }
}

/// A sample's size and quantiles, in milliseconds.
struct Stats {
    count: usize,
    p50: f64,
    p99: f64,
    max: f64,
}

impl Stats {
    fn of(millis: &[f64]) -> Option<Stats> {
        let mut sorted = millis.to_vec();
        sorted.sort_by(f64::total_cmp);
        let last = sorted.len().checked_sub(1)?;
        let at = |q: f64| sorted[(last as f64 * q).round() as usize];
        Some(Stats {
            count: sorted.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: sorted[last],
        })
    }
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "n={} p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            self.count, self.p50, self.p99, self.max
        )
    }
}

/// Each figure's median and range over the runs, next to its target.
fn summary(runs: &[Figures]) {
    let p99 = |pick: fn(&Figures) -> &Vec<f64>| {
        let per_run = runs.iter().filter_map(|r| Stats::of(pick(r)));
        per_run.map(|s| s.p99).collect::<Vec<_>>()
    };
    let p50 = |pick: fn(&Figures) -> &Vec<f64>| {
        let per_run = runs.iter().filter_map(|r| Stats::of(pick(r)));
        per_run.map(|s| s.p50).collect::<Vec<_>>()
    };
    let each = |pick: fn(&Figures) -> f64| runs.iter().map(pick).collect::<Vec<_>>();

    println!("\nsummary over {} run(s): median (range)", runs.len());
    let rows: [(&str, Vec<f64>, Option<f64>, &str); 8] = [
        (
            "first frame after spawn",
            each(|r| r.first_frame),
            Some(FIRST_FRAME_MS),
            "ms",
        ),
        (
            "first frame after first log line",
            each(|r| r.first_frame_in_process),
            None,
            "ms",
        ),
        ("move key to frame, p50", p50(|r| &r.moves), None, "ms"),
        (
            "move key to frame, p99",
            p99(|r| &r.moves),
            Some(KEY_MS),
            "ms",
        ),
        (
            "filter char to frame, p50",
            p50(|r| &r.filter_keys),
            None,
            "ms",
        ),
        (
            "filter char to frame, p99",
            p99(|r| &r.filter_keys),
            Some(KEY_MS),
            "ms",
        ),
        (
            "filter char to filtered rows, p50",
            p50(|r| &r.filtered_rows),
            None,
            "ms",
        ),
        (
            "resident memory peak",
            each(|r| r.peak_mib),
            Some(RSS_MIB),
            "MiB",
        ),
    ];
    for (what, values, target, unit) in rows {
        println!("  {}", summary_line(what, &values, target, unit));
    }
}

/// "what: 12.3 ms (10.1-14.0) target 16 ms PASS".
fn summary_line(what: &str, values: &[f64], target: Option<f64>, unit: &str) -> String {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let Some(&median) = sorted.get(sorted.len() / 2) else {
        return format!("{what:<36} no samples");
    };
    let (low, high) = (sorted[0], sorted[sorted.len() - 1]);
    let verdict = match target {
        Some(target) if median <= target => format!("  target {target} {unit}  PASS"),
        Some(target) => format!("  target {target} {unit}  FAIL"),
        None => String::new(),
    };
    format!("{what:<36} {median:>8.2} {unit} ({low:.2}-{high:.2}){verdict}")
}

fn values(lines: &[String], message: &str, field: &str) -> Vec<f64> {
    let prefix = format!("{field}=");
    lines
        .iter()
        .filter(|line| line.contains(message))
        .filter_map(|line| {
            line.split_whitespace()
                .find_map(|word| word.strip_prefix(&prefix))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map(|micros| micros / 1000.0)
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

/// The first line after line `after` that contains `message`.
fn wait_for_log(data: &Path, after: usize, message: &str) -> String {
    let limit = Duration::from_secs(60);
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        let lines = log_lines(data);
        let found = lines.iter().skip(after).find(|l| l.contains(message));
        if let Some(line) = found {
            return line.clone();
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
    fn new(data: &Path, run: usize) -> Tmux {
        let name = data.file_name().and_then(|n| n.to_str()).unwrap_or("bench");
        Tmux {
            socket: format!("console-bench-{name}-{run}"),
        }
    }

    fn start(&self, binary: &Path, data: &Path) {
        // exec: the pane's process is then the console itself, not a shell.
        let command = format!(
            "exec env CONTACTCMD_LOG=contactcmd=debug {} --data-dir {} --bind 127.0.0.1:0",
            binary.display(),
            data.display()
        );
        let status = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null", "new-session", "-d"])
            .args(["-x", "120", "-y", "40", &command])
            .env_remove("TMUX")
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
    fn memory_kib(&self, data: &Path) -> (u64, u64) {
        let output = Command::new("tmux")
            .args(["-L", &self.socket, "display-message", "-p", "#{pane_pid}"])
            .output()
            .expect("tmux display-message");
        let pid = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let wanted = data.to_string_lossy();
        assert!(
            String::from_utf8_lossy(&cmdline).contains(wanted.as_ref()),
            "pid {pid} is not the console on {wanted}"
        );
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
