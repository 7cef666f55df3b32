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

/// The statfs magics of filesystems where another host's changes raise no inotify event.
const REMOTE_MAGICS: [(u64, &str); 5] = [
    (0x6969, "NFS"),
    (0x517B, "SMB"),
    (0xFF53_4D42, "CIFS"),
    (0xFE53_4D42, "SMB2"),
    (0x6573_5546, "FUSE"),
];

/// The kind of network or FUSE filesystem `path` is on, if it is on one.
pub fn remote_filesystem(path: &Path) -> Option<&'static str> {
    let stat = rustix::fs::statfs(path).ok()?;
    let magic = (stat.f_type as u64) & 0xFFFF_FFFF;
    REMOTE_MAGICS
        .iter()
        .find(|(m, _)| *m == magic)
        .map(|(_, name)| *name)
}

/// The default polling interval where events cannot be trusted.
pub const FALLBACK_POLL: Duration = Duration::from_secs(1);

/// Starts watching `root`; returns how, and a note for the operator when it had to poll.
pub fn start(
    root: &Path,
    poll: Option<Duration>,
    signals: Arc<Signals>,
) -> (Watch, Option<String>) {
    if let Some(interval) = poll {
        return (Watch::Poll(interval.max(Duration::from_millis(10))), None);
    }
    if let Some(kind) = remote_filesystem(root) {
        let note = format!("the queue is on {kind}: polling every second instead of watching");
        return (Watch::Poll(FALLBACK_POLL), Some(note));
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
