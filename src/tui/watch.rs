//! Keeping the view current. Locally, a notify watcher on the queue's folders whose raw events
//! are grouped until they pause for 30 ms and reduced (`Changes`) to "which names in which
//! states changed, or which states need a full re-list, did progress or heartbeats change": a
//! burst of 10,000 renames becomes a handful of re-lists, not 10,000. On network
//! filesystems (detected by statfs), where inotify sees nothing other hosts do, a poller
//! compares folder mtimes every second instead, and the header says so.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use notify::{RecursiveMode, Watcher};

use crate::queue::{State as QState, WatchMode as QueueWatch, watch_mode, watched_meta};

use super::changes::Changes;
use super::event::Event;

/// A batch closes after this long without a new raw event...
const QUIET: Duration = Duration::from_millis(30);
/// ...or this long after it opened, so a steady stream still shows.
const LONGEST: Duration = Duration::from_millis(500);

/// How changes are noticed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Watching {
    #[default]
    Inotify,
    Polling(Duration),
}

impl Watching {
    /// What the header shows.
    pub fn label(&self) -> String {
        match self {
            Watching::Inotify => "inotify".into(),
            Watching::Polling(every) => format!("polling {}", super::text::duration(*every)),
        }
    }

    /// Whether a poller's last scan is so old the view cannot be trusted.
    pub fn is_stale(&self, last_scan: Option<SystemTime>, now: SystemTime) -> bool {
        match (self, last_scan) {
            (Watching::Polling(every), Some(at)) => {
                now.duration_since(at).unwrap_or_default() > *every * 3
            }
            _ => false,
        }
    }
}

/// Keeps the watcher (or poller) alive; dropping it stops watching.
pub struct WatchHandle {
    _watcher: Option<notify::RecommendedWatcher>,
}

/// Starts watching `root`, polling every `poll` if given or if the filesystem is a network one.
pub fn start(
    root: &Path,
    poll: Option<Duration>,
    events: Sender<Event>,
) -> (Watching, WatchHandle) {
    let poll = poll.or(match watch_mode(root) {
        QueueWatch::Poll { interval, .. } => Some(interval),
        QueueWatch::Inotify => None,
    });
    if let Some(every) = poll {
        let root = root.to_path_buf();
        let _ = thread::Builder::new()
            .name("fsq-poll".into())
            .spawn(move || poller(&root, every, &events));
        return (Watching::Polling(every), WatchHandle { _watcher: None });
    }
    let (raw_tx, raw_rx) = channel::<notify::Result<notify::Event>>();
    let watcher = notify::recommended_watcher(move |event| {
        let _ = raw_tx.send(event);
    })
    .and_then(|mut w| watch_folders(&mut w, root).map(|()| w));
    match watcher {
        Ok(watcher) => {
            let root = root.to_path_buf();
            let _ = thread::Builder::new()
                .name("fsq-watch".into())
                .spawn(move || batcher(&root, &raw_rx, &events));
            (
                Watching::Inotify,
                WatchHandle {
                    _watcher: Some(watcher),
                },
            )
        }
        Err(_) => {
            // Out of inotify watches, or no inotify: polling still works.
            let every = Duration::from_secs(1);
            let root = root.to_path_buf();
            let _ = thread::Builder::new()
                .name("fsq-poll".into())
                .spawn(move || poller(&root, every, &events));
            (Watching::Polling(every), WatchHandle { _watcher: None })
        }
    }
}

/// Watches the queue's own folders, not the whole tree: a recursive watch would walk every item
/// (100,000 stats before the first screen) and every output folder. `process/` is watched
/// recursively for the claim folders inside it; it holds only running items.
fn watch_folders(watcher: &mut impl Watcher, root: &Path) -> notify::Result<()> {
    watcher.watch(root, RecursiveMode::NonRecursive)?;
    let claims = root.join("process");
    for dir in watched_folders(root).into_iter().skip(1) {
        if dir.parent() == Some(claims.as_path()) {
            continue;
        }
        let mode = if dir.ends_with("process") {
            RecursiveMode::Recursive
        } else {
            RecursiveMode::NonRecursive
        };
        if dir.is_dir() {
            watcher.watch(&dir, mode)?;
        }
    }
    Ok(())
}

/// Gathers raw events until they pause for `QUIET` (at most `LONGEST`), then sends what they
/// add up to: a single change shows within ~30 ms, a burst of renames as one re-list.
fn batcher(root: &Path, raw: &Receiver<notify::Result<notify::Event>>, events: &Sender<Event>) {
    while let Ok(first) = raw.recv() {
        let mut changes = Changes::default();
        let mut add = |event: notify::Result<notify::Event>| match event {
            // The kernel's queue overflowed: anything may have changed.
            Ok(event) if event.need_rescan() => changes.everything(),
            // Opens and reads are not changes; a close after writing is (an arriving file is done).
            Ok(event) if !is_access(&event.kind) => {
                for path in &event.paths {
                    changes.note(root, path);
                }
            }
            Ok(_) => {}
            Err(_) => changes.everything(),
        };
        add(first);
        let opened = Instant::now();
        loop {
            let wait = QUIET.min((opened + LONGEST).saturating_duration_since(Instant::now()));
            match raw.recv_timeout(wait) {
                Ok(event) => add(event),
                Err(RecvTimeoutError::Timeout) => break,
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
        if !changes.is_empty() && events.send(Event::Changed(changes)).is_err() {
            return;
        }
    }
}

/// Opens and closes after reading: no change to show.
fn is_access(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind};
    matches!(kind, EventKind::Access(access) if *access != AccessKind::Close(AccessMode::Write))
}

/// Compares the mtimes of the folders that matter every `every`.
fn poller(root: &Path, every: Duration, events: &Sender<Event>) {
    let mut last: Vec<(PathBuf, Option<SystemTime>)> = Vec::new();
    loop {
        let now: Vec<(PathBuf, Option<SystemTime>)> = watched_folders(root)
            .into_iter()
            .map(|dir| {
                let mtime = std::fs::metadata(&dir).and_then(|m| m.modified()).ok();
                (dir, mtime)
            })
            .collect();
        let mut changes = Changes {
            scanned: Some(SystemTime::now()),
            ..Changes::default()
        };
        for (dir, mtime) in &now {
            if !last.iter().any(|(d, m)| d == dir && m == mtime) {
                // A folder's own path notes its state; a path inside `_meta/x` notes that.
                changes.note(root, &dir.join("x"));
            }
        }
        changes.widen();
        last = now;
        if events.send(Event::Changed(changes)).is_err() {
            return;
        }
        thread::sleep(every);
    }
}

/// The root, every state folder, every claim folder in `process/`, and the meta folders.
fn watched_folders(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.to_path_buf()];
    for state in QState::ALL {
        if let Some(folder) = state.folder() {
            dirs.push(root.join(folder));
        }
    }
    if let Ok(claims) = std::fs::read_dir(root.join("process")) {
        dirs.extend(claims.flatten().map(|e| e.path()).filter(|p| p.is_dir()));
    }
    dirs.extend(watched_meta(root).into_iter().map(|(dir, _)| dir));
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_of_renames_is_one_change() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir(root.join("paused")).unwrap();
        for i in 0..2000 {
            std::fs::write(root.join(format!("f{i}")), "").unwrap();
        }
        let (tx, rx) = channel();
        let (mode, _handle) = start(&root, None, tx);
        assert_eq!(mode, Watching::Inotify);
        for i in 0..2000 {
            std::fs::rename(
                root.join(format!("f{i}")),
                root.join("paused").join(format!("f{i}")),
            )
            .unwrap();
        }
        let first = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        let Event::Changed(changes) = first else {
            panic!("{first:?}")
        };
        assert!(
            changes.states.contains(&QState::Paused) || changes.names.contains_key(&QState::Paused)
        );
        thread::sleep(Duration::from_millis(300));
        let more = rx.try_iter().count();
        assert!(more <= 5, "{more} more batches for one burst");
    }

    #[test]
    fn a_single_rename_names_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        std::fs::create_dir(root.join("paused")).unwrap();
        std::fs::write(root.join("a"), "").unwrap();
        let (tx, rx) = channel();
        let _handle = start(&root, None, tx).1;
        std::fs::rename(root.join("a"), root.join("paused").join("a")).unwrap();
        let first = rx.recv_timeout(Duration::from_secs(2)).unwrap();
        let Event::Changed(changes) = first else {
            panic!("{first:?}")
        };
        assert!(changes.states.is_empty(), "{changes:?}");
        let named: Vec<QState> = changes.names.keys().copied().collect();
        assert_eq!(named, [QState::Pending, QState::Paused]);
        assert!(
            changes
                .names
                .values()
                .all(|n| n.len() == 1 && n.contains(std::ffi::OsStr::new("a")))
        );
    }
}
