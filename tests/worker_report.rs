//! What `fsq work` says, for a journal or a log shipper: one line per finished item with its
//! outcome, run time and reason; nothing per item with `--quiet`; one JSON object per event with
//! `--json`.

mod common;

use common::*;

/// A queue with `ok` (sleeps 0.3 s, succeeds) and `bad` (fails), drained with `extra` flags.
fn run(extra: &[&str]) -> std::process::Output {
    let (_dir, root) = queue(&["bad", "ok"], "max_attempts = 1");
    let mut args: Vec<&str> = extra.to_vec();
    args.extend([
        "--",
        "sh",
        "-c",
        r#"[ "$1" = ok ] && sleep 0.3 && exit 0; echo broken; exit 3"#,
        "sh",
        "{name}",
    ]);
    let out = drain(&root, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    out
}

/// The number in `... after 0.31s ...`.
fn seconds_after(line: &str) -> f64 {
    let rest = line.split(" after ").nth(1).unwrap();
    rest[..rest.find('s').unwrap()].parse().unwrap()
}

#[test]
fn each_finished_item_is_one_line_with_outcome_time_and_reason() {
    let out = run(&[]);
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    let ok = lines.iter().find(|l| l.starts_with("fsq: ok: ")).unwrap();
    assert!(ok.starts_with("fsq: ok: success after "), "{err}");
    assert!(seconds_after(ok) >= 0.3, "{ok}");
    let bad = lines.iter().find(|l| l.starts_with("fsq: bad: ")).unwrap();
    assert!(bad.starts_with("fsq: bad: failed after "), "{err}");
    assert!(bad.ends_with("s: exit code 3"), "{err}");
    assert!(out.stdout.is_empty());
    assert_eq!(
        lines.last(),
        Some(&"fsq: 1 done, 1 failed, 0 to retry, 0 requeued")
    );
}

#[test]
fn quiet_prints_no_item_lines() {
    let out = run(&["--quiet"]);
    assert_eq!(
        stderr(&out),
        "fsq: 1 done, 1 failed, 0 to retry, 0 requeued\n"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn json_is_one_object_per_event() {
    let out = run(&["--json"]);
    assert_eq!(stderr(&out), "", "nothing but JSON");
    let events: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["started", "finished", "started", "finished", "stopped"],
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["time"].as_u64().unwrap() > 1_700_000_000_000)
    );
    let (bad, ok) = (&events[1], &events[3]);
    assert_eq!(
        (&bad["name"], &bad["outcome"]),
        (&"bad".into(), &"failed".into())
    );
    assert_eq!(bad["reason"], "exit code 3");
    assert_eq!(bad["state"], "failed");
    assert_eq!(
        (&ok["name"], &ok["outcome"]),
        (&"ok".into(), &"success".into())
    );
    assert!(ok["duration_secs"].as_f64().unwrap() >= 0.3, "{ok}");
    assert_eq!(ok["reason"], serde_json::Value::Null);
    assert_eq!(
        (&events[4]["done"], &events[4]["failed"]),
        (&1.into(), &1.into())
    );
}

#[test]
fn quiet_and_json_together_are_a_usage_error() {
    let out = fsq()
        .args(["work", "q", "--quiet", "--json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// `fsq work DIR 2>&1 | head -1`: once the reader is gone, a line that cannot be written is
/// dropped. It used to panic the job that finished, so the worker exited with 101 and every later
/// item's report was lost the same way.
#[test]
fn a_closed_stderr_loses_lines_not_the_worker() {
    let names: Vec<String> = (0..20).map(|i| format!("item-{i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (_dir, root) = queue(&names, "");
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    drop(reader);
    let status = fsq()
        .arg("work")
        .arg(&root)
        .args(["--drain", "--", "true"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::from(writer))
        .status()
        .unwrap();
    assert!(status.success(), "{status:?}");
    assert_eq!(ls(&root.join("success")).len(), 20);
}
