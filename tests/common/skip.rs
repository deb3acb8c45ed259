//! Skipping a test this machine cannot run: with a line `cargo test` shows
//! even when the test passes, and never under CI (`CI` set), where it fails
//! instead so the coverage cannot quietly vanish.
//!
//! Shared by the `common` and `support` harnesses.

// Each test file is its own crate and uses only part of this.
#![allow(dead_code)]

use std::io::Write;

/// Skips the calling test because of `why` (say what would let it run), or
/// fails it when `CI` is set.
pub fn skip_or_fail(why: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "{}: {why} (CI is set, so this fails instead of skipping)",
        test_name()
    );
    announce(why);
}

/// Says the calling test skips a part, without failing it under CI: for
/// what no machine can be asked to provide.
pub fn announce(why: &str) {
    // libtest captures `eprintln!`, but not writes straight to stderr.
    let line = format!("SKIPPED {}: {why}\n", test_name());
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// Whether the tests run as root, as namespaces and mounts need.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The running test's name: libtest names each test's thread after it.
fn test_name() -> String {
    let current = std::thread::current();
    current.name().unwrap_or("a test").to_string()
}
