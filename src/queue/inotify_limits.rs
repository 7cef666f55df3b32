//! Whether this user can still watch a queue with inotify. The kernel limits watches and
//! inotify instances per user (`/proc/sys/fs/inotify/max_user_watches`, `max_user_instances`);
//! editors, IDEs and file sync tools often use them up. A worker or commander that cannot watch
//! falls back to polling, which works but starts items up to a second late and lists the queue
//! every second; `fsq check` says so before that happens.

use std::fs;
use std::os::unix::fs::MetadataExt;

use super::{Queue, State};

/// The limits and this user's current use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InotifyUse {
    pub max_watches: u64,
    pub max_instances: u64,
    pub used_watches: u64,
    pub used_instances: u64,
}

impl InotifyUse {
    /// Reads the limits from `/proc/sys/fs/inotify/` and counts the watches and instances held
    /// by this user's processes (those whose `/proc/PID/fd` we can read). `None` without a
    /// readable `/proc`.
    pub fn read() -> Option<InotifyUse> {
        let limit = |name: &str| -> Option<u64> {
            fs::read_to_string(format!("/proc/sys/fs/inotify/{name}"))
                .ok()?
                .trim()
                .parse()
                .ok()
        };
        let mut usage = InotifyUse {
            max_watches: limit("max_user_watches")?,
            max_instances: limit("max_user_instances")?,
            used_watches: 0,
            used_instances: 0,
        };
        let us = rustix::process::geteuid().as_raw();
        for proc in fs::read_dir("/proc").ok()?.flatten() {
            if proc.metadata().map_or(true, |m| m.uid() != us) {
                continue;
            }
            let Ok(fds) = fs::read_dir(proc.path().join("fd")) else {
                continue;
            };
            for fd in fds.flatten() {
                let is_inotify = fs::read_link(fd.path())
                    .is_ok_and(|target| target.as_os_str() == "anon_inode:inotify");
                if !is_inotify {
                    continue;
                }
                usage.used_instances += 1;
                let info = proc.path().join("fdinfo").join(fd.file_name());
                usage.used_watches += fs::read_to_string(info).map_or(0, |text| {
                    text.lines()
                        .filter(|l| l.starts_with("inotify wd:"))
                        .count()
                }) as u64;
            }
        }
        Some(usage)
    }

    /// What is short for `needed_watches` more watches in two more instances (a worker and a
    /// commander), one line each.
    pub fn problems(&self, needed_watches: u64) -> Vec<String> {
        let mut problems = Vec::new();
        let free_watches = self.max_watches.saturating_sub(self.used_watches);
        if free_watches < needed_watches {
            problems.push(format!(
                "inotify watches: this user holds {} of {} (fs.inotify.max_user_watches) and \
                 the queue needs {needed_watches} more; fsq would poll instead of watching. \
                 Raise it: sysctl fs.inotify.max_user_watches={}",
                self.used_watches,
                self.max_watches,
                (self.max_watches * 2).max(self.used_watches + needed_watches)
            ));
        }
        if self.max_instances.saturating_sub(self.used_instances) < 2 {
            problems.push(format!(
                "inotify instances: this user holds {} of {} (fs.inotify.max_user_instances); a \
                 worker and a commander need one each. Raise it: sysctl \
                 fs.inotify.max_user_instances={}",
                self.used_instances,
                self.max_instances,
                (self.max_instances * 2).max(self.used_instances + 2)
            ));
        }
        problems
    }
}

impl Queue {
    /// inotify watches a worker and a commander on this queue take together: one for the
    /// worker (the root), and the commander's: the root, each state folder, each claim folder
    /// in `process/` and the `_meta/` folders it shows. Items are files and cost none.
    pub fn watches_needed(&self) -> u64 {
        let claims = fs::read_dir(self.state_dir(State::Process)).map_or(0, |dirs| {
            dirs.flatten().filter(|e| e.path().is_dir()).count()
        });
        (1 + 1 + Self::layout().count() + claims) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::queue_with;
    use super::*;

    #[test]
    fn watches_and_instances_short_of_the_need_are_problems() {
        let usage = InotifyUse {
            max_watches: 8192,
            max_instances: 128,
            used_watches: 100,
            used_instances: 3,
        };
        assert!(usage.problems(20).is_empty());
        let exhausted = InotifyUse {
            used_watches: 8180,
            used_instances: 127,
            ..usage
        };
        let problems = exhausted.problems(20);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("holds 8180 of 8192"), "{problems:?}");
        assert!(
            problems[0].contains("max_user_watches=16384"),
            "{problems:?}"
        );
        assert!(
            problems[1].contains("max_user_instances=256"),
            "{problems:?}"
        );
    }

    #[test]
    fn this_process_inotify_instance_is_counted() {
        let Some(before) = InotifyUse::read() else {
            return; // no /proc
        };
        let fd = rustix::fs::inotify::init(rustix::fs::inotify::CreateFlags::CLOEXEC).unwrap();
        let dir = tempfile::tempdir().unwrap();
        rustix::fs::inotify::add_watch(&fd, dir.path(), rustix::fs::inotify::WatchFlags::CREATE)
            .unwrap();
        let after = InotifyUse::read().unwrap();
        // Other processes of this user come and go meanwhile; ours is at least counted.
        assert!(
            after.used_instances >= 1 && after.used_watches >= 1,
            "{after:?}"
        );
        assert_eq!(after.max_watches, before.max_watches);
    }

    #[test]
    fn a_queue_needs_a_watch_per_folder_and_claim_folder() {
        let (_dir, q) = queue_with(&["a", "b"]);
        let base = q.watches_needed();
        assert_eq!(base, 12);
        fs::create_dir(q.state_dir(State::Process).join("host-1-2")).unwrap();
        assert_eq!(q.watches_needed(), base + 1);
    }
}
