//! Who listens on the address the console could not take. The port's
//! health endpoint tells a contactcmd from any other program; then, on
//! Linux, the listening socket is looked for among the open files of the
//! processes registered as dispatchers on this database, which tells
//! whether agents' messages sent there reach this database.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use super::model::PortHolder;
use crate::store::{dispatchers, Store};

/// How long the health endpoint gets to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Finds out who listens on `bind`. A serving process registers its
/// dispatcher before it listens, so one that answers is already listed.
pub async fn find(bind: SocketAddr, store: Arc<Store>) -> PortHolder {
    if !answers_as_gateway(bind).await {
        return PortHolder::OtherProgram;
    }
    look_up(bind.port(), &store).await.holder()
}

/// Where the listener was found.
enum Lookup {
    /// Held by this dispatcher process on our database.
    Ours(u32),
    /// Held by none of them.
    NotOurs,
    /// No way to tell (no /proc, or files we may not read).
    Unknown,
}

impl Lookup {
    fn holder(self) -> PortHolder {
        match self {
            Lookup::Ours(pid) => PortHolder::SameDatabase { pid },
            Lookup::NotOurs => PortHolder::OtherDatabase,
            Lookup::Unknown => PortHolder::Gateway,
        }
    }
}

/// Whether `GET /gateway/health` on `bind` answers as a contactcmd does.
async fn answers_as_gateway(bind: SocketAddr) -> bool {
    let client = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .no_proxy()
        .build();
    let Ok(client) = client else {
        return false;
    };
    let url = format!("http://{}/gateway/health", loopback(bind));
    let Ok(response) = client.get(url).send().await else {
        return false;
    };
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    let data = &body["data"];
    body["success"] == true && data["status"].is_string() && data["version"].is_string()
}

/// The address to reach a listener on `bind` from this machine.
fn loopback(bind: SocketAddr) -> SocketAddr {
    let ip = match bind.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, bind.port())
}

async fn look_up(port: u16, store: &Arc<Store>) -> Lookup {
    let store = store.clone();
    let looked = tokio::task::spawn_blocking(move || look_up_now(port, &store)).await;
    looked.unwrap_or(Lookup::Unknown)
}

fn look_up_now(port: u16, store: &Store) -> Lookup {
    let Some(socket) = listening_socket(port) else {
        return Lookup::Unknown;
    };
    let Ok(registered) = store.read(dispatchers::all) else {
        return Lookup::Unknown;
    };
    let me = std::process::id();
    let mut unreadable = false;
    for pid in registered.iter().map(|d| d.pid).filter(|&pid| pid != me) {
        match holds(pid, &socket) {
            Some(true) => return Lookup::Ours(pid),
            Some(false) => {}
            None => unreadable = true,
        }
    }
    if unreadable {
        Lookup::Unknown
    } else {
        Lookup::NotOurs
    }
}

/// The link target (`socket:[inode]`) of the TCP socket listening on `port`.
#[cfg(target_os = "linux")]
fn listening_socket(port: u16) -> Option<String> {
    const LISTEN: &str = "0A";
    let port = format!("{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .find_map(|table| {
            let text = std::fs::read_to_string(table).ok()?;
            text.lines().skip(1).find_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                let local_port = fields.get(1)?.rsplit(':').next()?;
                if fields.get(3) != Some(&LISTEN) || local_port != port {
                    return None;
                }
                Some(format!("socket:[{}]", fields.get(9)?))
            })
        })
}

#[cfg(not(target_os = "linux"))]
fn listening_socket(_port: u16) -> Option<String> {
    None
}

/// Whether process `pid` has `socket` open; `None` if its files can't be
/// read. A process that is gone (a stale registration) holds nothing.
fn holds(pid: u32, socket: &str) -> Option<bool> {
    let files = match std::fs::read_dir(format!("/proc/{pid}/fd")) {
        Ok(files) => files,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Some(false),
        Err(_) => return None,
    };
    let mut links = files
        .flatten()
        .filter_map(|file| std::fs::read_link(file.path()).ok());
    Some(links.any(|link| link.as_os_str() == socket))
}
