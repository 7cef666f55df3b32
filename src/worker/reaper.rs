//! Nothing a job starts outlives it. The worker is a child subreaper (`PR_SET_CHILD_SUBREAPER`):
//! a job's background children and `setsid` daemons whose parent exits are adopted by the
//! worker instead of init, so it can still find, kill and reap them.
//!
//! A descendant belongs to the job whose process group it is in, or whose
//! `FSQ_PROGRESS_FILE=<path>` it carries in its environment (every descendant inherits it unless
//! it clears its environment): when a job or hook ends (exit, timeout or stop), its group is
//! killed, then every process the worker adopted that carries its variable. Adopted processes
//! that exit on their own are reaped whenever the worker sweeps (at each job's end and each
//! heartbeat); when the engine stops, whatever it adopted and still runs is killed and reaped.
//! A descendant that both leaves the job's group and clears its environment is found only then.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, WaitOptions};

/// Makes this process the reaper of its descendants' orphans; where the kernel cannot (before
/// 3.4), orphans go to init as before.
pub fn become_subreaper() {
    let _ = rustix::process::set_child_subreaper(Some(rustix::process::getpid()));
}

/// What the sweep does with an adopted process that still runs.
pub enum Leftovers<'a> {
    /// Kill those carrying this `FSQ_PROGRESS_FILE` path or in this group (a job that ended).
    Of { group: Pid, progress_file: &'a Path },
    /// Kill them all (the engine stops).
    All,
    /// Kill none; only reap those that exited.
    None,
}

/// Kills the group of an ended job or hook and what it left adopted by us, and reaps them.
pub fn end_job(group: Pid, progress_file: &Path) {
    let _ = rustix::process::kill_process_group(group, Signal::KILL);
    sweep(Leftovers::Of {
        group,
        progress_file,
    });
}

/// Kills the adopted processes `which` names and reaps every adopted process that has exited.
pub fn sweep(which: Leftovers<'_>) {
    let marker = match &which {
        Leftovers::Of { progress_file, .. } => {
            let mut marker = super::spawn::PROGRESS_VAR.as_bytes().to_vec();
            marker.push(b'=');
            marker.extend_from_slice(progress_file.as_os_str().as_bytes());
            Some(marker)
        }
        _ => None,
    };
    let mut killed = Vec::new();
    for pid in adopted() {
        let Some((state, pgrp)) = stat(pid) else {
            continue;
        };
        if state == 'Z' {
            reap(pid);
            continue;
        }
        let leftover = match &which {
            Leftovers::All => true,
            Leftovers::None => false,
            Leftovers::Of { group, .. } => {
                pgrp == group.as_raw_nonzero().get()
                    || marker.as_deref().is_some_and(|marker| carries(pid, marker))
            }
        };
        if leftover && rustix::process::kill_process(pid, Signal::KILL).is_ok() {
            killed.push(pid);
        }
    }
    // SIGKILL takes a moment; what is still not dead is reaped by a later sweep.
    let deadline = Instant::now() + Duration::from_millis(50);
    while !killed.is_empty() && Instant::now() < deadline {
        killed.retain(|pid| !reap(*pid));
        if !killed.is_empty() {
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

/// The processes this process adopted: the children of its main thread, which never starts a
/// command itself (the engine starts them from its own thread, and waits for those).
fn adopted() -> Vec<Pid> {
    let me = rustix::process::getpid().as_raw_nonzero();
    let Ok(list) = std::fs::read_to_string(format!("/proc/self/task/{me}/children")) else {
        return Vec::new();
    };
    list.split_ascii_whitespace()
        .filter_map(|pid| Pid::from_raw(pid.parse().ok()?))
        .collect()
}

/// The state letter and process group of `pid`.
fn stat(pid: Pid) -> Option<(char, i32)> {
    let stat = std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw_nonzero())).ok()?;
    let mut fields = stat.rsplit_once(')')?.1.split_ascii_whitespace();
    let state = fields.next()?.chars().next()?;
    let pgrp = fields.nth(1)?.parse().ok()?;
    Some((state, pgrp))
}

/// Whether `pid`'s environment holds exactly the variable `marker` (`NAME=value`).
fn carries(pid: Pid, marker: &[u8]) -> bool {
    std::fs::read(format!("/proc/{}/environ", pid.as_raw_nonzero()))
        .is_ok_and(|environ| environ.split(|b| *b == 0).any(|var| var == marker))
}

/// Reaps `pid` if it has exited; whether it is gone.
fn reap(pid: Pid) -> bool {
    !matches!(
        rustix::process::waitpid(Some(pid), WaitOptions::NOHANG),
        Ok(None)
    )
}
