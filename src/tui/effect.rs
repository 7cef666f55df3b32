//! What `update` asks the outside world to do. Effects are plain data: the event loop hands
//! them to background threads (disk work), the embedded engine, or the loop itself (quit), and
//! whatever they produce comes back as an `Event`.

use crate::queue::{Item, State as QState};
use crate::worker::StopMode;

/// Work to be done off the render path.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Re-list a state.
    List(QState),
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
    /// Leave the commander; running jobs are handled per the mode.
    Quit(StopMode),
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
    /// Move a pending item within the order; worked out against a fresh listing, so quick
    /// repeated presses each move it one more place.
    Reorder {
        item: Item,
        place: Place,
    },
    /// A new empty item called `name` in `state`.
    Create {
        state: QState,
        name: String,
    },
}

/// Where `Op::Reorder` puts an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    Up,
    Down,
    Top,
    Bottom,
}
