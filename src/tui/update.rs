//! `update(&mut Model, &Keymap, Event) -> Vec<Effect>`: the only place the model changes. No
//! I/O here: what needs the disk, the engine or the terminal is returned as effects. Keys and
//! mouse are handled in `input`; this module takes in what the background reports, one small
//! handler per kind of news, grouped by concern: `listing` (listings, details, the watcher's
//! changes), `reports` (what the workers report) and `overlays` (the viewer, info and editor).
//! The helpers every handler shares (cursors in view, pane heights, details to ask for) live here.

mod listing;
mod overlays;
mod reports;

use std::time::SystemTime;

use crate::queue::{Item, State as QState};
use crate::worker;

use super::dialog::Overlay;
use super::effect::Effect;
use super::event::Event;
use super::input;
use super::keymap::Keymap;
use super::layout;
use super::model::Model;
use super::refresh;

/// Applies one event to the model and says what to do about it.
pub fn update(model: &mut Model, keys: &Keymap, event: Event) -> Vec<Effect> {
    let mut effects = match event {
        Event::Input(input) => input::handle(model, keys, input),
        Event::Listed { state, items } => listing::listed(model, state, items),
        Event::Rechecked {
            state,
            files,
            found,
        } => listing::rechecked(model, state, &files, found),
        Event::RootFolders { asked, found } => listing::root_folders(model, asked, found),
        Event::ListFailed { state, error } => listing::list_failed(model, state, &error),
        Event::Details(details) => listing::details(model, details),
        Event::Changed(changes) => listing::changed(model, changes),
        Event::ProgressRead(files) => reports::progress_read(model, files),
        Event::Workers(workers) => reports::workers(model, workers),
        Event::Worker(report) => reports::engine_report(model, report),
        Event::Engine(status) => reports::engine_status(model, status),
        Event::Done(outcome) => reports::done(model, outcome),
        // While the viewer follows, a tick asks for a look alone: it adds details itself.
        Event::Tick => return tick(model),
        Event::Terminate => vec![Effect::Quit(worker::StopMode::Requeue)],
        Event::ViewerOpened { viewer, follow } => overlays::viewer_opened(model, viewer, follow),
        Event::ViewerLooked(looked) => overlays::viewer_looked(model, looked),
        Event::ViewerChunk(chunk) => overlays::viewer_chunk(model, chunk),
        Event::InfoRead(page) => overlays::info_read(model, page),
        Event::EditorOpened(editor) => overlays::editor_opened(model, editor),
        Event::OpenFailed(message) => overlays::open_failed(model, message),
        Event::Saved(result) => overlays::saved(model, result),
    };
    effects.extend(ask_for_details(model));
    effects
}

/// Time passed. A viewer following its file only looks again; otherwise fresh marks fade,
/// ages and countdowns move, and other workers' heartbeats and progress are read again when due.
fn tick(model: &mut Model) -> Vec<Effect> {
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
    let running = model.engine.as_ref().is_some_and(|e| e.busy > 0) || model.others_running();
    model.dirty |= faded || running;
    let mut effects = refresh::reread(model);
    effects.extend(ask_for_details(model));
    effects
}

fn showing(model: &Model, state: QState) -> bool {
    model.panes.iter().any(|p| p.state == state)
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
