//! Noticing new items. inotify (through `notify`) wakes the claim loop within a millisecond of a
//! rename into the queue root; polling takes over where events cannot be trusted: when asked
//! (`--poll`), when the watch fails, and on network and FUSE mounts, where inotify never sees
//! what other hosts do. The watcher also tells which files are complete: a name renamed in, or
//! closed after writing, may be claimed at once; anything else waits for the quiet period.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use notify::event::{AccessKind, AccessMode, ModifyKind, RenameMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::Notify;

use super::job::lock;
use crate::queue::{DEFAULT_POLL, WatchMode, watch_mode};

/// What the watcher tells the claim loop.
#[derive(Default)]
pub struct Signals {
    /// Something appeared in the root: list it again.
    pub dirty: AtomicBool,
    /// Names known to be complete (renamed in, or closed after writing).
    pub ready: Mutex<HashSet<OsString>>,
    /// Wakes the engine loop (also used for control requests).
    pub wake: Notify,
}

impl Signals {
    pub fn poke(&self) {
        self.dirty.store(true, Ordering::SeqCst);
        self.wake.notify_one();
    }
}

/// How new items are found.
pub enum Watch {
    /// Kept alive for as long as the engine runs; dropping it stops the events.
    Events(#[allow(dead_code)] RecommendedWatcher),
    Poll(Duration),
}

/// The polling interval when the watch itself fails.
pub const FALLBACK_POLL: Duration = DEFAULT_POLL;

/// Starts watching `root`; returns how, and a note for the operator when it had to poll.
pub fn start(
    root: &Path,
    poll: Option<Duration>,
    signals: Arc<Signals>,
) -> (Watch, Option<String>) {
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
    let handler_signals = signals.clone();
    let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        handle(&handler_signals, event)
    });
    let watching = watcher.and_then(|mut watcher| {
        watcher.watch(root, RecursiveMode::NonRecursive)?;
        Ok(watcher)
    });
    match watching {
        Ok(watcher) => (Watch::Events(watcher), None),
        Err(err) => (
            Watch::Poll(FALLBACK_POLL),
            Some(format!(
                "cannot watch the queue ({err}): polling every second"
            )),
        ),
    }
}

fn handle(signals: &Signals, event: notify::Result<notify::Event>) {
    let Ok(event) = event else {
        signals.poke();
        return;
    };
    let name = |index: usize| event.paths.get(index).and_then(|p| p.file_name());
    match event.kind {
        EventKind::Modify(ModifyKind::Name(RenameMode::From)) | EventKind::Remove(_) => {}
        EventKind::Modify(ModifyKind::Name(RenameMode::Both)) => {
            if let Some(to) = name(1) {
                lock(&signals.ready).insert(to.to_os_string());
            }
            signals.poke();
        }
        EventKind::Modify(ModifyKind::Name(_))
        | EventKind::Access(AccessKind::Close(AccessMode::Write)) => {
            if let Some(file) = name(0) {
                lock(&signals.ready).insert(file.to_os_string());
            }
            signals.poke();
        }
        EventKind::Create(_) => signals.poke(),
        EventKind::Modify(ModifyKind::Data(_)) => {
            if let Some(file) = name(0) {
                let mut ready = lock(&signals.ready);
                if !ready.is_empty() {
                    ready.remove(file);
                }
            }
        }
        _ if event.need_rescan() => signals.poke(),
        _ => {}
    }
}
