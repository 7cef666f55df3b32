//! Farm controls on real processes: cancel and freeze a running job through `_meta/requests/`,
//! timed pauses, stall detection, verify, a host that pauses itself after failures in a row, and
//! the queue events `on_drained` and `on_worker_down`.

mod common;

use std::fs;
use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use common::*;

/// A job that starts a grandchild, writes both pids to `file` and waits.
fn group_job(file: &Path) -> String {
    format!(
        "sleep 300 & echo $! >> '{0}'; echo $$ >> '{0}'; wait",
        file.display()
    )
}

/// The process state letter from /proc/PID/stat (`S`, `T`, `Z`...).
fn state_of(pid: u32) -> Option<char> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

fn run_fsq(args: &[&str], root: &Path) -> std::process::Output {
    let (sub, rest) = args.split_first().unwrap();
    fsq().arg(sub).arg(root).args(rest).output().unwrap()
}

fn status_json(root: &Path) -> serde_json::Value {
    let out = run_fsq(&["status", "--json"], root);
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Starts a worker on one item running `group_job`, and waits until both pids are known.
fn running_group(
    names: &[&str],
    config: &str,
) -> (tempfile::TempDir, std::path::PathBuf, Child, Vec<u32>) {
    let (dir, root) = queue(names, config);
    let file = dir.path().join("pids");
    let worker = start_worker(&root, &["--", "sh", "-c", &group_job(&file)]);
    let pids = wait_for(10, "the job and its child", || {
        let pids = pids(&file);
        (pids.len() == 2).then_some(pids)
    });
    (dir, root, worker, pids)
}

#[test]
fn cancel_kills_the_whole_group_within_a_second_and_requeues_without_an_attempt() {
    let (_dir, root, worker, pids) = running_group(&["a"], "heartbeat = \"100ms\"");
    // Paused first, so the cancelled item stays in pending instead of being claimed again.
    assert!(run_fsq(&["pause-workers"], &root).status.success());
    wait_for(5, "the worker to see the pause", || {
        (status_json(&root)["workers"][0]["paused"] == true).then_some(())
    });
    let start = Instant::now();
    let out = run_fsq(&["cancel", "a"], &root);
    assert!(out.status.success(), "{}", stderr(&out));
    for pid in &pids {
        wait_for(5, "the group to be gone", || (!alive(*pid)).then_some(()));
    }
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?} {}",
        start.elapsed(),
        stderr(&out)
    );
    assert!(
        stderr(&out).contains("cancelled a: now in pending"),
        "{}",
        stderr(&out)
    );
    let pending = ls_json(&root, "pending");
    assert_eq!(pending[0]["name"], "a");
    assert_eq!(pending[0]["attempts"], 0);
    assert!(
        fs::read_dir(root.join("_meta/requests"))
            .unwrap()
            .next()
            .is_none()
    );
    stop_worker(worker);
}

#[test]
fn a_cancelled_item_claimed_again_at_once_is_reported_as_such() {
    let (_dir, root, worker, _pids) = running_group(&["a"], "");
    let out = run_fsq(&["cancel", "a"], &root);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("claimed again at once"),
        "{}",
        stderr(&out)
    );
    stop_worker(worker);
}

#[test]
fn cancel_fail_sends_the_item_to_failed_as_cancelled() {
    let (_dir, root, worker, pids) = running_group(&["a"], "max_attempts = 5");
    let out = run_fsq(&["cancel", "a", "--fail"], &root);
    assert!(out.status.success(), "{}", stderr(&out));
    for pid in &pids {
        wait_for(5, "the group to be gone", || (!alive(*pid)).then_some(()));
    }
    let failed = ls_json(&root, "failed");
    assert_eq!(failed[0]["reason"], "cancelled");
    stop_worker(worker);
}

#[test]
fn cancel_or_freeze_of_an_item_that_is_not_running_says_so() {
    let (_dir, root) = queue(&["idle"], "");
    for verb in ["cancel", "freeze", "thaw"] {
        let out = run_fsq(&[verb, "idle"], &root);
        assert_eq!(out.status.code(), Some(1), "{verb}");
        assert!(
            stderr(&out).contains("idle is not running (it is in pending/)"),
            "{}",
            stderr(&out)
        );
    }
    let out = run_fsq(&["freeze"], &root);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing is running"));
}

#[test]
fn a_request_for_a_worker_that_is_gone_is_removed_with_a_message() {
    let (_dir, root) = queue(&["a"], "");
    // A claim held by a worker with no heartbeat: a worker that died before anyone noticed.
    let claim_dir = root.join("process/ghost-1-1");
    fs::create_dir_all(&claim_dir).unwrap();
    let tagged = "+1k8md4a848r2qg2+a";
    fs::rename(root.join("a"), claim_dir.join(tagged)).unwrap();
    let out = run_fsq(&["cancel", "a"], &root);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("its worker ghost-1-1 is gone"),
        "{}",
        stderr(&out)
    );
    let left = fs::read_dir(root.join("_meta/requests")).map_or(0, |d| d.count());
    assert_eq!(left, 0);
}

#[test]
fn a_frozen_group_is_stopped_shown_frozen_and_comes_back() {
    let (_dir, root, worker, pids) = running_group(&["a"], "");
    let out = run_fsq(&["freeze", "--host", "no-such-host"], &root);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing is running on no-such-host"));
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    let out = run_fsq(&["freeze", "--host", &host], &root);
    assert!(out.status.success(), "{}", stderr(&out));
    for pid in &pids {
        wait_for(5, "the process to stop", || {
            (state_of(*pid) == Some('T')).then_some(())
        });
    }
    wait_for(5, "status to say frozen", || {
        (status_json(&root)["running"][0]["frozen"] == true).then_some(())
    });
    let text = run_fsq(&["status"], &root);
    assert!(String::from_utf8_lossy(&text.stdout).contains("(frozen)"));
    let out = run_fsq(&["thaw", "a"], &root);
    assert!(out.status.success(), "{}", stderr(&out));
    for pid in &pids {
        wait_for(5, "the process to go on", || {
            matches!(state_of(*pid), Some('S' | 'R')).then_some(())
        });
    }
    wait_for(5, "status to drop frozen", || {
        (status_json(&root)["running"][0]["frozen"] == false).then_some(())
    });
    stop_worker(worker);
}

#[test]
fn a_frozen_jobs_timeout_clock_stands_still() {
    // The job sleeps 2s of wall time; frozen for 3s of it, it would pass a 3s timeout were the
    // frozen time counted.
    let (dir, root) = queue(&["a"], "timeout = \"3s\"\nmax_attempts = 1");
    let file = dir.path().join("pids");
    let script = format!("echo $$ >> '{}'; sleep 2", file.display());
    let worker = start_worker(&root, &["--", "sh", "-c", &script]);
    wait_for(10, "the job", || (!pids(&file).is_empty()).then_some(()));
    assert!(run_fsq(&["freeze", "a"], &root).status.success());
    std::thread::sleep(Duration::from_secs(3));
    assert!(run_fsq(&["thaw", "a"], &root).status.success());
    wait_for(20, "the item to succeed", || {
        (ls(&root.join("success")) == ["a"]).then_some(())
    });
    stop_worker(worker);
}

#[test]
fn a_timed_pause_ends_by_itself() {
    let (_dir, root) = queue(&["a"], "");
    let out = run_fsq(&["pause-workers", "--for", "0"], &root);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--for 0"));
    assert!(
        run_fsq(&["pause-workers", "--for", "2s"], &root)
            .status
            .success()
    );
    let text = String::from_utf8_lossy(&run_fsq(&["status"], &root).stdout).into_owned();
    assert!(text.contains("workers paused until "), "{text}");
    let start = Instant::now();
    let worker = start_worker(&root, &["--", "true"]);
    wait_for(20, "the item to succeed", || {
        (ls(&root.join("success")) == ["a"]).then_some(())
    });
    assert!(
        start.elapsed() >= Duration::from_millis(1500),
        "{:?}",
        start.elapsed()
    );
    stop_worker(worker);
}

#[test]
fn a_silent_job_fails_as_stalled_and_a_chatty_one_does_not() {
    let (_dir, root) = queue(&["silent"], "stall = \"1s\"\nmax_attempts = 1");
    let out = drain(&root, &["--", "sleep", "30"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let failed = ls_json(&root, "failed");
    assert_eq!(failed[0]["reason"], "stalled: no output or progress for 1s");

    let (_dir, root) = queue(&["chatty"], "stall = \"1s\"\nmax_attempts = 1");
    let script = "for i in 1 2 3 4 5 6; do echo $i; sleep 0.4; done";
    let out = drain(&root, &["--", "sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("success")), ["chatty"]);
}

#[test]
fn a_failed_verify_never_reaches_success() {
    let config = "max_attempts = 1\nverify = [\"sh\", \"-c\", \"echo checking {name}; echo 'duration 3.0 != 10.0' >&2; exit 1\"]";
    let (_dir, root) = queue(&["a", "b"], config);
    let out = drain(&root, &["--", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(ls(&root.join("success")).is_empty());
    let failed = ls_json(&root, "failed");
    assert_eq!(failed.as_array().unwrap().len(), 2);
    assert_eq!(failed[0]["reason"], "verify failed: duration 3.0 != 10.0");

    let config = "verify = [\"test\", \"-s\", \"{input}\"]";
    let (_dir, root) = queue(&["ok"], config);
    let out = drain(&root, &["--", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("success")), ["ok"]);
}

#[test]
fn a_host_that_keeps_failing_pauses_itself_until_resumed() {
    let names = ["a", "b", "c", "d", "e"];
    let (_dir, root) = queue(&names, "host_failure_limit = 3\nmax_attempts = 1");
    let worker = start_worker(&root, &["--", "sh", "-c", "echo broken codec >&2; exit 1"]);
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    let flag = root.join(format!("_meta/pause.{host}"));
    wait_for(20, "the host to pause itself", || {
        flag.exists().then_some(())
    });
    wait_for(10, "the worker to say so", || {
        let json = status_json(&root);
        let note = json["workers"][0]["note"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        note.starts_with("paused: 3 failures in a row; last: exit code 1")
            .then_some(())
    });
    assert_eq!(ls(&root.join("failed")).len(), 3);
    assert_eq!(
        ls(&root)
            .iter()
            .filter(|n| names.contains(&n.as_str()))
            .count(),
        2
    );
    let text = String::from_utf8_lossy(&run_fsq(&["status"], &root).stdout).into_owned();
    assert!(
        text.contains(&format!("workers on {host} paused (paused: 3 failures")),
        "{text}"
    );
    assert!(
        run_fsq(&["resume-workers", "--host", &host], &root)
            .status
            .success()
    );
    wait_for(20, "the rest to run again", || {
        (ls(&root.join("failed")).len() >= 4).then_some(())
    });
    stop_worker(worker);
}

#[test]
fn on_drained_runs_once_for_three_workers_draining_one_queue() {
    let (dir, root) = queue(&[], "");
    let log = dir.path().join("drained.log");
    let gate = dir.path().join("gate");
    let config = format!(
        "[worker]\non_drained = [\"sh\", \"-c\", \"echo drained {{count}} >> '{}'\"]\n",
        log.display()
    );
    fs::write(root.join("_meta/config.toml"), config).unwrap();
    for name in ["a", "b", "c"] {
        add_old(&root, name.as_ref(), b"x");
    }
    // Each worker holds one item until the gate opens, so all three finish at once and each
    // may find the queue drained: only one of them may run the hook.
    let job = format!("while [ ! -e '{}' ]; do sleep 0.01; done", gate.display());
    let workers: Vec<std::thread::JoinHandle<_>> = (0..3)
        .map(|_| {
            let (root, job) = (root.clone(), job.clone());
            std::thread::spawn(move || drain(&root, &["--", "sh", "-c", &job]))
        })
        .collect();
    wait_for(20, "three workers with one claim each", || {
        let owners = ls(&root.join("process"));
        let holding = owners
            .iter()
            .filter(|o| !ls(&root.join("process").join(o)).is_empty())
            .count();
        (holding == 3).then_some(())
    });
    fs::write(&gate, "").unwrap();
    for worker in workers {
        let out = worker.join().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(ls(&root.join("success")).len(), 3);
    wait_for(10, "the hook", || log.exists().then_some(()));
    // Give a second hook every chance to show up before counting.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(fs::read_to_string(&log).unwrap(), "drained 0\n");
}

#[test]
fn on_worker_down_runs_once_with_the_dead_workers_claims() {
    let (dir, root) = queue(&["a", "b"], "");
    let log = dir.path().join("down.log");
    let config = format!(
        "[worker]\nmax_attempts = 5\non_worker_down = [\"sh\", \"-c\", \"echo {{host}} {{worker}} {{count}} >> '{}'\"]\n",
        log.display()
    );
    fs::write(root.join("_meta/config.toml"), config).unwrap();
    // A worker of this host whose process is gone (a pid above pid_max), holding both items.
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    let dead = format!("{host}-999999999-1");
    let claim_dir = root.join("process").join(&dead);
    fs::create_dir_all(&claim_dir).unwrap();
    for name in ["a", "b"] {
        fs::rename(root.join(name), claim_dir.join(name)).unwrap();
    }
    let beat = format!("{{\"id\": \"{dead}\", \"host\": \"{host}\", \"pid\": 999999999}}");
    fs::write(root.join("_meta/workers").join(&dead), beat).unwrap();
    let out = drain(&root, &["--", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    wait_for(10, "the hook", || log.exists().then_some(()));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        fs::read_to_string(&log).unwrap(),
        format!("{host} {dead} 2\n")
    );
}

#[test]
fn outside_its_schedule_a_worker_claims_nothing_and_says_when_it_opens() {
    let date = std::process::Command::new("date")
        .arg("+%H")
        .output()
        .unwrap();
    let hour: u32 = String::from_utf8_lossy(&date.stdout)
        .trim()
        .parse()
        .unwrap();
    let opens = (hour + 2) % 24;
    let window = format!("{opens:02}:00-{:02}:00", opens + 1);
    let (_dir, root) = queue(&["a"], &format!("schedule = [\"{window}\"]"));
    let worker = start_worker(&root, &["--", "true"]);
    let expected = format!("outside schedule (next window {opens:02}:00)");
    wait_for(10, "the worker to say it is outside its schedule", || {
        let json = status_json(&root);
        (json["workers"][0]["note"] == expected.as_str()).then_some(())
    });
    assert_eq!(ls_json(&root, "pending")[0]["name"], "a");
    stop_worker(worker);

    // This host's own window is open all day.
    let host = rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned();
    let config = fs::read_to_string(root.join("_meta/config.toml")).unwrap();
    let config = format!("{config}\n[hosts.{host:?}]\nschedule = [\"00:00-24:00\"]\n");
    fs::write(root.join("_meta/config.toml"), config).unwrap();
    let out = drain(&root, &["--", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("success")), ["a"]);
}

/// The `[worker]` example of the README's "Verifying outputs", as it stands there.
fn readme_verify_example() -> String {
    let readme = fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("**Verifying outputs.**").nth(1).unwrap();
    let block = section.split("```toml\n").nth(1).unwrap();
    block.split("```").next().unwrap().to_string()
}

#[test]
fn the_readme_ffprobe_verify_refuses_a_truncated_conversion() {
    if std::process::Command::new("ffprobe")
        .arg("-version")
        .output()
        .is_err()
    {
        eprintln!("ffprobe is not installed: skipping the verify example");
        return;
    }
    for (cut, expect_success) in [(true, false), (false, true)] {
        let (_dir, root) = queue(&[], "");
        let config = format!("{}max_attempts = 1\n", readme_verify_example());
        fs::write(root.join("_meta/config.toml"), config).unwrap();
        add_tone(&root, 3);
        // A conversion that stops after one second exits 0 all the same.
        let truncate: &[&str] = if cut {
            &[
                "--",
                "ffmpeg",
                "-v",
                "error",
                "-y",
                "-i",
                "{input}",
                "-t",
                "1",
                "{out}/{stem}.mp3",
            ]
        } else {
            &[]
        };
        let out = drain(&root, truncate);
        assert!(out.status.success(), "{}", stderr(&out));
        if expect_success {
            assert_eq!(ls(&root.join("success")), ["tone.wav"], "{}", stderr(&out));
        } else {
            assert!(ls(&root.join("success")).is_empty());
            let reason = ls_json(&root, "failed")[0]["reason"]
                .as_str()
                .unwrap()
                .to_string();
            assert!(reason.starts_with("verify failed: duration 1."), "{reason}");
            assert!(reason.ends_with("input 3.000000 s"), "{reason}");
        }
    }
}
