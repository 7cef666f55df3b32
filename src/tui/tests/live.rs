//! Live updates that look at only the names that changed (`Effect::Recheck`): the listing ends
//! as a full re-list would leave it, the cursor and selection stay on their items, and where a
//! look at names cannot be applied the state is re-listed whole.

use std::collections::BTreeSet;
use std::ffi::OsString;

use crossterm::event::KeyCode;

use crate::queue::State as QState;

use super::super::changes::Changes;
use super::super::effect::Effect;
use super::super::event::Event;
use super::super::model::index_of;
use super::super::pane::Key;
use super::{Harness, item};

fn pending(names: &[&str]) -> Harness {
    let mut h = Harness::new(QState::Pending, QState::Paused, (80, 24));
    h.list(QState::Pending, names).list(QState::Paused, &[]);
    h
}

/// What the lister sends after looking at `files`, of which `found` are items now.
fn rechecked(h: &mut Harness, files: &[&str], found: &[&str]) {
    let mut files: Vec<OsString> = files.iter().map(OsString::from).collect();
    files.sort();
    let mut found: Vec<_> = found.iter().map(|f| item(QState::Pending, f)).collect();
    found.sort_by(|a, b| a.file.cmp(&b.file));
    h.send(Event::Rechecked {
        state: QState::Pending,
        files,
        found,
    });
}

fn files(h: &Harness) -> Vec<String> {
    h.model.panes[0]
        .items
        .iter()
        .map(|i| i.file.to_string_lossy().into_owned())
        .collect()
}

fn count(h: &Harness) -> Option<usize> {
    h.model.queue.counts[index_of(QState::Pending)]
}

fn selected(h: &Harness) -> BTreeSet<String> {
    h.model.panes[0]
        .selected
        .iter()
        .map(|k| k.name.to_string_lossy().into_owned())
        .collect()
}

#[test]
fn named_changes_in_a_shown_state_become_a_recheck() {
    let mut h = pending(&["a"]);
    let mut changes = Changes::default();
    for (state, name) in [(QState::Pending, "b"), (QState::Failed, "c")] {
        changes
            .names
            .entry(state)
            .or_default()
            .insert(OsString::from(name));
    }
    h.send(Event::Changed(changes));
    assert_eq!(
        h.effects,
        [
            Effect::Recheck {
                state: QState::Pending,
                files: vec!["b".into()]
            },
            // No pane shows failed/: only a full listing gives its count.
            Effect::List(QState::Failed),
        ]
    );
}

#[test]
fn an_added_item_is_merged_in_order_and_fresh() {
    let mut h = pending(&["a", "c", "e"]);
    h.key(KeyCode::Down);
    rechecked(&mut h, &["b", "d"], &["b", "d"]);
    assert_eq!(files(&h), ["a", "b", "c", "d", "e"]);
    assert_eq!(h.cursor_name(), "c", "the cursor stays on its item");
    assert_eq!(count(&h), Some(5));
    assert!(
        h.model.panes[0]
            .fresh
            .contains_key(&Key::of(&item(QState::Pending, "b")))
    );
    assert!(h.model.dirty);
}

#[test]
fn a_removed_item_above_leaves_cursor_and_selection_on_their_items() {
    let mut h = pending(&["a", "b", "c", "d"]);
    h.key(KeyCode::Down)
        .key(KeyCode::Insert)
        .key(KeyCode::Insert);
    assert_eq!(selected(&h), BTreeSet::from(["b".into(), "c".into()]));
    assert_eq!(h.cursor_name(), "d");
    rechecked(&mut h, &["a", "b"], &[]);
    assert_eq!(files(&h), ["c", "d"]);
    assert_eq!(h.cursor_name(), "d");
    assert_eq!(selected(&h), BTreeSet::from(["c".into()]), "b is gone");
    assert_eq!(count(&h), Some(2));
}

#[test]
fn a_rename_within_the_folder_keeps_identity() {
    let mut h = pending(&["a", "b", "c"]);
    h.key(KeyCode::End).key(KeyCode::Insert);
    // Shift+Home by another process: `c` gets a sort key that puts it first.
    rechecked(
        &mut h,
        &["c", "0+1k8mb6l1719vl5f+c"],
        &["0+1k8mb6l1719vl5f+c"],
    );
    assert_eq!(files(&h), ["0+1k8mb6l1719vl5f+c", "a", "b"]);
    assert_eq!(h.cursor_name(), "c");
    assert_eq!(selected(&h), BTreeSet::from(["c".into()]));
    assert!(h.model.panes[0].fresh.is_empty(), "not a new arrival");
    assert_eq!(count(&h), Some(3));
}

#[test]
fn a_name_gone_again_before_the_look_changes_nothing() {
    let mut h = pending(&["a", "c"]);
    h.key(KeyCode::Down);
    h.model.dirty = false;
    rechecked(&mut h, &["b"], &[]);
    assert_eq!(files(&h), ["a", "c"]);
    assert_eq!(h.cursor_name(), "c");
    assert!(h.model.panes[0].fresh.is_empty());
    rechecked(&mut h, &["a"], &["a"]);
    assert!(!h.model.dirty, "a file written in place: nothing to redraw");
}

#[test]
fn a_look_at_names_ends_where_a_full_listing_would() {
    let before = ["b", "d", "f", "h"];
    let after = ["0+1k8mb6l1719vl5f+h", "a", "b", "e", "f", "z"];
    let mut changed: Vec<&str> = before
        .iter()
        .chain(&after)
        .copied()
        .filter(|n| before.contains(n) != after.contains(n))
        .collect();
    changed.push("f");
    let mut h = pending(&before);
    rechecked(
        &mut h,
        &changed,
        &after
            .iter()
            .copied()
            .filter(|n| changed.contains(n))
            .collect::<Vec<_>>(),
    );
    assert_eq!(files(&h), after);
    let mut full = pending(&before);
    full.list(QState::Pending, &after);
    let fresh = |h: &Harness| {
        let mut keys: Vec<Key> = h.model.panes[0].fresh.keys().cloned().collect();
        keys.sort();
        keys
    };
    assert_eq!(fresh(&h), fresh(&full));
}

#[test]
fn a_recheck_for_a_pane_that_moved_on_relists() {
    let mut h = pending(&["a"]);
    h.model.panes[0].switch_to(QState::Failed);
    rechecked(&mut h, &["b"], &["b"]);
    assert_eq!(h.effects, [Effect::List(QState::Pending)]);
    assert_eq!(count(&h), Some(1), "left for the full listing");
}

#[test]
fn both_panes_on_one_state_both_take_it() {
    let mut h = Harness::new(QState::Pending, QState::Pending, (80, 24));
    h.list(QState::Pending, &["a", "c"]);
    rechecked(&mut h, &["b"], &["b"]);
    for pane in &h.model.panes {
        assert_eq!(pane.items.len(), 3);
    }
    assert_eq!(count(&h), Some(3));
}
