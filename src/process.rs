//! Asking the operating system about other processes.

/// Whether a process with this pid exists (on this machine).
#[cfg(unix)]
pub fn exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 delivers nothing; it only checks that the pid exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Names the space process ids live in: the same pid means the same process
/// only between two callers that return the same name. `None` when this
/// cannot be told, and then no pid should be trusted. Found once per process.
pub fn pid_namespace() -> Option<&'static str> {
    static NAMESPACE: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    NAMESPACE.get_or_init(find_pid_namespace).as_deref()
}

#[cfg(target_os = "linux")]
fn find_pid_namespace() -> Option<String> {
    // A pid namespace (one per container) is only unique within one boot.
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let namespace = std::fs::read_link("/proc/self/ns/pid").ok()?;
    Some(format!("{}/{}", boot.trim(), namespace.display()))
}

/// Without pid namespaces, the host name says which machine's pids these are.
#[cfg(all(unix, not(target_os = "linux")))]
fn find_pid_namespace() -> Option<String> {
    let mut name = [0u8; 256];
    // SAFETY: the buffer is valid for its whole length, which is passed.
    let result = unsafe { libc::gethostname(name.as_mut_ptr().cast(), name.len()) };
    let end = name.iter().position(|&b| b == 0)?;
    (result == 0 && end > 0).then(|| format!("host:{}", String::from_utf8_lossy(&name[..end])))
}

#[cfg(not(unix))]
fn find_pid_namespace() -> Option<String> {
    None
}

/// Without a portable check, a process is assumed gone; callers also use
/// heartbeats and ages, so this only makes recovery slower.
#[cfg(not(unix))]
pub fn exists(_pid: u32) -> bool {
    false
}

/// Makes every file and directory this process creates private to its
/// owner (0600 / 0700): the database, config, logs and outbox hold
/// messages, key hashes and webhook secrets. Programs the `command`
/// transport runs inherit the mask, as the README says, so what they write
/// is private too unless they set their own.
#[cfg(unix)]
pub fn create_private_files() {
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
}

#[cfg(not(unix))]
pub fn create_private_files() {}
