//! Jobs left running by a worker that died (kill -9, OOM): their process groups outlive it, and
//! once its claims are recovered the same item could run twice at once. Every job carries
//! `FSQ_PROGRESS_FILE=<queue>/_meta/progress/.run-<worker-id>-<n>` in its environment, which
//! names the worker that started it; a worker on the same host finds such jobs of dead workers
//! in `/proc` and kills their process groups. Jobs on other hosts are out of reach: there,
//! processing stays at-least-once.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::Duration;

use rustix::process::{Pid, Signal};

use super::spawn::PROGRESS_VAR;
use crate::queue::{Queue, WorkerHealth, WorkerId, this_host};

/// Kills the jobs of every worker the queue judges down (no heartbeat for `timeout`, or its
/// process gone from this host) before their claims are returned, so that no item runs twice
/// at once. `me` is never judged: a worker that cannot write its heartbeat is still alive.
/// Returns how many process groups were killed.
pub fn stop_jobs_of_dead_workers(queue: &Queue, timeout: Duration, me: Option<&WorkerId>) -> usize {
    let dead: Vec<String> = queue
        .workers(timeout)
        .unwrap_or_default()
        .into_iter()
        .filter(|w| w.health != WorkerHealth::Alive)
        .map(|w| w.heartbeat.id)
        .filter(|id| me.is_none_or(|me| me.0 != *id))
        .collect();
    kill_orphaned_jobs(queue.root(), &dead)
}

/// Kills the process groups of jobs on `queue` started by a worker in `dead`, or by a worker of
/// this host and pid namespace whose pid is gone. Returns how many groups were killed.
pub fn kill_orphaned_jobs(queue: &Path, dead: &[String]) -> usize {
    let mut marker = [PROGRESS_VAR.as_bytes(), b"="].concat();
    marker.extend_from_slice(queue.join("_meta/progress/.run-").as_os_str().as_bytes());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
    let our_pid_ns = pid_namespace("/proc/self");
    let host = this_host();
    let mut killed = Vec::new();
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(environ) = std::fs::read(entry.path().join("environ")) else {
            continue;
        };
        let Some(run) = environ
            .split(|b| *b == 0)
            .find_map(|var| var.strip_prefix(marker.as_slice()))
        else {
            continue;
        };
        let Some(worker) = worker_of_run(OsStr::from_bytes(run)) else {
            continue;
        };
        // A pid means something only in the namespace it was taken in.
        let same_pid_space = our_pid_ns.is_some() && pid_namespace(entry.path()) == our_pid_ns;
        let orphaned = dead.iter().any(|id| id == worker)
            || (same_pid_space && local_worker_is_gone(worker, &host));
        let Some(pid) = Pid::from_raw(pid).filter(|_| orphaned) else {
            continue;
        };
        if let Ok(group) = rustix::process::getpgid(Some(pid))
            && !killed.contains(&group)
            && rustix::process::kill_process_group(group, Signal::KILL).is_ok()
        {
            killed.push(group);
        }
    }
    killed.len()
}

/// The pid namespace (its inode) of the process at `/proc/<pid>`.
fn pid_namespace(proc_dir: impl AsRef<Path>) -> Option<u64> {
    std::fs::metadata(proc_dir.as_ref().join("ns/pid"))
        .ok()
        .map(|m| m.ino())
}

/// `run` is `<worker-id>-<n>`: the worker id.
fn worker_of_run(run: &OsStr) -> Option<&str> {
    Some(run.to_str()?.rsplit_once('-')?.0)
}

/// `worker` is `<host>-<pid>-<start>`: whether that worker ran on `this_host` and its pid is
/// gone (the caller has made sure the pid is of this pid namespace).
fn local_worker_is_gone(worker: &str, this_host: &str) -> bool {
    let mut fields = worker.rsplitn(3, '-');
    let (Some(_start), Some(pid), Some(host)) = (fields.next(), fields.next(), fields.next())
    else {
        return false;
    };
    let Some(pid) = pid.parse::<i32>().ok().and_then(Pid::from_raw) else {
        return false;
    };
    host == this_host && rustix::process::test_kill_process(pid) == Err(rustix::io::Errno::SRCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gone(run: &str, host: &str) -> bool {
        worker_of_run(OsStr::new(run)).is_some_and(|w| local_worker_is_gone(w, host))
    }

    #[test]
    fn only_dead_workers_of_this_host_count() {
        let me = std::process::id();
        assert!(!gone(&format!("vm-{me}-1-0"), "vm"));
        assert!(gone("vm-999999999-1-0", "vm"));
        assert!(!gone("other-999999999-1-0", "vm"));
        assert!(gone("my-host-999999999-1-7", "my-host"));
        assert!(!gone("garbage", "vm"));
        assert_eq!(
            worker_of_run(OsStr::new("my-host-5-1-7")),
            Some("my-host-5-1")
        );
    }
}
