//! Running a job's work: the command, with the claimed file handed to it and its exit status
//! told in words, or the built-in processor on a blocking thread; then the `verify` check. Each
//! ends in a `RunResult`; nothing here moves the item.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::RunResult;
use crate::queue::format_duration;
use crate::worker::builtin;
use crate::worker::command::{Vars, expand, uses};
use crate::worker::ctx::{Control, Ctx};
use crate::worker::handoff::Handoff;
use crate::worker::hooks;
use crate::worker::log::CappedLog;
use crate::worker::process::{Ended, Run, describe_failure, run_command};
use crate::worker::tracker::Tracker;

/// The claimed file as the command gets it.
pub struct Input<'a> {
    pub file: &'a File,
    pub vars: Vars<'a>,
    /// The name of the link that hands the file over (see `handoff`): the name as the file
    /// name carries it, short enough for a link.
    pub link_name: &'a OsStr,
    /// Names the job's private files.
    pub seq: u64,
}

/// Runs the command `template` on the claimed file.
pub async fn command(
    ctx: &Ctx,
    control: &Control,
    template: &[String],
    input: Input<'_>,
    log: &mut CappedLog,
    tracker: &mut Tracker,
) -> RunResult {
    let progress_file = ctx
        .queue
        .meta_path("progress")
        .join(format!(".run-{}-{}", ctx.worker.0, input.seq));
    if uses(template, "out") {
        let _ = std::fs::create_dir_all(&ctx.out_dir);
    }
    // Only a command that names `{input}` reads the file by path: the handoff's private link
    // costs a folder and a link per job, a third of the worker's own work on tiny jobs.
    let handoff = uses(template, "input").then(|| {
        let claim_dir = input.vars.input.parent().unwrap_or(Path::new("."));
        Handoff::new(input.file, claim_dir, input.seq, input.link_name)
    });
    let run_vars = Vars {
        input: handoff.as_ref().map_or(input.vars.input, |h| &h.input),
        ..input.vars
    };
    let argv = expand(template, &run_vars);
    let run = Run {
        ctx,
        control,
        log,
        tracker,
        progress_file: &progress_file,
        inherit: handoff.as_ref().map(Handoff::inherit),
    };
    let ended = run_command(&argv, run).await;
    drop(handoff);
    let _ = std::fs::remove_file(&progress_file);
    result_of(ctx, ended)
}

/// How the command's end reads as a result.
fn result_of(ctx: &Ctx, ended: Ended) -> RunResult {
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

/// A successful run is checked by `verify`, when one is configured: a failed check fails it.
pub async fn verify(ctx: &Ctx, control: &Control, vars: &Vars<'_>, result: RunResult) -> RunResult {
    let (RunResult::Success, Some(template)) = (&result, &ctx.config.verify) else {
        return result;
    };
    match hooks::verify(ctx, &expand(template, vars), control).await {
        Ok(true) => RunResult::Success,
        Ok(false) => match control.cancelled() {
            Some(how) => RunResult::Cancelled(how),
            None => RunResult::Stopped,
        },
        Err(reason) => RunResult::failed(reason),
    }
}

fn timed_out(timeout: Duration) -> String {
    let secs = timeout.as_secs_f64();
    if secs.fract() == 0.0 {
        format!("timed out after {secs}s")
    } else {
        format!("timed out after {}ms", timeout.as_millis())
    }
}

pub async fn builtin(
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
    let mut parser = crate::worker::progress::OutputParser::default();
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
