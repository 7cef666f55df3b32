//! Noticing new items. inotify wakes the claim loop within a millisecond of a rename into the
//! queue root; polling takes over where events cannot be trusted: when asked (`--poll`), when
//! the watch fails, and on network and FUSE mounts, where inotify never sees what other hosts
//! do. The watcher passes on what happened to each name (renamed in, created, written, closed),
//! so arrivals join the claim order without a listing and `intake` can tell which files are
//! still being written. Only lost events (or a new folder) ask for a full listing.
//!
//! The watch asks only for arrivals and writes, never for names leaving the root: every claim
//! is such a departure, and being told of our own claims cost more per job than the claim.
//! The inotify descriptor is read on the engine's own runtime, so no thread is woken either.

use std::ffi::{CStr, OsStr, OsString};
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};
use rustix::io::Errno;
use tokio::io::unix::AsyncFd;
use tokio::sync::Notify;

use super::ctx::lock;
use super::intake::Change;
use super::spawn::async_fd;
use crate::queue::{DEFAULT_POLL, WatchMode, watch_mode};

/// What the watcher tells the claim loop.
#[derive(Default)]
pub struct Signals {
    /// Events were lost, or a folder appeared: list the root again.
    pub dirty: AtomicBool,
    /// What happened to which names in the root, oldest first, since the claimer last looked.
    pub changes: Mutex<Vec<(OsString, Change, Instant)>>,
    /// Wakes the engine loop (control requests from other threads).
    pub wake: Notify,
}

/// How new items are found.
pub enum Watch {
    Events(Inotify),
    Poll(Duration),
}

/// An inotify watch on the queue root, read without blocking.
pub struct Inotify {
    fd: AsyncFd<OwnedFd>,
    buf: Vec<MaybeUninit<u8>>,
}

/// The polling interval when the watch itself fails.
pub const FALLBACK_POLL: Duration = DEFAULT_POLL;

/// Room for a few hundred events per read.
const EVENT_BUFFER: usize = 64 * 1024;

/// Starts watching `root` (on the current tokio runtime); returns how, and a note for the
/// operator when it had to poll.
pub fn start(root: &Path, poll: Option<Duration>) -> (Watch, Option<String>) {
    if let Some(interval) = poll {
        return (Watch::Poll(interval.max(Duration::from_millis(10))), None);
    }
    if let WatchMode::Poll { interval, fs_name } = watch_mode(root) {
        let note = format!(
            "the queue is on {fs_name}: polling every {:.1}s instead of watching",
            interval.as_secs_f64()
        );
        return (Watch::Poll(interval), Some(note));
    }
    match Inotify::watch(root) {
        Ok(inotify) => (Watch::Events(inotify), None),
        Err(err) => (
            Watch::Poll(FALLBACK_POLL),
            Some(format!(
                "cannot watch the queue ({err}): polling every second"
            )),
        ),
    }
}

impl Inotify {
    fn watch(root: &Path) -> std::io::Result<Inotify> {
        let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
        let arrivals = WatchFlags::CREATE
            | WatchFlags::MOVED_TO
            | WatchFlags::CLOSE_WRITE
            | WatchFlags::MODIFY
            | WatchFlags::ONLYDIR;
        inotify::add_watch(&fd, root, arrivals)?;
        Ok(Inotify {
            fd: async_fd(fd)?,
            buf: vec![MaybeUninit::uninit(); EVENT_BUFFER],
        })
    }
}

impl Watch {
    /// Waits until the root has news and records it in `signals`; never resolves when polling.
    pub async fn changed(&mut self, signals: &Signals) {
        let Watch::Events(inotify) = self else {
            return std::future::pending().await;
        };
        loop {
            let Ok(mut guard) = inotify.fd.readable().await else {
                // The runtime is going away; the engine stops with it.
                return std::future::pending().await;
            };
            let mut reader = inotify::Reader::new(inotify.fd.get_ref(), &mut inotify.buf);
            let mut any = false;
            loop {
                match reader.next() {
                    Ok(event) => {
                        any = true;
                        handle(signals, event.events(), event.file_name());
                    }
                    Err(Errno::AGAIN) => {
                        guard.clear_ready();
                        break;
                    }
                    Err(Errno::INTR) => {}
                    Err(_) => {
                        // Something is off with the watch itself: fall back to a fresh look.
                        any = true;
                        signals.dirty.store(true, Ordering::SeqCst);
                        guard.clear_ready();
                        break;
                    }
                }
            }
            if any {
                return;
            }
        }
    }
}

/// Records one event: what happened to a name, or that the root must be listed again.
fn handle(signals: &Signals, events: ReadFlags, name: Option<&CStr>) {
    let change = if events.contains(ReadFlags::ISDIR) {
        None
    } else if events.contains(ReadFlags::MOVED_TO) {
        Some(Change::RenamedIn)
    } else if events.contains(ReadFlags::CLOSE_WRITE) {
        Some(Change::Closed)
    } else if events.contains(ReadFlags::CREATE) {
        Some(Change::Created)
    } else if events.contains(ReadFlags::MODIFY) {
        Some(Change::Written)
    } else {
        None
    };
    match (change, name) {
        (Some(change), Some(name)) => {
            let name = OsStr::from_bytes(name.to_bytes());
            let mut changes = lock(&signals.changes);
            // A long copy is a stream of writes to one name: one entry, however long.
            match changes.last_mut() {
                Some((last, kind, at)) if *kind == change && last.as_os_str() == name => {
                    *at = Instant::now();
                }
                _ => changes.push((name.to_os_string(), change, Instant::now())),
            }
        }
        // A folder created or renamed in, lost events, or the watch itself gone.
        _ if events.intersects(
            ReadFlags::CREATE
                | ReadFlags::MOVED_TO
                | ReadFlags::QUEUE_OVERFLOW
                | ReadFlags::IGNORED,
        ) =>
        {
            signals.dirty.store(true, Ordering::SeqCst);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::io::Write;

    use super::*;

    /// Runs `body` against a watch on a fresh folder, on a runtime like the engine's.
    fn with_watch(body: impl AsyncFnOnce(&Path, Watch, Signals)) {
        let dir = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            let (watch, note) = start(dir.path(), None);
            assert!(note.is_none(), "{note:?}");
            assert!(matches!(watch, Watch::Events(_)));
            body(dir.path(), watch, Signals::default()).await;
        });
    }

    async fn news(watch: &mut Watch, signals: &Signals, within: Duration) -> bool {
        tokio::time::timeout(within, watch.changed(signals))
            .await
            .is_ok()
    }

    #[test]
    fn a_name_renamed_in_is_news_and_ready() {
        with_watch(async |root, mut watch, signals| {
            let outside = root.parent().unwrap().join(format!(
                "{}-staged",
                root.file_name().unwrap().to_string_lossy()
            ));
            fs::write(&outside, "x").unwrap();
            fs::rename(&outside, root.join("item")).unwrap();
            assert!(news(&mut watch, &signals, Duration::from_secs(5)).await);
            assert!(!signals.dirty.load(Ordering::SeqCst), "no listing needed");
            assert_eq!(changes(&signals), [("item".into(), Change::RenamedIn)]);
        });
    }

    /// Takes the changes recorded so far, without their times.
    fn changes(signals: &Signals) -> Vec<(String, Change)> {
        let taken = std::mem::take(&mut *lock(&signals.changes));
        taken
            .into_iter()
            .map(|(name, change, _)| (name.to_string_lossy().into_owned(), change))
            .collect()
    }

    #[test]
    fn a_file_written_in_two_steps_is_told_step_by_step() {
        with_watch(async |root, mut watch, signals| {
            let mut file = fs::File::create(root.join("upload")).unwrap();
            file.write_all(b"part one").unwrap();
            drop(file);
            let mut file = fs::OpenOptions::new()
                .append(true)
                .open(root.join("upload"))
                .unwrap();
            file.write_all(b"part two").unwrap();
            drop(file);
            let mut seen = Vec::new();
            while seen.len() < 5 {
                assert!(news(&mut watch, &signals, Duration::from_secs(5)).await);
                seen.extend(changes(&signals).into_iter().map(|(_, change)| change));
            }
            use Change::*;
            assert_eq!(seen, [Created, Written, Closed, Written, Closed]);
            assert!(!signals.dirty.load(Ordering::SeqCst), "no listing needed");
        });
    }

    #[test]
    fn a_folder_appearing_asks_for_a_listing() {
        with_watch(async |root, mut watch, signals| {
            fs::create_dir(root.join("stray")).unwrap();
            assert!(news(&mut watch, &signals, Duration::from_secs(5)).await);
            assert!(signals.dirty.load(Ordering::SeqCst));
        });
    }

    #[test]
    fn names_leaving_the_root_wake_nobody() {
        with_watch(async |root, mut watch, signals| {
            let process = root.join("process");
            fs::create_dir(&process).unwrap();
            assert!(news(&mut watch, &signals, Duration::from_secs(5)).await);
            fs::write(process.join("claimed"), "x").unwrap();
            fs::rename(process.join("claimed"), root.join("claimed")).unwrap();
            assert!(news(&mut watch, &signals, Duration::from_secs(5)).await);
            // What every claim does: a rename out of the root, later an unlink elsewhere.
            fs::rename(root.join("claimed"), process.join("claimed")).unwrap();
            fs::remove_file(process.join("claimed")).unwrap();
            assert!(!news(&mut watch, &signals, Duration::from_millis(300)).await);
        });
    }
}
