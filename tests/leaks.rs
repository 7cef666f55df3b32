//! Nothing a job does outlives it or grows the worker without bound: background children and
//! daemons of a job, hooks that hang, a huge progress file, crash leftovers and old logs.

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;

use common::*;

fn worker(root: &Path, command: &[&str]) -> WorkerGuard {
    WorkerGuard(Some(quiet_worker(root, command)))
}

/// A field of `/proc/PID/status` in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with(field))
        .unwrap_or_else(|| panic!("no {field} in {status}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

#[test]
fn a_sparse_3gb_progress_file_does_not_grow_the_worker() {
    let (dir, root) = queue(&["render"], "");
    let gate = dir.path().join("gate");
    let script = format!(
        "truncate -s 3G \"$FSQ_PROGRESS_FILE\" && printf '0.5\\n' >> \"$FSQ_PROGRESS_FILE\"; \
         while [ ! -e '{}' ]; do sleep 0.05; done",
        gate.display()
    );
    let child = worker(&root, &["sh", "-c", &script]);
    wait_for(20, "the fraction from the end of the file", || {
        let bytes = fs::read(find_meta_of(&root, "progress", "render")?).ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        (value["fraction"] == 0.5).then_some(())
    });
    // Several reads of the file have happened by now (four a second, the fraction is there).
    let peak = status_kib(child.id(), "VmHWM:");
    fs::write(&gate, "").unwrap();
    wait_for(20, "the item to finish", || {
        (ls(&root.join("success")) == ["render"]).then_some(())
    });
    drop(child);
    assert!(peak < 200 * 1024, "the worker's peak RSS was {peak} KiB");
}

/// The pids a job wrote, one a line, once there are `n` of them.
fn pids(file: &Path, n: usize) -> Vec<u32> {
    wait_for(20, "the job's pids", || {
        let text = fs::read_to_string(file).ok()?;
        let pids: Vec<u32> = text.lines().filter_map(|l| l.trim().parse().ok()).collect();
        (pids.len() >= n).then_some(pids)
    })
}

/// Waits until `pid` is gone for good: killed and reaped (no zombie left either).
fn wait_gone(pid: u32, what: &str) {
    wait_for(20, what, || {
        (!Path::new(&format!("/proc/{pid}")).exists()).then_some(())
    });
}

#[test]
fn background_children_and_setsid_daemons_do_not_outlive_a_job_that_succeeded() {
    let (dir, root) = queue(&["job"], "");
    let file = dir.path().join("pids");
    let script = format!(
        "sleep 1000 & echo $! >> '{0}'; setsid sleep 1000 & echo $! >> '{0}'; exit 0",
        file.display()
    );
    let worker = worker(&root, &["sh", "-c", &script]);
    let pids = pids(&file, 2);
    wait_for(20, "the item to succeed", || {
        (ls(&root.join("success")) == ["job"]).then_some(())
    });
    wait_gone(pids[0], "the background child to be killed and reaped");
    wait_gone(pids[1], "the setsid daemon to be killed and reaped");
    drop(worker);
}

#[test]
fn a_setsid_daemon_does_not_survive_a_timeout() {
    let (dir, root) = queue(&["job"], "timeout = \"1s\"\nmax_attempts = 1");
    let file = dir.path().join("pids");
    let script = format!(
        "setsid sh -c 'echo $$ >> {0}; sleep 1000' & sleep 1000",
        file.display()
    );
    let worker = worker(&root, &["sh", "-c", &script]);
    let pids = pids(&file, 1);
    wait_for(20, "the item to time out", || {
        (ls(&root.join("failed")) == ["job"]).then_some(())
    });
    wait_gone(pids[0], "the daemon to be killed and reaped");
    drop(worker);
}

#[test]
fn a_hook_that_hangs_is_killed_after_hook_timeout() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("pids");
    let config = format!(
        "command = [\"true\"]\nhook_timeout = \"1s\"\n\
         on_success = [\"sh\", \"-c\", \"echo $$ >> {0}; sleep 1000 & echo $! >> {0}; wait\"]",
        file.display()
    );
    let (_dir, root) = queue(&["job"], &config);
    let worker = WorkerGuard(Some(
        fsq()
            .arg("work")
            .arg(&root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    let pids = pids(&file, 2);
    let started = std::time::Instant::now();
    wait_gone(pids[0], "the hook to be killed and reaped");
    wait_gone(pids[1], "the hook's child to be killed and reaped");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    drop(worker);
}

#[test]
fn crash_leftovers_and_logs_beyond_log_keep_are_removed_by_the_upkeep() {
    let names = ["a", "b", "c", "d", "e"];
    let (dir, root) = queue(&names, "command = [\"echo\", \"{name}\"]\nlog_keep = 2");
    let day_old = std::time::SystemTime::now() - std::time::Duration::from_secs(2 * 86400);
    let leftovers = [
        root.join("new/.fsq-add.1k8mb9def1v6ieo.part"),
        root.join("_meta/items/.tmp.4242.0"),
        root.join(".fsq-edit.4242.0.tmp"),
    ];
    for file in &leftovers {
        fs::write(file, "half").unwrap();
        let handle = fs::File::options().write(true).open(file).unwrap();
        handle.set_modified(day_old).unwrap();
    }
    let fresh = root.join("new/.fsq-add.1k8mb9def1v6ieq.part");
    fs::write(&fresh, "being written").unwrap();
    let out = drain(&root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        leftovers.iter().all(|f| !f.exists()),
        "old leftovers removed"
    );
    assert!(fresh.exists(), "a young temp file may still be written");
    assert_eq!(ls(&root.join("success")).len(), names.len());
    assert_eq!(fs::read_dir(root.join("_meta/logs")).unwrap().count(), 5);
    // The next worker's upkeep keeps the newest two logs of finished items.
    let out = drain(&root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(fs::read_dir(root.join("_meta/logs")).unwrap().count(), 2);
    drop(dir);
}
