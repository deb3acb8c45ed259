//! File systems mounted on a test's data dir, for storage faults the tests
//! cannot cause in an ordinary directory: a tmpfs that is small enough to
//! fill up, or remounted read-only, and an ext4 image on a loop device that
//! the kernel turns read-only under a running server, as it does when ext4
//! finds an error and is mounted `errors=remount-ro`.
//!
//! Mounting needs root, `mount` and (for ext4) `mkfs.ext4` and `e2fsck`.
//! Without them [`Mount::tmpfs_or_skip`] and [`Mount::ext4_or_skip`] print
//! `SKIPPED` and return `None`; with `CI` set they fail the test instead, so
//! the coverage cannot quietly vanish there. A mount is undone when dropped,
//! pass or fail; drop any server using it first.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A file system mounted on a directory; unmounted when dropped.
pub struct Mount {
    path: PathBuf,
    /// The loop device's backing file, for an ext4 mount.
    image: Option<PathBuf>,
}

impl Mount {
    /// Mounts a tmpfs of `size` (e.g. `16m`) on `path`.
    pub fn tmpfs_or_skip(path: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(path).expect("create mount point");
        let options = format!("size={size},mode=0700");
        let mounted = run("mount", &["-t", "tmpfs", "-o", &options, "tmpfs"], path);
        match mounted {
            Ok(()) => Some(Mount {
                path: path.to_path_buf(),
                image: None,
            }),
            Err(why) => skip_or_fail(&format!("cannot mount a tmpfs: {why}")),
        }
    }

    /// Makes an ext4 file system of `size` in the file `image` and mounts it
    /// on `path` through a loop device, `errors=remount-ro`.
    pub fn ext4_or_skip(image: &Path, path: &Path, size: &str) -> Option<Mount> {
        std::fs::create_dir_all(path).expect("create mount point");
        let made = run("truncate", &["-s", size], image)
            .and_then(|()| run("mkfs.ext4", &["-q", "-F"], image));
        if let Err(why) = made {
            return skip_or_fail(&format!("cannot make an ext4 image: {why}"));
        }
        match mount_ext4(image, path) {
            Ok(()) => Some(Mount {
                path: path.to_path_buf(),
                image: Some(image.to_path_buf()),
            }),
            Err(why) => skip_or_fail(&format!("cannot mount an ext4 image: {why}")),
        }
    }

    /// `mount -o remount,OPTION` on the mount.
    pub fn remount(&self, option: &str) -> Result<(), String> {
        run("mount", &["-o", &format!("remount,{option}")], &self.path)
    }

    /// Flushes the file system's dirty pages to its device (`sync -f`).
    pub fn sync(&self) {
        run("sync", &["-f"], &self.path).expect("sync the file system");
    }

    /// Has the kernel record an error in the ext4 file system, which makes
    /// it turn the file system read-only at once, whoever has files open.
    pub fn ext4_error(&self) {
        let device = self.loop_device();
        let trigger = format!("/sys/fs/ext4/{device}/trigger_fs_error");
        std::fs::write(&trigger, "storage fault test\n")
            .unwrap_or_else(|e| panic!("writing {trigger}: {e}"));
    }

    /// Unmounts the ext4 file system, repairs it with `e2fsck` as an
    /// operator would after an error, and mounts it again read-write.
    pub fn ext4_repair_and_remount(&self) {
        let image = self.image.as_deref().expect("an ext4 mount");
        run("umount", &[], &self.path).expect("unmount the ext4 image");
        let checked = Command::new("e2fsck")
            .arg("-fy")
            .arg(image)
            .output()
            .expect("run e2fsck");
        // 0: clean, 1: errors fixed; 4 and above: left uncorrected.
        let code = checked.status.code().unwrap_or(8);
        assert!(code < 4, "e2fsck could not repair the image: {checked:?}");
        mount_ext4(image, &self.path).expect("mount the repaired image");
    }

    /// Whether the kernel now has the mount read-only.
    pub fn is_read_only(&self) -> bool {
        let output = Command::new("findmnt")
            .args(["-n", "-o", "OPTIONS"])
            .arg(&self.path)
            .output()
            .expect("run findmnt");
        let options = String::from_utf8_lossy(&output.stdout);
        options
            .trim()
            .split(',')
            .any(|option| option == "ro" || option == "emergency_ro")
    }

    /// `loop3` for a mount whose source is `/dev/loop3`.
    fn loop_device(&self) -> String {
        let output = Command::new("findmnt")
            .args(["-n", "-o", "SOURCE"])
            .arg(&self.path)
            .output()
            .expect("run findmnt");
        let source = String::from_utf8_lossy(&output.stdout).trim().to_string();
        let device = source.rsplit('/').next().unwrap_or_default().to_string();
        assert!(
            device.starts_with("loop"),
            "not on a loop device: {source:?}"
        );
        device
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        if run("umount", &[], &self.path).is_err() {
            // Something still holds it; detach it so nothing is left behind
            // (a loop device is freed once the last user lets go).
            let _ = run("umount", &["-l"], &self.path);
        }
    }
}

fn mount_ext4(image: &Path, path: &Path) -> Result<(), String> {
    let source = image.to_str().ok_or("the image path is not UTF-8")?;
    run("mount", &["-o", "loop,errors=remount-ro", source], path)
}

/// Skips the calling test with a loud line, or fails it under CI.
fn skip_or_fail<T>(why: &str) -> Option<T> {
    super::skip::skip_or_fail(&format!(
        "{why}; run it as root with mount, e2fsprogs and loop devices"
    ));
    None
}

/// Runs `program ARGS PATH`; the error says what it printed.
fn run(program: &str, args: &[&str], path: &Path) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .arg(path)
        .output()
        .map_err(|error| format!("running {program}: {error}"))?;
    if output.status.success() {
        return Ok(());
    }
    Err(String::from_utf8_lossy(&output.stderr).trim().to_string())
}
