//! Health rules for a queue, as plain functions: is a file safe to take instructions from, is
//! the layout complete, is there room left, does this host's clock agree with the shared
//! filesystem's. `fsq check` reports them; the worker may refuse to run on the same rules, so
//! each rule lives here once.
//!
//! Every function answers in words an operator can act on, or `None`/empty when all is well.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::{Queue, this_host};

/// Why `path` is unsafe to take instructions from (a config, a hook, a theme), or `None`.
///
/// The rule: the file must not be writable by its group or by others, and must be owned by root
/// or by the user running fsq. Anyone else who can change it can make fsq run their commands.
/// A symbolic link is judged by the file it points to (what fsq reads). A file that does not
/// exist or cannot be read is not judged here (reading it reports that).
pub fn unsafe_permissions(path: &Path) -> Option<String> {
    let meta = fs::metadata(path).ok()?;
    let mode = meta.permissions().mode() & 0o7777;
    let writable_by = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        (true, true) => Some("its group and others"),
        (true, false) => Some("its group"),
        (false, true) => Some("others"),
        (false, false) => None,
    };
    if let Some(who) = writable_by {
        return Some(format!(
            "writable by {who} (mode {mode:04o}): anyone there can make fsq run their commands; \
             chmod go-w {}",
            path.display()
        ));
    }
    let us = rustix::process::geteuid().as_raw();
    let owner = meta.uid();
    if owner != 0 && owner != us {
        return Some(format!(
            "owned by uid {owner}, neither root nor this user (uid {us}): that user can make \
             fsq run their commands; chown it to root or to the user running fsq"
        ));
    }
    None
}

impl Queue {
    /// Reads `_meta/config.toml` for a worker or commander, which obey it: refused, naming the
    /// file and the fix, when another user could have written it (see `unsafe_permissions`).
    pub fn trusted_config(&self) -> super::Result<super::Config> {
        let path = self.config_path();
        if let Some(problem) = unsafe_permissions(&path) {
            return Err(super::Error::Invalid(format!(
                "{}: {problem}",
                path.display()
            )));
        }
        self.config()
    }

    /// The folders of the queue's layout that are missing (state folders and `_meta/`'s own).
    pub fn missing_layout(&self) -> Vec<PathBuf> {
        Self::layout()
            .map(|sub| self.root().join(sub))
            .filter(|dir| !dir.is_dir())
            .collect()
    }

    /// The folders fsq must be able to write into: the root, the state folders and `_meta/`'s.
    pub fn writable_folders(&self) -> Vec<PathBuf> {
        std::iter::once(self.root().to_path_buf())
            .chain(Self::layout().map(|sub| self.root().join(sub)))
            .collect()
    }

    /// Touches this host's clock probe in `_meta/workers/` and returns the mtime the
    /// filesystem stamped on it: "now" by the clock all hosts sharing the queue see.
    pub(crate) fn touch_clock(&self) -> std::io::Result<SystemTime> {
        let probe = self
            .meta_path("workers")
            .join(format!(".clock.{}", this_host()));
        fs::write(&probe, b"")?;
        fs::metadata(&probe)?.modified()
    }

    /// How far the shared filesystem's clock is ahead of this host's (negative: behind), read
    /// by touching a file in `_meta/workers/` and comparing its mtime with the local clock
    /// before and after. Zero when the mtime falls between the two readings.
    pub fn clock_skew(&self) -> std::io::Result<f64> {
        let before = SystemTime::now();
        let stamped = self.touch_clock()?;
        let after = SystemTime::now();
        Ok(
            match (
                stamped.duration_since(after),
                before.duration_since(stamped),
            ) {
                (Ok(ahead), _) => ahead.as_secs_f64(),
                (_, Ok(behind)) => -behind.as_secs_f64(),
                _ => 0.0,
            },
        )
    }
}

/// Clock differences below this are the filesystem's timestamp granularity and the round trip.
pub const CLOCK_TOLERANCE: Duration = Duration::from_secs(2);

/// What a clock skew breaks, or `None` when it is within `CLOCK_TOLERANCE`.
pub fn clock_problem(skew_secs: f64) -> Option<String> {
    if skew_secs.abs() <= CLOCK_TOLERANCE.as_secs_f64() {
        return None;
    }
    let (direction, effect) = if skew_secs > 0.0 {
        (
            "ahead of",
            "files dropped in look newer than they are and wait longer than quiet_period",
        )
    } else {
        (
            "behind",
            "a file still being copied in can look older than quiet_period and be started \
             half-written",
        )
    };
    Some(format!(
        "the shared filesystem's clock is {:.1}s {direction} this host's: {effect}; run NTP \
         (chrony, systemd-timesyncd) on this host and on the file server",
        skew_secs.abs()
    ))
}

/// Free room on the filesystem holding a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    pub total_bytes: u64,
    pub free_bytes: u64,
    /// Zero when the filesystem does not count inodes (btrfs, most FUSE filesystems).
    pub total_inodes: u64,
    pub free_inodes: u64,
}

/// Below either bound a job's output, a log or a record may fail to be written.
pub const MIN_FREE_BYTES: u64 = 100 << 20;
pub const MIN_FREE_INODES: u64 = 10_000;
/// Percent of the filesystem that should stay free.
pub const MIN_FREE_PERCENT: u64 = 2;

impl Space {
    /// Reads the room left on the filesystem of `path` (as an unprivileged user sees it).
    pub fn of(path: &Path) -> std::io::Result<Space> {
        let vfs = rustix::fs::statvfs(path)?;
        Ok(Space {
            total_bytes: vfs.f_blocks.saturating_mul(vfs.f_frsize),
            free_bytes: vfs.f_bavail.saturating_mul(vfs.f_frsize),
            total_inodes: vfs.f_files,
            free_inodes: vfs.f_favail,
        })
    }

    /// One line per kind of room that is running out.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if low(self.free_bytes, self.total_bytes, MIN_FREE_BYTES) {
            problems.push(format!(
                "only {} free of {} ({}%): outputs, logs and records will fail to be written; \
                 free some space (old success/ items, _out/)",
                bytes(self.free_bytes),
                bytes(self.total_bytes),
                percent(self.free_bytes, self.total_bytes)
            ));
        }
        if self.total_inodes > 0 && low(self.free_inodes, self.total_inodes, MIN_FREE_INODES) {
            problems.push(format!(
                "only {} inodes free of {} ({}%): new files cannot be created however much \
                 space is left; delete old items, logs and outputs",
                self.free_inodes,
                self.total_inodes,
                percent(self.free_inodes, self.total_inodes)
            ));
        }
        problems
    }
}

fn low(free: u64, total: u64, floor: u64) -> bool {
    free < floor || free.saturating_mul(100) < total.saturating_mul(MIN_FREE_PERCENT)
}

fn percent(part: u64, whole: u64) -> u64 {
    (part.saturating_mul(100)).checked_div(whole).unwrap_or(0)
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

#[cfg(test)]
mod tests {
    use super::super::testutil::queue_with;
    use super::*;

    #[test]
    fn group_or_other_writable_files_are_unsafe() {
        let (_dir, q) = queue_with(&[]);
        let config = q.config_path();
        fs::set_permissions(&config, fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(unsafe_permissions(&config), None);
        fs::set_permissions(&config, fs::Permissions::from_mode(0o664)).unwrap();
        let why = unsafe_permissions(&config).unwrap();
        assert!(why.contains("writable by its group (mode 0664)"), "{why}");
        fs::set_permissions(&config, fs::Permissions::from_mode(0o646)).unwrap();
        assert!(unsafe_permissions(&config).unwrap().contains("by others"));
        assert_eq!(unsafe_permissions(&q.meta_path("missing.toml")), None);
    }

    #[test]
    fn a_config_others_can_write_is_not_obeyed() {
        let (_dir, q) = queue_with(&[]);
        assert!(q.trusted_config().is_ok());
        fs::set_permissions(q.config_path(), fs::Permissions::from_mode(0o666)).unwrap();
        let err = q.trusted_config().unwrap_err().to_string();
        assert!(
            err.contains("chmod go-w") && err.contains("config.toml"),
            "{err}"
        );
    }

    #[test]
    fn a_file_of_another_user_is_unsafe_unless_root_owns_it() {
        if !rustix::process::geteuid().is_root() {
            return; // only root can give a file away
        }
        let (_dir, q) = queue_with(&[]);
        let config = q.config_path();
        assert_eq!(unsafe_permissions(&config), None, "root's own file");
        std::os::unix::fs::chown(&config, Some(65534), None).unwrap();
        let why = unsafe_permissions(&config).unwrap();
        assert!(why.contains("owned by uid 65534"), "{why}");
    }

    #[test]
    fn low_space_and_inodes_are_problems_and_plenty_is_not() {
        let plenty = Space {
            total_bytes: 100 << 30,
            free_bytes: 50 << 30,
            total_inodes: 1_000_000,
            free_inodes: 500_000,
        };
        assert!(plenty.problems().is_empty());
        let full = Space {
            free_bytes: 1 << 30,
            free_inodes: 100,
            ..plenty
        };
        let problems = full.problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("only 1.0 GiB free of 100.0 GiB (1%)"));
        assert!(problems[1].starts_with("only 100 inodes free"));
        let uncounted = Space {
            total_inodes: 0,
            free_inodes: 0,
            ..plenty
        };
        assert!(uncounted.problems().is_empty());
    }

    #[test]
    fn the_local_filesystem_agrees_with_the_local_clock() {
        let (_dir, q) = queue_with(&[]);
        let skew = q.clock_skew().unwrap();
        assert_eq!(clock_problem(skew), None, "skew {skew}");
        assert!(clock_problem(-75.0).unwrap().contains("75.0s behind"));
        assert!(clock_problem(3.0).unwrap().contains("3.0s ahead of"));
    }

    #[test]
    fn missing_state_folders_are_listed() {
        let (_dir, q) = queue_with(&[]);
        assert!(q.missing_layout().is_empty());
        fs::remove_dir(q.root().join("failed")).unwrap();
        assert_eq!(q.missing_layout(), vec![q.root().join("failed")]);
    }
}
