//! Commands run beside the jobs: the event hooks (`on_success`, `on_failure`, `on_drained`,
//! `on_worker_down`) and `verify`. None is passed through a shell; each runs in a process group
//! of its own, gets a time limit after which the whole group is killed, and is reaped, so a hook
//! that hangs never piles up.

use std::ffi::{OsStr, OsString};
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::command::{Vars, expand};
use super::control::Control;
use super::ctx::Ctx;

/// The longest a hook may run before its group is killed.
pub const HOOK_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts `argv` in the background with its output discarded; it never holds a slot.
pub fn spawn_hook(ctx: &Ctx, argv: Vec<OsString>) {
    let Some((program, args)) = argv.split_first() else {
        return;
    };
    let mut command = tokio::process::Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    match command.spawn() {
        Ok(mut child) => {
            let group = child.id();
            tokio::spawn(async move {
                if tokio::time::timeout(HOOK_TIMEOUT, child.wait())
                    .await
                    .is_err()
                {
                    kill_group(group);
                    let _ = child.wait().await;
                }
            });
        }
        Err(err) => ctx.notice(format!(
            "hook {} could not start: {err}",
            program.to_string_lossy()
        )),
    }
}

/// Runs the `verify` command of an item whose command succeeded. `Err` is the failure reason:
/// `verify failed: <its last stderr line>` (or its exit status when it printed nothing). It gets
/// the job's timeout (or `HOOK_TIMEOUT` when there is none) and is killed with its group when the
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
    let limit = match ctx.config.timeout {
        timeout if timeout.is_zero() => HOOK_TIMEOUT,
        timeout => timeout,
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
