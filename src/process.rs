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
