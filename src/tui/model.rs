//! The commander's state: everything render reads and update changes, grouped by concern (the
//! panes, what we know of the queue, the engine, the overlay on top, the message line). It holds
//! no handles to threads, files or the terminal, so tests build one directly.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::time::{Duration, SystemTime};

use crate::queue::{Progress, State as QState, WorkerStatus};
use crate::worker::EngineStatus;

use super::dialog::Overlay;
use super::pane::Pane;
use super::watch::Watching;

/// How often a tick asks again for heartbeats and other workers' progress.
pub const REREAD_EVERY: Duration = Duration::from_secs(1);

/// How long a new arrival stays highlighted.
pub const FRESH_FOR: Duration = Duration::from_secs(2);

/// The whole commander.
#[derive(Debug)]
pub struct Model {
    /// The queue folder, printable.
    pub root: String,
    pub panes: [Pane; 2],
    /// Index of the pane with the cursor.
    pub active: usize,
    pub queue: QueueView,
    /// The embedded worker, if there is one.
    pub engine: Option<EngineStatus>,
    pub overlay: Option<Overlay>,
    pub message: Option<Message>,
    pub show_workers: bool,
    /// The display name of the item `f` follows through its states.
    pub follow: Option<OsString>,
    /// Quit as soon as the engine has no running job.
    pub quit_when_idle: bool,
    pub readonly: bool,
    /// Terminal size, columns and rows.
    pub size: (u16, u16),
    /// The time of the event being handled; render uses it so it never reads the clock.
    pub now: SystemTime,
    /// Something on screen changed since the last draw.
    pub dirty: bool,
}

/// What we know about the queue beyond the two listings.
#[derive(Debug, Default)]
pub struct QueueView {
    /// Items per state, in `QState::ALL` order; `None` until listed.
    pub counts: [Option<usize>; 7],
    /// Progress of running items, by `Item::identity`.
    pub running: HashMap<OsString, Progress>,
    /// Items the embedded engine runs: their progress comes from its reports, never the disk.
    pub engine_items: HashSet<OsString>,
    pub workers: Vec<WorkerStatus>,
    pub watch: WatchInfo,
    pub throughput: Throughput,
    /// This host's name, as heartbeats spell it (set once at start; render does no syscalls).
    pub host: String,
    /// Folders in the queue root, in order: never items, shown under the pending items.
    pub root_folders: Vec<OsString>,
    /// When heartbeats and progress records were last asked for by a tick.
    pub reread_at: Option<SystemTime>,
}

impl QueueView {
    pub fn count(&self, state: QState) -> Option<usize> {
        self.counts[index_of(state)]
    }

    /// Items not done yet: pending, new, running, delayed.
    pub fn remaining(&self) -> usize {
        [
            QState::Pending,
            QState::New,
            QState::Process,
            QState::Delayed,
        ]
        .into_iter()
        .filter_map(|s| self.count(s))
        .sum()
    }
}

/// How the view is kept current, and when it last was.
#[derive(Debug, Default)]
pub struct WatchInfo {
    pub mode: Watching,
    pub last_scan: Option<SystemTime>,
}

/// Items finished per minute, from the growth of success/ and failed/ over a sliding window.
#[derive(Debug, Default)]
pub struct Throughput {
    finished: VecDeque<(SystemTime, usize)>,
}

const WINDOW: Duration = Duration::from_secs(300);

impl Throughput {
    pub fn record(&mut self, at: SystemTime, finished: usize) {
        if finished > 0 {
            self.finished.push_back((at, finished));
        }
        while let Some((when, _)) = self.finished.front() {
            if at.duration_since(*when).unwrap_or_default() > WINDOW {
                self.finished.pop_front();
            } else {
                break;
            }
        }
    }

    /// Items per second over the window, once there is something to measure.
    pub fn per_sec(&self, now: SystemTime) -> Option<f64> {
        let (first, _) = self.finished.front()?;
        let total: usize = self.finished.iter().map(|(_, n)| n).sum();
        let span = now.duration_since(*first).unwrap_or_default().as_secs_f64();
        Some(total as f64 / span.max(10.0))
    }
}

/// The message line.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub text: String,
    pub error: bool,
}

pub fn index_of(state: QState) -> usize {
    QState::ALL.iter().position(|s| *s == state).unwrap_or(0)
}

impl Model {
    pub fn new(root: String, left: QState, right: QState, size: (u16, u16)) -> Model {
        Model {
            root,
            panes: [Pane::new(left), Pane::new(right)],
            active: 0,
            queue: QueueView::default(),
            engine: None,
            overlay: None,
            message: None,
            show_workers: false,
            follow: None,
            quit_when_idle: false,
            readonly: false,
            size,
            now: SystemTime::UNIX_EPOCH,
            dirty: true,
        }
    }

    pub fn pane(&self) -> &Pane {
        &self.panes[self.active]
    }

    pub fn pane_mut(&mut self) -> &mut Pane {
        &mut self.panes[self.active]
    }

    pub fn other(&self) -> &Pane {
        &self.panes[1 - self.active]
    }

    pub fn say(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: false,
        });
        self.dirty = true;
    }

    pub fn complain(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            error: true,
        });
        self.dirty = true;
    }

    /// Whether items run in other workers than the embedded one (on this host or another):
    /// their progress and their worker's health are known only from the disk.
    pub fn others_running(&self) -> bool {
        let ours = self.engine.as_ref().map_or(0, |e| e.busy);
        self.queue.count(QState::Process).unwrap_or(0) > ours
    }

    /// How often the screen must be redrawn with nothing else happening, or `None` when idle:
    /// jobs running (progress, elapsed time), highlights fading, delayed countdowns on screen,
    /// the workers panel open (a worker that stops beating changes nothing on disk).
    pub fn tick_every(&self) -> Option<Duration> {
        let running = self.engine.as_ref().is_some_and(|e| e.busy > 0)
            || !self.queue.running.is_empty()
            || self.others_running();
        if running {
            return Some(Duration::from_millis(250));
        }
        if self.show_workers {
            return Some(REREAD_EVERY);
        }
        if matches!(&self.overlay, Some(Overlay::Viewer(v)) if v.is_following()) {
            return Some(Duration::from_millis(300));
        }
        if self.panes.iter().any(|p| !p.fresh.is_empty()) {
            return Some(Duration::from_millis(500));
        }
        if self
            .panes
            .iter()
            .any(|p| p.state == QState::Delayed && !p.items.is_empty())
        {
            return Some(Duration::from_secs(1));
        }
        None
    }
}
