//! `on_success` / `on_failure`: commands run after an item reaches `success/` (or `failed/` for
//! good), in the background so they never hold a slot. Their output is read and discarded (a
//! hook that prints never blocks or dies of SIGPIPE); one still running after `hook_timeout` is
//! killed with its whole process group and whatever it left (see `reaper`), and every hook is
//! reaped.

use std::sync::Arc;

use tokio::io::AsyncReadExt;

use super::Outcome;
use super::command::{Vars, expand};
use super::ctx::Ctx;
use crate::queue::Item;

/// Starts the hook for `outcome`, if the config names one; `seq` is the job's number.
pub fn run_hook(ctx: &Arc<Ctx>, moved: &Item, outcome: &Outcome, seq: u64) {
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
    };
    let argv = expand(template, &vars);
    let Some(program) = argv.first() else {
        return;
    };
    let path = super::process::resolve_program(program)
        .unwrap_or_else(|| std::path::PathBuf::from(program));
    // Names the hook's processes (see `reaper`); the file itself is never created.
    let marker = ctx
        .queue
        .meta_path("progress")
        .join(format!(".hook-{}-{seq}", ctx.worker.0));
    let mut child = match ctx.launcher.spawn(&path, &argv, &marker, None) {
        Ok(child) => child,
        Err(err) => {
            ctx.notice(format!(
                "hook {} could not start: {err}",
                program.to_string_lossy()
            ));
            return;
        }
    };
    let ctx = ctx.clone();
    let program = program.to_string_lossy().into_owned();
    tokio::spawn(async move {
        let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
        let limit = if ctx.config.hook_timeout.is_zero() {
            std::time::Duration::MAX
        } else {
            ctx.config.hook_timeout
        };
        let run = async {
            let _ = tokio::join!(discard(&mut out), discard(&mut err), child.wait());
        };
        if tokio::time::timeout(limit, run).await.is_err() {
            ctx.notice(format!("hook {program} still ran after {limit:?}: killed"));
        }
        super::reaper::end_job(child.pid(), &marker);
        let _ = child.wait().await;
    });
}

/// Reads a pipe to its end, keeping nothing.
async fn discard(pipe: &mut Option<tokio::net::unix::pipe::Receiver>) {
    let mut sink = [0; 4096];
    if let Some(pipe) = pipe {
        while pipe.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    }
}
