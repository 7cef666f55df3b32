//! Jobs left running by a worker that died (kill -9, OOM): their process groups outlive it, and
//! once its claims are recovered the same item could run twice at once. Every job carries
//! `FSQ_PROGRESS_FILE=<queue>/_meta/progress/.run-<worker-id>-<n>` in its environment, which
//! names the worker that started it; a worker on the same host finds such jobs of dead workers
//! in `/proc` and kills their process groups. Jobs on other hosts are out of reach: there,
//! processing stays at-least-once.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use rustix::process::{Pid, Signal};

use super::spawn::PROGRESS_VAR;

/// Kills the process groups of jobs started by dead workers of this host on `queue`. Returns
/// how many groups were killed.
pub fn kill_orphaned_jobs(queue: &Path, this_host: &str) -> usize {
    let mut marker = [PROGRESS_VAR.as_bytes(), b"="].concat();
    marker.extend_from_slice(queue.join("_meta/progress/.run-").as_os_str().as_bytes());
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return 0;
    };
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
        if !started_by_a_dead_local_worker(OsStr::from_bytes(run), this_host) {
            continue;
        }
        let Some(pid) = Pid::from_raw(pid) else {
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

/// `run` is `<host>-<pid>-<start>-<n>`: whether that worker ran here and its pid is gone.
fn started_by_a_dead_local_worker(run: &OsStr, this_host: &str) -> bool {
    let Some(run) = run.to_str() else {
        return false;
    };
    let mut fields = run.rsplitn(4, '-');
    let (Some(_seq), Some(_start), Some(pid), Some(host)) =
        (fields.next(), fields.next(), fields.next(), fields.next())
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

    #[test]
    fn only_dead_workers_of_this_host_count() {
        let me = std::process::id();
        assert!(!started_by_a_dead_local_worker(
            OsStr::new(&format!("vm-{me}-1-0")),
            "vm"
        ));
        assert!(started_by_a_dead_local_worker(
            OsStr::new("vm-999999999-1-0"),
            "vm"
        ));
        assert!(!started_by_a_dead_local_worker(
            OsStr::new("other-999999999-1-0"),
            "vm"
        ));
        assert!(started_by_a_dead_local_worker(
            OsStr::new("my-host-999999999-1-7"),
            "my-host"
        ));
        assert!(!started_by_a_dead_local_worker(OsStr::new("garbage"), "vm"));
    }
}
