//! How failed runs come back: after their backoff (not as soon as the queue is idle, unless
//! `retry_when_idle` says so), never for an exit code named hopeless, and with what the command
//! last said on stderr in the reason.

mod common;

use std::fs;

use common::*;

/// Unix time in nanoseconds of each line a run appended to `file`.
fn run_times(file: &std::path::Path) -> Vec<u128> {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn a_failed_item_waits_its_backoff_even_when_nothing_else_is_pending() {
    let (dir, root) = queue(
        &["flaky"],
        "max_attempts = 3\nretry_delay = \"300ms\"\nheartbeat = \"5s\"",
    );
    let runs = dir.path().join("runs");
    let script = format!("date +%s%N >> '{}'; exit 1", runs.display());
    let out = drain(&root, &["--", "sh", "-c", &script]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("failed")), ["flaky"]);
    let times = run_times(&runs);
    assert_eq!(times.len(), 3, "{times:?}");
    // Backoff 300ms then 600ms, each shortened by at most a quarter for jitter.
    let gaps: Vec<u128> = times
        .windows(2)
        .map(|w| (w[1] - w[0]) / 1_000_000)
        .collect();
    assert!(gaps[0] >= 225, "first retry after {}ms", gaps[0]);
    assert!(gaps[1] >= 450, "second retry after {}ms", gaps[1]);
    assert!(
        gaps[1] < 5000,
        "a due item runs when due, not at the next heartbeat: {gaps:?}"
    );
}

#[test]
fn retry_when_idle_brings_delayed_items_back_at_once() {
    let (dir, root) = queue(
        &["flaky"],
        "max_attempts = 3\nretry_delay = \"1h\"\nretry_when_idle = true",
    );
    let runs = dir.path().join("runs");
    let script = format!("date +%s%N >> '{}'; exit 1", runs.display());
    let out = drain(&root, &["--", "sh", "-c", &script]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(run_times(&runs).len(), 3);
    assert_eq!(ls_json(&root, "failed")[0]["attempts"], 3);
}

#[test]
fn the_backoff_is_capped_by_retry_delay_max() {
    let (_dir, root) = queue(
        &["flaky"],
        "max_attempts = 9\nretry_delay = \"1h\"\nretry_delay_max = \"2s\"",
    );
    let child = fsq()
        .arg("work")
        .arg(&root)
        .args(["--", "false"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(20, "flaky in delayed/", || {
        (ls(&root.join("delayed")) == ["flaky"]).then_some(())
    });
    stop_worker(child);
    let retry_at = ls_json(&root, "delayed")[0]["retry_at"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(retry_at <= now + 2, "{retry_at} vs {now}");
}

#[test]
fn an_exit_code_named_in_no_retry_exit_codes_fails_at_once() {
    let (dir, root) = queue(
        &["corrupt", "busy"],
        "max_attempts = 3\nretry_delay = \"50ms\"\nno_retry_exit_codes = [2, 64]",
    );
    let runs = dir.path().join("runs");
    let script = format!(
        "echo \"$1\" >> '{}'; case \"$1\" in corrupt) exit 64;; *) exit 1;; esac",
        runs.display()
    );
    let out = drain(&root, &["--", "sh", "-c", &script, "sh", "{name}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let runs = fs::read_to_string(&runs).unwrap();
    assert_eq!(
        runs.lines().filter(|l| *l == "corrupt").count(),
        1,
        "{runs}"
    );
    assert_eq!(runs.lines().filter(|l| *l == "busy").count(), 3, "{runs}");
    let failed = ls_json(&root, "failed");
    let corrupt = failed
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "corrupt")
        .unwrap();
    assert_eq!(corrupt["attempts"], 1);
    assert_eq!(corrupt["reason"], "exit code 64");
}

#[test]
fn the_failure_reason_carries_the_last_stderr_line() {
    let (_dir, root) = queue(&["clip.mp4"], "max_attempts = 1");
    let script = "echo 'Input #0, mov' >&2; printf 'moov atom not found\\n\\n' >&2; exit 1";
    let out = drain(&root, &["--", "sh", "-c", script]);
    assert!(out.status.success(), "{}", stderr(&out));
    let failed = ls_json(&root, "failed");
    assert_eq!(failed[0]["reason"], "exit code 1: moov atom not found");
    assert!(
        stderr(&out).contains("clip.mp4: failed after")
            && stderr(&out).contains("exit code 1: moov atom not found"),
        "{}",
        stderr(&out)
    );
}
