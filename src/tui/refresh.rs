//! What the disk alone can tell, asked again on a timer: heartbeats (a worker that dies changes
//! nothing on disk; only time tells) and the progress of items other workers run. And whether a
//! new reading changes what is on screen, so an unchanged one costs no redraw.

use super::effect::Effect;
use super::model::{Model, REREAD_EVERY};
use crate::queue::{WorkerHealth, WorkerStatus};

/// Whether a new reading of the workers changes the screen: the panel when it is open, else
/// only what the header says of them.
pub fn workers_changed(model: &Model, new: &[WorkerStatus]) -> bool {
    if model.show_workers {
        !same_on_screen(&model.queue.workers, new)
    } else {
        header_view(&model.queue.workers) != header_view(new)
    }
}

/// On a tick, at most every `REREAD_EVERY`: heartbeats while the panel is open or other
/// workers run (a dead one changes nothing on disk, only time tells), and those workers'
/// progress, which the embedded engine does not report.
pub fn reread(model: &mut Model) -> Vec<Effect> {
    let others = model.others_running();
    if !model.show_workers && !others {
        return Vec::new();
    }
    let due = model
        .queue
        .reread_at
        .is_none_or(|at| model.now.duration_since(at).unwrap_or_default() >= REREAD_EVERY);
    if !due {
        return Vec::new();
    }
    model.queue.reread_at = Some(model.now);
    let mut effects = vec![Effect::ReadWorkers];
    if others {
        effects.push(Effect::ReadProgress);
    }
    effects
}

/// What the header shows of the workers: who is alive and busy, paused or down.
fn header_view(workers: &[WorkerStatus]) -> Vec<(&str, bool, usize, bool)> {
    workers
        .iter()
        .map(|w| {
            let alive = w.health == WorkerHealth::Alive;
            (
                w.heartbeat.id.as_str(),
                alive,
                w.heartbeat.busy,
                w.heartbeat.paused,
            )
        })
        .collect()
}

/// Whether two readings of the workers draw the same (ages are shown in whole seconds).
fn same_on_screen(old: &[WorkerStatus], new: &[WorkerStatus]) -> bool {
    let secs = |s: f64| s.max(0.0) as u64;
    old.len() == new.len()
        && old.iter().zip(new).all(|(a, b)| {
            a.heartbeat == b.heartbeat
                && secs(a.last_beat_secs) == secs(b.last_beat_secs)
                && match (&a.health, &b.health) {
                    (WorkerHealth::Alive, WorkerHealth::Alive) => true,
                    (
                        WorkerHealth::Down {
                            since_secs: x,
                            why: w,
                        },
                        WorkerHealth::Down {
                            since_secs: y,
                            why: v,
                        },
                    ) => secs(*x) == secs(*y) && w == v,
                    _ => false,
                }
        })
}
