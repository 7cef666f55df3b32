//! What `update` asks the outside world to do. Effects are plain data: the event loop hands
//! them to background threads (disk work), the embedded engine, or the loop itself (quit), and
//! whatever they produce comes back as an `Event`.

use crate::queue::{EditHold, Item, Request, State as QState};

use super::editor::SaveRequest;
use super::viewer::{LookRequest, ReadRequest};
use crate::worker::StopMode;

/// Work to be done off the render path.
#[derive(Clone, Debug)]
pub enum Effect {
    /// Re-list a state.
    List(QState),
    /// Look again at just these file names of a state (few changed in a big folder).
    Recheck {
        state: QState,
        files: Vec<std::ffi::OsString>,
    },
    /// Stat these items (and read their records) for size, age and failure reason.
    Stat(Vec<Item>),
    /// Read `_meta/progress/` for items run by any worker on any host.
    ReadProgress,
    /// Read the heartbeats in `_meta/workers/`.
    ReadWorkers,
    /// Change the queue.
    Disk(Op),
    /// Pause or resume the embedded worker.
    PauseEngine(bool),
    /// Set the embedded worker's slot count.
    SetSlots(usize),
    /// Open the viewer on an item, or on its log when `log` is set (and there is one).
    View { item: Item, log: bool },
    /// Read an item for the editor.
    Edit(Item),
    /// Gather an item's info page.
    Info(Item),
    /// Read more of the file in the open viewer.
    ViewerRead(ReadRequest),
    /// Look at the open viewer's file again (a followed log grows), off the event loop.
    ViewerLook(LookRequest),
    /// Save the editor's text.
    Save(SaveRequest),
    /// Leave the commander; running jobs are handled per the mode.
    Quit(StopMode),
    /// Give the terminal back and stop (Ctrl+Z), until the shell continues us.
    Suspend,
}

/// One change to the queue, run on the operations thread in the order asked.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Move {
        items: Vec<Item>,
        to: QState,
    },
    Copy {
        items: Vec<Item>,
        to: QState,
    },
    Delete {
        items: Vec<Item>,
    },
    /// Back to pending with attempts reset.
    Retry {
        items: Vec<Item>,
    },
    /// Move pending items (the selection, or the cursor item) within the order; worked out
    /// against a fresh listing, so quick repeated presses each move them one more place.
    Reorder {
        items: Vec<Item>,
        place: Place,
        /// With a filter on, the display names it shows: items only move among these, never
        /// past one the operator cannot see.
        shown: Option<Vec<std::ffi::OsString>>,
    },
    /// The editor closed: its item goes back where it was held from.
    ReleaseEdit(EditHold),
    /// Ask the workers running these items to cancel, fail, freeze or thaw them.
    Request {
        items: Vec<Item>,
        request: Request,
    },
    /// Pause every worker, until the shared clock passes `for_` from now (or for good).
    PauseWorkers {
        for_: Option<std::time::Duration>,
    },
    /// Remove the queue-wide pause flag and this host's.
    ResumeWorkers,
}

/// Where `Op::Reorder` puts an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Up,
    Down,
    Top,
    Bottom,
}

impl PartialEq for Effect {
    /// Reads and saves carry file handles and buffers: never equal. The rest compare by value
    /// (tests assert on effects).
    fn eq(&self, other: &Self) -> bool {
        use Effect::*;
        match (self, other) {
            (List(a), List(b)) => a == b,
            (Recheck { state: a, files: x }, Recheck { state: b, files: y }) => a == b && x == y,
            (Stat(a), Stat(b)) => a == b,
            (ReadProgress, ReadProgress) | (ReadWorkers, ReadWorkers) => true,
            (Disk(a), Disk(b)) => a == b,
            (PauseEngine(a), PauseEngine(b)) => a == b,
            (SetSlots(a), SetSlots(b)) => a == b,
            (View { item: a, log: x }, View { item: b, log: y }) => a == b && x == y,
            (Edit(a), Edit(b)) => a == b,
            (Quit(a), Quit(b)) => a == b,
            (Suspend, Suspend) => true,
            _ => false,
        }
    }
}
