//! Commands run beside the jobs: the event hooks (`on_success`, `on_failure`, `on_drained`,
//! `on_worker_down`) and `verify`. None is passed through a shell; each runs in a process group
//! of its own, gets a time limit after which the whole group is killed, and is reaped, so a hook
//! that hangs never piles up.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::command::{Vars, expand};
use super::control::Control;
use super::ctx::Ctx;

/// Starts `argv` in the background; it never holds a slot. Its output is read and discarded
/// (a hook that prints never blocks, nor dies of SIGPIPE); after `hook_timeout` (0: never) it is
/// killed, and whichever way it ends, its group and what it left are killed and reaped (see
/// `reaper`).
pub fn spawn_hook(ctx: &Ctx, argv: Vec<OsString>) {
    static HOOKS: AtomicU64 = AtomicU64::new(0);
    let Some(program) = argv.first() else {
        return;
    };
    let path = super::process::resolve_program(program).unwrap_or_else(|| PathBuf::from(program));
    // Names the hook's processes (see `reaper`); the file itself is never created.
    let n = HOOKS.fetch_add(1, Ordering::Relaxed);
    let marker = ctx
        .queue
        .meta_path("progress")
        .join(format!(".hook-{}-{n}", ctx.worker.0));
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
    let limit = match ctx.config.hook_timeout {
        limit if limit.is_zero() => Duration::MAX,
        limit => limit,
    };
    let task = tokio::spawn(async move {
        let (mut out, mut err) = (child.stdout.take(), child.stderr.take());
        let run = async {
            let _ = tokio::join!(discard(&mut out), discard(&mut err), child.wait());
        };
        let _ = tokio::time::timeout(limit, run).await;
        super::reaper::end_job(child.pid(), &marker);
        let _ = child.wait().await;
    });
    let mut hooks = super::ctx::lock(&ctx.hooks);
    hooks.retain(|hook| !hook.is_finished());
    hooks.push(task);
}

/// Waits for the hooks still running (each ends within `hook_timeout`; with no timeout, at
/// most `grace`), before the engine stops.
pub async fn wait_for_hooks(ctx: &Ctx) {
    let hooks = std::mem::take(&mut *super::ctx::lock(&ctx.hooks));
    let limit = match ctx.config.hook_timeout {
        limit if limit.is_zero() => ctx.config.grace,
        limit => limit + Duration::from_secs(1),
    };
    let _ = tokio::time::timeout(limit, async {
        for hook in hooks {
            let _ = hook.await;
        }
    })
    .await;
}

/// Reads a pipe to its end, keeping nothing.
async fn discard(pipe: &mut Option<tokio::net::unix::pipe::Receiver>) {
    let mut sink = [0; 4096];
    if let Some(pipe) = pipe {
        while pipe.read(&mut sink).await.is_ok_and(|n| n > 0) {}
    }
}

/// Runs the `verify` command of an item whose command succeeded. `Err` is the failure reason:
/// `verify failed: <its last stderr line>` (or its exit status when it printed nothing). It gets
/// the job's timeout (or `hook_timeout` when there is none) and is killed with its group when the
/// job is stopped or cancelled; `Ok(false)` says it was.
pub async fn verify(ctx: &Ctx, argv: &[OsString], control: &Control) -> Result<bool, String> {
    let Some((program, args)) = argv.split_first() else {
        return Err("verify failed: the verify command is empty".into());
    };
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|err| {
            format!(
                "verify failed: cannot run {}: {err}",
                program.to_string_lossy()
            )
        })?;
    let group = child.id();
    let mut stderr = child.stderr.take();
    let limit = match (ctx.config.timeout, ctx.config.hook_timeout) {
        (timeout, hook) if timeout.is_zero() && hook.is_zero() => Duration::MAX,
        (timeout, hook) if timeout.is_zero() => hook,
        (timeout, _) => timeout,
    };
    let mut text = Vec::new();
    let read_all = async {
        if let Some(pipe) = stderr.as_mut() {
            let _ = pipe.read_to_end(&mut text).await;
        }
        child.wait().await
    };
    let status = tokio::select! {
        status = read_all => status,
        _ = tokio::time::sleep(limit) => {
            kill_group(group);
            return Err(format!("verify failed: timed out after {}", crate::queue::format_duration(limit)));
        }
        _ = control.stopped() => {
            kill_group(group);
            return Ok(false);
        }
    };
    match status {
        Ok(status) if status.success() => Ok(true),
        Ok(status) => {
            let text = String::from_utf8_lossy(&text);
            let line = text.lines().rev().find(|l| !l.trim().is_empty());
            let said = match line {
                Some(line) => line.trim().to_string(),
                None => super::process::describe_failure(status).unwrap_or_default(),
            };
            Err(format!("verify failed: {said}"))
        }
        Err(err) => Err(format!("verify failed: lost track of it: {err}")),
    }
}

fn kill_group(group: Option<u32>) {
    if let Some(pid) = group.and_then(|id| rustix::process::Pid::from_raw(id as i32)) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}

/// Starts a queue event's hook (`on_drained`, `on_worker_down`) with `{queue}`, `{host}`,
/// `{worker}` and `{count}` filled in.
pub fn spawn_event_hook(ctx: &Ctx, template: &[String], host: &str, worker: &str, count: usize) {
    let count = count.to_string();
    let extra = [
        ("host", host),
        ("worker", worker),
        ("count", count.as_str()),
    ];
    let vars = Vars {
        input: Path::new(""),
        name: OsStr::new(""),
        out: &ctx.out_dir,
        queue: ctx.queue.root(),
        reason: None,
        extra: &extra,
    };
    spawn_hook(ctx, expand(template, &vars));
}
