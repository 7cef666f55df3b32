//! The engine's periodic duties, every `heartbeat` interval: keep `_meta/workers/<id>` current,
//! return the claims of dead workers, and bring delayed/ items back to the root when their time
//! comes (or at once when the root runs dry); now and then, remove crash leftovers and prune
//! old logs.

use std::time::SystemTime;

use super::ctx::Ctx;
use crate::queue::{Heartbeat, State, WorkerId, printable, this_host, unix_ms};

/// What a worker says about itself in its heartbeat.
pub struct Beat {
    pub started: u64,
    pub slots: usize,
    pub busy: usize,
    pub paused: bool,
    pub note: Option<String>,
    pub poll_ms: Option<u64>,
}

pub fn write_heartbeat(ctx: &Ctx, beat: Beat) {
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
    };
    if let Err(err) = ctx.queue.write_heartbeat(&heartbeat) {
        ctx.notice(format!("cannot write the heartbeat: {err}"));
    }
}

/// Returns the claims of dead workers; says how many moved.
pub fn recover(ctx: &Ctx) -> usize {
    match ctx
        .queue
        .recover_claims(ctx.config.heartbeat_timeout, ctx.config.max_attempts)
    {
        Ok((items, dead)) => {
            if let Some(template) = &ctx.config.on_worker_down {
                for (worker, count) in &dead {
                    let host = WorkerId::host_of(worker);
                    super::hooks::spawn_event_hook(ctx, template, host, worker, *count);
                }
            }
            for item in &items {
                ctx.notice(format!(
                    "{}: recovered from a dead worker, now {}",
                    printable(item.display()),
                    item.state
                ));
            }
            items.len()
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

/// Kills jobs that dead workers of this host left running, before their items run again.
pub fn stop_orphans(ctx: &Ctx) {
    let killed = super::orphans::kill_orphaned_jobs(ctx.queue.root(), &this_host());
    if killed > 0 {
        ctx.notice(format!(
            "stopped {killed} job(s) left running by a dead worker"
        ));
    }
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
    let mut waiting: Vec<_> = items
        .into_iter()
        .map(|item| {
            let due = ctx.queue.record(&item).retry_at.unwrap_or(0);
            (due, item)
        })
        .collect();
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
