//! The `command` transport: hands the message to a program of the
//! operator's choosing, as JSON on its standard input.
//!
//! Exit status 0 means sent; anything else means failed, with the program's
//! standard error as the reason. The program runs in a process group of its
//! own, and once it exits, times out or the gateway stops, every process
//! left in that group is killed: nothing it started may send the message
//! after the gateway has recorded an outcome.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

use super::{OutgoingMessage, SendError};

/// How much of a failing program's standard error is kept as the reason.
const MAX_ERROR_CHARS: usize = 1_000;

/// Bytes of standard error read to find those characters.
const MAX_ERROR_BYTES: u64 = 4 * MAX_ERROR_CHARS as u64;

/// How long the reason may take to arrive once the program has exited.
const STDERR_GRACE: Duration = Duration::from_secs(5);

/// Runs a configured program once per message.
#[derive(Debug)]
pub struct CommandTransport {
    argv: Vec<String>,
    timeout: Duration,
}

impl CommandTransport {
    /// `argv[0]` is the program, the rest its arguments.
    pub fn new(argv: Vec<String>, timeout: Duration) -> CommandTransport {
        CommandTransport { argv, timeout }
    }

    pub async fn send(&self, message: &OutgoingMessage) -> Result<(), SendError> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err("the command transport has an empty `command` in config.toml".into());
        };
        let input = serde_json::to_vec(message).map_err(|e| e.to_string())?;

        let run = run_program(program, args, message, input);
        match tokio::time::timeout(self.timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(SendError::from(format!(
                "{program} did not finish within {} s and was stopped",
                self.timeout.as_secs()
            ))),
        }
    }
}

async fn run_program(
    program: &str,
    args: &[String],
    message: &OutgoingMessage,
    input: Vec<u8>,
) -> Result<(), SendError> {
    let mut child = spawn(program, args, message)?;
    // Declared after `child`, so it is dropped first: on a timeout or a
    // shutdown the group is killed while the program is still unreaped.
    let group = ProcessGroup::of(&child);

    if let Some(mut stdin) = child.stdin.take() {
        // A program may exit without reading its input; its exit status decides.
        let _ = stdin.write_all(&input).await;
    }
    let stderr = child
        .stderr
        .take()
        .map(|pipe| tokio::spawn(read_reason(pipe)));
    let status = child
        .wait()
        .await
        .map_err(|e| format!("waiting for {program} failed: {e}"))?;
    // Whatever the program left running must not send anything after the
    // outcome is recorded; killing it also ends its hold on the stderr pipe.
    drop(group);

    let Some(reading) = stderr else {
        return outcome(program, status, &[]);
    };
    if status.success() {
        reading.abort();
        return Ok(());
    }
    // A process that left the group may still hold the pipe open.
    let stderr = tokio::time::timeout(STDERR_GRACE, reading).await;
    let stderr = stderr.ok().and_then(Result::ok).unwrap_or_default();
    outcome(program, status, &stderr)
}

fn outcome(
    program: &str,
    status: std::process::ExitStatus,
    stderr: &[u8],
) -> Result<(), SendError> {
    if status.success() {
        return Ok(());
    }
    Err(describe_failure(program, status, stderr).into())
}

/// Starts `program` in a process group of its own, so that it and every
/// process it starts can be stopped together.
fn spawn(
    program: &str,
    args: &[String],
    message: &OutgoingMessage,
) -> Result<tokio::process::Child, SendError> {
    let mut command = Command::new(program);
    command
        .args(args)
        .env("CONTACTCMD_ACTION_ID", &message.action_id)
        .env("CONTACTCMD_CHANNEL", message.channel.as_str())
        .env("CONTACTCMD_RECIPIENT", &message.recipient_address)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);
    command
        .spawn()
        .map_err(|e| SendError::from(format!("could not start {program}: {e}")))
}

/// Reads what the program says on standard error until it closes it,
/// keeping the first [`MAX_ERROR_BYTES`]: all that [`describe_failure`]
/// can use. The rest is read too, so the program is never stopped by a
/// full pipe.
async fn read_reason(mut pipe: tokio::process::ChildStderr) -> Vec<u8> {
    let mut kept = Vec::new();
    let _ = (&mut pipe)
        .take(MAX_ERROR_BYTES)
        .read_to_end(&mut kept)
        .await;
    let _ = tokio::io::copy(&mut pipe, &mut tokio::io::sink()).await;
    kept
}

/// The program's process group; every process still in it is killed when
/// this is dropped.
struct ProcessGroup {
    id: Option<i32>,
}

impl ProcessGroup {
    fn of(child: &tokio::process::Child) -> ProcessGroup {
        let id = child.id().and_then(|pid| i32::try_from(pid).ok());
        ProcessGroup { id }
    }
}

impl Drop for ProcessGroup {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(id) = self.id {
            // SAFETY: kill only sends a signal. The group id cannot name
            // another program's group while any process of this one is
            // alive, because Linux does not hand out a pid still in use as
            // a group id; once none is, this finds no process.
            unsafe {
                libc::kill(-id, libc::SIGKILL);
            }
        }
    }
}

fn describe_failure(program: &str, status: std::process::ExitStatus, stderr: &[u8]) -> String {
    let stderr = String::from_utf8_lossy(stderr);
    let stderr = stderr.trim();
    let how = match status.code() {
        Some(code) => format!("{program} exited with status {code}"),
        None => format!("{program} was killed by a signal"),
    };
    if stderr.is_empty() {
        return how;
    }
    let reason: String = stderr.chars().take(MAX_ERROR_CHARS).collect();
    format!("{reason} ({how})")
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::gateway::Channel;

    fn message() -> OutgoingMessage {
        OutgoingMessage {
            action_id: "01a23d72-d15a-76ec-9b61-43536daf53b1".into(),
            channel: Channel::Sms,
            recipient_address: "+15550100".into(),
            recipient_name: None,
            subject: None,
            body: "hi".into(),
            agent: "test".into(),
            created_at: "2026-12-03T19:47:44.627Z".into(),
        }
    }

    /// A transport running `script` under `sh`, after `sleep 300` has been
    /// started in the background and its pid written to `pid_file`.
    fn leaving_a_sleep(pid_file: &Path, script: &str, timeout: Duration) -> CommandTransport {
        let script = format!(
            "cat >/dev/null; sleep 300 & echo $! > '{}'; {script}",
            pid_file.display()
        );
        CommandTransport::new(vec!["/bin/sh".into(), "-c".into(), script], timeout)
    }

    /// Whether `pid` is a process that is still running (not a zombie).
    fn running(pid: &str) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        let state = stat
            .rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().next());
        state != Some("Z")
    }

    /// Waits until the process in `pid_file` has stopped running.
    async fn assert_stops(pid_file: &Path) {
        let pid = std::fs::read_to_string(pid_file)
            .unwrap()
            .trim()
            .to_string();
        for _ in 0..600 {
            if !running(&pid) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("process {pid}, started by the transport program, is still running");
    }

    #[tokio::test]
    async fn a_program_that_times_out_is_stopped_with_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("left");
        let transport = leaving_a_sleep(&pid_file, "sleep 300", Duration::from_secs(1));

        let error = transport.send(&message()).await.unwrap_err();

        assert!(
            error.reason().contains("did not finish within 1 s"),
            "{error}"
        );
        assert_stops(&pid_file).await;
    }

    #[tokio::test]
    async fn a_failing_program_leaves_nothing_running_and_gives_its_reason() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("left");
        // The background sleep shares the program's stderr: the reason can
        // arrive only once the sleep is gone too.
        let script = "echo carrier refused >&2; exit 3";
        let transport = leaving_a_sleep(&pid_file, script, Duration::from_secs(60));

        let error = transport.send(&message()).await.unwrap_err();

        assert!(error.reason().contains("carrier refused"), "{error}");
        assert!(error.reason().contains("exited with status 3"), "{error}");
        assert_stops(&pid_file).await;
    }

    #[tokio::test]
    async fn what_a_successful_program_leaves_running_is_stopped_too() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("left");
        let transport = leaving_a_sleep(&pid_file, "exit 0", Duration::from_secs(60));

        transport.send(&message()).await.unwrap();

        assert_stops(&pid_file).await;
    }

    #[tokio::test]
    async fn a_send_dropped_midway_stops_the_program_and_what_it_started() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("left");
        let started = dir.path().join("started");
        let script = format!("touch '{}'; sleep 300", started.display());
        let transport = leaving_a_sleep(&pid_file, &script, Duration::from_secs(60));

        let message = message();
        let mut sending = Box::pin(transport.send(&message));
        for _ in 0..600 {
            tokio::select! {
                outcome = &mut sending => panic!("the program finished: {outcome:?}"),
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
            if started.exists() {
                break;
            }
        }
        assert!(started.exists(), "the program never started");
        drop(sending);

        assert_stops(&pid_file).await;
    }
}
