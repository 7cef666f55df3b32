//! A host that keeps failing pauses itself (`host_failure_limit`): after that many failures in a
//! row, of different items, on this host's workers, the worker writes the host's own pause flag
//! with a note saying why. A bad codec install or a full scratch disk then stops one host, not
//! the whole farm's queue; `fsq resume-workers --host H` clears it. One item failing again and
//! again counts once: that is the item's problem, not the host's.

use std::ffi::OsStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use super::ctx::{Ctx, lock};
use crate::queue::{ItemId, PauseFlag, printable, this_host};

/// The run of failures so far.
#[derive(Default)]
pub struct Breaker {
    streak: Mutex<Vec<ItemId>>,
    /// Set when this host just paused itself, so the engine looks at the flags at once.
    tripped: AtomicBool,
}

impl Breaker {
    /// Whether the host paused itself since the last call.
    pub fn take_tripped(&self) -> bool {
        self.tripped.swap(false, Ordering::Relaxed)
    }

    pub fn success(&self) {
        lock(&self.streak).clear();
    }

    /// Counts a failed run; at the limit, pauses this host.
    pub fn failure(&self, ctx: &Ctx, id: ItemId, name: &OsStr, reason: &str) {
        let limit = ctx.config.host_failure_limit as usize;
        if limit == 0 {
            return;
        }
        let mut streak = lock(&self.streak);
        if !streak.contains(&id) {
            streak.push(id);
        }
        if streak.len() < limit {
            return;
        }
        let note = format!(
            "paused: {} failures in a row; last: {reason} ({})",
            streak.len(),
            printable(name)
        );
        streak.clear();
        drop(streak);
        let flag = PauseFlag {
            until: None,
            note: Some(note.clone()),
        };
        let host = this_host();
        match ctx.queue.pause_workers(Some(&host), &flag) {
            Ok(()) => {
                self.tripped.store(true, Ordering::Relaxed);
                ctx.notice(format!(
                    "host {host} {note} (fsq resume-workers DIR --host {host} to resume)"
                ))
            }
            Err(err) => ctx.notice(format!("cannot pause host {host}: {err}")),
        }
    }
}
