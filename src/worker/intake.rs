//! Telling a finished file from one still being written. A file renamed into the root is
//! complete by the format's rules. A file written in place becomes an item only once no
//! process has it open for writing and it was last closed `settle_time` ago, so a writer that
//! pauses is never cut short and a file written in several open/close steps is one item. The
//! watcher's events say when a name was created, written and closed; for files found by listing
//! the kernel is asked: a read lease (`F_SETLEASE`) cannot be taken while anyone has the file
//! open for writing. Where the kernel cannot see the writers (a network filesystem, whose
//! writers may be on other hosts, or another user's file without `CAP_LEASE`), quiet time is the
//! only signal, and it is judged by the filesystem's clock, never this host's.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{File, Metadata, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

/// What the watcher saw happen to a name in the root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Renamed in: complete by the format's rules.
    RenamedIn,
    /// Created in place: being written.
    Created,
    /// Written to: being written.
    Written,
    /// A descriptor open for writing was closed.
    Closed,
}

/// What the events say about a name.
enum Known {
    Complete,
    Writing,
    Closed(Instant),
}

/// Whether a file may be claimed now.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Ready,
    /// Not yet: look again at this time, or (`None`) when an event or a listing brings it back.
    Wait(Option<Instant>),
    /// No longer in the root.
    Gone,
}

/// A file seen changing recently, and since when it has looked like this.
struct Settling {
    size: u64,
    mtime: Option<SystemTime>,
    since: Instant,
}

/// The intake rules of one queue root, with what the events have told so far.
pub struct Intake {
    known: HashMap<OsString, Known>,
    settling: HashMap<OsString, Settling>,
    /// The queue is on a local filesystem: every writer is a process of this kernel.
    kernel_sees_writers: bool,
    settle: Duration,
    quiet: Duration,
    /// The filesystem's clock read at one moment of ours (network filesystems only).
    fs_clock: Option<(SystemTime, Instant)>,
}

impl Intake {
    pub fn new(kernel_sees_writers: bool, settle: Duration, quiet: Duration) -> Intake {
        Intake {
            known: HashMap::new(),
            settling: HashMap::new(),
            kernel_sees_writers,
            settle,
            quiet,
            fs_clock: None,
        }
    }

    /// Whether quiet time must be judged by the filesystem's clock (see `set_fs_clock`).
    pub fn needs_fs_clock(&self) -> bool {
        !self.kernel_sees_writers && !self.quiet.is_zero()
    }

    /// Records the filesystem's clock, read now (the mtime of a file just touched there).
    pub fn set_fs_clock(&mut self, fs_now: SystemTime) {
        self.fs_clock = Some((fs_now, Instant::now()));
    }

    /// Records what the watcher saw; `at` is when.
    pub fn note(&mut self, name: &OsStr, change: Change, at: Instant) {
        let known = match change {
            Change::RenamedIn => Known::Complete,
            Change::Created | Change::Written => Known::Writing,
            Change::Closed => Known::Closed(at),
        };
        self.known.insert(name.to_os_string(), known);
    }

    /// Forgets what events said (they were lost): the kernel is asked again instead.
    pub fn forget_events(&mut self) {
        self.known.clear();
    }

    /// Forgets a name that left the root.
    pub fn forget(&mut self, name: &OsStr) {
        self.known.remove(name);
        self.settling.remove(name);
    }

    /// Whether anything is known about any name.
    pub fn tracks_any(&self) -> bool {
        !self.known.is_empty() || !self.settling.is_empty()
    }

    /// Keeps only what is known about names for which `present` holds.
    pub fn retain(&mut self, present: impl Fn(&OsStr) -> bool) {
        self.known.retain(|name, _| present(name));
        self.settling.retain(|name, _| present(name));
    }

    /// Whether the file `name` at `path` may be claimed now.
    pub fn judge(&mut self, name: &OsStr, path: &Path) -> Verdict {
        let now = Instant::now();
        let closed = match self.known.get(name) {
            Some(Known::Complete) => return Verdict::Ready,
            Some(Known::Writing) if path.symlink_metadata().is_ok() => {
                return Verdict::Wait(None);
            }
            Some(Known::Writing) => return Verdict::Gone,
            Some(Known::Closed(at)) if now < *at + self.settle => {
                return Verdict::Wait(Some(*at + self.settle));
            }
            Some(Known::Closed(_)) => true,
            None => false,
        };
        let meta = if self.kernel_sees_writers {
            match probe(path) {
                Probe::Gone => return Verdict::Gone,
                // Its CLOSE_WRITE event, or the next listing, brings it back.
                Probe::Busy => return Verdict::Wait(None),
                Probe::Free(_) if closed => return Verdict::Ready,
                Probe::Free(meta) => {
                    // Found by listing: its last write must be `settle` ago. The filesystem is
                    // local, so its clock is ours.
                    return match meta.modified().map(|m| m + self.settle) {
                        Ok(due) => match due.duration_since(SystemTime::now()) {
                            Ok(left) if !left.is_zero() => Verdict::Wait(Some(now + left)),
                            _ => Verdict::Ready,
                        },
                        Err(_) => Verdict::Ready,
                    };
                }
                Probe::Unknown(meta) => meta,
            }
        } else {
            None
        };
        self.quiet_verdict(name, path, meta, now)
    }

    /// Where writers cannot be seen: unchanged for the quiet period, by the filesystem's clock
    /// or by watching it that long.
    fn quiet_verdict(
        &mut self,
        name: &OsStr,
        path: &Path,
        meta: Option<Metadata>,
        now: Instant,
    ) -> Verdict {
        if self.quiet.is_zero() {
            return Verdict::Ready;
        }
        let Some(meta) = meta.or_else(|| std::fs::symlink_metadata(path).ok()) else {
            return Verdict::Gone;
        };
        if changed_after_last_write(&meta) {
            self.settling.remove(name);
            return Verdict::Ready;
        }
        let mtime = meta.modified().ok();
        let fs_now = match self.fs_clock {
            Some((fs, at)) => fs + at.elapsed(),
            None => SystemTime::now(),
        };
        if mtime.is_some_and(|m| m + self.quiet <= fs_now) {
            self.settling.remove(name);
            return Verdict::Ready;
        }
        let entry = self
            .settling
            .entry(name.to_os_string())
            .or_insert(Settling {
                size: meta.len(),
                mtime,
                since: now,
            });
        if entry.size != meta.len() || entry.mtime != mtime {
            *entry = Settling {
                size: meta.len(),
                mtime,
                since: now,
            };
        }
        if entry.since.elapsed() >= self.quiet {
            self.settling.remove(name);
            return Verdict::Ready;
        }
        Verdict::Wait(Some(entry.since + self.quiet))
    }
}

/// Whether the file's inode changed after its last write: a write sets mtime and ctime to the
/// same instant, a rename (or any metadata change) only ctime. So a file renamed into the root
/// after it was written shows a later ctime, and a writer that paused mid-file does not.
/// Filesystems that report no ctime of their own (sshfs gives the mtime) never show it.
fn changed_after_last_write(meta: &Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    (meta.ctime(), meta.ctime_nsec()) > (meta.mtime(), meta.mtime_nsec())
}

/// Whether some process has the file at `path` open for writing; `None` when the kernel will
/// not say (see `probe`), or the file is gone. Only meaningful on a local filesystem.
pub fn being_written(path: &Path) -> Option<bool> {
    match probe(path) {
        Probe::Busy => Some(true),
        Probe::Free(_) => Some(false),
        Probe::Gone | Probe::Unknown(_) => None,
    }
}

/// What the kernel says about a file's writers.
enum Probe {
    Free(Metadata),
    Busy,
    Gone,
    /// The kernel will not say (not our file and no `CAP_LEASE`, or no lease support).
    Unknown(Option<Metadata>),
}

/// Asks the kernel whether any process has `path` open for writing: a read lease is refused
/// with `EAGAIN` exactly then. The lease is released at once. Costs an open, four `fcntl`s and
/// an `fstat`.
fn probe(path: &Path) -> Probe {
    let file = match OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(file) => file,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Probe::Gone,
        // Someone holds a write lease on it: a writer (a file server) is at work.
        Err(err) if err.raw_os_error() == Some(libc::EWOULDBLOCK) => return Probe::Busy,
        Err(_) => return Probe::Unknown(None),
    };
    let meta = file.metadata().ok();
    match read_lease(&file) {
        Ok(()) => meta.map_or(Probe::Unknown(None), Probe::Free),
        Err(libc::EAGAIN) => Probe::Busy,
        Err(_) => Probe::Unknown(meta),
    }
}

/// `fcntl` command choosing the signal of lease breaks (`<asm-generic/fcntl.h>`; the libc
/// crate does not name it).
const F_SETSIG: libc::c_int = 10;

/// Takes and drops a read lease on `file`; `Err(errno)` when it cannot be taken.
fn read_lease(file: &File) -> Result<(), i32> {
    let fd = file.as_raw_fd();
    let errno = || std::io::Error::last_os_error().raw_os_error().unwrap_or(0);
    // A writer opening the file while we hold the lease makes the kernel signal us. SIGIO, the
    // default, would end the process; SIGURG is ignored unless handled, and nothing here
    // handles it.
    // SAFETY: fcntl on a descriptor we own, with integer arguments only.
    if unsafe { libc::fcntl(fd, F_SETSIG, libc::SIGURG) } == -1 {
        return Err(errno());
    }
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_RDLCK) } == -1 {
        return Err(errno());
    }
    // SAFETY: as above. Closing the descriptor would release the lease too.
    unsafe { libc::fcntl(fd, libc::F_SETLEASE, libc::F_UNLCK) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn local(settle: Duration) -> Intake {
        Intake::new(true, settle, Duration::from_secs(2))
    }

    fn old_file(path: &Path) {
        std::fs::write(path, "done").unwrap();
        let file = File::options().write(true).open(path).unwrap();
        file.set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
    }

    #[test]
    fn a_file_open_for_writing_waits_however_old_it_looks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        old_file(&path);
        let mut intake = local(Duration::from_secs(1));
        assert_eq!(intake.judge(OsStr::new("f"), &path), Verdict::Ready);
        let writer = File::options().append(true).open(&path).unwrap();
        writer
            .set_modified(SystemTime::now() - Duration::from_secs(3600))
            .unwrap();
        assert_eq!(intake.judge(OsStr::new("f"), &path), Verdict::Wait(None));
        drop(writer);
        assert_eq!(intake.judge(OsStr::new("f"), &path), Verdict::Ready);
    }

    #[test]
    fn a_file_open_for_reading_is_free_and_a_missing_one_gone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        old_file(&path);
        let _reader = File::open(&path).unwrap();
        let mut intake = local(Duration::from_secs(1));
        assert_eq!(intake.judge(OsStr::new("f"), &path), Verdict::Ready);
        let missing = dir.path().join("missing");
        assert_eq!(intake.judge(OsStr::new("m"), &missing), Verdict::Gone);
    }

    #[test]
    fn a_close_settles_before_the_file_is_ready() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut file = File::create(&path).unwrap();
        file.write_all(b"a").unwrap();
        let mut intake = local(Duration::from_secs(30));
        let at = Instant::now();
        intake.note(OsStr::new("f"), Change::Created, at);
        assert_eq!(intake.judge(OsStr::new("f"), &path), Verdict::Wait(None));
        drop(file);
        intake.note(OsStr::new("f"), Change::Closed, at);
        let settled = at + Duration::from_secs(30);
        assert_eq!(
            intake.judge(OsStr::new("f"), &path),
            Verdict::Wait(Some(settled))
        );
        // Found by listing with a fresh mtime: the same wait, counted from the last write.
        intake.forget(OsStr::new("f"));
        assert!(matches!(
            intake.judge(OsStr::new("f"), &path),
            Verdict::Wait(Some(_))
        ));
    }

    #[test]
    fn where_writers_cannot_be_seen_quiet_time_goes_by_the_filesystem_clock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "x").unwrap();
        let written = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut intake = Intake::new(false, Duration::from_secs(1), Duration::from_secs(60));
        // This host's clock runs an hour ahead of the file server's: the file is fresh.
        intake.set_fs_clock(written);
        assert!(matches!(
            intake.judge(OsStr::new("f"), &path),
            Verdict::Wait(Some(_))
        ));
        // Its inode changed after its last write (times set, then renamed in): ctime is later
        // than mtime, so it is complete at once, though its mtime is fresh.
        let staged = dir.path().join("staged");
        std::fs::write(&staged, "x").unwrap();
        File::options()
            .write(true)
            .open(&staged)
            .unwrap()
            .set_modified(written - Duration::from_secs(1))
            .unwrap();
        let renamed = dir.path().join("renamed");
        std::fs::rename(&staged, &renamed).unwrap();
        assert_eq!(
            intake.judge(OsStr::new("renamed"), &renamed),
            Verdict::Ready
        );
        // The server's clock says the file has been quiet for an hour.
        intake.set_fs_clock(written + Duration::from_secs(3600));
        assert_eq!(intake.judge(OsStr::new("f"), &path), Verdict::Ready);
    }
}
