//! One item from claim to its next state: open and validate the claimed file, run the command
//! or built-in (`run`), keep the log and progress, then move the item to success/, delayed/ or
//! failed/ (or back to pending when the engine stops) and run the hooks (`finish`). Whatever
//! happens to the file meanwhile (moved or deleted by hand) is reported, never fatal.

mod finish;
mod run;

use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::claim::Claim;
use super::command::Vars;
use super::control::Cancel;
use super::ctx::{Control, Ctx, lock};
use super::handoff::{Claimed, REPLACED, claimed_now, drop_symlink, is_symlink};
use super::log::{CappedLog, LogSummary};
use super::tracker::Tracker;
use super::{EngineEvent, Outcome};
use crate::queue::{FileIdentity, Item, ItemId, ItemRecord, Request, State, printable};
use finish::{count_failure, finish_move, run_hook};

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

/// What a job knows of itself from its claim to its end.
struct Job<'a> {
    ctx: &'a Arc<Ctx>,
    control: &'a Control,
    claimed: Item,
    id: ItemId,
    log_path: PathBuf,
    /// Whether the item may have a record from an earlier run (see `Claim`).
    ran_before: bool,
    path: PathBuf,
    /// The item's whole name, for `{name}`, the log and the breaker.
    display: OsString,
    /// Unique within the engine: names the job's private files.
    seq: u64,
    /// The mount's epoch at the start: a loss since then holds the item.
    epoch: u64,
}

/// The claimed file, opened and checked.
struct Opened {
    file: File,
    size: u64,
    identity: FileIdentity,
}

/// Runs a claimed item to its end; `seq` is unique within the engine.
pub async fn run_job(ctx: Arc<Ctx>, claim: Claim, control: Arc<Control>, seq: u64) {
    let Some(job) = Job::new(&ctx, claim, &control, seq) else {
        return;
    };
    let Some(opened) = job.open().await else {
        return;
    };
    (ctx.events)(EngineEvent::Started {
        item: job.claimed.clone(),
    });
    let identity = opened.identity;
    let mut log = job.log();
    let mut tracker = Tracker::new(job.claimed.clone());
    let result = job.work(opened, &mut log, &mut tracker).await;
    let result = run::verify(&ctx, &control, &job.vars(), result).await;
    tracker.clear(&ctx);
    let summary = log.finish();
    let Some(result) = job.settle(result, identity).await else {
        return;
    };
    let (to, outcome) = job.destination(result, &mut log, &summary);
    job.finish(to, outcome);
}

impl<'a> Job<'a> {
    fn new(ctx: &'a Arc<Ctx>, claim: Claim, control: &'a Control, seq: u64) -> Option<Job<'a>> {
        let Claim {
            item: claimed,
            ran_before,
        } = claim;
        let (Some(id), Some(log_path)) = (claimed.id(), ctx.queue.log_path(&claimed)) else {
            ctx.notice(format!("{}: claimed without an id", claimed.qualified()));
            return None;
        };
        Some(Job {
            path: ctx.queue.path_of(&claimed),
            display: ctx.queue.full_name(&claimed),
            epoch: ctx.mount.epoch(),
            ctx,
            control,
            claimed,
            id,
            log_path,
            ran_before,
            seq,
        })
    }

    fn vars(&self) -> Vars<'_> {
        Vars {
            input: &self.path,
            name: &self.display,
            out: &self.ctx.out_dir,
            queue: self.ctx.queue.root(),
            reason: None,
            extra: &[],
        }
    }

    /// Opens the claimed file. One that is gone is reported (or held, when the mount is lost);
    /// a symlink is dropped; one that can never be processed goes to failed/ with the reason.
    async fn open(&self) -> Option<Opened> {
        let (ctx, claimed) = (self.ctx, &self.claimed);
        let reason = match open_item(&self.path) {
            Ok(opened) => return Some(opened),
            Err(None) if ctx.mount.troubled_since(ctx, self.epoch) => {
                if ctx.mount.hold_until_back(ctx, claimed, self.control).await {
                    finish_move(ctx, claimed, State::Pending, Outcome::Requeued);
                }
                return None;
            }
            Err(None) => {
                ctx.notice(format!(
                    "{}: gone before it could start (moved or deleted by hand)",
                    claimed.qualified()
                ));
                return None;
            }
            Err(Some(_)) if is_symlink(&self.path) => {
                drop_symlink(ctx, claimed, &self.path);
                return None;
            }
            Err(Some(reason)) => reason,
        };
        let record = ItemRecord {
            reason: Some(reason.clone()),
            ..ctx.queue.record(claimed)
        };
        let _ = ctx.queue.write_record(claimed, &record);
        let outcome = Outcome::Failed {
            reason,
            final_: true,
        };
        finish_move(ctx, claimed, State::Failed, outcome);
        None
    }

    /// The run's log, headed with the attempt it is.
    fn log(&self) -> CappedLog {
        let ctx = self.ctx;
        let attempts = if self.ran_before {
            ctx.queue.record(&self.claimed).attempts
        } else {
            0
        };
        let held_attempts = lock(&ctx.held).get(&self.id).map_or(0, |r| r.attempts);
        let header = format!(
            "=== fsq: {}, attempt {}, worker {} ===\n",
            printable(&self.display),
            attempts.max(held_attempts) + 1,
            ctx.worker.0
        );
        CappedLog::new(self.log_path.clone(), header, ctx.config.log_cap)
    }

    /// Runs the command, or the built-in processor when there is none.
    async fn work(&self, opened: Opened, log: &mut CappedLog, tracker: &mut Tracker) -> RunResult {
        let (ctx, control) = (self.ctx, self.control);
        match &ctx.config.command {
            Some(template) => {
                let input = run::Input {
                    file: &opened.file,
                    vars: self.vars(),
                    link_name: self.claimed.display(),
                    seq: self.seq,
                };
                run::command(ctx, control, template, input, log, tracker).await
            }
            None => {
                let Opened { file, size, .. } = opened;
                run::builtin(ctx, control, tracker, file, size, &self.display).await
            }
        }
    }

    /// Whether the result still stands once the run is over. A failure while the mount was lost
    /// is no attempt, and the item waits for the mount (`None` if it never comes back). Only
    /// the file that was validated and run moves on: a swapped-in symlink is dropped (`None`),
    /// a replaced file fails.
    async fn settle(&self, result: RunResult, identity: FileIdentity) -> Option<RunResult> {
        let ctx = self.ctx;
        let held = ctx.mount.troubled_since(ctx, self.epoch);
        let result = match result {
            RunResult::Failed { reason, .. } if held => {
                ctx.notice(format!(
                    "{}: {reason}, but the queue's mount was lost meanwhile: requeued, no attempt counted",
                    self.claimed.qualified()
                ));
                RunResult::Stopped
            }
            other => other,
        };
        if held
            && !ctx
                .mount
                .hold_until_back(ctx, &self.claimed, self.control)
                .await
        {
            return None;
        }
        match claimed_now(&self.path, identity) {
            Claimed::Symlink => {
                drop_symlink(ctx, &self.claimed, &self.path);
                None
            }
            Claimed::Replaced => Some(RunResult::failed(REPLACED.into())),
            Claimed::Same | Claimed::Gone => Some(result),
        }
    }

    /// Where the item goes and how its run is told: success/ (its record cleared), back to
    /// the root, delayed/ to retry after its backoff, or failed/ for good. A failure is counted
    /// and noted in the log.
    fn destination(
        &self,
        result: RunResult,
        log: &mut CappedLog,
        summary: &LogSummary,
    ) -> (State, Outcome) {
        let (ctx, claimed) = (self.ctx, &self.claimed);
        match result {
            RunResult::Success => {
                if self.ran_before {
                    ctx.queue.clear_record(claimed);
                }
                lock(&ctx.held).remove(&self.id);
                (State::Success, Outcome::Success)
            }
            RunResult::Stopped | RunResult::Cancelled(Cancel::Requeue) => {
                (State::Pending, Outcome::Requeued)
            }
            RunResult::Cancelled(Cancel::Fail) => {
                let reason = "cancelled".to_string();
                log.note(&reason);
                count_failure(ctx, claimed, self.id, &reason, true);
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
                let attempts = count_failure(ctx, claimed, self.id, &reason, hopeless);
                let final_ = hopeless || attempts >= ctx.config.max_attempts;
                let to = if final_ {
                    State::Failed
                } else {
                    ctx.delayed_added.fetch_add(1, Ordering::Relaxed);
                    State::Delayed
                };
                (to, Outcome::Failed { reason, final_ })
            }
        }
    }

    /// Tells the host's breaker, moves the item, answers a cancel request, runs the hook.
    fn finish(&self, to: State, outcome: Outcome) {
        let ctx = self.ctx;
        match &outcome {
            Outcome::Success => ctx.breaker.success(),
            Outcome::Failed { reason, .. } if reason != "cancelled" => {
                ctx.breaker.failure(ctx, self.id, &self.display, reason)
            }
            _ => {}
        }
        let moved = finish_move(ctx, &self.claimed, to, outcome.clone());
        if self.control.cancelled().is_some() {
            for request in [Request::Cancel, Request::Fail] {
                let _ = std::fs::remove_file(ctx.queue.request_path(self.id, request));
            }
        }
        if let Some(moved) = moved {
            run_hook(ctx, &moved, &outcome);
        }
    }
}

/// Opens the claimed file without following a symlink and checks it is a regular file; gives
/// its size and its device and inode numbers.
/// `Err(None)`: it is gone. `Err(Some(reason))`: it can never be processed.
fn open_item(path: &Path) -> Result<Opened, Option<String>> {
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
    Ok(Opened {
        size: meta.len(),
        identity: FileIdentity::of(&meta),
        file,
    })
}
