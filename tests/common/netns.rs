//! Private network namespaces, for tests that need a client which is not on
//! the gateway's loopback. Test traffic may go only to loopback or to hosts
//! in namespaces the test itself creates, never to this machine's real
//! interfaces, so such a test runs the server inside a [`Netns`] of its own
//! and reaches it from the root namespace over a veth pair: to the server,
//! that client is a remote host. A client that should count as local runs
//! inside the namespace through [`Netns::request`] and uses its loopback.
//!
//! Making a namespace needs root and iproute2's `ip`;
//! [`Netns::create_or_skip`] says what to do when they are missing.

use std::fs::File;
use std::future::Future;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, PoisonError};

use super::Endpoint;

/// Where `ip netns add` pins namespaces, by name.
const NETNS_DIR: &str = "/var/run/netns";

/// The namespace's end of the veth pair. The name only has to be unique
/// inside the namespace, and the namespace is ours alone.
const INSIDE_LINK: &str = "ccgw-in";

/// The IPv4 range the namespaces' /30 subnets come from.
const V4_RANGE: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 0);

/// How many /30 subnets fit in the /16 of [`V4_RANGE`].
const V4_SUBNETS: u32 = 1 << 14;

/// Serialises choosing a free IPv4 subnet and taking it, so that two tests
/// of this process never pick the same one.
static V4_CHOICE: Mutex<()> = Mutex::new(());

/// A namespace joined to the root namespace by a veth pair, deleted (with
/// the pair) when dropped. Drop any server running inside it first.
pub struct Netns {
    name: String,
    host_link: String,
    /// The root namespace's end of the pair.
    pub host_v4: Ipv4Addr,
    /// The namespace's end: the test host's address that root-namespace
    /// clients reach.
    pub inside_v4: Ipv4Addr,
    /// The namespace's end over IPv6, if this kernel gives the namespace
    /// IPv6.
    pub inside_v6: Option<Ipv6Addr>,
}

impl Netns {
    /// A new namespace, or `None` after a loud `SKIPPED` line when this
    /// machine cannot make one (not root, or no `ip`). With `CI` set it
    /// fails the test instead, so the coverage cannot quietly vanish there.
    pub fn create_or_skip() -> Option<Netns> {
        let Some(missing) = missing_prerequisite() else {
            return Some(Netns::create());
        };
        super::skip::skip_or_fail(&format!(
            "needs a network namespace, but {missing}; run it as root with iproute2 installed"
        ));
        None
    }

    /// The namespace's name, for `ip netns exec`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Runs `call` with an [`Endpoint`] for `address` from inside the
    /// namespace, where `address` is typically the namespace's loopback,
    /// and returns what `call` returns.
    ///
    /// The endpoint (and its connection pool) is made inside and dropped
    /// there, so no connection opened in the namespace can be reused by a
    /// client outside it.
    pub fn request<T, F>(&self, address: SocketAddr, call: impl FnOnce(Endpoint) -> F + Send) -> T
    where
        F: Future<Output = T>,
        T: Send,
    {
        self.run_inside(|| {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("build a runtime inside the namespace");
            runtime.block_on(call(Endpoint::at(address)))
        })
    }

    /// Runs `work` on a new thread that has entered the namespace. Sockets
    /// that thread opens belong to the namespace, and so do the threads it
    /// starts; it ends with `work`, so no pooled thread stays behind in the
    /// namespace to serve later work meant for the root namespace.
    fn run_inside<T: Send>(&self, work: impl FnOnce() -> T + Send) -> T {
        let path = format!("{NETNS_DIR}/{}", self.name);
        let namespace = File::open(&path).unwrap_or_else(|e| panic!("open {path}: {e}"));
        std::thread::scope(|scope| {
            let inside = scope.spawn(|| {
                enter(&namespace);
                work()
            });
            inside
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }

    fn create() -> Netns {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let pid = std::process::id();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let name = format!("ccgw-{pid}-{n}");
        // Interface names are at most 15 bytes: "cg", up to 7 digits of pid,
        // "-" and the counter leave room for 1000 namespaces per process.
        let host_link = format!("cg{pid}-{n}");
        remove_leftovers(&name, &host_link);

        let choice = V4_CHOICE.lock().unwrap_or_else(PoisonError::into_inner);
        let (host_v4, inside_v4) = free_v4_subnet(pid, n);
        ip(&["netns", "add", &name]);
        // From here on, dropping the value cleans up whatever exists.
        let mut netns = Netns {
            name,
            host_link,
            host_v4,
            inside_v4,
            inside_v6: None,
        };
        netns.wire_v4();
        drop(choice);

        netns.inside_v6 = netns.wire_v6(pid, n);
        netns
    }

    /// Creates the veth pair with one end inside, gives both ends their
    /// IPv4 addresses, and brings them and the namespace's loopback up.
    fn wire_v4(&self) {
        let (name, host) = (self.name.as_str(), self.host_link.as_str());
        let host_v4 = format!("{}/30", self.host_v4);
        let inside_v4 = format!("{}/30", self.inside_v4);
        let peer = ["peer", "name", INSIDE_LINK, "netns", name];
        ip(&[&["link", "add", host, "type", "veth"][..], &peer].concat());
        ip(&["addr", "add", &host_v4, "dev", host]);
        ip(&["link", "set", host, "up"]);
        ip(&["-n", name, "addr", "add", &inside_v4, "dev", INSIDE_LINK]);
        ip(&["-n", name, "link", "set", INSIDE_LINK, "up"]);
        ip(&["-n", name, "link", "set", "lo", "up"]);
    }

    /// Gives both ends an address in a /96 of a unique local prefix that
    /// holds the pid and counter, so it cannot clash with another test's;
    /// `None` if the kernel refuses IPv6 here.
    fn wire_v6(&self, pid: u32, n: u32) -> Option<Ipv6Addr> {
        let subnet = [
            0xfdcc,
            0x9a7e,
            0x5b01,
            (pid >> 16) as u16,
            pid as u16,
            n as u16,
        ];
        let address = |last| {
            let [a, b, c, d, e, f] = subnet;
            Ipv6Addr::new(a, b, c, d, e, f, 0, last)
        };
        let (host_v6, inside_v6) = (address(1), address(2));
        // Without `nodad` an address stays tentative, and unusable, for
        // duplicate address detection's second or so.
        let host = format!("{host_v6}/96");
        let inside = format!("{inside_v6}/96");
        let wired = try_ip(&["-6", "addr", "add", &host, "dev", &self.host_link, "nodad"])
            .and_then(|_| {
                let link = ["dev", INSIDE_LINK, "nodad"];
                try_ip(&[&["-n", &self.name, "-6", "addr", "add", &inside][..], &link].concat())
            });
        wired.ok().map(|_| inside_v6)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        // Deleting one end of a veth pair deletes both at once; deleting only
        // the namespace would leave them until its last process is gone.
        let _ = try_ip(&["link", "del", &self.host_link]);
        let _ = try_ip(&["netns", "del", &self.name]);
    }
}

/// What keeps this machine from making a namespace, if anything.
fn missing_prerequisite() -> Option<&'static str> {
    if !super::skip::is_root() {
        return Some("the tests are not running as root");
    }
    if try_ip(&["-V"]).is_err() {
        return Some("iproute2's `ip` is not installed");
    }
    None
}

/// Removes a namespace and link a crashed earlier process left under these
/// names. They hold this process's pid, so their owner is gone.
fn remove_leftovers(name: &str, host_link: &str) {
    let _ = try_ip(&["link", "del", host_link]);
    let _ = try_ip(&["netns", "del", name]);
}

/// A /30 in 10.213.0.0/16 that no interface here uses yet, as the root
/// namespace's and the namespace's addresses. The search starts at a subnet
/// derived from the pid and counter, so tests running at the same time, in
/// this process or another, usually find theirs at the first look.
fn free_v4_subnet(pid: u32, n: u32) -> (Ipv4Addr, Ipv4Addr) {
    let first = (pid % 1024) * 16 + n % 16;
    (0..V4_SUBNETS)
        .map(|step| v4_subnet((first + step) % V4_SUBNETS))
        .find(|(host, _)| !v4_subnet_in_use(*host))
        .expect("a free /30 subnet in 10.213.0.0/16")
}

fn v4_subnet(index: u32) -> (Ipv4Addr, Ipv4Addr) {
    let base = u32::from(V4_RANGE) + index * 4;
    (Ipv4Addr::from(base + 1), Ipv4Addr::from(base + 2))
}

/// Whether an interface of the root namespace has an address in the /30
/// holding `address`: a second route to it would take the other's traffic.
fn v4_subnet_in_use(address: Ipv4Addr) -> bool {
    let prefix = format!("{address}/30");
    let found = try_ip(&["-o", "-4", "addr", "show", "to", &prefix]);
    !found.expect("list addresses").stdout.is_empty()
}

/// Runs `ip ARGS...`, failing the test with ip's own complaint if it fails.
fn ip(args: &[&str]) {
    if let Err(why) = try_ip(args) {
        panic!("ip {} failed: {why}", args.join(" "));
    }
}

/// Runs `ip ARGS...`; its output, or why it failed.
fn try_ip(args: &[&str]) -> Result<Output, String> {
    let output = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("could not run ip: {e}"))?;
    if output.status.success() {
        Ok(output)
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
    }
}

/// Moves the calling thread, and only it, into the namespace.
fn enter(namespace: &File) {
    // SAFETY: the descriptor stays open for the call, and entering a
    // network namespace changes only the calling thread's sockets.
    let entered = unsafe { libc::setns(namespace.as_raw_fd(), libc::CLONE_NEWNET) };
    assert_eq!(
        entered,
        0,
        "could not enter the namespace: {}",
        std::io::Error::last_os_error()
    );
}
