//! When the engine does its upkeep (see `upkeep` for what each duty does): the heartbeat every
//! `heartbeat` interval, and with it the reaper's sweep, recovery of dead workers' claims and,
//! now and then, tidying; delayed items whenever the earliest is due. A heartbeat that cannot be
//! written is remembered here, because a worker without one must claim nothing.

use std::time::{Duration, SystemTime};

use tokio::time::Instant;

use crate::queue::unix_ms;
use crate::worker::ctx::Ctx;
use crate::worker::reaper::{self, Leftovers};
use crate::worker::requests;
use crate::worker::upkeep::{self, Beat, Delayed};

/// Leftovers and old logs are looked for this often, or after this many finished jobs (so a
/// fast queue's `_meta/logs` stays near `log_keep`), at a heartbeat.
const TIDY_EVERY: Duration = Duration::from_secs(600);
const TIDY_AFTER_JOBS: usize = 1000;

/// What the heartbeat says of the engine at this moment.
pub struct Activity {
    pub slots: usize,
    pub busy: usize,
    pub paused: bool,
    pub note: Option<String>,
}

pub struct Chores {
    started: u64,
    poll_ms: Option<u64>,
    /// Why the last heartbeat could not be written.
    beat_error: Option<String>,
    next_beat: Instant,
    next_tidy: Instant,
    finished_since_tidy: usize,
    /// delayed/ as the last promotion pass left it.
    pub delayed: Delayed,
}

impl Chores {
    /// The first round, before anything is claimed: heartbeat, the jobs dead workers left and
    /// their claims (`recover` does both), due delayed items, leftovers.
    pub fn start(ctx: &Ctx, poll: Option<Duration>, activity: Activity) -> Chores {
        let mut chores = Chores {
            started: unix_ms(SystemTime::now()),
            poll_ms: poll.map(|interval| interval.as_millis() as u64),
            beat_error: None,
            next_beat: Instant::now() + ctx.config.heartbeat,
            next_tidy: Instant::now() + TIDY_EVERY,
            finished_since_tidy: 0,
            delayed: Delayed::default(),
        };
        chores.write_heartbeat(ctx, activity);
        upkeep::recover(ctx);
        chores.delayed = upkeep::promote_delayed(ctx, 0);
        upkeep::tidy(ctx);
        chores
    }

    /// A worker that cannot write its heartbeat claims nothing: others would soon take it for
    /// dead and run what it holds a second time.
    pub fn heartbeat_failing(&self) -> bool {
        self.beat_error.is_some()
    }

    pub fn next_beat(&self) -> Instant {
        self.next_beat
    }

    /// When the earliest delayed item is due.
    pub fn next_due(&self) -> Option<Instant> {
        self.delayed.next_due.map(instant_of)
    }

    pub fn count_finished(&mut self, jobs: usize) {
        self.finished_since_tidy += jobs;
    }

    /// Learns when items that this engine's jobs just put in delayed/ are due.
    pub fn look_at_new_delayed(&mut self, ctx: &Ctx) {
        if ctx
            .delayed_added
            .swap(0, std::sync::atomic::Ordering::Relaxed)
            > 0
        {
            self.delayed = upkeep::promote_delayed(ctx, 0);
        }
    }

    /// Whether the heartbeat is due now. Nothing is written, recovered or promoted while the
    /// mount is gone: all of it would go to the empty local folder, or judge others by a
    /// filesystem we cannot see; the beat then waits another interval.
    pub fn heartbeat_due(&mut self, ctx: &Ctx, now: Instant) -> bool {
        if now < self.next_beat {
            return false;
        }
        self.next_beat = now + ctx.config.heartbeat;
        ctx.mount.mounted(ctx)
    }

    /// The heartbeat's round: the beat itself, the reaper's sweep, tidying when due, recovery.
    /// Says whether recovery returned claims to the root.
    pub fn heartbeat(&mut self, ctx: &Ctx, now: Instant, activity: Activity) -> bool {
        self.write_heartbeat(ctx, activity);
        reaper::sweep(Leftovers::None);
        if now >= self.next_tidy || self.finished_since_tidy >= TIDY_AFTER_JOBS {
            upkeep::tidy(ctx);
            self.next_tidy = now + TIDY_EVERY;
            self.finished_since_tidy = 0;
        }
        upkeep::recover(ctx) > 0
    }

    /// Moves delayed items back to the root when the earliest is due, or with `anyway` (at a
    /// heartbeat, which also clears stale requests). Says whether any moved.
    pub fn promote_if_due(&mut self, ctx: &Ctx, now: Instant, anyway: bool) -> bool {
        if !anyway && self.next_due().is_none_or(|due| due > now) {
            return false;
        }
        self.delayed = upkeep::promote_delayed(ctx, 0);
        requests::clear_stale(ctx);
        self.delayed.promoted > 0
    }

    /// With the root dry and `retry_when_idle`: up to `free` delayed items move back to the
    /// root before their time. Says whether any moved.
    pub fn promote_early(&mut self, ctx: &Ctx, free: usize) -> bool {
        self.delayed = upkeep::promote_delayed(ctx, free);
        self.delayed.promoted > 0
    }

    /// Looks at delayed/ afresh before the queue is called done.
    pub fn recount_delayed(&mut self, ctx: &Ctx) {
        self.delayed = upkeep::promote_delayed(ctx, 0);
    }

    fn write_heartbeat(&mut self, ctx: &Ctx, activity: Activity) {
        let beat = Beat {
            started: self.started,
            slots: activity.slots,
            busy: activity.busy,
            paused: activity.paused,
            note: activity.note,
            poll_ms: self.poll_ms,
        };
        let written = upkeep::write_heartbeat(ctx, beat);
        match (&self.beat_error, &written) {
            (None, Err(err)) => ctx.notice(no_heartbeat(err)),
            (Some(_), Ok(())) => ctx.notice("the heartbeat is written again: claiming".into()),
            _ => {}
        }
        self.beat_error = written.err();
    }
}

fn no_heartbeat(err: &str) -> String {
    format!(
        "cannot write the heartbeat ({err}): claiming nothing until it can, so that no other \
         worker takes this one for dead"
    )
}

/// The engine's clock at a Unix time in milliseconds (now, if that has passed).
fn instant_of(unix: u64) -> Instant {
    let wait = unix.saturating_sub(unix_ms(SystemTime::now()));
    Instant::now() + Duration::from_millis(wait)
}
