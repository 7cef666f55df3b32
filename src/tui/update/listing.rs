//! What the background says about the queue's listings: a state listed in full or a few of its
//! names looked at again, the folders in the root, stat details, a listing that failed, and the
//! watcher's changes that ask for all of these. Counts, throughput and the followed item move
//! with every listing, so they live here too.

use std::collections::HashSet;
use std::ffi::OsString;

use crate::queue::{Item, State as QState};

use super::super::changes::Changes;
use super::super::effect::Effect;
use super::super::model::{FRESH_FOR, Model, index_of};
use super::super::pane::{Details, Key};
use super::{keep_cursors_in_view, showing};

/// A fresh listing of `state`: given to every pane showing it.
pub(super) fn listed(model: &mut Model, state: QState, items: Vec<Item>) -> Vec<Effect> {
    if state == QState::Process {
        // Forget progress of items that are no longer running.
        let running: HashSet<_> = items.iter().map(|i| i.identity()).collect();
        model.queue.running.retain(|key, _| running.contains(key));
    }
    let arrived = model
        .follow
        .clone()
        .filter(|name| items.iter().any(|i| i.display() == name.as_os_str()));
    let count = items.len();
    let fresh_until = model.now + FRESH_FOR;
    let both = model.panes[0].state == state && model.panes[1].state == state;
    let mut items = Some(items);
    for (index, pane) in model.panes.iter_mut().enumerate() {
        if pane.state != state {
            continue;
        }
        let listing = if both && index == 0 {
            items.clone().unwrap_or_default()
        } else {
            items.take().unwrap_or_default()
        };
        pane.set_items(listing, fresh_until);
        model.dirty = true;
    }
    counted(model, state, count, arrived)
}

/// A few names of a state looked at again: applied to the panes showing it. A pane that
/// switched away (or has not been listed yet) cannot take it, so the state is re-listed.
pub(super) fn rechecked(
    model: &mut Model,
    state: QState,
    files: &[OsString],
    found: Vec<Item>,
) -> Vec<Effect> {
    let Some(count) = model
        .panes
        .iter()
        .find(|p| p.state == state && p.loaded)
        .map(|p| p.items.len())
    else {
        return vec![Effect::List(state)];
    };
    let arrived = model
        .follow
        .clone()
        .filter(|name| found.iter().any(|i| i.display() == name.as_os_str()));
    let fresh_until = model.now + FRESH_FOR;
    let mut count = count;
    for pane in model
        .panes
        .iter_mut()
        .filter(|p| p.state == state && p.loaded)
    {
        model.dirty |= pane.recheck(files, found.clone(), fresh_until);
        count = pane.items.len();
    }
    counted(model, state, count, arrived)
}

/// After a state's listing changed: its count (and throughput), and the followed item.
fn counted(
    model: &mut Model,
    state: QState,
    count: usize,
    following: Option<OsString>,
) -> Vec<Effect> {
    let slot = index_of(state);
    let before = model.queue.counts[slot];
    if matches!(state, QState::Success | QState::Failed)
        && let Some(before) = before
    {
        model
            .queue
            .throughput
            .record(model.now, count.saturating_sub(before));
    }
    model.queue.counts[slot] = Some(count);
    model.dirty |= before != Some(count);
    let mut effects = Vec::new();
    if let Some(name) = following {
        let pane = model.pane_mut();
        if pane.state != state {
            pane.switch_to(state);
            effects.push(Effect::List(state));
        } else if let Some(at) = pane
            .shown
            .iter()
            .position(|&i| pane.items[i].display() == name.as_os_str())
        {
            pane.cursor = at;
        }
        model.dirty = true;
    }
    keep_cursors_in_view(model);
    effects
}

/// Folders in the root: all of them (`asked` is `None`), or which of the names asked about
/// are folders now. Pending shows them under its items.
pub(super) fn root_folders(
    model: &mut Model,
    asked: Option<Vec<OsString>>,
    found: Vec<OsString>,
) -> Vec<Effect> {
    let folders = &mut model.queue.root_folders;
    let before = folders.clone();
    match asked {
        None => *folders = found,
        Some(asked) => {
            folders.retain(|f| !asked.contains(f));
            folders.extend(found);
            folders.sort_unstable_by(|a, b| crate::queue::processing_order(a, b));
            folders.dedup();
        }
    }
    model.dirty |= *folders != before && showing(model, QState::Pending);
    Vec::new()
}

pub(super) fn list_failed(model: &mut Model, state: QState, error: &str) -> Vec<Effect> {
    model.complain(format!("cannot list {state}: {error}"));
    Vec::new()
}

/// Stat results for items on screen: the panes showing their state keep them.
pub(super) fn details(model: &mut Model, details: Vec<(QState, Key, Details)>) -> Vec<Effect> {
    for (state, key, found) in details {
        for pane in model.panes.iter_mut().filter(|p| p.state == state) {
            pane.asked.remove(&key);
            pane.details.insert(key.clone(), found.clone());
        }
    }
    // Sorted by size or time: the newly known values place their items.
    for pane in &mut model.panes {
        if pane.effective_sort().0.needs_stat() {
            pane.refilter();
        }
    }
    model.dirty = true;
    Vec::new()
}

/// The watcher's batch of changes: what to list, look at again or read back.
pub(super) fn changed(model: &mut Model, changes: Changes) -> Vec<Effect> {
    let mut effects: Vec<Effect> = changes.states.iter().map(|s| Effect::List(*s)).collect();
    for (state, files) in changes.names {
        // A look at a few names needs the listing to apply to; without a pane on the
        // state, its count comes from a full re-list.
        effects.push(
            if model.panes.iter().any(|p| p.state == state && p.loaded) {
                Effect::Recheck {
                    state,
                    files: files.into_iter().collect(),
                }
            } else {
                Effect::List(state)
            },
        );
    }
    // Progress files the embedded engine wrote are its own reports come back: only
    // other workers' items are worth the read.
    if changes.progress && model.others_running() {
        effects.push(Effect::ReadProgress);
    }
    if changes.workers {
        effects.push(Effect::ReadWorkers);
    }
    if let Some(at) = changes.scanned {
        let was_stale = model
            .queue
            .watch
            .mode
            .is_stale(model.queue.watch.last_scan, at);
        model.queue.watch.last_scan = Some(at);
        model.dirty |= was_stale;
    }
    effects
}
