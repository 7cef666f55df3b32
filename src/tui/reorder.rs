//! Shift+arrows / Home / End: moving pending items within the processing order. They act on
//! the selection (or the cursor item), keep its inner order, and with a filter on move only
//! among the items the filter shows: one place up means before the shown item above, never
//! past an item the operator cannot see. Worked out against a fresh listing for every item
//! moved, so quick repeated presses each move the items one more place.

use std::ffi::{OsStr, OsString};

use crate::queue::{Item, Queue, State as QState};

use super::effect::Place;
use super::event::OpDone;
use super::pane::Key;

pub fn run(queue: &Queue, items: &[Item], place: Place, shown: Option<&[OsString]>) -> OpDone {
    let fail = |message: String| OpDone {
        message,
        error: true,
        touched: vec![QState::Pending],
        focus: None,
    };
    let targets: Vec<&OsStr> = items.iter().map(Item::display).collect();
    // Up and to the top, the first target moves first; down and to the bottom, the last.
    let mut order = match queue.list(QState::Pending) {
        Ok(listing) => listing
            .iter()
            .filter(|i| targets.contains(&i.display()) && is_shown(i, shown))
            .map(|i| i.display().to_os_string())
            .collect::<Vec<_>>(),
        Err(err) => return fail(err.to_string()),
    };
    if matches!(place, Place::Down | Place::Bottom) {
        order.reverse();
    }
    let mut stuck: Vec<OsString> = Vec::new();
    let mut moved = None;
    for (k, name) in order.iter().enumerate() {
        // One listing per item moved: the shown items and the full order around them.
        let full = match queue.list(QState::Pending) {
            Ok(full) => full,
            Err(err) => return fail(err.to_string()),
        };
        let shown_items: Vec<usize> = (0..full.len())
            .filter(|&i| is_shown(&full[i], shown))
            .collect();
        let Some(at) = shown_items
            .iter()
            .position(|&i| full[i].display() == name.as_os_str())
        else {
            return fail(format!(
                "pending/{}: it has left pending",
                name.to_string_lossy()
            ));
        };
        let next = new_place(place, k, at, shown_items.len() - 1);
        // A block of selected items moves as one: an item behind a stuck one stays too.
        let Some(next) = next.filter(|&n| {
            let neighbour = full[shown_items[n]].display();
            !stuck.iter().any(|s| neighbour == s)
        }) else {
            stuck.push(name.clone());
            continue;
        };
        let (after, before) = neighbours(&full, shown_items[next], place);
        match queue.reorder_between(&full[shown_items[at]], after, before) {
            Ok(item) => moved = Some(item),
            Err(err) => return fail(err.to_string()),
        }
    }
    OpDone {
        message: String::new(),
        error: false,
        touched: vec![QState::Pending],
        focus: moved
            .filter(|_| items.len() == 1)
            .map(|item| (QState::Pending, Key::of(&item))),
    }
}

/// Where among the `last + 1` shown items the `k`-th target moved, now at `at`, goes; `None`
/// where it stays. The k-th target to the top or bottom goes to the k-th place from that end.
fn new_place(place: Place, k: usize, at: usize, last: usize) -> Option<usize> {
    match place {
        Place::Top => Some(k).filter(|&n| n != at),
        Place::Bottom => last.checked_sub(k).filter(|&n| n != at),
        Place::Up => at.checked_sub(1),
        Place::Down => (at < last).then_some(at + 1),
    }
}

/// The file names a moved item goes between: right next to the shown item at `anchor` in the
/// full order, past it and never past more.
fn neighbours(full: &[Item], anchor: usize, place: Place) -> (Option<&OsStr>, Option<&OsStr>) {
    let file = |i: Option<usize>| {
        i.and_then(|i| full.get(i))
            .map(|item| item.file.as_os_str())
    };
    match place {
        Place::Up | Place::Top => (file(anchor.checked_sub(1)), file(Some(anchor))),
        Place::Down | Place::Bottom => (file(Some(anchor)), file(Some(anchor + 1))),
    }
}

/// Whether the filter (if any) shows `item`.
fn is_shown(item: &Item, shown: Option<&[OsString]>) -> bool {
    shown.is_none_or(|shown| shown.iter().any(|s| s.as_os_str() == item.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::testutil::queue_with;

    fn names(queue: &Queue) -> Vec<String> {
        let items = queue.list(QState::Pending).unwrap();
        items
            .iter()
            .map(|i| i.display().to_string_lossy().into_owned())
            .collect()
    }

    fn pending(queue: &Queue, wanted: &[&str]) -> Vec<Item> {
        let items = queue.list(QState::Pending).unwrap();
        items
            .into_iter()
            .filter(|i| wanted.iter().any(|w| i.display() == OsStr::new(w)))
            .collect()
    }

    #[test]
    fn reorder_keys_act_on_the_selection() {
        let (_dir, q) = queue_with(&["a", "b", "c", "d"]);
        run(&q, &pending(&q, &["b", "d"]), Place::Up, None);
        assert_eq!(names(&q), ["b", "a", "d", "c"]);
        run(&q, &pending(&q, &["b", "d"]), Place::Up, None);
        assert_eq!(
            names(&q),
            ["b", "d", "a", "c"],
            "b is stuck at the top, d goes on"
        );
        run(&q, &pending(&q, &["b", "a"]), Place::Bottom, None);
        assert_eq!(
            names(&q),
            ["d", "c", "b", "a"],
            "the selection keeps its order"
        );
        run(&q, &pending(&q, &["c", "a"]), Place::Top, None);
        assert_eq!(names(&q), ["c", "a", "d", "b"]);
        run(&q, &pending(&q, &["c", "d"]), Place::Down, None);
        assert_eq!(names(&q), ["a", "c", "b", "d"]);
    }

    #[test]
    fn with_a_filter_reorder_keys_move_among_shown_items_only() {
        let (_dir, q) = queue_with(&["a.mp4", "b.txt", "c.mp4", "d.txt"]);
        let shown: Vec<OsString> = ["a.mp4", "c.mp4"].map(OsString::from).to_vec();
        // One press moves c.mp4 past a.mp4, the shown item above it: a visible move.
        run(&q, &pending(&q, &["c.mp4"]), Place::Up, Some(&shown));
        assert_eq!(names(&q), ["c.mp4", "a.mp4", "b.txt", "d.txt"]);
        // At the top of what is shown nothing moves, even with hidden items above.
        let (_dir, q) = queue_with(&["a.txt", "b.mp4", "c.mp4"]);
        let shown: Vec<OsString> = ["b.mp4", "c.mp4"].map(OsString::from).to_vec();
        run(&q, &pending(&q, &["b.mp4"]), Place::Up, Some(&shown));
        run(&q, &pending(&q, &["b.mp4"]), Place::Top, Some(&shown));
        assert_eq!(names(&q), ["a.txt", "b.mp4", "c.mp4"]);
        run(&q, &pending(&q, &["c.mp4"]), Place::Top, Some(&shown));
        assert_eq!(
            names(&q),
            ["a.txt", "c.mp4", "b.mp4"],
            "not past the hidden a.txt"
        );
    }
}
