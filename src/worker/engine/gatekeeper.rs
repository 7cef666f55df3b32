//! Whether the engine may claim, looked at every `PAUSE_CHECK` (and at once when the host's
//! failure breaker trips): the pause flags in `_meta/`, the schedule's window and the queue's
//! mount. Changes are told once as notices; a window closing with `outside_schedule = "freeze"`
//! freezes the running jobs and its opening thaws them. What it finds is published in `Shared`
//! for the engine's owner.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::time::Instant;

use super::Shared;
use super::jobs::Jobs;
use crate::queue::{OutsideSchedule, this_host};
use crate::worker::ctx::{Ctx, lock};
use crate::worker::gate::{self, Gate};

/// How often the pause flags in `_meta/` are looked at while claiming.
const PAUSE_CHECK: Duration = Duration::from_millis(250);

pub struct Gatekeeper {
    host: String,
    gate: Gate,
    /// Whether running jobs were frozen because the schedule's window closed.
    schedule_frozen: bool,
    mounted: bool,
    next_check: Instant,
}

impl Gatekeeper {
    pub fn new() -> Gatekeeper {
        Gatekeeper {
            host: this_host(),
            gate: Gate::default(),
            schedule_frozen: false,
            mounted: true,
            next_check: Instant::now(),
        }
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    /// Whether the queue's mount was there at the last look.
    pub fn mounted(&self) -> bool {
        self.mounted
    }

    /// When the next look is due: a paused engine wakes for it.
    pub fn next_check(&self) -> Instant {
        self.next_check
    }

    /// Looks again if a look is due, freezes or thaws `jobs` with the schedule, and publishes
    /// whether and why claiming is closed.
    pub fn look_if_due(&mut self, ctx: &Ctx, shared: &Shared, jobs: &Jobs) {
        let now = Instant::now();
        if ctx.breaker.take_tripped() {
            self.next_check = now;
        }
        if now < self.next_check {
            return;
        }
        self.next_check = now + PAUSE_CHECK;
        let gate = gate::check(ctx, &self.host);
        self.announce_changes(ctx, &gate);
        let freeze = gate.outside_schedule.is_some()
            && ctx.config.outside_schedule == OutsideSchedule::Freeze;
        if freeze != self.schedule_frozen {
            self.schedule_frozen = freeze;
            jobs.set_frozen(freeze);
        }
        self.gate = gate;
        self.mounted = ctx.mount.mounted(ctx);
        shared
            .flag_paused
            .store(self.gate.closed() || !self.mounted, Ordering::Relaxed);
        *lock(&shared.why) = ctx.mount.note().or_else(|| self.gate.why());
    }

    fn announce_changes(&self, ctx: &Ctx, new: &Gate) {
        if new.paused.is_some() != self.gate.paused.is_some() {
            let what = if new.paused.is_some() {
                "paused by"
            } else {
                "resumed: no"
            };
            ctx.notice(format!("claiming {what} a pause flag in _meta/"));
        }
        if new.outside_schedule.is_some() != self.gate.outside_schedule.is_some() {
            match &new.outside_schedule {
                Some(why) => ctx.notice(format!("not claiming: {why}")),
                None => ctx.notice("inside the schedule's window: claiming again".into()),
            }
        }
    }

    /// What the heartbeat says about a paused worker: a lost mount's note, the gate's words at
    /// the last look (at most `PAUSE_CHECK` old while paused), or "paused" (by the owner).
    pub fn beat_note(&self, ctx: &Ctx, paused: bool) -> Option<String> {
        ctx.mount
            .note()
            .or_else(|| paused.then(|| self.gate.why().unwrap_or_else(|| "paused".to_string())))
    }
}
