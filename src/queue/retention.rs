//! Keeping a queue bounded on disk: logs of items that are done (in `success/` or `failed/`, or
//! gone) are kept for a time and up to a count, and temp files that a crash left behind are
//! removed once old enough that no writer can still be using them. The worker's upkeep calls
//! both; the names of fsq's temp files are the format's, so the rules live here.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::name::ItemId;
use super::{Queue, State};

/// The temp files fsq writes, by folder: what a crash can leave behind.
fn is_leftover(folder: Leftovers, name: &[u8], own_runs: &[u8]) -> bool {
    match folder {
        Leftovers::State => name.starts_with(b".fsq-edit.") && name.ends_with(b".tmp"),
        Leftovers::New => name.starts_with(b".fsq-add.") && name.ends_with(b".part"),
        Leftovers::Meta => name.starts_with(b".tmp."),
        Leftovers::Progress => {
            name.starts_with(b".tmp.")
                || ((name.starts_with(b".run-") || name.starts_with(b".hook-"))
                    && !name.starts_with(own_runs))
        }
        Leftovers::Output => name.starts_with(b".fsq-") && name.ends_with(b".part"),
    }
}

#[derive(Clone, Copy)]
enum Leftovers {
    State,
    New,
    Meta,
    Progress,
    Output,
}

impl Queue {
    /// Removes fsq's temp files older than `age` (zero: none): `.fsq-edit.*.tmp` beside items,
    /// `new/.fsq-add.*.part`, `.tmp.*` in `_meta/` folders, job progress files of other workers
    /// in `_meta/progress/` (`own_runs` is this worker's prefix, `.run-<id>-`), and
    /// `.fsq-*.part` in `outputs`. Returns how many went.
    pub fn remove_leftovers(&self, age: Duration, outputs: &[PathBuf], own_runs: &OsStr) -> usize {
        if age.is_zero() {
            return 0;
        }
        let mut folders: Vec<(PathBuf, Leftovers)> = State::ALL
            .into_iter()
            .filter(|state| !matches!(state, State::Process | State::New))
            .map(|state| (self.state_dir(state), Leftovers::State))
            .collect();
        folders.push((self.state_dir(State::New), Leftovers::New));
        for sub in ["items", "logs", "workers"] {
            folders.push((self.meta_path(sub), Leftovers::Meta));
        }
        folders.push((self.meta_path("progress"), Leftovers::Progress));
        folders.extend(outputs.iter().map(|dir| (dir.clone(), Leftovers::Output)));
        let before = SystemTime::now() - age;
        let mut removed = 0;
        for (dir, kind) in folders {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                if !is_leftover(kind, name.as_encoded_bytes(), own_runs.as_encoded_bytes()) {
                    continue;
                }
                let old = entry
                    .metadata()
                    .and_then(|meta| meta.modified())
                    .is_ok_and(|mtime| mtime < before);
                if old && entry.file_type().is_ok_and(|t| t.is_file()) {
                    removed += usize::from(fs::remove_file(entry.path()).is_ok());
                }
            }
        }
        removed
    }

    /// Removes the logs of items that are no longer waiting or running (in `success/`,
    /// `failed/`, or gone) once older than `max_age` (zero: no age limit), and beyond the newest
    /// `keep` of them (zero: no limit). Logs of items pending, claimed, delayed or paused are
    /// kept. Returns how many went.
    pub fn prune_logs(&self, max_age: Duration, keep: usize) -> usize {
        let Ok(entries) = fs::read_dir(self.meta_path("logs")) else {
            return 0;
        };
        let logs: Vec<(ItemId, SystemTime, PathBuf)> = entries
            .flatten()
            .filter_map(|entry| {
                let id = ItemId::parse(entry.file_name().as_encoded_bytes())?;
                let mtime = entry.metadata().and_then(|m| m.modified()).ok()?;
                Some((id, mtime, entry.path()))
            })
            .collect();
        let too_old = SystemTime::now() - max_age;
        let over_count = keep > 0 && logs.len() > keep;
        let over_age = !max_age.is_zero() && logs.iter().any(|(_, mtime, _)| *mtime < too_old);
        if !over_count && !over_age {
            // Nothing could go, whatever still waits or runs: the states need no listing.
            return 0;
        }
        let mut live: HashSet<ItemId> = HashSet::new();
        for state in [
            State::Process,
            State::Pending,
            State::Delayed,
            State::Paused,
        ] {
            match self.list(state) {
                Ok(items) => live.extend(items.iter().filter_map(|item| item.id())),
                // Without knowing what still runs, nothing is pruned.
                Err(_) => return 0,
            }
        }
        let mut done: Vec<(SystemTime, PathBuf)> = logs
            .into_iter()
            .filter(|(id, _, _)| !live.contains(id))
            .map(|(_, mtime, path)| (mtime, path))
            .collect();
        done.sort_unstable_by_key(|(mtime, _)| std::cmp::Reverse(*mtime));
        let mut removed = 0;
        for (index, (mtime, path)) in done.iter().enumerate() {
            let over_count = keep > 0 && index >= keep;
            let over_age = !max_age.is_zero() && *mtime < too_old;
            if (over_count || over_age) && fs::remove_file(path).is_ok() {
                removed += 1;
            }
        }
        removed
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;
    use std::path::Path;

    use super::super::Item;
    use super::super::testutil::queue_with;
    use super::*;

    fn age(path: &Path, secs: u64) {
        let file = fs::File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(secs))
            .unwrap();
    }

    fn tagged(state: State, name: &str) -> Item {
        let file = super::super::name::tagged(b"", ItemId::new(), OsStr::new(name), false);
        Item {
            state,
            owner: None,
            file: file.unwrap(),
        }
    }

    #[test]
    fn old_crash_leftovers_go_and_young_ones_and_items_stay() {
        let (dir, q) = queue_with(&["item.part.txt"]);
        let out = dir.path().join("out");
        fs::create_dir(&out).unwrap();
        let files = [
            q.state_dir(State::New)
                .join(".fsq-add.1k8mb9def1v6ieo.part"),
            q.meta_path("items").join(".tmp.42.7"),
            q.meta_path("progress").join(".run-host-1-2-3"),
            q.root().join(".fsq-edit.42.1.tmp"),
            out.join(".fsq-1k8mb9def1v6ieo.part"),
        ];
        for file in &files {
            fs::write(file, "x").unwrap();
            age(file, 2 * 86400);
        }
        let young = q.state_dir(State::New).join(".fsq-add.young.part");
        fs::write(&young, "x").unwrap();
        let own = q.meta_path("progress").join(".run-me-1-2-3");
        fs::write(&own, "x").unwrap();
        age(&own, 2 * 86400);
        let other = q.state_dir(State::New).join("someone.part");
        fs::write(&other, "x").unwrap();
        age(&other, 2 * 86400);

        let removed =
            q.remove_leftovers(Duration::from_secs(86400), &[out], OsStr::new(".run-me-"));
        assert_eq!(removed, files.len());
        assert!(files.iter().all(|f| !f.exists()));
        assert!(
            young.exists() && own.exists(),
            "young ones and our own runs stay"
        );
        assert!(
            other.exists(),
            "a producer's own temp file is not ours to remove"
        );
        assert!(q.root().join("item.part.txt").exists());
    }

    #[test]
    fn logs_of_finished_items_are_pruned_by_age_and_count_and_others_kept() {
        let (_dir, q) = queue_with(&[]);
        let log_of = |item: &Item| {
            let path = q.log_path(item).unwrap();
            fs::write(&path, "log").unwrap();
            path
        };
        let waiting = tagged(State::Pending, "waiting");
        fs::write(q.path_of(&waiting), "x").unwrap();
        let waiting_log = log_of(&waiting);
        age(&waiting_log, 30 * 86400);
        let mut done = Vec::new();
        for n in 0..5u64 {
            let item = tagged(State::Success, &format!("done{n}"));
            fs::write(q.path_of(&item), "x").unwrap();
            let log = log_of(&item);
            age(&log, 3600 * (n + 1));
            done.push(log);
        }
        let gone = log_of(&tagged(State::Failed, "deleted by hand"));
        age(&gone, 10 * 86400);

        assert_eq!(q.prune_logs(Duration::from_secs(7 * 86400), 0), 1);
        assert!(!gone.exists() && waiting_log.exists());
        assert_eq!(q.prune_logs(Duration::ZERO, 3), 2);
        let kept: Vec<OsString> = done
            .iter()
            .filter(|l| l.exists())
            .map(|l| l.file_name().unwrap().into())
            .collect();
        assert_eq!(kept.len(), 3);
        assert!(done[..3].iter().all(|l| l.exists()), "the newest are kept");
        assert!(waiting_log.exists(), "a waiting item's log is never pruned");
    }
}
