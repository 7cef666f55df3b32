//! How a pane orders its rows. A pending pane always shows processing order, the order items
//! will run in, because reordering by hand (Shift+arrows) only makes sense there. Other states
//! have no order that matters to the queue, so they may be sorted by name, size or time, as in
//! mc; size and time need every item's stat, which the pane asks for in the background while
//! such a sort is on (items not stat'ed yet go last).

use std::cmp::Ordering;
use std::collections::HashMap;

use crate::queue::{Item, State as QState};

use super::pane::{Details, Key};

/// A pane's sort.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum SortMode {
    /// File-name order: processing order in pending, `ls` order elsewhere.
    #[default]
    Order,
    /// By display name (sort prefixes ignored).
    Name,
    /// By size, smallest first.
    Size,
    /// By modification time, oldest first.
    Modified,
}

impl SortMode {
    /// The next mode in the cycle the sort key walks through.
    pub fn next(self) -> SortMode {
        match self {
            SortMode::Order => SortMode::Name,
            SortMode::Name => SortMode::Size,
            SortMode::Size => SortMode::Modified,
            SortMode::Modified => SortMode::Order,
        }
    }

    /// How the pane title names it.
    pub fn label(self) -> &'static str {
        match self {
            SortMode::Order => "file order",
            SortMode::Name => "name",
            SortMode::Size => "size",
            SortMode::Modified => "time",
        }
    }

    /// Whether it needs every item's stat.
    pub fn needs_stat(self) -> bool {
        matches!(self, SortMode::Size | SortMode::Modified)
    }

    /// Whether `state` may be shown in another order than its listing's.
    pub fn allowed_in(state: QState) -> bool {
        state != QState::Pending
    }
}

/// Orders `shown` (indices into `items`) by `mode`, reversed when asked. Stable, so equal keys
/// keep file-name order.
pub fn sort_shown(
    shown: &mut [usize],
    items: &[Item],
    details: &HashMap<Key, Details>,
    mode: SortMode,
    reverse: bool,
) {
    let detail = |i: usize| details.get(&Key::of(&items[i]));
    let compare = |a: &usize, b: &usize| -> Ordering {
        match mode {
            SortMode::Order => a.cmp(b),
            SortMode::Name => items[*a].display().cmp(items[*b].display()),
            SortMode::Size => known_first(detail(*a).map(|d| d.size), detail(*b).map(|d| d.size)),
            SortMode::Modified => known_first(
                detail(*a).and_then(|d| d.modified),
                detail(*b).and_then(|d| d.modified),
            ),
        }
    };
    if mode == SortMode::Order && !reverse {
        return;
    }
    shown.sort_by(|a, b| {
        let order = compare(a, b);
        if reverse { order.reverse() } else { order }
    });
}

/// Known values in order, unknown ones after them.
fn known_first<T: Ord>(a: Option<T>, b: Option<T>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}
