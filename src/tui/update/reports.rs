//! What the workers report: the embedded engine's own events and status, other workers'
//! progress and heartbeats read back from disk, and the outcome of a disk operation. The
//! embedded engine's reports are the truth for its items; the disk speaks only for the rest.

use std::collections::HashMap;
use std::ffi::OsString;

use crate::queue::{Progress, State as QState, WorkerStatus};
use crate::worker::{self, EngineEvent, EngineStatus};

use super::super::effect::Effect;
use super::super::event::OpDone;
use super::super::model::Model;
use super::super::refresh;
use super::showing;

/// The content of `_meta/progress/`, read back: it replaces what other workers' items showed.
pub(super) fn progress_read(model: &mut Model, files: Vec<(OsString, Progress)>) -> Vec<Effect> {
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

pub(super) fn workers(model: &mut Model, workers: Vec<WorkerStatus>) -> Vec<Effect> {
    model.dirty |= refresh::workers_changed(model, &workers);
    model.queue.workers = workers;
    Vec::new()
}

/// One event from the embedded engine: an item started, moved on or finished, or a notice.
pub(super) fn engine_report(model: &mut Model, report: EngineEvent) -> Vec<Effect> {
    match report {
        EngineEvent::Started { item } => {
            model.queue.engine_items.insert(item.identity());
            model.dirty |= showing(model, QState::Process);
            vec![Effect::List(item.state)]
        }
        EngineEvent::Progress { item, progress } => {
            let key = item.identity();
            model.queue.engine_items.insert(key.clone());
            model.queue.running.insert(key, progress);
            model.dirty |= showing(model, QState::Process);
            Vec::new()
        }
        EngineEvent::Finished { item, .. } => {
            model.queue.running.remove(&item.identity());
            model.queue.engine_items.remove(&item.identity());
            vec![Effect::List(QState::Process), Effect::List(item.state)]
        }
        EngineEvent::Notice(text) => {
            model.say(format!("worker: {text}"));
            Vec::new()
        }
        EngineEvent::Stopped => {
            model.say("the embedded worker has stopped");
            Vec::new()
        }
    }
}

/// The embedded engine's slots or pause changed; a quit waiting for it to go idle goes now.
pub(super) fn engine_status(model: &mut Model, status: EngineStatus) -> Vec<Effect> {
    let idle = status.busy == 0;
    model.engine = Some(status);
    model.dirty = true;
    if model.quit_when_idle && idle {
        vec![Effect::Quit(worker::StopMode::Wait)]
    } else {
        Vec::new()
    }
}

/// A disk operation finished: say how it went, follow the moved item, re-list what it touched.
pub(super) fn done(model: &mut Model, outcome: OpDone) -> Vec<Effect> {
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
