//! Workers as the queue sees them: their ids, heartbeats in `_meta/workers/`, whether they are
//! alive, and the recovery of what dead ones held.
//!
//! A worker's id names its claim folder `process/<id>/` and its heartbeat `_meta/workers/<id>`.
//! The id is `<host>-<pid>-<start ms>`, so it never repeats and says where the worker ran.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::error::{IoContext, Result};
use super::identity::same_item_file;
use super::meta::{read_json, unix_ms, write_json};
use super::name::parse;
use super::{Item, Queue, State};

/// A worker's identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct WorkerId(pub String);

impl WorkerId {
    /// The id for a worker starting now in this process.
    pub fn for_this_process() -> WorkerId {
        WorkerId(format!(
            "{}-{}-{}",
            this_host(),
            std::process::id(),
            unix_ms(SystemTime::now())
        ))
    }

    pub fn as_os_str(&self) -> &OsStr {
        OsStr::new(&self.0)
    }

    /// The host part of a worker id `<host>-<pid>-<start>` (a host name may hold `-` itself).
    pub fn host_of(id: &str) -> &str {
        let mut parts = id.rsplitn(3, '-');
        let (_, _, host) = (parts.next(), parts.next(), parts.next());
        host.unwrap_or(id)
    }
}

/// This machine's host name, as workers record it.
pub fn this_host() -> String {
    let name = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    // Keep ids usable as file names whatever the host is called.
    name.replace(['/', '\0'], "_")
}

/// `_meta/workers/<id>`: rewritten by its worker every `heartbeat` interval.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Heartbeat {
    pub id: String,
    pub host: String,
    pub pid: u32,
    /// Start time, Unix milliseconds on the worker's clock.
    pub started: u64,
    pub slots: usize,
    pub busy: usize,
    /// Whether the worker has stopped claiming (paused, draining or its mount is gone).
    pub paused: bool,
    /// Why it is not claiming, if it says ("paused", "mount lost: ..."), or a recent mount loss.
    pub note: Option<String>,
    /// The network or FUSE filesystem the queue is on, as this worker sees it ("sshfs", "NFS",
    /// "GlusterFS"...); null on a local disk.
    pub fs: Option<String>,
    /// How often this worker lists the queue, in milliseconds, when it polls; null when it
    /// watches for events.
    pub poll_ms: Option<u64>,
    /// Last beat, Unix milliseconds on the worker's clock (informational: liveness is judged by
    /// the file's mtime against the shared filesystem's clock).
    pub beat: u64,
    /// The kernel's boot id of the worker's host (`/proc/sys/kernel/random/boot_id`).
    pub boot_id: Option<String>,
    /// The inode of the worker's pid namespace (`/proc/self/ns/pid`).
    pub pid_ns: Option<u64>,
}

/// Where this process's pids mean something: its host's boot and its pid namespace. Two workers
/// with one host name (containers, cloned machines) share a pid space only if both match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PidSpace {
    pub boot_id: String,
    pub pid_ns: u64,
}

impl PidSpace {
    /// This process's pid space, if `/proc` says. Read once: neither changes while the process
    /// lives, and every heartbeat written or judged asks.
    pub fn this_process() -> Option<PidSpace> {
        static HERE: std::sync::OnceLock<Option<PidSpace>> = std::sync::OnceLock::new();
        HERE.get_or_init(|| {
            use std::os::unix::fs::MetadataExt;
            let boot_id = fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
            let pid_ns = fs::metadata("/proc/self/ns/pid").ok()?.ino();
            Some(PidSpace {
                boot_id: boot_id.trim().to_string(),
                pid_ns,
            })
        })
        .clone()
    }

    /// Whether the pid in `beat` names a process here: same host name, boot and namespace.
    fn holds(&self, beat: &Heartbeat) -> bool {
        beat.host == this_host()
            && beat.boot_id.as_deref() == Some(self.boot_id.as_str())
            && beat.pid_ns == Some(self.pid_ns)
    }
}

/// What a recovery pass did: the items it moved, and the claims it could not move (each
/// reported, none stopping the others).
#[derive(Debug, Default)]
pub struct Recovery {
    pub items: Vec<Item>,
    pub errors: Vec<super::error::Error>,
    /// Each dead worker whose claims came back, and how many this call returned (so the
    /// caller alone reports that worker's death).
    pub dead: Vec<DeadWorker>,
}

/// A dead worker whose claims one recovery returned: its id and how many.
pub type DeadWorker = (String, usize);

/// A worker's health as judged from here.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "lowercase", tag = "health")]
pub enum WorkerHealth {
    Alive,
    /// No heartbeat for too long, or its process is gone from this host.
    Down {
        since_secs: f64,
        why: String,
    },
}

/// One worker in `fsq status` and the TUI's workers panel.
#[derive(Clone, Debug, Serialize)]
pub struct WorkerStatus {
    #[serde(flatten)]
    pub heartbeat: Heartbeat,
    #[serde(flatten)]
    pub health: WorkerHealth,
    /// Seconds since the last beat, by the shared filesystem's clock.
    pub last_beat_secs: f64,
}

impl Queue {
    /// Writes `beat` as the worker's heartbeat.
    pub fn write_heartbeat(&self, beat: &Heartbeat) -> Result<()> {
        write_json(&self.meta_path("workers").join(&beat.id), beat)
    }

    /// Removes a worker's heartbeat and its (empty) claim folder on a clean exit.
    pub fn retire_worker(&self, id: &WorkerId) {
        let _ = fs::remove_file(self.meta_path("workers").join(&id.0));
        self.remove_claim_folder(id.as_os_str());
    }

    /// Removes a finished worker's claim folder once it holds no item: the hidden folders in it
    /// (a run's private link to its input, `.in-<n>/`, left by a worker that died) go first, and
    /// so do symlinks (a claim someone swapped for a link while its worker was dying: never an
    /// item, never followed).
    fn remove_claim_folder(&self, owner: &OsStr) {
        let folder = self.state_dir(State::Process).join(owner);
        for entry in fs::read_dir(&folder).into_iter().flatten().flatten() {
            let hidden = entry.file_name().as_encoded_bytes().starts_with(b".in-");
            match entry.file_type() {
                Ok(kind) if hidden && kind.is_dir() => {
                    let _ = fs::remove_dir_all(entry.path());
                }
                Ok(kind) if kind.is_symlink() => {
                    let _ = fs::remove_file(entry.path());
                }
                _ => {}
            }
        }
        let _ = fs::remove_dir(folder);
    }

    /// "Now" by the clock of the filesystem holding the queue: the mtime of a file we just
    /// touched there. Hosts' clocks may differ; the server's is the one all heartbeats share.
    /// Falls back to this host's clock where the queue is read-only.
    pub fn shared_now(&self) -> SystemTime {
        self.touch_clock().unwrap_or_else(|_| SystemTime::now())
    }

    /// Every worker with a heartbeat, and whether it is alive.
    pub fn workers(&self, timeout: Duration) -> Result<Vec<WorkerStatus>> {
        self.workers_at(self.shared_now(), timeout)
    }

    /// `workers`, judged at `now` by the shared clock.
    fn workers_at(&self, now: SystemTime, timeout: Duration) -> Result<Vec<WorkerStatus>> {
        let dir = self.meta_path("workers");
        let entries = match fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(err).at(&dir),
        };
        let here = PidSpace::this_process();
        let mut workers = Vec::new();
        for entry in entries.flatten() {
            if entry.file_name().as_encoded_bytes().starts_with(b".") {
                continue;
            }
            let Some(heartbeat) = read_json::<Heartbeat>(&entry.path()) else {
                continue;
            };
            let Ok(mtime) = entry.metadata().and_then(|m| m.modified()) else {
                continue;
            };
            let age = now.duration_since(mtime).unwrap_or_default();
            let same_pid_space = here.as_ref().is_some_and(|here| here.holds(&heartbeat));
            let health = if same_pid_space && !pid_alive(heartbeat.pid) {
                WorkerHealth::Down {
                    since_secs: age.as_secs_f64(),
                    why: "its process is gone".into(),
                }
            } else if age > timeout {
                let why = format!("no heartbeat for {}s", age.as_secs());
                WorkerHealth::Down {
                    since_secs: (age - timeout).as_secs_f64(),
                    why,
                }
            } else {
                WorkerHealth::Alive
            };
            workers.push(WorkerStatus {
                heartbeat,
                health,
                last_beat_secs: age.as_secs_f64(),
            });
        }
        workers.sort_by(|a, b| a.heartbeat.id.cmp(&b.heartbeat.id));
        Ok(workers)
    }

    /// Returns the claims of dead workers (and claims with no live owner) to pending, counting
    /// the interrupted run as an attempt; an item out of attempts goes to `failed/` instead.
    /// Safe to run from several hosts at once: each item moves at most once. `me`, the worker
    /// recovering, is alive whatever its heartbeat says (it may be unable to write it).
    pub fn recover(
        &self,
        timeout: Duration,
        max_attempts: u32,
        me: Option<&WorkerId>,
    ) -> Result<Recovery> {
        // Claims first, heartbeats second: a worker writes its heartbeat before its first
        // claim, so every claim listed here has an owner the heartbeat snapshot can see.
        let claims = self.list(State::Process)?;
        let now = self.shared_now();
        let workers = self.workers_at(now, timeout)?;
        let alive = |owner: &OsStr| {
            me.is_some_and(|me| me.as_os_str() == owner)
                || workers.iter().any(|w| {
                    OsStr::new(&w.heartbeat.id) == owner && w.health == WorkerHealth::Alive
                })
        };
        let has_heartbeat =
            |owner: &OsStr| workers.iter().any(|w| OsStr::new(&w.heartbeat.id) == owner);
        let mut recovered = Recovery::default();
        let mut dead_owners: Vec<(OsString, usize)> = Vec::new();
        let mut to_return: Vec<(Item, OsString)> = Vec::new();
        for item in claims {
            let owner = item.owner.clone().unwrap_or_default();
            if !owner.is_empty() && alive(&owner) {
                continue;
            }
            if !owner.is_empty()
                && !has_heartbeat(&owner)
                && self.claims_young(&owner, now, timeout)
            {
                // A worker writes its heartbeat before its first claim, but over a network
                // filesystem another host may see the claim first: give it the timeout.
                continue;
            }
            to_return.push((item, owner));
        }
        let halves = self.files_named(to_return.iter().map(|(item, _)| item.display()));
        for (item, owner) in to_return {
            // One by one: of two dead claims that are one file, the first found goes and the
            // second, its other half gone, is returned.
            if self.is_link_twin(&item, &halves) {
                // A link + unlink move that stopped half-way: the item is already elsewhere.
                let _ = fs::remove_file(self.path_of(&item));
                continue;
            }
            match self.return_claim(&item, &owner, max_attempts) {
                Ok(moved) => recovered.items.push(moved),
                Err(err) if err.is_not_found() => continue,
                Err(err) => {
                    // Its owner is dead all the same; the claim stays for the next pass.
                    recovered.errors.push(err);
                    continue;
                }
            }
            if owner.is_empty() {
                continue;
            }
            match dead_owners.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, count)) => *count += 1,
                None => dead_owners.push((owner, 1)),
            }
        }
        for worker in workers.iter().filter(|w| w.health != WorkerHealth::Alive) {
            let id = WorkerId(worker.heartbeat.id.clone());
            if !alive(id.as_os_str()) {
                self.retire_worker(&id);
            }
        }
        // Those with a heartbeat went with it (`retire_worker`).
        for (owner, _) in dead_owners
            .iter()
            .filter(|(owner, _)| !has_heartbeat(owner))
        {
            self.remove_claim_folder(owner);
        }
        recovered.dead = dead_owners
            .into_iter()
            .map(|(owner, count)| (owner.to_string_lossy().into_owned(), count))
            .collect();
        Ok(recovered)
    }
}

impl Queue {
    /// Returns a dead worker's claim (`owner` empty: a claim outside any claim folder). The
    /// interrupted run counts as an attempt, under the item's id and before the move, so the
    /// record is the item's wherever the move leaves it (a lost record only resets the count);
    /// an item out of attempts goes to failed/.
    fn return_claim(&self, item: &Item, owner: &OsStr, max_attempts: u32) -> Result<Item> {
        let reason = if owner.is_empty() {
            "interrupted: found in process/ outside any claim folder".to_string()
        } else {
            format!("interrupted: worker {} died", owner.to_string_lossy())
        };
        let record = self.count_failure(item, reason, 0, |_| None);
        let attempts = record.as_ref().map_or(1, |r| r.attempts);
        let to = if attempts >= max_attempts {
            State::Failed
        } else {
            State::Pending
        };
        let moved = self.move_to(item, to)?;
        self.clear_progress(&moved);
        Ok(moved)
    }

    /// Whether `process/<owner>/` changed within `timeout` of `now` (the shared clock).
    fn claims_young(&self, owner: &OsStr, now: SystemTime, timeout: Duration) -> bool {
        fs::metadata(self.state_dir(State::Process).join(owner))
            .and_then(|m| m.modified())
            .is_ok_and(|changed| now.duration_since(changed).unwrap_or_default() <= timeout)
    }

    /// Whether a claimed file is the same file as another name of the item (`halves`, see
    /// `files_named`): one inode, or (where inode numbers are made up, as on sshfs)
    /// indistinguishable, see `identity`. Such a claim is the first half of a link + unlink move
    /// (into the claim, or out of it) that was cut short. The other half may be under the
    /// claim's own name in a state folder, under the plain name a claim tags, under a key a
    /// claim drops, or claimed again, and even finished, by another worker.
    fn is_link_twin(&self, claimed: &Item, halves: &[PathBuf]) -> bool {
        let path = self.path_of(claimed);
        halves.iter().any(|half| {
            *half != path
                && half
                    .file_name()
                    .is_some_and(|f| parse(f).display == claimed.display())
                && same_item_file(&path, half)
        })
    }

    /// The files of the root, the state folders and every claim folder whose display name is one
    /// of `names`: one pass over each folder, holding only the matches.
    fn files_named<'a>(&self, names: impl Iterator<Item = &'a OsStr>) -> Vec<PathBuf> {
        let names: HashSet<&OsStr> = names.collect();
        if names.is_empty() {
            return Vec::new();
        }
        let mut found = Vec::new();
        let mut look_in = |dir: &Path| {
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let file = entry.file_name();
                if names.contains(parse(&file).display) {
                    found.push(entry.path());
                }
            }
        };
        for state in [
            State::Pending,
            State::Success,
            State::Failed,
            State::Delayed,
            State::Paused,
        ] {
            look_in(&self.state_dir(state));
        }
        let claims = fs::read_dir(self.state_dir(State::Process));
        for owner in claims.into_iter().flatten().flatten() {
            if owner.file_type().is_ok_and(|kind| kind.is_dir()) {
                look_in(&owner.path());
            }
        }
        found
    }
}

/// Whether a process with this pid exists on this host.
fn pid_alive(pid: u32) -> bool {
    let Some(pid) = rustix::process::Pid::from_raw(pid as i32) else {
        return false;
    };
    match rustix::process::test_kill_process(pid) {
        Ok(()) => true,
        Err(rustix::io::Errno::PERM) => true,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::ItemRecord;
    use super::super::testutil::{claim_first, queue_with};
    use super::*;

    /// Makes `process/<owner>/` look an hour old, as a dead worker's claim folder does.
    fn age_claims(q: &Queue, owner: &str) {
        let dir = fs::File::open(q.state_dir(State::Process).join(owner)).unwrap();
        dir.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
    }

    #[test]
    fn a_claim_without_a_heartbeat_gets_the_timeout_before_recovery() {
        let (_dir, q) = queue_with(&["a"]);
        let item = q.list(State::Pending).unwrap().remove(0);
        q.claim(&item, OsStr::new("starting")).unwrap().unwrap();
        let recover = || q.recover(Duration::from_secs(30), 3, None).unwrap().items;
        assert!(recover().is_empty());
        assert_eq!(q.list(State::Process).unwrap().len(), 1);
        age_claims(&q, "starting");
        assert_eq!(recover().len(), 1);
    }

    #[test]
    fn a_symlink_swapped_into_a_dead_workers_claim_folder_is_removed_with_it() {
        let (_dir, q) = queue_with(&["a"]);
        let claimed = claim_first(&q, "ghost");
        let path = q.path_of(&claimed);
        fs::rename(&path, q.root().join("aside")).unwrap();
        std::os::unix::fs::symlink("/etc/shadow", &path).unwrap();
        // A pid far above pid_max is never alive: the worker is dead and is retired.
        beat(&q, "ghost", 999_999_999);
        q.recover(Duration::from_secs(30), 3, None).unwrap();
        assert!(fs::symlink_metadata(&path).is_err());
        assert!(!q.state_dir(State::Process).join("ghost").exists());
    }

    fn beat(q: &Queue, id: &str, pid: u32) {
        let here = PidSpace::this_process().expect("/proc tells the pid space");
        let heartbeat = Heartbeat {
            id: id.into(),
            host: this_host(),
            pid,
            boot_id: Some(here.boot_id),
            pid_ns: Some(here.pid_ns),
            ..Default::default()
        };
        q.write_heartbeat(&heartbeat).unwrap();
    }

    #[test]
    fn the_host_of_a_worker_id_may_hold_dashes() {
        assert_eq!(
            WorkerId::host_of("render-box-2-4242-1795363993000"),
            "render-box-2"
        );
        assert_eq!(WorkerId::host_of("vm-1-2"), "vm");
    }

    #[test]
    fn claims_of_a_dead_worker_go_back_with_the_attempt_counted() {
        let (_dir, q) = queue_with(&["a", "b"]);
        // A pid far above pid_max is never alive.
        beat(&q, "dead", 999_999_999);
        beat(&q, "live", std::process::id());
        let items = q.list(State::Pending).unwrap();
        q.claim(&items[0], OsStr::new("dead")).unwrap().unwrap();
        q.claim(&items[1], OsStr::new("live")).unwrap().unwrap();

        let workers = q.workers(Duration::from_secs(30)).unwrap();
        assert_eq!(workers.len(), 2);
        let recovered = q.recover(Duration::from_secs(30), 3, None).unwrap().items;
        assert_eq!(recovered.len(), 1);
        assert_eq!(recovered[0].state, State::Pending);
        assert_eq!(q.record(&recovered[0]).attempts, 1);
        assert_eq!(q.list(State::Process).unwrap().len(), 1);
        assert!(!q.state_dir(State::Process).join("dead").exists());
        assert_eq!(q.workers(Duration::from_secs(30)).unwrap().len(), 1);
    }

    #[test]
    fn a_half_done_link_claim_is_not_duplicated() {
        let (_dir, q) = queue_with(&["a"]);
        let claim_dir = q.state_dir(State::Process).join("ghost");
        fs::create_dir_all(&claim_dir).unwrap();
        fs::hard_link(q.root().join("a"), claim_dir.join("a")).unwrap();
        age_claims(&q, "ghost");
        q.recover(Duration::from_secs(30), 3, None).unwrap();
        assert_eq!(q.list(State::Pending).unwrap().len(), 1);
        assert!(q.list(State::Process).unwrap().is_empty());
    }

    #[test]
    fn a_half_done_link_claim_is_found_where_inode_numbers_are_made_up() {
        let (_dir, q) = queue_with(&["a"]);
        let claim_dir = q.state_dir(State::Process).join("ghost");
        fs::create_dir_all(&claim_dir).unwrap();
        // sshfs shows the two links of one file with different inode numbers: a copy with the
        // same size, mtime and bytes stands in for that here.
        fs::copy(q.root().join("a"), claim_dir.join("a")).unwrap();
        let mtime = fs::metadata(q.root().join("a"))
            .unwrap()
            .modified()
            .unwrap();
        fs::File::options()
            .write(true)
            .open(claim_dir.join("a"))
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        age_claims(&q, "ghost");
        q.recover(Duration::from_secs(30), 3, None).unwrap();
        assert_eq!(q.list(State::Pending).unwrap().len(), 1);
        assert!(q.list(State::Process).unwrap().is_empty());
    }

    #[test]
    fn a_half_done_link_claim_of_a_reordered_item_is_not_duplicated() {
        let (_dir, q) = queue_with(&["a", "b"]);
        let b = q.list(State::Pending).unwrap().remove(1);
        let reordered = q.reorder(&b, &super::super::Position::First).unwrap();
        // Killed between the link into the claim folder and the unlink of the root's name: a
        // claim drops the sort key, so the two names differ in more than the key.
        let claimed = reordered.file.as_encoded_bytes();
        let key_end = claimed.iter().position(|&b| b == b'+').unwrap();
        let claim_name = OsStr::new(std::str::from_utf8(&claimed[key_end..]).unwrap());
        let claim_dir = q.state_dir(State::Process).join("ghost");
        fs::create_dir_all(&claim_dir).unwrap();
        fs::hard_link(q.path_of(&reordered), claim_dir.join(claim_name)).unwrap();
        age_claims(&q, "ghost");
        q.recover(Duration::from_secs(30), 3, None).unwrap();
        let pending: Vec<_> = q.list(State::Pending).unwrap();
        assert_eq!(pending.len(), 2, "{pending:?}");
        assert!(pending.iter().any(|item| item.file == reordered.file));
        assert!(q.list(State::Process).unwrap().is_empty());
    }

    /// `owner`'s claim of the queue's one item, cut between the link into its claim folder and
    /// the unlink of the root's name: the claim, and the root's name of the same file.
    fn cut_short_claim(q: &Queue, owner: &str) -> (Item, Item) {
        let item = q.list(State::Pending).unwrap().remove(0);
        let half = q.claim(&item, OsStr::new(owner)).unwrap().unwrap();
        fs::hard_link(q.path_of(&half), q.root().join(item.display())).unwrap();
        (half, q.list(State::Pending).unwrap().remove(0))
    }

    #[test]
    fn a_half_done_link_claim_whose_other_half_ran_elsewhere_is_not_run_again() {
        let (_dir, q) = queue_with(&["a"]);
        let (half, root_half) = cut_short_claim(&q, "ghost");
        // Another worker claims the root's name, under an id of its own, and finishes it.
        let other = q.claim(&root_half, OsStr::new("other")).unwrap().unwrap();
        assert_ne!(other.file, half.file);
        q.move_to(&other, State::Success).unwrap();
        age_claims(&q, "ghost");
        recovers_nothing_and_the_item_is_done(&q);
    }

    #[test]
    fn two_dead_claims_of_one_file_return_it_once() {
        let (_dir, q) = queue_with(&["a"]);
        let (_, root_half) = cut_short_claim(&q, "ghost");
        // The root's half claimed by a worker that died too.
        q.claim(&root_half, OsStr::new("ghost2")).unwrap().unwrap();
        age_claims(&q, "ghost");
        age_claims(&q, "ghost2");
        let recovered = q.recover(Duration::from_secs(30), 3, None).unwrap();
        assert_eq!(recovered.items.len(), 1, "{:?}", recovered.items);
        assert_eq!(q.list(State::Pending).unwrap().len(), 1);
        assert!(q.list(State::Process).unwrap().is_empty());
    }

    #[test]
    fn a_half_done_link_move_to_success_is_not_run_again() {
        let (_dir, q) = queue_with(&["a"]);
        let claimed = claim_first(&q, "ghost");
        // Killed between the link into success/ and the unlink of the claim.
        fs::hard_link(
            q.path_of(&claimed),
            q.state_dir(State::Success).join(&claimed.file),
        )
        .unwrap();
        age_claims(&q, "ghost");
        recovers_nothing_and_the_item_is_done(&q);
    }

    /// Recovery returns nothing: the one item is in success/, and nowhere else.
    fn recovers_nothing_and_the_item_is_done(q: &Queue) {
        let recovered = q.recover(Duration::from_secs(30), 3, None).unwrap();
        assert!(recovered.items.is_empty(), "{:?}", recovered.items);
        assert!(q.list(State::Pending).unwrap().is_empty());
        assert!(q.list(State::Process).unwrap().is_empty());
        assert_eq!(q.list(State::Success).unwrap().len(), 1);
    }

    #[test]
    fn out_of_attempts_goes_to_failed() {
        let (_dir, q) = queue_with(&["a"]);
        let claimed = claim_first(&q, "ghost");
        q.write_record(
            &claimed,
            &ItemRecord {
                attempts: 2,
                ..Default::default()
            },
        )
        .unwrap();
        age_claims(&q, "ghost");
        let recovered = q.recover(Duration::from_secs(30), 3, None).unwrap().items;
        assert_eq!(recovered[0].state, State::Failed);
        assert!(q.record(&recovered[0]).reason.unwrap().contains("ghost"));
    }
}
