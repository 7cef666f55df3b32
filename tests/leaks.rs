//! Nothing a job does outlives it or grows the worker without bound: background children and
//! daemons of a job, hooks that hang, a huge progress file, crash leftovers and old logs.

mod common;

use std::fs;
use std::path::Path;
use std::process::Stdio;

use common::*;

fn worker(root: &Path, command: &[&str]) -> WorkerGuard {
    let child = fsq()
        .arg("work")
        .arg(root)
        .arg("--")
        .args(command)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    WorkerGuard(Some(child))
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
