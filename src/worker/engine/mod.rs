//! The engine loop: one task that fills free slots with claims, wakes on finished jobs, watcher
//! events, control requests and timers, and does the periodic upkeep. Jobs run as tasks of the
//! same runtime and report back through a channel when they end. Each concern of the loop has a
//! part of its own: the running jobs (`jobs`), whether claiming is open (`gatekeeper`), the timed
//! upkeep (`chores`), requests (`requests::RequestWatch`) and a stop the owner asked for
//! (`Stopping`); this module only orders them.

mod chores;
mod gatekeeper;
mod jobs;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::{Instant, sleep_until};

use super::EngineEvent;
use super::claim::Claimer;
use super::ctx::{Ctx, lock};
use super::intake::Intake;
use super::requests::{self, RequestWatch};
use super::watch::{self, Signals, Watch};
use crate::queue::{State, remote_filesystem};
use chores::{Activity, Chores};
use gatekeeper::Gatekeeper;
use jobs::Jobs;

/// What the engine's owner may change while it runs.
#[derive(Default)]
pub struct Shared {
    pub slots: AtomicUsize,
    pub busy: AtomicUsize,
    /// Paused by the owner (the TUI's pause key).
    pub paused: AtomicBool,
    /// Not claiming because of a flag file in `_meta/` or the schedule.
    pub flag_paused: AtomicBool,
    /// Why the engine is not claiming, in words (see `gate`), or a lost mount's note.
    pub why: Mutex<Option<String>>,
    /// A stop was asked for: `Some(None)` waits for jobs, `Some(Some(t))` kills them at `t`.
    pub stop: Mutex<Option<Option<Instant>>>,
    pub signals: Arc<Signals>,
}

impl Shared {
    pub fn request_stop(&self, deadline: Option<Instant>) {
        let mut stop = lock(&self.stop);
        let sooner = match (*stop, deadline) {
            (Some(Some(old)), Some(new)) => Some(old.min(new)),
            (Some(Some(old)), None) => Some(old),
            (_, new) => new,
        };
        *stop = Some(sooner);
        drop(stop);
        self.signals.wake.notify_one();
    }
}

/// A stop the owner asked for, as the loop follows it.
#[derive(Default)]
struct Stopping {
    /// `Some(None)`: wait for the jobs; `Some(Some(t))`: kill them at `t`.
    asked: Option<Option<Instant>>,
    killed: bool,
}

impl Stopping {
    fn asked(&self) -> bool {
        self.asked.is_some()
    }

    /// Takes in a stop asked for since the last turn; a frozen job could never finish within
    /// the grace period, so the jobs are thawed.
    fn look(&mut self, shared: &Shared, jobs: &Jobs) {
        if let Some(request) = *lock(&shared.stop) {
            if self.asked.is_none() {
                jobs.set_frozen(false);
            }
            self.asked = Some(request);
        }
    }

    /// Stops the jobs once the deadline has passed; says whether all jobs have ended.
    fn over(&mut self, jobs: &Jobs) -> bool {
        let Some(deadline) = self.asked else {
            return false;
        };
        if jobs.is_empty() {
            return true;
        }
        if !self.killed && deadline.is_some_and(|at| at <= Instant::now()) {
            self.killed = true;
            jobs.stop_all();
        }
        false
    }

    /// When the jobs are to be stopped, until they are.
    fn kill_at(&self) -> Option<Instant> {
        self.asked.flatten().filter(|_| !self.killed)
    }
}

/// The interval of a polled root, and when it is next listed.
struct Poll {
    every: Duration,
    next: Instant,
}

impl Poll {
    fn due(&mut self, now: Instant) -> bool {
        let due = now >= self.next;
        if due {
            self.next = now + self.every;
        }
        due
    }
}

/// What the loop does after a turn's checks.
enum Next {
    /// Wait for news (a job ended, an arrival, a request, a timer).
    Wait,
    /// Claim again at once: the drain check found new work.
    Claim,
    /// The engine is done.
    Exit,
}

/// The loop's state, each part with one concern.
struct Engine {
    ctx: Arc<Ctx>,
    shared: Arc<Shared>,
    /// Exit when the queue is drained (`fsq work --drain`).
    exit_when_drained: bool,
    /// Whether this worker ran anything since the queue was last drained (see `on_drained`).
    worked: bool,
    watch: Watch,
    poll: Option<Poll>,
    claimer: Claimer,
    jobs: Jobs,
    gate: Gatekeeper,
    chores: Chores,
    requests: RequestWatch,
    stopping: Stopping,
}

pub async fn run(ctx: Arc<Ctx>, shared: Arc<Shared>, drain: bool) {
    let mut engine = Engine::start(ctx, shared, drain);
    loop {
        let paused = engine.look_around();
        match engine.next(paused) {
            Next::Exit => break,
            Next::Claim => continue,
            Next::Wait => {}
        }
        engine.wait(paused).await;
        engine.after_wake(paused);
    }
    let Engine { ctx, watch, .. } = engine;
    drop(watch);
    super::hooks::wait_for_hooks(&ctx).await;
    super::reaper::sweep(super::reaper::Leftovers::All);
    ctx.queue.retire_worker(&ctx.worker);
    (ctx.events)(EngineEvent::Stopped);
}

impl Engine {
    fn start(ctx: Arc<Ctx>, shared: Arc<Shared>, exit_when_drained: bool) -> Engine {
        let (watch, note) = watch::start(ctx.queue.root(), ctx.config.poll);
        if let Some(note) = note {
            ctx.notice(note);
        }
        let poll = match &watch {
            Watch::Poll(every) => Some(Poll {
                every: *every,
                next: Instant::now() + *every,
            }),
            Watch::Events(_) => None,
        };
        let gate = Gatekeeper::new();
        let first_beat = Activity {
            slots: shared.slots.load(Ordering::Relaxed),
            busy: 0,
            paused: false,
            note: gate.beat_note(&ctx, false),
        };
        let chores = Chores::start(&ctx, poll.as_ref().map(|p| p.every), first_beat);
        let remote = remote_filesystem(ctx.queue.root()).is_some();
        let intake = Intake::new(
            !remote,
            ctx.config.settle_time,
            ctx.config.quiet_period_on(remote),
        );
        Engine {
            claimer: Claimer::new(intake, poll.is_none()),
            requests: RequestWatch::start(&ctx, poll.is_none()),
            jobs: Jobs::new(),
            exit_when_drained,
            worked: false,
            watch,
            poll,
            gate,
            chores,
            stopping: Stopping::default(),
            ctx,
            shared,
        }
    }

    fn signals(&self) -> &Signals {
        &self.shared.signals
    }

    /// Takes in stop requests, the gate and new delayed items; says whether claiming is paused.
    fn look_around(&mut self) -> bool {
        self.stopping.look(&self.shared, &self.jobs);
        self.gate.look_if_due(&self.ctx, &self.shared, &self.jobs);
        self.chores.look_at_new_delayed(&self.ctx);
        // `flag_paused` holds a closed gate and a lost mount (see `Gatekeeper`).
        self.shared.paused.load(Ordering::Relaxed)
            || self.shared.flag_paused.load(Ordering::Relaxed)
            || self.chores.heartbeat_failing()
    }

    /// Claims what the free slots can take, then decides whether the engine is done.
    fn next(&mut self, paused: bool) -> Next {
        if !self.stopping.asked() && !paused {
            self.fill_slots();
        }
        if self.stopping.over(&self.jobs) {
            return Next::Exit;
        }
        let idle = self.jobs.is_empty() && self.gate.mounted();
        if self.worked && idle && self.claimer.root_empty(self.signals()) {
            self.worked = false;
            report_drained(&self.ctx, self.gate.host());
        }
        if self.exit_when_drained && !self.stopping.asked() && idle {
            return self.drain_check();
        }
        Next::Wait
    }

    fn free_slots(&self) -> usize {
        self.shared
            .slots
            .load(Ordering::Relaxed)
            .saturating_sub(self.jobs.len())
    }

    fn fill_slots(&mut self) {
        let mut promoted_early = false;
        while self.free_slots() > 0 {
            let Some(claim) = self.claimer.next(&self.ctx, &self.shared.signals) else {
                // The root ran dry: with `retry_when_idle`, delayed items need not wait.
                if self.ctx.config.retry_when_idle
                    && self.chores.delayed.waiting > 0
                    && !promoted_early
                    && self.claimer.root_empty(self.signals())
                {
                    promoted_early = true;
                    if self.chores.promote_early(&self.ctx, self.free_slots()) {
                        self.claimer.mark_dirty();
                        continue;
                    }
                }
                break;
            };
            if !self.worked {
                self.worked = true;
                self.ctx.queue.clear_drained();
            }
            self.jobs.start(&self.ctx, claim);
            self.shared.busy.store(self.jobs.len(), Ordering::Relaxed);
        }
    }

    /// `--drain` with nothing running and the root looking empty: confirms with a fresh look at
    /// both folders before calling the queue done. Claims of other workers are not done either:
    /// they may fail, or their worker may die.
    fn drain_check(&mut self) -> Next {
        if !self.claimer.root_empty(self.signals()) {
            return Next::Wait;
        }
        self.chores.recount_delayed(&self.ctx);
        self.claimer.list_now(&self.ctx, &self.shared.signals);
        let claimed_elsewhere = self
            .ctx
            .queue
            .list(State::Process)
            .map_or(true, |claims| !claims.is_empty());
        let delayed = &self.chores.delayed;
        let root_empty = self.claimer.root_empty(self.signals());
        if delayed.waiting == 0 && delayed.promoted == 0 && !claimed_elsewhere && root_empty {
            Next::Exit
        } else if delayed.promoted > 0 || !root_empty {
            Next::Claim
        } else {
            Next::Wait
        }
    }

    /// Waits for the first news: a job ended, a wake from the owner, a change in the root, a
    /// request, or the earliest timer.
    async fn wait(&mut self, paused: bool) {
        let wake_at = self.wake_at(paused);
        tokio::select! {
            ended = self.jobs.ended() => {
                self.chores.count_finished(ended);
                self.shared.busy.store(self.jobs.len(), Ordering::Relaxed);
            }
            _ = self.shared.signals.wake.notified() => {}
            _ = self.watch.changed(&self.shared.signals) => {}
            _ = self.requests.arrived() => {}
            _ = sleep_until(wake_at) => {}
        }
    }

    /// The earliest timer that matters now; the heartbeat's at the latest.
    fn wake_at(&self, paused: bool) -> Instant {
        let can_claim = !self.stopping.asked() && !paused && self.free_slots() > 0;
        let busy = !self.jobs.is_empty();
        [
            self.claimer
                .settle_at
                .filter(|_| can_claim)
                .map(Instant::from_std),
            self.poll.as_ref().map(|poll| poll.next),
            self.stopping.kill_at(),
            Some(self.gate.next_check()).filter(|_| paused),
            self.chores.next_due(),
            self.requests.check_at().filter(|_| busy),
        ]
        .into_iter()
        .flatten()
        .fold(self.chores.next_beat(), Instant::min)
    }

    /// After a wake: requests for running jobs, a polled root's listing, the heartbeat's round
    /// and delayed items that came due.
    fn after_wake(&mut self, paused: bool) {
        let now = Instant::now();
        if !self.jobs.is_empty() && self.gate.mounted() && self.requests.take_due(now) {
            requests::apply(&self.ctx, &self.jobs.handles());
        }
        if self.poll.as_mut().is_some_and(|poll| poll.due(now)) {
            self.claimer.mark_dirty();
        }
        let beat_due = self.chores.heartbeat_due(&self.ctx, now);
        if beat_due {
            let activity = Activity {
                slots: self.shared.slots.load(Ordering::Relaxed),
                busy: self.jobs.len(),
                paused,
                note: self.gate.beat_note(&self.ctx, paused),
            };
            if self.chores.heartbeat(&self.ctx, now, activity) {
                self.claimer.mark_dirty();
            }
        }
        if self.chores.promote_if_due(&self.ctx, now, beat_due) {
            self.claimer.mark_dirty();
        }
    }
}

/// This worker ran jobs and has nothing left: if the whole queue is drained (no host has anything
/// pending, delayed or running) and no other worker claimed this drain first, runs `on_drained`.
fn report_drained(ctx: &Ctx, host: &str) {
    let Some(template) = &ctx.config.on_drained else {
        return;
    };
    match ctx.queue.is_drained() {
        Ok(true) => {}
        Ok(false) => return,
        Err(err) => return ctx.notice(format!("cannot tell whether the queue is drained: {err}")),
    }
    match ctx.queue.mark_drained() {
        Ok(true) => {
            let failed = ctx.queue.list(State::Failed).map_or(0, |items| items.len());
            super::hooks::spawn_event_hook(ctx, template, host, &ctx.worker.0, failed);
        }
        Ok(false) => {}
        Err(err) => ctx.notice(format!("cannot mark the queue drained: {err}")),
    }
}
