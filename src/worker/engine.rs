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
use super::intake::Intake;
use super::job::run_job;
use super::upkeep::{self, Beat};
use super::watch::{self, Signals, Watch};
use crate::queue::{remote_filesystem, this_host, unix_ms};

/// What the engine's owner may change while it runs.
#[derive(Default)]
pub struct Shared {
    pub slots: AtomicUsize,
    pub busy: AtomicUsize,
    /// Paused by the owner (the TUI's pause key).
    pub paused: AtomicBool,
    /// Paused by a flag file in `_meta/`.
    pub flag_paused: AtomicBool,
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
        note: ctx
            .mount
            .note()
            .or_else(|| paused.then(|| "paused".to_string())),
        poll_ms: poll.map(|interval| interval.as_millis() as u64),
    };
    upkeep::write_heartbeat(&ctx, beat(0, false));
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
    let mut running: HashMap<u64, Arc<Control>> = HashMap::new();
    let mut seq = 0u64;
    let mut next_beat = Instant::now() + ctx.config.heartbeat;
    let mut next_poll = poll.map(|interval| Instant::now() + interval);
    let mut next_pause_check = Instant::now();
    let mut stopping: Option<Option<Instant>> = None;
    let mut killed = false;
    let mut mounted = true;

    loop {
        if let Some(request) = *lock(&shared.stop) {
            stopping = Some(request);
        }
        let now = Instant::now();
        if now >= next_pause_check {
            next_pause_check = now + PAUSE_CHECK;
            let flag = ctx.queue.workers_paused(&host);
            if flag != shared.flag_paused.swap(flag, Ordering::Relaxed) {
                let what = if flag { "paused by" } else { "resumed: no" };
                ctx.notice(format!("claiming {what} a pause flag in _meta/"));
            }
            mounted = ctx.mount.mounted(&ctx);
        }
        let paused = shared.paused.load(Ordering::Relaxed)
            || shared.flag_paused.load(Ordering::Relaxed)
            || !mounted;
        if stopping.is_none() && !paused {
            delayed.waiting += ctx.delayed_added.swap(0, Ordering::Relaxed);
            let mut dry_retries = 0;
            while running.len() < shared.slots.load(Ordering::Relaxed) {
                let Some(item) = claimer.next(&ctx, &signals) else {
                    // The root ran dry: delayed items need not wait for their time.
                    if delayed.waiting > 0 && dry_retries == 0 && claimer.root_empty(&signals) {
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
                let control = Arc::new(Control::default());
                running.insert(seq, control.clone());
                shared.busy.store(running.len(), Ordering::Relaxed);
                let guard = DoneGuard(done_tx.clone(), seq);
                let job_ctx = ctx.clone();
                let job_seq = seq;
                tokio::spawn(async move {
                    let _guard = guard;
                    run_job(job_ctx, item, control, job_seq).await;
                });
            }
        }
        if let Some(deadline) = stopping {
            if running.is_empty() {
                break;
            }
            if !killed && deadline.is_some_and(|at| at <= Instant::now()) {
                killed = true;
                for control in running.values() {
                    control.stop();
                }
            }
        } else if drain && mounted && running.is_empty() && claimer.root_empty(&signals) {
            // Confirm with a fresh look at both folders before calling the queue done.
            delayed = upkeep::promote_delayed(&ctx, 0);
            claimer.list_now(&ctx, &signals);
            if delayed.waiting == 0 && delayed.promoted == 0 && claimer.root_empty(&signals) {
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
            _ = sleep_until(wake_at) => {}
        }
        let now = Instant::now();
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
        if now >= next_beat {
            next_beat = now + ctx.config.heartbeat;
            upkeep::write_heartbeat(&ctx, beat(running.len(), paused));
            super::reaper::sweep(super::reaper::Leftovers::None);
            if now >= next_tidy || finished_since_tidy >= TIDY_AFTER_JOBS {
                upkeep::tidy(&ctx);
                next_tidy = now + TIDY_EVERY;
                finished_since_tidy = 0;
            }
            if upkeep::recover(&ctx) > 0 {
                upkeep::stop_orphans(&ctx);
                claimer.mark_dirty();
            }
            delayed = upkeep::promote_delayed(&ctx, 0);
            if delayed.promoted > 0 {
                claimer.mark_dirty();
            }
        }
    }
    drop(watch);
    super::reaper::sweep(super::reaper::Leftovers::All);
    ctx.queue.retire_worker(&ctx.worker);
    (ctx.events)(EngineEvent::Stopped);
}
