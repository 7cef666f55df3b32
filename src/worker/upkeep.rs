//! The engine's periodic duties, every `heartbeat` interval: keep `_meta/workers/<id>` current,
//! stop the jobs of dead workers and return their claims, and bring delayed/ items back to the
//! root when their time comes (or, with `retry_when_idle`, at once when the root runs dry); now
//! and then, remove crash leftovers and prune old logs.

use std::time::SystemTime;

use super::ctx::{Ctx, lock};
use crate::queue::{Heartbeat, PidSpace, State, WorkerId, printable, this_host, unix_ms};

/// What a worker says about itself in its heartbeat.
pub struct Beat {
    pub started: u64,
    pub slots: usize,
    pub busy: usize,
    pub paused: bool,
    pub note: Option<String>,
    pub poll_ms: Option<u64>,
}

/// Writes the heartbeat; the error says why it could not be written.
pub fn write_heartbeat(ctx: &Ctx, beat: Beat) -> Result<(), String> {
    let here = PidSpace::this_process();
    let heartbeat = Heartbeat {
        id: ctx.worker.0.clone(),
        host: this_host(),
        pid: std::process::id(),
        started: beat.started,
        slots: beat.slots,
        busy: beat.busy,
        paused: beat.paused,
        note: beat.note,
        fs: ctx.mount.fs_name().map(str::to_string),
        poll_ms: beat.poll_ms,
        beat: unix_ms(SystemTime::now()),
        boot_id: here.as_ref().map(|p| p.boot_id.clone()),
        pid_ns: here.map(|p| p.pid_ns),
    };
    ctx.queue
        .write_heartbeat(&heartbeat)
        .map_err(|err| err.to_string())
}

/// Stops the jobs of dead workers on this host, then returns their claims; says how many
/// claims moved.
pub fn recover(ctx: &Ctx) -> usize {
    let timeout = ctx.config.heartbeat_timeout;
    let killed = super::orphans::stop_jobs_of_dead_workers(&ctx.queue, timeout, Some(&ctx.worker));
    if killed > 0 {
        ctx.notice(format!(
            "stopped {killed} job(s) left running by a dead worker"
        ));
    }
    match ctx
        .queue
        .recover(timeout, ctx.config.max_attempts, Some(&ctx.worker))
    {
        Ok(recovery) => {
            if let Some(template) = &ctx.config.on_worker_down {
                for (worker, count) in &recovery.dead {
                    let host = WorkerId::host_of(worker);
                    super::hooks::spawn_event_hook(ctx, template, host, worker, *count);
                }
            }
            for item in &recovery.items {
                ctx.notice(format!(
                    "{}: recovered from a dead worker, now {}",
                    printable(item.display()),
                    item.state
                ));
            }
            for err in &recovery.errors {
                ctx.notice(format!("recovery: {err}"));
            }
            recovery.items.len()
        }
        Err(err) => {
            ctx.notice(format!("recovery failed: {err}"));
            0
        }
    }
}

/// Removes old crash leftovers and prunes the logs of finished items (see the config's
/// `leftover_age`, `log_retention` and `log_keep`).
pub fn tidy(ctx: &Ctx) {
    let config = &ctx.config;
    let mut outputs = vec![ctx.out_dir.clone()];
    outputs.extend(config.destinations.iter().map(|d| ctx.queue.root().join(d)));
    let own_runs = format!(".run-{}-", ctx.worker.0);
    ctx.queue
        .remove_leftovers(config.leftover_age, &outputs, own_runs.as_ref());
    ctx.queue.prune_logs(config.log_retention, config.log_keep);
}

/// The delayed/ folder after a promotion pass.
#[derive(Debug, Default)]
pub struct Delayed {
    /// Items still waiting.
    pub waiting: usize,
    /// The earliest retry time among them, Unix milliseconds.
    pub next_due: Option<u64>,
    /// Items moved back to the root by this pass.
    pub promoted: usize,
}

/// Moves due delayed/ items back to the root; with `force` (the root ran dry) also up to
/// `force` of the earliest ones that are not due yet.
pub fn promote_delayed(ctx: &Ctx, force: usize) -> Delayed {
    let items = match ctx.queue.list(State::Delayed) {
        Ok(items) => items,
        Err(err) => {
            ctx.notice(format!("cannot list delayed/: {err}"));
            return Delayed::default();
        }
    };
    let now = unix_ms(SystemTime::now());
    let held = lock(&ctx.held);
    let mut waiting: Vec<_> = items
        .into_iter()
        .map(|item| {
            // A record this worker could not write holds the retry time in memory.
            let due = item
                .id()
                .and_then(|id| held.get(&id))
                .map_or_else(|| ctx.queue.record(&item).retry_at, |r| r.retry_at)
                .unwrap_or(0);
            (due, item)
        })
        .collect();
    drop(held);
    waiting.sort_by_key(|(due, _)| *due);
    let mut result = Delayed::default();
    let mut forced = 0;
    for (due, item) in &waiting {
        let forcing = *due > now && forced < force;
        if *due > now && !forcing {
            result.waiting += 1;
            result.next_due = Some(result.next_due.map_or(*due, |d: u64| d.min(*due)));
            continue;
        }
        match ctx.queue.move_to(item, State::Pending) {
            Ok(_) => {
                result.promoted += 1;
                forced += usize::from(forcing);
            }
            Err(err) if err.is_not_found() => {}
            Err(err) => ctx.notice(format!("cannot retry {}: {err}", item.qualified())),
        }
    }
    result
}
