//! `update(&mut Model, &Keymap, Event) -> Vec<Effect>`: the only place the model changes. No
//! I/O here: what needs the disk, the engine or the terminal is returned as effects. Keys and
//! mouse are handled in `input`; this module takes in what the background reports.

use std::collections::HashMap;
use std::time::SystemTime;

use crate::queue::{Item, State as QState};
use crate::worker;

use super::dialog::Overlay;
use super::editor::{EditorOutcome, Saved};
use super::effect::Effect;
use super::event::{Event, OpDone};
use super::input;
use super::keymap::Keymap;
use super::layout;
use super::model::{FRESH_FOR, Model, index_of};
use super::refresh;

/// Applies one event to the model and says what to do about it.
pub fn update(model: &mut Model, keys: &Keymap, event: Event) -> Vec<Effect> {
    let mut effects = match event {
        Event::Input(input) => input::handle(model, keys, input),
        Event::Listed { state, items } => listed(model, state, items),
        Event::Rechecked {
            state,
            files,
            found,
        } => rechecked(model, state, &files, found),
        Event::RootFolders { asked, found } => {
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
        Event::ListFailed { state, error } => {
            model.complain(format!("cannot list {state}: {error}"));
            Vec::new()
        }
        Event::Details(details) => {
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
        Event::ProgressRead(files) => {
            // The disk speaks for other workers' items; the embedded engine's own reports win
            // for its items (its files on disk are only an echo of them).
            let ours = &model.queue.engine_items;
            let mut running: HashMap<_, _> = files
                .into_iter()
                .filter(|(name, _)| !ours.contains(name))
                .collect();
            for (name, progress) in &model.queue.running {
                if ours.contains(name) {
                    running.insert(name.clone(), progress.clone());
                }
            }
            if model.queue.running != running {
                model.queue.running = running;
                model.dirty |= showing(model, QState::Process);
            }
            Vec::new()
        }
        Event::Workers(workers) => {
            model.dirty |= refresh::workers_changed(model, &workers);
            model.queue.workers = workers;
            Vec::new()
        }
        Event::Changed(changes) => {
            let mut effects: Vec<Effect> =
                changes.states.iter().map(|s| Effect::List(*s)).collect();
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
        Event::Worker(report) => engine_report(model, report),
        Event::Engine(status) => {
            let idle = status.busy == 0;
            model.engine = Some(status);
            model.dirty = true;
            if model.quit_when_idle && idle {
                vec![Effect::Quit(worker::StopMode::Wait)]
            } else {
                Vec::new()
            }
        }
        Event::Done(outcome) => done(model, outcome),
        Event::Tick => {
            if let Some(Overlay::Viewer(viewer)) = &model.overlay
                && viewer.is_following()
            {
                return vec![Effect::ViewerLook(viewer.look_request())];
            }
            let now = model.now;
            let faded = model
                .panes
                .iter_mut()
                .fold(false, |any, p| p.expire_fresh(now) | any);
            // Ages and countdowns move with the clock while something runs; the workers panel
            // alone redraws only when what the disk says has changed.
            let running =
                model.engine.as_ref().is_some_and(|e| e.busy > 0) || model.others_running();
            model.dirty |= faded || running;
            refresh::reread(model)
        }
        Event::Terminate => vec![Effect::Quit(worker::StopMode::Requeue)],
        Event::ViewerOpened { mut viewer, follow } => {
            if follow {
                viewer.set_follow(true);
            }
            let more = viewer.read_request().map(Effect::ViewerRead);
            model.overlay = Some(Overlay::Viewer(viewer));
            model.dirty = true;
            more.into_iter().collect()
        }
        Event::ViewerLooked(looked) => viewer_news(model, |viewer| viewer.take_look(looked)),
        Event::ViewerChunk(chunk) => viewer_news(model, |viewer| {
            viewer.apply(chunk);
            true
        }),
        Event::InfoRead(page) => {
            model.overlay = Some(Overlay::Info { page, scroll: 0 });
            model.dirty = true;
            Vec::new()
        }
        Event::EditorOpened(editor) => {
            model.overlay = Some(Overlay::Editor(editor));
            model.dirty = true;
            Vec::new()
        }
        Event::OpenFailed(message) => {
            model.complain(message);
            Vec::new()
        }
        Event::Saved(result) => saved(model, result),
    };
    effects.extend(ask_for_details(model));
    effects
}

/// News for the open viewer (a look, a chunk): `apply` says whether the view changed; the
/// viewer then asks for whatever bytes it still needs.
fn viewer_news(
    model: &mut Model,
    apply: impl FnOnce(&mut super::viewer::Viewer) -> bool,
) -> Vec<Effect> {
    let Some(Overlay::Viewer(viewer)) = &mut model.overlay else {
        return Vec::new();
    };
    model.dirty |= apply(viewer);
    viewer
        .read_request()
        .map(Effect::ViewerRead)
        .into_iter()
        .collect()
}

fn showing(model: &Model, state: QState) -> bool {
    model.panes.iter().any(|p| p.state == state)
}

fn listed(model: &mut Model, state: QState, items: Vec<crate::queue::Item>) -> Vec<Effect> {
    if state == QState::Process {
        // Forget progress of items that are no longer running.
        let running: std::collections::HashSet<_> = items.iter().map(|i| i.identity()).collect();
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
fn rechecked(
    model: &mut Model,
    state: QState,
    files: &[std::ffi::OsString],
    found: Vec<crate::queue::Item>,
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
    following: Option<std::ffi::OsString>,
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

fn engine_report(model: &mut Model, report: worker::EngineEvent) -> Vec<Effect> {
    match report {
        worker::EngineEvent::Started { item } => {
            model.queue.engine_items.insert(item.identity());
            model.dirty |= showing(model, QState::Process);
            vec![Effect::List(item.state)]
        }
        worker::EngineEvent::Progress { item, progress } => {
            let key = item.identity();
            model.queue.engine_items.insert(key.clone());
            model.queue.running.insert(key, progress);
            model.dirty |= showing(model, QState::Process);
            Vec::new()
        }
        worker::EngineEvent::Finished { item, .. } => {
            model.queue.running.remove(&item.identity());
            model.queue.engine_items.remove(&item.identity());
            vec![Effect::List(QState::Process), Effect::List(item.state)]
        }
        worker::EngineEvent::Notice(text) => {
            model.say(format!("worker: {text}"));
            Vec::new()
        }
        worker::EngineEvent::Stopped => {
            model.say("the embedded worker has stopped");
            Vec::new()
        }
    }
}

fn done(model: &mut Model, outcome: OpDone) -> Vec<Effect> {
    if outcome.error {
        model.complain(outcome.message);
    } else if !outcome.message.is_empty() {
        model.say(outcome.message);
    }
    if let Some((state, key)) = outcome.focus {
        // Put the cursor on the moved item as soon as the new listing shows it: the listing
        // follows by identity, and the key is the identity.
        for pane in model.panes.iter_mut().filter(|p| p.state == state) {
            if let Some(at) = pane.position_of(&key) {
                pane.cursor = at;
            }
        }
    }
    outcome.touched.into_iter().map(Effect::List).collect()
}

/// Keeps both panes scrolled so their cursors are on screen.
pub fn keep_cursors_in_view(model: &mut Model) {
    for index in 0..2 {
        let height = list_height(model, index);
        model.panes[index].scroll_into_view(height);
    }
}

/// Rows of items pane `index` shows now.
pub fn list_height(model: &Model, index: usize) -> usize {
    layout::list_height(model.size, model.active, workers_rows(model), index)
}

/// Rows the workers panel wants, when shown.
pub fn workers_rows(model: &Model) -> Option<u16> {
    model
        .show_workers
        .then(|| u16::try_from(model.queue.workers.len().max(1)).unwrap_or(u16::MAX))
}

/// Stat requests for what the panes want to know and have not asked for yet.
fn ask_for_details(model: &mut Model) -> Vec<Effect> {
    let heights = [list_height(model, 0), list_height(model, 1)];
    let wanted: Vec<Item> = (0..2)
        .flat_map(|index| model.panes[index].want_details(heights[index]))
        .collect();
    if wanted.is_empty() {
        Vec::new()
    } else {
        vec![Effect::Stat(wanted)]
    }
}

/// Seconds until `at` (Unix ms), for delayed countdowns; negative when past.
pub fn seconds_until(now: SystemTime, at_ms: u64) -> i64 {
    let now_ms = crate::queue::unix_ms(now) as i64;
    (at_ms as i64 - now_ms) / 1000
}

/// The editor's save came back: the editor learns how it went; the panes re-list.
fn saved(model: &mut Model, result: Result<Saved, String>) -> Vec<Effect> {
    model.dirty = true;
    let Some(Overlay::Editor(editor)) = &mut model.overlay else {
        return Vec::new();
    };
    match result {
        Ok(saved) => {
            let state = saved.item.state;
            model.say(format!("saved {}", saved.item.qualified()));
            if let Some(Overlay::Editor(editor)) = &mut model.overlay
                && let EditorOutcome::Close = editor.saved(saved)
            {
                model.overlay = None;
            }
            vec![Effect::List(state)]
        }
        Err(message) => {
            editor.save_failed(message);
            Vec::new()
        }
    }
}
