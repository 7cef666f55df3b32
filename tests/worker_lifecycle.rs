//! The worker as a process among others: timeouts that kill whole process groups, signals,
//! kill -9 and recovery, two workers on one queue, pause flags and stable-file detection.

mod common;

use std::fs;
use std::io::Write;
use std::time::{Duration, Instant};

use common::*;

fn terminate(pid: u32) {
    let pid = rustix::process::Pid::from_raw(pid as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::TERM).unwrap();
}

#[test]
fn timeout_kills_the_whole_process_group() {
    let (dir, root) = queue(&["slow"], "max_attempts = 1");
    let file = dir.path().join("pids");
    let script = format!(
        "sleep 100 & echo $! >> '{0}'; sleep 100 & echo $! >> '{0}'; echo $$ >> '{0}'; wait",
        file.display()
    );
    let start = Instant::now();
    let out = drain(&root, &["--timeout", "1s", "--", "sh", "-c", &script]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(start.elapsed() < Duration::from_secs(20));
    let pids = pids(&file);
    assert_eq!(pids.len(), 3);
    for pid in pids {
        wait_for(10, "the group to be gone", || (!alive(pid)).then_some(()));
    }
    let failed = ls_json(&root, "failed");
    assert_eq!(failed[0]["reason"], "timed out after 1s");
}

#[test]
fn sigterm_gives_grace_then_requeues_and_kills_the_group() {
    let (dir, root) = queue(&["long", "next"], "grace = \"500ms\"");
    let file = dir.path().join("pids");
    let script = format!(
        "sleep 100 & echo $! >> '{0}'; echo $$ >> '{0}'; wait",
        file.display()
    );
    let worker = start_worker(&root, &["--", "sh", "-c", &script]);
    wait_for(20, "the job to start", || {
        (pids(&file).len() == 2).then_some(())
    });
    terminate(worker.id());
    let out = worker.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("1 requeued"), "{}", stderr(&out));
    for pid in pids(&file) {
        wait_for(10, "the group to be gone", || (!alive(pid)).then_some(()));
    }
    let pending = ls_json(&root, "pending");
    assert_eq!(pending[0]["name"], "long");
    assert_eq!(pending[1]["name"], "next");
    assert!(claimed(&root).is_empty());
    assert_eq!(
        ls_json(&root, "pending")[0]["attempts"],
        0,
        "a requeue is no attempt"
    );
}

#[test]
fn a_second_worker_recovers_the_claims_of_a_killed_one() {
    let (dir, root) = queue(&["job"], "");
    let runs = dir.path().join("runs");
    let second = dir.path().join("second");
    let pgids = dir.path().join("pgids");
    let script = format!(
        "echo x >> '{}'; echo $$ >> '{}'; [ -e '{}' ] || sleep 100",
        runs.display(),
        pgids.display(),
        second.display()
    );
    let mut first = start_worker(&root, &["--", "sh", "-c", &script]);
    wait_for(20, "the first run", || {
        (pids(&pgids).len() == 1).then_some(())
    });
    assert_eq!(claimed(&root), ["job"]);
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(
        claimed(&root),
        ["job"],
        "a dead worker's claim stays until recovered"
    );

    fs::write(&second, "").unwrap();
    let out = drain(&root, &["--", "sh", "-c", &script]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("job: recovered from a dead worker, now pending"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ls(&root.join("success")), ["job"]);
    assert_eq!(fs::read_to_string(&runs).unwrap().lines().count(), 2);
    assert!(
        ls(&root.join("process")).is_empty(),
        "dead claim folder removed"
    );
    assert!(
        ls(&root.join("_meta/workers")).is_empty(),
        "dead heartbeat removed"
    );
    // The first run's shell and its `sleep 100` outlived the killed worker; the second worker
    // stopped them before running the item again.
    let first_run = pids(&pgids)[0];
    wait_for(10, "the orphaned first run to be killed", || {
        let stat = fs::read_to_string(format!("/proc/{first_run}/stat")).unwrap_or_default();
        let state = stat
            .rsplit(") ")
            .next()
            .and_then(|rest| rest.chars().next());
        matches!(state, None | Some('Z')).then_some(())
    });
    assert!(
        stderr(&out).contains("left running by a dead worker"),
        "{}",
        stderr(&out)
    );
    for pid in pids(&pgids) {
        if let Some(group) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
    }
}

#[test]
fn two_workers_never_run_an_item_twice() {
    let names: Vec<String> = (0..300).map(|i| format!("n{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (dir, root) = queue(&refs, "workers = 2");
    let log = dir.path().join("ran");
    let script = format!("echo \"$1\" >> '{}'", log.display());
    let args = ["--drain", "--", "sh", "-c", &script, "sh", "{name}"];
    let a = start_worker(&root, &args);
    let b = start_worker(&root, &args);
    for worker in [a, b] {
        let out = worker.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let text = fs::read_to_string(&log).unwrap();
    let mut ran: Vec<&str> = text.lines().collect();
    ran.sort();
    assert_eq!(ran, refs, "every item ran exactly once");
    assert_eq!(ls(&root.join("success")).len(), 300);
}

#[test]
fn pause_flag_stops_claiming_until_resumed() {
    let (_dir, root) = queue(&["a"], "heartbeat = \"100ms\"");
    let paused = fsq().arg("pause-workers").arg(&root).status().unwrap();
    assert!(paused.success());
    let worker = start_worker(&root, &["--", "true"]);
    wait_for(20, "a heartbeat saying paused", || {
        let beats = ls(&root.join("_meta/workers"));
        let beat = fs::read(root.join("_meta/workers").join(beats.first()?)).ok()?;
        let beat: serde_json::Value = serde_json::from_slice(&beat).ok()?;
        (beat["paused"] == true).then_some(())
    });
    assert_eq!(ls(&root)[1], "a", "nothing claimed while paused");
    let resumed = fsq().arg("resume-workers").arg(&root).status().unwrap();
    assert!(resumed.success());
    wait_for(20, "the item to run", || {
        (ls(&root.join("success")) == ["a"]).then_some(())
    });
    stop_worker(worker);
}

#[test]
fn a_file_still_being_written_is_claimed_only_once_closed() {
    let (dir, root) = queue(&[], "quiet_period = \"30s\"\nheartbeat = \"100ms\"");
    let seen = dir.path().join("seen");
    fs::create_dir(&seen).unwrap();
    let worker = start_worker(
        &root,
        &[
            "--",
            "cp",
            "{input}",
            &format!("{}/{{name}}", seen.display()),
        ],
    );
    wait_for(20, "the worker's heartbeat", || {
        (!ls(&root.join("_meta/workers")).is_empty()).then_some(())
    });
    let mut file = fs::File::create(root.join("upload.bin")).unwrap();
    let mut expected = Vec::new();
    for i in 0..20u8 {
        let chunk = vec![i; 10_000];
        file.write_all(&chunk).unwrap();
        expected.extend_from_slice(&chunk);
        std::thread::sleep(Duration::from_millis(50));
        assert!(
            root.join("upload.bin").exists(),
            "claimed while still being written (chunk {i})"
        );
    }
    drop(file);
    let got = wait_for(20, "the closed file to run", || {
        fs::read(seen.join("upload.bin")).ok()
    });
    assert_eq!(got.len(), expected.len());
    assert_eq!(got, expected);

    // Renamed in from new/: complete by definition, taken at once despite the 30s quiet period.
    fs::write(root.join("new/staged"), "staged").unwrap();
    fs::rename(root.join("new/staged"), root.join("staged")).unwrap();
    wait_for(10, "the renamed file to run", || {
        fs::read(seen.join("staged")).ok()
    });
    stop_worker(worker);
}

#[test]
fn polling_a_local_disk_takes_a_closed_file_after_the_settle_time() {
    // Locally the kernel names the writers: the quiet period does not apply, the settle time does.
    let (dir, root) = queue(&[], "quiet_period = \"1h\"\nsettle_time = \"1s\"");
    let seen = dir.path().join("seen");
    fs::create_dir(&seen).unwrap();
    let worker = start_worker(
        &root,
        &[
            "--poll",
            "50ms",
            "--",
            "cp",
            "{input}",
            &format!("{}/{{name}}", seen.display()),
        ],
    );
    let written = Instant::now();
    fs::write(root.join("dropped"), "data").unwrap();
    wait_for(20, "the quiet file to run", || {
        fs::read(seen.join("dropped")).ok()
    });
    assert!(
        written.elapsed() >= Duration::from_secs(1),
        "taken before the settle time"
    );
    stop_worker(worker);
}

#[test]
fn an_item_deleted_while_running_is_reported_and_the_worker_goes_on() {
    let (dir, root) = queue(&["a-doomed", "b-next"], "");
    let (started, gate) = (dir.path().join("started"), dir.path().join("gate"));
    let script = format!(
        "[ \"$1\" = b-next ] || {{ : > '{}'; while [ ! -e '{}' ]; do sleep 0.02; done; }}",
        started.display(),
        gate.display()
    );
    let worker = start_worker(
        &root,
        &["--drain", "--", "sh", "-c", &script, "sh", "{name}"],
    );
    // Deleted once its job runs: deleted between the claim and the job's start, it is "gone
    // before it could start", another report.
    wait_for(20, "the job", || started.exists().then_some(()));
    let owner = ls(&root.join("process")).remove(0);
    let claim = root.join("process").join(owner);
    let doomed = fs::read_dir(&claim).unwrap().flatten().map(|e| e.path());
    for path in doomed.filter(|p| p.to_string_lossy().ends_with("+a-doomed")) {
        fs::remove_file(path).unwrap();
    }
    fs::write(&gate, "").unwrap();
    let out = worker.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("process/a-doomed was moved or deleted while it ran"),
        "{}",
        stderr(&out)
    );
    assert_eq!(ls(&root.join("success")), ["b-next"]);
}
