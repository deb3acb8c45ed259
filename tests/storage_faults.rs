//! The database becomes unusable under a running gateway
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
//! - the file system is read-only with no server running (the tmpfs
//!   remounted `ro`): commands that only read (`queue`, `keys list`,
//!   `history`) work and log to standard error, the ones that write and
//!   `serve` exit 1 naming the database; remounted `rw`, all work again;
//! - the kernel turns the file system read-only under a running server
//!   (an ext4 image mounted `errors=remount-ro`, then an ext4 error): sends
//!   get 503 while polls, health and `gateway queue` go on, `approve`
//!   exits 1 naming the database, SIGTERM still exits 0; after the file
//!   system is repaired and mounted again, a new server has exactly the
//!   acknowledged actions and serves.
//!
//! Not covered: a read-only fault that clears under the same running
//! server. Linux refuses `remount,ro` (and `remount,bind,ro`) while files
//! are open for writing, and an ext4 error clears only by unmounting. A
//! file moved away under a running server is not one either: SQLite
//! reports a moved database (SQLITE_READONLY_DBMOVED) only when it opens
//! a rollback journal, which never happens in WAL mode.
//!
//! The mount tests need root, `mount`, loop devices and e2fsprogs; see
//! `tests/common/mounts.rs` for what they do without them.

mod common;

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use common::mounts::Mount;
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
    let Some(_tmpfs) = Mount::tmpfs_or_skip(dir.data_dir(), "16m") else {
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
async fn on_a_read_only_file_system_reads_work_and_writes_fail_naming_the_database() {
    let dir = TestDir::new();
    let Some(tmpfs) = Mount::tmpfs_or_skip(dir.data_dir(), "16m") else {
        return;
    };
    let key = dir.add_key("agent").await;
    let server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "hi")).await;
    // Linux refuses to remount a file system read-only while a process has
    // files on it open for writing, as a running server does.
    assert!(server.stop().success());

    tmpfs.remount("ro").expect("remount read-only");
    let queue = dir.gateway(&["queue", "--json"]).await.success();
    assert_eq!(queue.json()[0]["action_id"], id.as_str(), "{queue:?}");
    assert!(
        queue.stderr.contains("logging to standard error only"),
        "{queue:?}"
    );
    dir.gateway(&["keys", "list"]).await.success();
    dir.gateway(&["history"]).await.success();
    assert_fails_naming(
        dir.gateway(&["keys", "add", "other"]).await,
        &dir.database(),
    );
    assert_fails_naming(dir.gateway(&["approve", &id]).await, &dir.database());
    let serve = dir.serve_expecting_failure().await;
    assert_fails_naming(serve, &dir.database());

    tmpfs.remount("rw").expect("remount read-write");
    let server = dir.start_server();
    assert_eq!(server.approve(&id).await.ok().data()["status"], "sent");
    server.send(&key, &sms("+15550100", "writable")).await.ok();
    dir.gateway(&["keys", "add", "other"]).await.success();
    assert!(server.stop().success());
}

#[tokio::test]
async fn a_file_system_the_kernel_turns_read_only_under_a_running_server_gives_503() {
    let dir = TestDir::new();
    let image = dir.scratch("ext4.img");
    let Some(ext4) = Mount::ext4_or_skip(&image, dir.data_dir(), "32M") else {
        return;
    };
    let key = dir.add_key("agent").await;
    let mut server = dir.start_server();
    let id = server.queue_message(&key, &sms("+15550100", "hi")).await;

    // With synchronous=NORMAL a commit is on its way to the disk, not on it:
    // the journal abort that comes with an ext4 error drops what was not
    // yet written back, as a power cut would (the README says so).
    ext4.sync();
    ext4.ext4_error();
    assert!(
        ext4.is_read_only(),
        "the kernel left the file system writable"
    );
    let accepted = send_until_refused(&server, &key).await;
    println!(
        "{} sends accepted after the file system turned read-only",
        accepted.len()
    );
    // Reads go on, in the server and in a command beside it.
    assert_eq!(
        server.poll(&key, &id).await.ok().data()["status"],
        "pending"
    );
    server.health().await.ok();
    let queue = dir.gateway(&["queue", "--json"]).await.success();
    assert_eq!(queue.json()[0]["action_id"], id.as_str(), "{queue:?}");
    assert_fails_naming(dir.gateway(&["approve", &id]).await, &dir.database());
    server.signal(libc::SIGTERM);
    assert!(server.wait_for_exit().success());

    // An ext4 error clears only by unmounting and repairing the file system.
    ext4.ext4_repair_and_remount();
    let server = dir.start_server();
    let after = server
        .queue_message(&key, &sms("+15550100", "repaired"))
        .await;
    assert_eq!(server.approve(&id).await.ok().data()["status"], "sent");
    let mut acknowledged = vec![id, after];
    acknowledged.extend(accepted);
    assert_stored_exactly(&dir, acknowledged);
    assert!(server.stop().success());
}
