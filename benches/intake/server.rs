//! Running the release `contactcmd` binary as the server under test.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{bail, Context};

/// The line the server prints once it is listening, before its address.
const LISTENING: &str = "contactcmd gateway listening on http://";

/// The `contactcmd` binary cargo built alongside this benchmark.
pub fn built_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_contactcmd"))
}

/// Creates an API key in `data_dir` and returns its plaintext.
pub fn add_key(binary: &Path, data_dir: &Path) -> anyhow::Result<String> {
    let output = Command::new(binary)
        .arg("--data-dir")
        .arg(data_dir)
        .args(["gateway", "keys", "add", "load-generator"])
        .output()
        .context("running `contactcmd gateway keys add`")?;
    if !output.status.success() {
        bail!(
            "`keys add` failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let key = String::from_utf8(output.stdout)?.trim().to_string();
    if !key.starts_with("gw_") {
        bail!("`keys add` printed {key:?}, not a key");
    }
    Ok(key)
}

/// A gateway serving on an ephemeral loopback port; killed when dropped.
pub struct Server {
    child: Child,
    addr: SocketAddr,
}

impl Server {
    /// Starts `binary`'s `gateway serve` on `data_dir` and waits until it
    /// listens.
    pub fn start(binary: &Path, data_dir: &Path) -> anyhow::Result<Server> {
        let stderr = File::create(data_dir.join("server.stderr"))?;
        let mut child = Command::new(binary)
            .arg("--data-dir")
            .arg(data_dir)
            .args(["gateway", "serve", "--bind", "127.0.0.1:0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .context("starting `contactcmd gateway serve`")?;

        let stdout = child.stdout.take().context("no stdout from the server")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let Some(addr) = line.trim().strip_prefix(LISTENING) else {
            let _ = child.kill();
            let log = std::fs::read_to_string(data_dir.join("server.stderr")).unwrap_or_default();
            bail!("the server did not start: {line:?}\n{log}");
        };
        let addr = addr.parse().context("parsing the server's address")?;
        Ok(Server { child, addr })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // SIGKILL on Unix; a server already killed by --kill-after just exits.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
