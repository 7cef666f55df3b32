//! Everything the event loop reacts to, from every source, on one channel: terminal input,
//! batched file changes, background results, engine reports, ticks and signals.

use std::ffi::OsString;

use crate::queue::{Item, Progress, State as QState, WorkerStatus};
use crate::worker::{self, EngineStatus};

use super::changes::Changes;
use super::editor::{Editor, Saved};
use super::info::InfoPage;
use super::pane::{Details, Key};
use super::viewer::{Chunk, Looked, Viewer};

pub enum Event {
    /// A key, mouse or resize event from the terminal.
    Input(crossterm::event::Event),
    /// A fresh listing of a state.
    Listed { state: QState, items: Vec<Item> },
    /// Of the file names looked at again in a state (sorted), those that are items now.
    Rechecked {
        state: QState,
        files: Vec<OsString>,
        found: Vec<Item>,
    },
    /// Folders in the queue root (never items): all of them when `asked` is `None`, else which
    /// of the names asked about are folders now.
    RootFolders {
        asked: Option<Vec<OsString>>,
        found: Vec<OsString>,
    },
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
    Worker(worker::EngineEvent),
    /// The embedded engine's slots or pause changed.
    Engine(EngineStatus),
    /// A disk operation finished.
    Done(OpDone),
    /// The viewer is open (read off the render path).
    ViewerOpened { viewer: Box<Viewer>, follow: bool },
    /// More of the viewed file.
    ViewerChunk(Chunk),
    /// What another look at the viewed file found.
    ViewerLooked(Looked),
    /// The editor has read its item.
    EditorOpened(Box<Editor>),
    /// An item's info page, gathered.
    InfoRead(InfoPage),
    /// The viewer or editor could not be opened.
    OpenFailed(String),
    /// The editor's save went through, or why not.
    Saved(Result<Saved, String>),
    /// Time passed (only sent while something on screen changes with time).
    Tick,
    /// SIGTERM, SIGHUP, SIGINT or SIGQUIT: leave now, requeueing running jobs.
    Terminate,
}

/// What a disk operation did.
#[derive(Debug, Default)]
pub struct OpDone {
    pub message: String,
    pub error: bool,
    /// States whose listings changed.
    pub touched: Vec<QState>,
    /// Where the cursor should go: an item that moved within its pane.
    pub focus: Option<(QState, Key)>,
}

impl std::fmt::Debug for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Input(input) => write!(f, "Input({input:?})"),
            Event::Listed { state, items } => write!(f, "Listed({state}, {} items)", items.len()),
            Event::Rechecked {
                state,
                files,
                found,
            } => {
                write!(
                    f,
                    "Rechecked({state}, {} files, {} found)",
                    files.len(),
                    found.len()
                )
            }
            Event::Changed(changes) => write!(f, "Changed({changes:?})"),
            Event::Worker(report) => write!(f, "Worker({report:?})"),
            Event::Done(outcome) => write!(f, "Done({outcome:?})"),
            _ => f.write_str("Event"),
        }
    }
}
