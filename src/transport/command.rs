//! The `command` transport: hands the message to a program of the
//! operator's choosing, as JSON on its standard input.
//!
//! Exit status 0 means sent; anything else means failed, with the program's
//! standard error as the reason.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use super::OutgoingMessage;

/// How much of a failing program's standard error is kept as the reason.
const MAX_ERROR_CHARS: usize = 1_000;

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

    pub async fn send(&self, message: &OutgoingMessage) -> Result<(), String> {
        let Some((program, args)) = self.argv.split_first() else {
            return Err("the command transport has an empty `command` in config.toml".into());
        };
        let input = serde_json::to_vec(message).map_err(|e| e.to_string())?;

        let run = run_program(program, args, message, input);
        match tokio::time::timeout(self.timeout, run).await {
            Ok(outcome) => outcome,
            Err(_) => Err(format!(
                "{program} did not finish within {} s and was stopped",
                self.timeout.as_secs()
            )),
        }
    }
}

async fn run_program(
    program: &str,
    args: &[String],
    message: &OutgoingMessage,
    input: Vec<u8>,
) -> Result<(), String> {
    let mut child = Command::new(program)
        .args(args)
        .env("CONTACTCMD_ACTION_ID", &message.action_id)
        .env("CONTACTCMD_CHANNEL", message.channel.as_str())
        .env("CONTACTCMD_RECIPIENT", &message.recipient_address)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start {program}: {e}"))?;

    if let Some(mut stdin) = child.stdin.take() {
        // A program may exit without reading its input; its exit status decides.
        let _ = stdin.write_all(&input).await;
    }
    let output = child
        .wait_with_output()
        .await
        .map_err(|e| format!("waiting for {program} failed: {e}"))?;

    if output.status.success() {
        return Ok(());
    }
    Err(describe_failure(program, output.status, &output.stderr))
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
