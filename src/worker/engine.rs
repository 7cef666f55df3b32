//! The engine loop: one task that fills free slots with claims, wakes on finished jobs, watcher
//! events, control requests and timers, and does the periodic upkeep. Jobs run as tasks of the
//! same runtime and report back through a channel when they end.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::EngineEvent;
use super::claim::Claimer;
use super::ctx::{Control, Ctx, lock};
use super::gate::{self, Gate};
use super::intake::Intake;
use super::job::run_job;
use super::requests;
use super::upkeep::{self, Beat};
use super::watch::{self, Signals, Watch};
use crate::queue::{ItemId, OutsideSchedule, State, remote_filesystem, this_host, unix_ms};

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

/// Leftovers and old logs are looked for this often, or after this many finished jobs (so a
/// fast queue's `_meta/logs` stays near `log_keep`), at a heartbeat.
const TIDY_EVERY: Duration = Duration::from_secs(600);
const TIDY_AFTER_JOBS: usize = 1000;

/// How often the pause flags in `_meta/` are looked at while claiming.
const PAUSE_CHECK: Duration = Duration::from_millis(250);

/// Sends the job's sequence number back when the job ends, even if it panicked.
struct DoneGuard(mpsc::UnboundedSender<u64>, u64);

impl Drop for DoneGuard {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

pub async fn run(ctx: Arc<Ctx>, shared: Arc<Shared>, drain: bool) {
    let signals = shared.signals.clone();
    let started = unix_ms(SystemTime::now());
    let host = this_host();
    let (mut watch, note) = watch::start(ctx.queue.root(), ctx.config.poll);
    if let Some(note) = note {
        ctx.notice(note);
    }
    let poll = match &watch {
        Watch::Poll(interval) => Some(*interval),
        Watch::Events(_) => None,
    };
    let beat = |busy: usize, paused: bool| Beat {
        started,
        slots: shared.slots.load(Ordering::Relaxed),
        busy,
        paused,
        note: ctx.mount.note().or_else(|| {
            let why = gate::check(&ctx, &host).why();
            paused.then(|| why.unwrap_or_else(|| "paused".to_string()))
        }),
        poll_ms: poll.map(|interval| interval.as_millis() as u64),
    };
    // A worker that cannot write its heartbeat claims nothing: others would soon take it for
    // dead and run what it holds a second time.
    let mut beat_error = upkeep::write_heartbeat(&ctx, beat(0, false)).err();
    if let Some(err) = &beat_error {
        ctx.notice(no_heartbeat(err));
    }
    upkeep::stop_orphans(&ctx);
    upkeep::recover(&ctx);
    let mut delayed = upkeep::promote_delayed(&ctx, 0);
    upkeep::tidy(&ctx);
    let mut next_tidy = Instant::now() + TIDY_EVERY;
    let mut finished_since_tidy = 0;

    let remote = remote_filesystem(ctx.queue.root()).is_some();
    let intake = Intake::new(
        !remote,
        ctx.config.settle_time,
        ctx.config.quiet_period_on(remote),
    );
    let mut claimer = Claimer::new(intake, poll.is_none());
    let (done_tx, mut done_rx) = mpsc::unbounded_channel::<u64>();
    let mut running: HashMap<u64, (Option<ItemId>, Arc<Control>)> = HashMap::new();
    let mut next_request_check = Instant::now();
    let mut request_watch = requests::RequestWatch::start(&ctx, poll.is_none());
    let mut request_arrived = false;
    // Whether this worker ran anything since the queue was last drained (see `on_drained`).
    let mut worked = false;
    let mut gate = Gate::default();
    // Whether running jobs were frozen because the schedule's window closed.
    let mut schedule_frozen = false;
    let mut seq = 0u64;
    let mut next_beat = Instant::now() + ctx.config.heartbeat;
    let mut next_poll = poll.map(|interval| Instant::now() + interval);
    let mut next_pause_check = Instant::now();
    let mut stopping: Option<Option<Instant>> = None;
    let mut killed = false;
    let mut mounted = true;

    loop {
        if let Some(request) = *lock(&shared.stop) {
            if stopping.is_none() {
                // A frozen job could never finish within the grace period.
                for (_, control) in running.values() {
                    control.set_frozen(false);
                }
            }
            stopping = Some(request);
        }
        let now = Instant::now();
        if ctx.breaker.take_tripped() {
            next_pause_check = now;
        }
        if now >= next_pause_check {
            next_pause_check = now + PAUSE_CHECK;
            let new_gate = gate::check(&ctx, &host);
            if new_gate.paused.is_some() != gate.paused.is_some() {
                let what = if new_gate.paused.is_some() {
                    "paused by"
                } else {
                    "resumed: no"
                };
                ctx.notice(format!("claiming {what} a pause flag in _meta/"));
            }
            if new_gate.outside_schedule.is_some() != gate.outside_schedule.is_some() {
                match &new_gate.outside_schedule {
                    Some(why) => ctx.notice(format!("not claiming: {why}")),
                    None => ctx.notice("inside the schedule's window: claiming again".into()),
                }
            }
            let freeze = new_gate.outside_schedule.is_some()
                && ctx.config.outside_schedule == OutsideSchedule::Freeze;
            if freeze != schedule_frozen {
                schedule_frozen = freeze;
                for (_, control) in running.values() {
                    control.set_frozen(freeze);
                }
            }
            gate = new_gate;
            mounted = ctx.mount.mounted(&ctx);
            shared
                .flag_paused
                .store(gate.closed() || !mounted, Ordering::Relaxed);
            *lock(&shared.why) = ctx.mount.note().or_else(|| gate.why());
        }
        let paused = shared.paused.load(Ordering::Relaxed)
            || shared.flag_paused.load(Ordering::Relaxed)
            || !mounted
            || beat_error.is_some();
        if ctx.delayed_added.swap(0, Ordering::Relaxed) > 0 {
            // Learn when the new arrivals in delayed/ are due.
            delayed = upkeep::promote_delayed(&ctx, 0);
        }
        if stopping.is_none() && !paused {
            let mut dry_retries = 0;
            while running.len() < shared.slots.load(Ordering::Relaxed) {
                let Some(claim) = claimer.next(&ctx, &signals) else {
                    // The root ran dry: with `retry_when_idle`, delayed items need not wait.
                    if ctx.config.retry_when_idle
                        && delayed.waiting > 0
                        && dry_retries == 0
                        && claimer.root_empty(&signals)
                    {
                        dry_retries += 1;
                        let free = shared.slots.load(Ordering::Relaxed) - running.len();
                        delayed = upkeep::promote_delayed(&ctx, free);
                        if delayed.promoted > 0 {
                            claimer.mark_dirty();
                            continue;
                        }
                    }
                    break;
                };
                seq += 1;
                if !worked {
                    worked = true;
                    ctx.queue.clear_drained();
                }
                let control = Arc::new(Control::default());
                running.insert(seq, (claim.item.id(), control.clone()));
                shared.busy.store(running.len(), Ordering::Relaxed);
                let guard = DoneGuard(done_tx.clone(), seq);
                let job_ctx = ctx.clone();
                let job_seq = seq;
                tokio::spawn(async move {
                    let _guard = guard;
                    run_job(job_ctx, claim, control, job_seq).await;
                });
            }
        }
        if let Some(deadline) = stopping {
            if running.is_empty() {
                break;
            }
            if !killed && deadline.is_some_and(|at| at <= Instant::now()) {
                killed = true;
                for (_, control) in running.values() {
                    control.stop();
                }
            }
        }
        if worked && running.is_empty() && mounted && claimer.root_empty(&signals) {
            worked = false;
            report_drained(&ctx, &host);
        }
        if stopping.is_none()
            && drain
            && mounted
            && running.is_empty()
            && claimer.root_empty(&signals)
        {
            // Confirm with a fresh look at both folders before calling the queue done. Claims
            // of other workers are not done either: they may fail, or their worker may die.
            delayed = upkeep::promote_delayed(&ctx, 0);
            claimer.list_now(&ctx, &signals);
            let claimed_elsewhere = ctx
                .queue
                .list(State::Process)
                .map_or(true, |claims| !claims.is_empty());
            if delayed.waiting == 0
                && delayed.promoted == 0
                && !claimed_elsewhere
                && claimer.root_empty(&signals)
            {
                break;
            }
            if delayed.promoted > 0 || !claimer.root_empty(&signals) {
                continue;
            }
        }

        let can_claim =
            stopping.is_none() && !paused && running.len() < shared.slots.load(Ordering::Relaxed);
        let mut wake_at = next_beat;
        for at in [
            claimer
                .settle_at
                .filter(|_| can_claim)
                .map(Instant::from_std),
            next_poll,
            stopping.flatten().filter(|_| !killed),
            Some(next_pause_check).filter(|_| paused),
            delayed.next_due.map(instant_of),
            Some(next_request_check).filter(|_| !running.is_empty() && !request_watch.is_live()),
        ]
        .into_iter()
        .flatten()
        {
            wake_at = wake_at.min(at);
        }
        tokio::select! {
            Some(done) = done_rx.recv() => {
                running.remove(&done);
                finished_since_tidy += 1;
                while let Ok(done) = done_rx.try_recv() {
                    running.remove(&done);
                    finished_since_tidy += 1;
                }
                shared.busy.store(running.len(), Ordering::Relaxed);
            }
            _ = signals.wake.notified() => {}
            _ = watch.changed(&signals) => {}
            _ = request_watch.arrived() => request_arrived = true,
            _ = sleep_until(wake_at) => {}
        }
        let now = Instant::now();
        let request_due =
            request_arrived || (now >= next_request_check && !request_watch.is_live());
        if request_due && !running.is_empty() && mounted {
            next_request_check = now + requests::REQUEST_CHECK;
            request_arrived = false;
            let jobs: Vec<_> = running.values().cloned().collect();
            requests::apply(&ctx, &jobs);
        }
        if let (Some(at), Some(interval)) = (next_poll, poll)
            && now >= at
        {
            next_poll = Some(now + interval);
            claimer.mark_dirty();
        }
        // Nothing is written, recovered or promoted while the mount is gone: all of it would
        // go to the empty local folder, or judge others by a filesystem we cannot see.
        if now >= next_beat && !ctx.mount.mounted(&ctx) {
            next_beat = now + ctx.config.heartbeat;
        }
        let mut promote = delayed.next_due.is_some_and(|due| instant_of(due) <= now);
        if now >= next_beat {
            promote = true;
            next_beat = now + ctx.config.heartbeat;
            let written = upkeep::write_heartbeat(&ctx, beat(running.len(), paused));
            match (&beat_error, &written) {
                (None, Err(err)) => ctx.notice(no_heartbeat(err)),
                (Some(_), Ok(())) => ctx.notice("the heartbeat is written again: claiming".into()),
                _ => {}
            }
            beat_error = written.err();
            super::reaper::sweep(super::reaper::Leftovers::None);
            if now >= next_tidy || finished_since_tidy >= TIDY_AFTER_JOBS {
                upkeep::tidy(&ctx);
                next_tidy = now + TIDY_EVERY;
                finished_since_tidy = 0;
            }
            if upkeep::recover(&ctx) > 0 {
                claimer.mark_dirty();
            }
        }
        if promote {
            delayed = upkeep::promote_delayed(&ctx, 0);
            if delayed.promoted > 0 {
                claimer.mark_dirty();
            }
            requests::clear_stale(&ctx);
        }
    }
    drop(watch);
    super::hooks::wait_for_hooks(&ctx).await;
    super::reaper::sweep(super::reaper::Leftovers::All);
    ctx.queue.retire_worker(&ctx.worker);
    (ctx.events)(EngineEvent::Stopped);
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
