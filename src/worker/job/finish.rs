//! How a finished job leaves: a failure counted in the item's record (or held in memory when the
//! disk refuses it), the backoff before its retry, the move to its next state with the engine
//! told, and the `on_success` / `on_failure` hooks.

use std::time::{Duration, SystemTime};

use crate::queue::{Item, ItemId, ItemRecord, State, unix_ms};
use crate::worker::command::{Vars, expand};
use crate::worker::ctx::{Ctx, lock};
use crate::worker::hooks;
use crate::worker::{EngineEvent, Outcome};

/// Counts a failed run in the item's record and returns its attempts so far. A record that
/// cannot be written (a full disk) is held in memory instead, so that the retry still waits its
/// backoff and `max_attempts` still bounds the runs; the next write that works catches up.
pub fn count_failure(ctx: &Ctx, claimed: &Item, id: ItemId, reason: &str, hopeless: bool) -> u32 {
    let config = &ctx.config;
    let retry_at = |attempts: u32| {
        (!hopeless && attempts < config.max_attempts).then(|| {
            let delay = backoff(config.retry_delay, config.retry_delay_max, attempts);
            unix_ms(SystemTime::now() + delay)
        })
    };
    let known = lock(&ctx.held).get(&id).map_or(0, |r| r.attempts);
    match ctx
        .queue
        .count_failure(claimed, reason.to_string(), known, retry_at)
    {
        Ok(record) => {
            lock(&ctx.held).remove(&id);
            record.attempts
        }
        Err(err) => {
            let attempts = ctx.queue.record(claimed).attempts.max(known) + 1;
            let record = ItemRecord {
                attempts,
                reason: Some(reason.to_string()),
                retry_at: retry_at(attempts),
                ..Default::default()
            };
            ctx.notice(format!(
                "{}: {err}; attempt {attempts} counted by this worker only",
                claimed.qualified()
            ));
            lock(&ctx.held).insert(id, record);
            attempts
        }
    }
}

/// Moves the finished item and reports it; a vanished item is reported as such. An item that
/// cannot reach its state (an error other than vanishing) goes to failed/ with the reason
/// instead: left in its claim folder it would run again after every restart.
pub fn finish_move(ctx: &Ctx, claimed: &Item, to: State, outcome: Outcome) -> Option<Item> {
    let moved = ctx.queue.move_to(claimed, to).or_else(|err| {
        if err.is_not_found() || to == State::Failed {
            return Err(err);
        }
        let ended = match &outcome {
            Outcome::Success => "succeeded".to_string(),
            Outcome::Failed { reason, .. } => format!("failed ({reason})"),
            Outcome::Requeued => "was stopped".to_string(),
        };
        let reason = format!("{ended}, but could not be moved to {to}: {err}");
        ctx.notice(format!(
            "{}: {reason}; moving it to failed/",
            claimed.qualified()
        ));
        let record = ItemRecord {
            reason: Some(reason),
            ..ctx.queue.record(claimed)
        };
        let _ = ctx.queue.write_record(claimed, &record);
        ctx.queue.move_to(claimed, State::Failed)
    });
    match moved {
        Ok(moved) => {
            (ctx.events)(EngineEvent::Finished {
                item: moved.clone(),
                outcome,
            });
            Some(moved)
        }
        Err(err) => {
            let what = if err.is_not_found() {
                "was moved or deleted while it ran".to_string()
            } else {
                format!("could not be moved to {to}: {err}")
            };
            ctx.notice(format!(
                "{} {what}; the run ended as {outcome:?}",
                claimed.qualified()
            ));
            (ctx.events)(EngineEvent::Finished {
                item: claimed.clone(),
                outcome,
            });
            None
        }
    }
}

/// The wait before the next run after `attempts` failures: `retry_delay`, doubling each time,
/// at most `max`, then shortened by a random part of up to a quarter, so that items that failed
/// together do not all come back at once.
fn backoff(retry_delay: Duration, max: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    let wait = retry_delay.saturating_mul(1 << doublings).min(max);
    let mut random = [0u8; 4];
    let _ = rustix::rand::getrandom(&mut random, rustix::rand::GetRandomFlags::empty());
    let quarter = f64::from(u32::from_ne_bytes(random)) / f64::from(u32::MAX) / 4.0;
    wait.mul_f64(1.0 - quarter)
}

/// Starts `on_success` / `on_failure` (the latter once an item has failed for good) in the
/// background (see `hooks`).
pub fn run_hook(ctx: &Ctx, moved: &Item, outcome: &Outcome) {
    let (template, reason) = match outcome {
        Outcome::Success => (ctx.config.on_success.as_ref(), None),
        Outcome::Failed {
            reason,
            final_: true,
        } => (ctx.config.on_failure.as_ref(), Some(reason.as_str())),
        _ => (None, None),
    };
    let Some(template) = template else {
        return;
    };
    let input = ctx.queue.path_of(moved);
    let name = ctx.queue.full_name(moved);
    let vars = Vars {
        input: &input,
        name: &name,
        out: &ctx.out_dir,
        queue: ctx.queue.root(),
        reason,
        extra: &[],
    };
    hooks::spawn_hook(ctx, expand(template, &vars));
}
