//! Everything the event loop reacts to, from every source, on one channel: terminal input,
//! batched file changes, background results, engine reports, ticks and signals.

use std::ffi::OsString;

use crate::queue::{Item, Progress, State as QState, WorkerStatus};
use crate::worker::{self, EngineStatus};

use super::pane::{Details, Key};
use super::watch::Changes;

#[derive(Debug)]
pub enum Event {
    /// A key, mouse or resize event from the terminal.
    Input(crossterm::event::Event),
    /// A fresh listing of a state.
    Listed { state: QState, items: Vec<Item> },
    /// A state could not be listed.
    ListFailed { state: QState, error: String },
    /// Stat results for items on screen.
    Details(Vec<(QState, Key, Details)>),
    /// The content of `_meta/progress/`, by display name.
    ProgressRead(Vec<(OsString, Progress)>),
    /// The heartbeats of every worker.
    Workers(Vec<WorkerStatus>),
    /// Files changed on disk (batched by the watcher, or found by a poll).
    Changed(Changes),
    /// A report from the embedded engine.
    Worker(worker::Event),
    /// The embedded engine's slots or pause changed.
    Engine(EngineStatus),
    /// A disk operation finished.
    Done(Outcome),
    /// Time passed (only sent while something on screen changes with time).
    Tick,
    /// SIGTERM or SIGHUP: leave now, requeueing running jobs.
    Terminate,
}

/// What a disk operation did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub message: String,
    pub error: bool,
    /// States whose listings changed.
    pub touched: Vec<QState>,
    /// Where the cursor should go: an item that moved within its pane.
    pub focus: Option<(QState, Key)>,
}
