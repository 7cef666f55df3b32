//! Files written straight into the queue root by real writers: a slow writer, one stopped for
//! longer than the quiet period, a shell writing in two open/close steps, and rsync --inplace
//! stopped mid-file. Each must become one item, taken only once whole.

mod common;

use std::fs;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use rustix::process::{Pid, Signal, kill_process, kill_process_group};

/// A worker copying each item it takes to `<dir>/seen/<name>`.
fn copying_worker(dir: &Path, root: &Path) -> (Child, PathBuf) {
    let seen = dir.join("seen");
    fs::create_dir(&seen).unwrap();
    let worker = fsq()
        .arg("work")
        .arg(root)
        .args(["--", "cp", "{input}"])
        .arg(format!("{}/{{name}}", seen.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(20, "the worker's heartbeat", || {
        (!ls(&root.join("_meta/workers")).is_empty()).then_some(())
    });
    (worker, seen)
}

/// The bytes the python writer below writes: `chunks` chunks of 1,000 bytes, chunk i all i.
fn written(chunks: u8) -> Vec<u8> {
    (0..chunks).flat_map(|i| vec![b'a' + i; 1000]).collect()
}

/// Writes `written(chunks)` into `path` through one descriptor, a chunk every `every`.
fn python_writer(path: &Path, chunks: u8, every: Duration) -> Child {
    let script = "import sys, time\n\
                  f = open(sys.argv[1], 'wb')\n\
                  for i in range(int(sys.argv[2])):\n\
                  \x20   f.write(bytes([97 + i]) * 1000); f.flush(); time.sleep(float(sys.argv[3]))\n\
                  f.close()\n";
    Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .arg(chunks.to_string())
        .arg(every.as_secs_f64().to_string())
        .spawn()
        .expect("python3 runs")
}

/// Asserts that `path` stays in the root (unclaimed) for `long`.
fn stays_unclaimed(path: &Path, long: Duration) {
    let until = Instant::now() + long;
    while Instant::now() < until {
        assert!(
            path.exists(),
            "{} was claimed while being written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn signal(pid: u32, signal: Signal) {
    kill_process(Pid::from_raw(pid as i32).unwrap(), signal).unwrap();
}

#[test]
fn a_slow_writer_is_taken_whole() {
    let (dir, root) = queue(&[], "quiet_period = \"1s\"");
    let (worker, seen) = copying_worker(dir.path(), &root);
    let mut writer = python_writer(&root.join("slow.bin"), 12, Duration::from_millis(300));
    assert!(writer.wait().unwrap().success());
    let got = wait_for(20, "the item to run", || {
        fs::read(seen.join("slow.bin")).ok()
    });
    assert_eq!(got, written(12));
    stop_worker(worker);
}

#[test]
fn a_writer_stopped_past_the_quiet_period_is_taken_whole() {
    let (dir, root) = queue(&[], "quiet_period = \"1s\"\nsettle_time = \"500ms\"");
    let (worker, seen) = copying_worker(dir.path(), &root);
    let path = root.join("stalled.bin");
    let mut writer = python_writer(&path, 6, Duration::from_millis(100));
    wait_for(10, "the first chunk", || {
        (fs::metadata(&path).ok()?.len() > 0).then_some(())
    });
    signal(writer.id(), Signal::STOP);
    // Three quiet periods with the file open and unchanged.
    stays_unclaimed(&path, Duration::from_secs(3));
    signal(writer.id(), Signal::CONT);
    assert!(writer.wait().unwrap().success());
    let got = wait_for(20, "the item to run", || {
        fs::read(seen.join("stalled.bin")).ok()
    });
    assert_eq!(got, written(6));
    stop_worker(worker);
}

#[test]
fn two_open_close_steps_are_one_item() {
    let (dir, root) = queue(&[], "");
    let (worker, seen) = copying_worker(dir.path(), &root);
    let steps = Command::new("sh")
        .args(["-c", "echo a > \"$1\"; sleep 0.2; echo b >> \"$1\"", "sh"])
        .arg(root.join("two.txt"))
        .status()
        .unwrap();
    assert!(steps.success());
    let got = wait_for(20, "the item to run", || {
        fs::read(seen.join("two.txt")).ok()
    });
    assert_eq!(got, b"a\nb\n");
    wait_for(20, "the item to finish", || {
        (!ls(&root.join("success")).is_empty()).then_some(())
    });
    assert_eq!(ls(&root.join("success")), ["two.txt"], "one item, not two");
    stop_worker(worker);
}

#[test]
fn rsync_inplace_stopped_mid_file_is_taken_whole() {
    if Command::new("rsync").arg("--version").output().is_err() {
        eprintln!("SKIPPED rsync_inplace_stopped_mid_file_is_taken_whole: rsync is not installed");
        return;
    }
    let (dir, root) = queue(&[], "quiet_period = \"1s\"\nsettle_time = \"500ms\"");
    let (worker, seen) = copying_worker(dir.path(), &root);
    let source = dir.path().join("upload.bin");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    fs::write(&source, &content).unwrap();
    let target = root.join("upload.bin");
    // Its own process group: rsync forks a receiver, and both are stopped together.
    let mut rsync = Command::new("rsync")
        .args(["--inplace", "--bwlimit=100"])
        .arg(&source)
        .arg(&target)
        .process_group(0)
        .spawn()
        .unwrap();
    let group = Pid::from_raw(rsync.id() as i32).unwrap();
    wait_for(10, "rsync's first bytes", || {
        (fs::metadata(&target).ok()?.len() > 0).then_some(())
    });
    kill_process_group(group, Signal::STOP).unwrap();
    stays_unclaimed(&target, Duration::from_secs(3));
    kill_process_group(group, Signal::CONT).unwrap();
    assert!(rsync.wait().unwrap().success());
    let got = wait_for(20, "the item to run", || {
        fs::read(seen.join("upload.bin")).ok()
    });
    assert!(
        got == content,
        "got {} of {} bytes",
        got.len(),
        content.len()
    );
    stop_worker(worker);
}
