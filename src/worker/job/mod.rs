//! One item from claim to its next state: open and validate the claimed file, run the command
//! or built-in, keep the log and progress, then move the item to success/, delayed/ or failed/
//! (or back to pending when the engine stops) and run the hooks. Whatever happens to the file
//! meanwhile (moved or deleted by hand) is reported, never fatal.

use std::ffi::OsString;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use super::builtin;
use super::claim::Claim;
use super::command::{Vars, expand, uses};
use super::control::Cancel;
use super::ctx::{Control, Ctx, lock};
use super::handoff::{Claimed, Handoff, REPLACED, claimed_now, drop_symlink, is_symlink};
use super::hooks;
use super::log::CappedLog;
use super::process::{Ended, Run, describe_failure, run_command};
use super::tracker::Tracker;
use super::{EngineEvent, Outcome};
use crate::queue::{
    FileIdentity, Item, ItemId, ItemRecord, Request, State, format_duration, printable, unix_ms,
};

/// How a run went, before the item is moved.
enum RunResult {
    Success,
    /// `hopeless`: no retry can help (an exit code in `no_retry_exit_codes`).
    Failed {
        reason: String,
        hopeless: bool,
    },
    Stopped,
    Cancelled(Cancel),
}

impl RunResult {
    fn failed(reason: String) -> RunResult {
        RunResult::Failed {
            reason,
            hopeless: false,
        }
    }
}

/// Runs a claimed item to its end; `seq` is unique within the engine.
pub async fn run_job(ctx: Arc<Ctx>, claim: Claim, control: Arc<Control>, seq: u64) {
    let Claim {
        item: claimed,
        ran_before: has_record,
    } = claim;
    let path = ctx.queue.path_of(&claimed);
    let display = ctx.queue.full_name(&claimed);
    let (Some(id), Some(log_path)) = (claimed.id(), ctx.queue.log_path(&claimed)) else {
        ctx.notice(format!("{}: claimed without an id", claimed.qualified()));
        return;
    };
    let epoch = ctx.mount.epoch();
    let (input, size, validated) = match open_item(&path) {
        Ok(opened) => opened,
        Err(None) if ctx.mount.troubled_since(&ctx, epoch) => {
            if ctx.mount.hold_until_back(&ctx, &claimed, &control).await {
                finish_move(&ctx, &claimed, State::Pending, Outcome::Requeued);
            }
            return;
        }
        Err(None) => {
            ctx.notice(format!(
                "{}: gone before it could start (moved or deleted by hand)",
                claimed.qualified()
            ));
            return;
        }
        Err(Some(_)) if is_symlink(&path) => {
            drop_symlink(&ctx, &claimed, &path);
            return;
        }
        Err(Some(reason)) => {
            let record = ItemRecord {
                reason: Some(reason.clone()),
                ..ctx.queue.record(&claimed)
            };
            let _ = ctx.queue.write_record(&claimed, &record);
            let outcome = Outcome::Failed {
                reason,
                final_: true,
            };
            finish_move(&ctx, &claimed, State::Failed, outcome);
            return;
        }
    };
    (ctx.events)(EngineEvent::Started {
        item: claimed.clone(),
    });
    let record = if has_record {
        ctx.queue.record(&claimed)
    } else {
        ItemRecord::default()
    };
    let held_attempts = lock(&ctx.held).get(&id).map_or(0, |r| r.attempts);
    let header = format!(
        "=== fsq: {}, attempt {}, worker {} ===\n",
        printable(&display),
        record.attempts.max(held_attempts) + 1,
        ctx.worker.0
    );
    let mut log = CappedLog::new(log_path, header, ctx.config.log_cap);
    let mut tracker = Tracker::new(claimed.clone());
    let vars = Vars {
        input: &path,
        name: &display,
        out: &ctx.out_dir,
        queue: ctx.queue.root(),
        reason: None,
        extra: &[],
    };
    let result = match &ctx.config.command {
        Some(template) => {
            let progress_file = ctx
                .queue
                .meta_path("progress")
                .join(format!(".run-{}-{seq}", ctx.worker.0));
            if uses(template, "out") {
                let _ = std::fs::create_dir_all(&ctx.out_dir);
            }
            let claim_dir = path.parent().unwrap_or(Path::new("."));
            let handoff = Handoff::new(&input, claim_dir, seq, claimed.display());
            let run_vars = Vars {
                input: &handoff.input,
                ..vars
            };
            let argv = expand(template, &run_vars);
            let run = Run {
                ctx: &ctx,
                control: &control,
                log: &mut log,
                tracker: &mut tracker,
                progress_file: &progress_file,
                inherit: Some(handoff.inherit()),
            };
            let ended = run_command(&argv, run).await;
            drop(handoff);
            let _ = std::fs::remove_file(&progress_file);
            match ended {
                Ended::Exited(status, last_line) => match describe_failure(status) {
                    None => RunResult::Success,
                    Some(reason) => {
                        let hopeless = status
                            .code()
                            .is_some_and(|code| ctx.config.no_retry_exit_codes.contains(&code));
                        let reason = match last_line {
                            Some(line) => format!("{reason}: {line}"),
                            None => reason,
                        };
                        RunResult::Failed { reason, hopeless }
                    }
                },
                Ended::TimedOut => RunResult::failed(timed_out(ctx.config.timeout)),
                Ended::Stopped => RunResult::Stopped,
                Ended::Cancelled(how) => RunResult::Cancelled(how),
                Ended::Stalled => RunResult::failed(format!(
                    "stalled: no output or progress for {}",
                    format_duration(ctx.config.stall)
                )),
                Ended::NotStarted(reason) => RunResult::failed(reason),
            }
        }
        None => run_builtin(&ctx, &control, &mut tracker, input, size, &display).await,
    };
    let result = match (result, &ctx.config.verify) {
        (RunResult::Success, Some(template)) => {
            match hooks::verify(&ctx, &expand(template, &vars), &control).await {
                Ok(true) => RunResult::Success,
                Ok(false) => match control.cancelled() {
                    Some(how) => RunResult::Cancelled(how),
                    None => RunResult::Stopped,
                },
                Err(reason) => RunResult::failed(reason),
            }
        }
        (result, _) => result,
    };
    tracker.clear(&ctx);
    let summary = log.finish();
    let held = ctx.mount.troubled_since(&ctx, epoch);
    let result = match result {
        RunResult::Failed { reason, .. } if held => {
            ctx.notice(format!(
                "{}: {reason}, but the queue's mount was lost meanwhile: requeued, no attempt counted",
                claimed.qualified()
            ));
            RunResult::Stopped
        }
        other => other,
    };
    if held && !ctx.mount.hold_until_back(&ctx, &claimed, &control).await {
        return;
    }
    // Only the file that was validated and run moves on; a swapped-in symlink never does.
    let result = match claimed_now(&path, validated) {
        Claimed::Symlink => {
            drop_symlink(&ctx, &claimed, &path);
            return;
        }
        Claimed::Replaced => RunResult::Failed {
            reason: REPLACED.into(),
            hopeless: false,
        },
        Claimed::Same | Claimed::Gone => result,
    };
    let (to, outcome) = match result {
        RunResult::Success => {
            if has_record {
                ctx.queue.clear_record(&claimed);
            }
            lock(&ctx.held).remove(&id);
            (State::Success, Outcome::Success)
        }
        RunResult::Stopped | RunResult::Cancelled(Cancel::Requeue) => {
            (State::Pending, Outcome::Requeued)
        }
        RunResult::Cancelled(Cancel::Fail) => {
            let reason = "cancelled".to_string();
            log.note(&reason);
            if let Err(err) = ctx
                .queue
                .count_failure(&claimed, reason.clone(), 0, |_| None)
            {
                ctx.notice(format!("{}: {err}", claimed.qualified()));
            }
            let outcome = Outcome::Failed {
                reason,
                final_: true,
            };
            (State::Failed, outcome)
        }
        RunResult::Failed {
            mut reason,
            hopeless,
        } => {
            if summary.dropped > 0 {
                reason.push_str(&format!(
                    "; output cap hit ({} of {} bytes left out of the log)",
                    summary.dropped, summary.total
                ));
            }
            log.note(&reason);
            let attempts = count_failure(&ctx, &claimed, id, &reason, hopeless);
            let final_ = hopeless || attempts >= ctx.config.max_attempts;
            let to = if final_ {
                State::Failed
            } else {
                ctx.delayed_added.fetch_add(1, Ordering::Relaxed);
                State::Delayed
            };
            (to, Outcome::Failed { reason, final_ })
        }
    };
    match &outcome {
        Outcome::Success => ctx.breaker.success(),
        Outcome::Failed { reason, .. } if reason != "cancelled" => {
            ctx.breaker.failure(&ctx, id, &display, reason)
        }
        _ => {}
    }
    let moved = finish_move(&ctx, &claimed, to, outcome.clone());
    if control.cancelled().is_some() {
        for request in [Request::Cancel, Request::Fail] {
            let _ = std::fs::remove_file(ctx.queue.request_path(id, request));
        }
    }
    if let Some(moved) = moved {
        run_hook(&ctx, &moved, &outcome);
    }
}

/// Counts a failed run in the item's record and returns its attempts so far. A record that
/// cannot be written (a full disk) is held in memory instead, so that the retry still waits its
/// backoff and `max_attempts` still bounds the runs; the next write that works catches up.
fn count_failure(ctx: &Ctx, claimed: &Item, id: ItemId, reason: &str, hopeless: bool) -> u32 {
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
fn finish_move(ctx: &Ctx, claimed: &Item, to: State, outcome: Outcome) -> Option<Item> {
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
pub fn backoff(retry_delay: Duration, max: Duration, attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(30);
    let wait = retry_delay.saturating_mul(1 << doublings).min(max);
    let mut random = [0u8; 4];
    let _ = rustix::rand::getrandom(&mut random, rustix::rand::GetRandomFlags::empty());
    let quarter = f64::from(u32::from_ne_bytes(random)) / f64::from(u32::MAX) / 4.0;
    wait.mul_f64(1.0 - quarter)
}

fn timed_out(timeout: Duration) -> String {
    let secs = timeout.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("timed out after {secs}s")
    } else {
        format!("timed out after {}ms", timeout.as_millis())
    }
}

/// Opens the claimed file without following a symlink and checks it is a regular file; gives
/// its size and its device and inode numbers.
/// `Err(None)`: it is gone. `Err(Some(reason))`: it can never be processed.
fn open_item(path: &Path) -> Result<(File, u64, FileIdentity), Option<String>> {
    use rustix::fs::{Mode, OFlags};
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
    let fd = match rustix::fs::open(path, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(rustix::io::Errno::NOENT) => return Err(None),
        Err(rustix::io::Errno::LOOP) => return Err(Some("a symbolic link, never followed".into())),
        Err(err) => return Err(Some(format!("cannot open it: {err}"))),
    };
    let file = File::from(fd);
    let meta = file
        .metadata()
        .map_err(|err| Some(format!("cannot read it: {err}")))?;
    if meta.is_dir() {
        return Err(Some("a folder, not a file".into()));
    }
    if !meta.is_file() {
        return Err(Some("not a regular file (FIFO, socket or device)".into()));
    }
    Ok((file, meta.len(), FileIdentity::of(&meta)))
}

async fn run_builtin(
    ctx: &Arc<Ctx>,
    control: &Control,
    tracker: &mut Tracker,
    input: File,
    size: u64,
    display: &OsString,
) -> RunResult {
    let Some(processor) = ctx.config.processor else {
        return RunResult::failed("no command and no processor configured".into());
    };
    let targets = match processor {
        crate::queue::Processor::Copy => ctx
            .config
            .destinations
            .iter()
            .map(|dir| ctx.queue.root().join(dir))
            .collect(),
        crate::queue::Processor::Gzip => vec![ctx.out_dir.clone()],
    };
    let shared = Arc::new(builtin::Shared::default());
    let task = builtin::Task {
        processor,
        input,
        size,
        name: display.clone(),
        targets,
        throttle: ctx.config.throttle,
        on_conflict: ctx.on_conflict,
        shared: shared.clone(),
    };
    let total = task.total();
    let mut handle = tokio::task::spawn_blocking(move || task.run());
    let timeout = ctx.config.timeout;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut ticks = tokio::time::interval(Duration::from_millis(250));
    let mut parser = super::progress::OutputParser::default();
    let mut cause = None;
    loop {
        tokio::select! {
            joined = &mut handle => {
                return match (cause, joined) {
                    (Some(cause), _) => cause,
                    (None, Ok(Ok(()))) => RunResult::Success,
                    (None, Ok(Err(reason))) => RunResult::failed(reason),
                    (None, Err(err)) => RunResult::failed(format!("the processor crashed: {err}")),
                };
            }
            _ = tokio::time::sleep_until(deadline), if !timeout.is_zero() && cause.is_none() => {
                shared.cancel.store(true, Ordering::Relaxed);
                cause = Some(RunResult::failed(timed_out(timeout)));
            }
            _ = control.stopped(), if cause.is_none() => {
                shared.cancel.store(true, Ordering::Relaxed);
                cause = Some(match control.cancelled() {
                    Some(how) => RunResult::Cancelled(how),
                    None => RunResult::Stopped,
                });
            }
            _ = ticks.tick() => {
                tracker.set_bytes(shared.done.load(Ordering::Relaxed), total);
                tracker.update(ctx, &mut parser);
            }
        }
    }
}

/// Starts `on_success` / `on_failure` (the latter once an item has failed for good) in the
/// background (see `hooks`).
fn run_hook(ctx: &Ctx, moved: &Item, outcome: &Outcome) {
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
