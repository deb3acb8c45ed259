//! Issue 5, point 6: the database becomes unusable under a running gateway
//! and then usable again.
//!
//! - another program holds the database locked (`BEGIN EXCLUSIVE`) past
//!   the 5 s busy timeout: a send gets 503 with a JSON error while reads
//!   still work, `gateway approve` and `keys add` exit 1 naming the
//!   database, and once the lock is released the same server serves again;
//! - the disk fills up (a small tmpfs as the data dir): sends are refused
//!   with 503 once the WAL's free space is used up (a few may still fit),
//!   the commands exit 1 naming the database; with space freed the same
//!   server recovers, and exactly the acknowledged sends are stored;
//! - the file system is read-only (the tmpfs remounted `ro`): the commands
//!   and `serve` exit 1 naming the path; remounted `rw`, all work again.
//!   Linux refuses to remount a file system read-only while a process
//!   holds files on it open for writing, as a running server does; that
//!   case is exercised only where the kernel allows the remount.
//!
//! The tmpfs tests need root and `mount`. Elsewhere they print SKIPPED and
//! pass, except under CI as root, where mounting is expected to work and a
//! failure to mount fails the test. They unmount on the way out, pass or
//! fail.

mod common;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use common::{sms, CliRun, Reply, Server, TestDir};

/// Asserts a refusal because the database cannot be used right now.
fn assert_storage_unavailable(reply: Reply) {
    let reply = reply.rejected(503, "storage_unavailable", &["database", "retry"]);
    assert!(reply.body["error"].is_string(), "{reply:?}");
}

/// Asserts a command failed with exit 1 and an error naming `path`, and
/// did not panic.
fn assert_fails_naming(run: CliRun, path: &Path) {
    let run = run
        .exit_code(1)
        .stderr_mentions(&[&path.display().to_string()]);
    assert!(!run.stderr.contains("panicked"), "{run:?}");
    println!("contactcmd {:?} said: {}", run.args, run.stderr.trim());
}

#[tokio::test]
async fn a_database_locked_by_another_program_gives_503_and_clear_cli_errors_then_recovers() {
    let dir = TestDir::new();
    let key = dir.add_key("agent").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "hi")).await;

    let locker = dir.db_for_writing();
    locker
        .execute_batch("BEGIN EXCLUSIVE")
        .expect("lock the database");
    let started = Instant::now();
    let message = sms("+15550100", "while locked");
    let approve = ["approve", id.as_str()];
    let (sent, added, approved, health) = tokio::join!(
        server.send(&key, &message),
        dir.gateway(&["keys", "add", "other"]),
        dir.gateway(&approve),
        server.health(),
    );
    println!(
        "with the database locked, refusals came after {:?}",
        started.elapsed()
    );
    assert_storage_unavailable(sent);
    assert_fails_naming(added, &dir.database());
    assert_fails_naming(approved, &dir.database());
    // Reads do not need the write lock (WAL), so they go on.
    health.ok();
    assert!(
        server.stderr().contains("database is locked"),
        "{}",
        server.stderr()
    );

    locker.execute_batch("ROLLBACK").expect("release the lock");
    drop(locker);
    server.send(&key, &sms("+15550100", "after")).await.ok();
    assert_eq!(server.approve(&id).await.ok().data()["status"], "sent");
    dir.gateway(&["keys", "add", "other"]).await.success();
    assert_eq!(dir.count_actions(), 2);
}

/// A tmpfs mounted on a test's data dir; unmounted when dropped.
struct Tmpfs {
    path: PathBuf,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (e.g. `8m`) on `path`, or says loudly why
    /// it cannot and returns `None` for the test to skip.
    fn mount_or_skip(path: &Path, size: &str, test: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).expect("create mount point");
        let options = format!("size={size},mode=0700");
        match mount(&["-t", "tmpfs", "-o", &options, "tmpfs"], path) {
            Ok(()) => Some(Tmpfs {
                path: path.to_path_buf(),
            }),
            Err(why) => {
                // SAFETY: geteuid has no preconditions.
                let root = unsafe { libc::geteuid() } == 0;
                assert!(
                    !(root && std::env::var_os("CI").is_some()),
                    "{test}: mounting a tmpfs failed under CI as root, where it should \
                     work: {why}"
                );
                eprintln!("SKIPPED {test}: cannot mount a tmpfs here: {why}");
                None
            }
        }
    }

    /// `mount -o remount,OPTION` on the tmpfs.
    fn remount(&self, option: &str) -> Result<(), String> {
        mount(&["-o", &format!("remount,{option}")], &self.path)
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount").arg(&self.path).status();
        if !unmounted.is_ok_and(|status| status.success()) {
            // Something still holds it; detach it so nothing is left behind.
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        }
    }
}

/// Runs `mount ARGS PATH`; the error says what mount printed.
fn mount(args: &[&str], path: &Path) -> Result<(), String> {
    let output = Command::new("mount")
        .args(args)
        .arg(path)
        .output()
        .map_err(|error| format!("running mount: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
}

/// Writes `path` until the file system is full; returns its size.
fn fill(path: &Path) -> u64 {
    let mut file = std::fs::File::create(path).expect("create filler");
    let mut written = 0u64;
    // Big pieces first, then smaller ones, so no usable byte is left.
    for piece in [1 << 20, 4096, 1] {
        let bytes = vec![0xa5u8; piece];
        while file.write_all(&bytes).is_ok() {
            written += piece as u64;
        }
    }
    let _ = file.sync_all();
    written
}

/// Most sends tried on a full disk before one must have been refused.
/// Right after the disk fills, a send may still fit: the background
/// checkpoint lets the next commits reuse the WAL's space, until they need
/// more than it has.
const FULL_DISK_TRIES: usize = 500;

/// Sends until one is refused with 503; returns the ids of those accepted
/// before it. Fails if every one of [`FULL_DISK_TRIES`] was accepted.
async fn send_until_refused(server: &Server, key: &str) -> Vec<String> {
    let mut accepted = Vec::new();
    for n in 0..FULL_DISK_TRIES {
        let reply = server
            .send(key, &sms("+15550100", &format!("disk full {n}")))
            .await;
        if reply.status != 200 {
            assert_storage_unavailable(reply);
            return accepted;
        }
        let id = reply.ok().data()["action_id"].as_str().map(str::to_string);
        accepted.push(id.expect("action_id in send reply"));
    }
    panic!("{FULL_DISK_TRIES} sends on a full disk were all accepted");
}

#[tokio::test]
async fn a_full_disk_gives_503_and_clear_cli_errors_then_recovers() {
    let dir = TestDir::new();
    let test = "a_full_disk_gives_503_and_clear_cli_errors_then_recovers";
    let Some(_tmpfs) = Tmpfs::mount_or_skip(dir.data_dir(), "16m", test) else {
        return;
    };
    let key = dir.add_key("agent").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "hi")).await;

    let filler = dir.data_dir().join("filler");
    let filled = fill(&filler);
    let accepted = send_until_refused(&server, &key).await;
    println!(
        "filled the data dir's file system with {filled} bytes; {} sends still fit before \
         the first 503",
        accepted.len()
    );
    assert_fails_naming(
        dir.gateway(&["keys", "add", "other"]).await,
        &dir.database(),
    );
    assert_fails_naming(dir.gateway(&["approve", &id]).await, &dir.database());
    server.health().await.ok();
    assert!(
        server.stderr().contains("disk is full"),
        "{}",
        server.stderr()
    );

    std::fs::remove_file(&filler).expect("free the space");
    let after = server
        .queue_message(&key, &sms("+15550100", "space again"))
        .await;
    assert_eq!(server.approve(&id).await.ok().data()["status"], "sent");
    dir.gateway(&["keys", "add", "other"]).await.success();

    // Exactly what was acknowledged is stored: the refused send is not.
    let mut acknowledged = vec![id, after];
    acknowledged.extend(accepted);
    assert_stored_exactly(&dir, acknowledged);
    assert!(server.stop().success());
}

/// Asserts the database holds exactly the actions `ids`.
fn assert_stored_exactly(dir: &TestDir, mut ids: Vec<String>) {
    let conn = dir.db();
    let mut statement = conn.prepare("SELECT id FROM actions").expect("prepare");
    let stored = statement.query_map([], |row| row.get::<_, String>(0));
    let mut stored: Vec<String> = stored.expect("query").map(|id| id.expect("id")).collect();
    ids.sort();
    stored.sort();
    assert_eq!(stored, ids, "stored actions vs acknowledged sends");
}

#[tokio::test]
async fn a_read_only_file_system_gives_clear_errors_then_recovers() {
    let dir = TestDir::new();
    let test = "a_read_only_file_system_gives_clear_errors_then_recovers";
    let Some(tmpfs) = Tmpfs::mount_or_skip(dir.data_dir(), "16m", test) else {
        return;
    };
    let key = dir.add_key("agent").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "hi")).await;

    match tmpfs.remount("ro") {
        Ok(()) => {
            let reply = server.send(&key, &sms("+15550100", "read-only")).await;
            assert_storage_unavailable(reply);
            tmpfs.remount("rw").expect("remount read-write");
            server.send(&key, &sms("+15550100", "writable")).await.ok();
        }
        Err(why) => println!(
            "remounting read-only under a running server was refused ({why}): the kernel \
             keeps a file system writable while files on it are open for writing"
        ),
    }
    assert!(server.stop().success());

    tmpfs
        .remount("ro")
        .expect("remount read-only with no server running");
    assert_fails_naming(dir.gateway(&["keys", "add", "other"]).await, dir.data_dir());
    assert_fails_naming(dir.gateway(&["approve", &id]).await, dir.data_dir());
    assert_fails_naming(dir.serve_expecting_failure().await, dir.data_dir());

    tmpfs.remount("rw").expect("remount read-write");
    let server = dir.start_server();
    assert_eq!(server.approve(&id).await.ok().data()["status"], "sent");
    server.send(&key, &sms("+15550100", "writable")).await.ok();
    dir.gateway(&["keys", "add", "other"]).await.success();
    assert!(server.stop().success());
}
