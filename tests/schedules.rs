//! A schedule's window closing while a job runs, with `outside_schedule = "freeze"`: the job's
//! group is stopped where it is and goes on when the next window opens. The worker runs on a
//! clock libfaketime moves (its offset is read from a file the test replaces), so the test sets
//! the time of day it needs instead of waiting for it.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;

/// libfaketime's preload library, where the faketime package put it.
fn libfaketime() -> Option<PathBuf> {
    let lib = fs::read_dir("/usr/lib").ok()?.flatten().find_map(|arch| {
        let path = arch.path().join("faketime/libfaketime.so.1");
        path.exists().then_some(path)
    });
    lib.or_else(|| {
        let path = PathBuf::from("/usr/lib/faketime/libfaketime.so.1");
        path.exists().then_some(path)
    })
}

/// `fsq work ROOT -- COMMAND...` on a clock `offset_file` moves (in UTC).
fn worker_on_fake_clock(lib: &Path, offset_file: &Path, root: &Path, command: &[&str]) -> Child {
    fsq()
        .arg("work")
        .arg(root)
        .arg("--")
        .args(command)
        .env("LD_PRELOAD", lib)
        .env("FAKETIME_TIMESTAMP_FILE", offset_file)
        .env("FAKETIME_NO_CACHE", "1")
        .env("TZ", "UTC")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// The process state letter from /proc/PID/stat (`S`, `T`, ...).
fn state_of(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

#[test]
fn a_window_closing_mid_job_freezes_it_and_the_next_window_thaws_it() {
    let Some(lib) = libfaketime() else {
        eprintln!("libfaketime is not installed; skipped");
        return;
    };
    // The fake clock runs on a day after today (so the item's mtime, an hour ago, is in its
    // past), set by the offset in the file: 10:00:10 to start, inside the first window.
    let real_now = || {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let day = (real_now() / 86_400 + 1) * 86_400;
    let clock_dir = tempfile::tempdir().unwrap();
    let offset_file = clock_dir.path().join("offset");
    // Replaced whole by a rename: libfaketime reads the file at every clock call.
    let set_clock = |hh: i64, mm: i64, ss: i64| {
        let offset = day + hh * 3600 + mm * 60 + ss - real_now();
        let next = clock_dir.path().join("offset.next");
        fs::write(&next, format!("+{offset}s\n")).unwrap();
        fs::rename(next, &offset_file).unwrap();
    };
    set_clock(10, 0, 10);
    let config = "schedule = [\"10:00-10:01\", \"10:02-10:03\"]\noutside_schedule = \"freeze\"";
    let (dir, root) = queue(&["a"], config);
    let pid_file = dir.path().join("pid");
    let script = format!("echo $$ > '{}'; exec sleep 300", pid_file.display());
    let worker = worker_on_fake_clock(&lib, &offset_file, &root, &["sh", "-c", &script]);
    let job = wait_for(20, "the job to start inside the first window", || {
        pids(&pid_file).first().copied()
    });
    assert_eq!(claimed(&root), ["a"]);
    // Two seconds before the window closes.
    set_clock(10, 0, 58);
    wait_for(20, "the window to close and the job to be frozen", || {
        (state_of(job) == Some('T')).then_some(())
    });
    // The second window.
    set_clock(10, 2, 5);
    wait_for(20, "the next window to thaw the job", || {
        matches!(state_of(job), Some('S' | 'R')).then_some(())
    });
    assert_eq!(claimed(&root), ["a"]);
    stop_worker(worker);
    assert_eq!(ls_json(&root, "pending")[0]["name"], "a");
}
