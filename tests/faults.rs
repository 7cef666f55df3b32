//! Faults an unlucky operator meets: a full disk under `_meta/`, `fsq recover` while a dead
//! worker's job still runs, two pid namespaces with one host name, a finish that cannot reach
//! its folder, a 255-byte name, and `--drain` beside a worker that just died on another host.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;

/// Lines the child writes to stderr, collected as they come.
fn collect_stderr(child: &mut Child) -> Arc<Mutex<String>> {
    let text = Arc::new(Mutex::new(String::new()));
    let pipe = child.stderr.take().expect("stderr piped");
    let sink = text.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            let mut sink = sink.lock().unwrap();
            sink.push_str(&line);
            sink.push('\n');
        }
    });
    text
}

fn count_lines(file: &Path) -> usize {
    fs::read_to_string(file).unwrap_or_default().lines().count()
}

/// Waits for the child to exit, killing it after `secs`.
fn wait_exit(mut child: Child, secs: u64) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            std::thread::sleep(Duration::from_millis(200));
            panic!("the worker did not finish within {secs}s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_exit_or_tell(child: Child, secs: u64, said: &Mutex<String>) -> std::process::ExitStatus {
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| wait_exit(child, secs)));
    result.unwrap_or_else(|_| panic!("it said:\n{}", said.lock().unwrap()))
}

/// A tmpfs of `size` mounted on a fresh folder, unmounted when dropped; `None` (said loudly)
/// where mounting is not permitted.
struct SmallDisk {
    _tmp: tempfile::TempDir,
    path: PathBuf,
}

impl SmallDisk {
    fn mount(size: &str) -> Option<SmallDisk> {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("small");
        fs::create_dir(&path).unwrap();
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&path)
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !mounted {
            eprintln!("SKIPPED: cannot mount a tmpfs here (needs root): no disk-full test ran");
            return None;
        }
        Some(SmallDisk { _tmp: tmp, path })
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

#[test]
fn a_full_disk_never_turns_retries_into_a_spin() {
    let Some(disk) = SmallDisk::mount("1m") else {
        return;
    };
    let root = disk.path.join("q");
    assert!(fsq().arg("init").arg(&root).status().unwrap().success());
    fs::write(
        root.join("_meta/config.toml"),
        "[worker]\nmax_attempts = 3\nretry_delay = \"100ms\"\nheartbeat = \"100ms\"\n",
    )
    .unwrap();
    add_old(&root, OsStr::new("video.mp4"), b"data");
    let outside = tempfile::tempdir().unwrap();
    let runs = outside.path().join("runs");
    let filler = disk.path.join("filler");
    let filled = outside.path().join("filled");
    // The first run fills the disk, so its attempt record cannot be written; every run fails.
    let script = format!(
        "echo run >> '{}'; [ -e '{done}' ] && exit 1; touch '{done}'; \
         dd if=/dev/zero of='{f}' bs=64k 2>/dev/null; exit 1",
        runs.display(),
        done = filled.display(),
        f = filler.display()
    );
    let mut worker = fsq()
        .arg("work")
        .arg(&root)
        .arg("--drain")
        .args(["--", "sh", "-c", &script])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let said = collect_stderr(&mut worker);
    wait_for(20, "the worker to notice it cannot beat", || {
        said.lock()
            .unwrap()
            .contains("cannot write the heartbeat")
            .then_some(())
    });
    let while_full = count_lines(&runs);
    assert!(
        (1..=3).contains(&while_full),
        "runs with a full disk: {while_full}\n{}",
        said.lock().unwrap()
    );
    fs::remove_file(&filler).unwrap();
    let status = wait_exit_or_tell(worker, 30, &said);
    assert!(status.success(), "{}", said.lock().unwrap());
    assert_eq!(count_lines(&runs), 3, "{}", said.lock().unwrap());
    assert_eq!(ls(&root.join("failed")), ["video.mp4"]);
    assert!(claimed(&root).is_empty());
}

#[test]
fn fsq_recover_stops_a_dead_workers_job_before_returning_its_claim() {
    let (dir, root) = queue(&["job"], "");
    let pids = dir.path().join("pids");
    let script = format!("echo $$ >> '{}'; exec sleep 100", pids.display());
    let mut worker = fsq()
        .arg("work")
        .arg(&root)
        .args(["--", "sh", "-c", &script])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let job: u32 = wait_for(20, "the job to start", || {
        fs::read_to_string(&pids).ok()?.trim().parse().ok()
    });
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert!(alive(job), "a killed worker's job outlives it");
    let out = fsq().arg("recover").arg(&root).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls_json(&root, "pending")[0]["name"], "job");
    // The job was killed before its claim came back, not some time after.
    assert!(
        !alive(job),
        "the dead worker's job still runs beside its returned claim"
    );
    assert!(
        stderr(&out).contains("stopped 1 job(s)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn workers_with_one_host_name_in_two_pid_namespaces_never_kill_each_other() {
    let probe = Command::new("unshare")
        .args(["--pid", "--fork", "--mount-proc", "true"])
        .stderr(Stdio::null())
        .status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("SKIPPED: unshare --pid is not permitted here: no pid-namespace test ran");
        return;
    }
    let names: Vec<String> = (0..20).map(|i| format!("n{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (dir, root) = queue(&refs, "heartbeat = \"100ms\"\nheartbeat_timeout = \"30s\"");
    let runs = dir.path().join("runs");
    let script = format!("echo \"$1\" >> '{}'; sleep 0.3", runs.display());
    let args = ["--drain", "--", "sh", "-c", &script, "sh", "{name}"];
    let bin = env!("CARGO_BIN_EXE_fsq");
    let unshare = ["--pid", "--fork", "--mount-proc", bin];
    let start = |program: &str, before: &[&str]| {
        Command::new(program)
            .args(before)
            .arg("work")
            .arg(&root)
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut inner = start("unshare", &unshare);
    let mut outer = start(bin, &[]);
    let (inner_said, outer_said) = (collect_stderr(&mut inner), collect_stderr(&mut outer));
    let status = (wait_exit(inner, 60), wait_exit(outer, 60));
    let said = format!(
        "inner: {}\nouter: {}",
        inner_said.lock().unwrap(),
        outer_said.lock().unwrap()
    );
    assert!(status.0.success() && status.1.success(), "{said}");
    let ran = fs::read_to_string(&runs).unwrap();
    let mut ran: Vec<&str> = ran.lines().collect();
    ran.sort();
    assert_eq!(ran, refs, "each item ran once\n{said}");
    assert_eq!(ls(&root.join("success")), names);
    assert!(ls(&root.join("failed")).is_empty(), "{said}");
    assert!(
        !said.contains("recovered"),
        "nobody was declared dead\n{said}"
    );
}

#[test]
fn a_finish_that_cannot_reach_its_folder_does_not_leave_the_item_claimed() {
    let (_dir, root) = queue(&["done-but-stuck"], "");
    fs::remove_dir(root.join("success")).unwrap();
    fs::write(root.join("success"), "a file where the folder should be").unwrap();
    let out = drain(&root, &["--", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(claimed(&root).is_empty(), "left in process/ to run again");
    assert_eq!(ls(&root.join("failed")), ["done-but-stuck"]);
    let reason = ls_json(&root, "failed")[0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(reason.contains("could not be moved to success"), "{reason}");
}

#[test]
fn a_255_byte_name_goes_through_claim_failure_retry_and_success() {
    let name = format!("{}.txt", "n".repeat(251));
    let (dir, root) = queue(&[name.as_str()], "retry_delay = \"100ms\"");
    let marker = dir.path().join("failed-once");
    let runs = dir.path().join("runs");
    let script = format!(
        "echo \"$1\" >> '{r}'; [ -e '{m}' ] && exit 0; touch '{m}'; exit 1",
        r = runs.display(),
        m = marker.display()
    );
    let out = drain(&root, &["--", "sh", "-c", &script, "sh", "{name}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let ran = fs::read_to_string(&runs).unwrap();
    assert_eq!(
        ran.lines().collect::<Vec<_>>(),
        [name.as_str(), name.as_str()]
    );
    assert!(claimed(&root).is_empty());
    let success = ls_json(&root, "success");
    assert_eq!(success[0]["name"], name.as_str());
    assert_eq!(success[0]["attempts"], 0);
}

#[test]
fn drain_waits_for_the_claims_of_a_worker_that_just_died_elsewhere() {
    let (dir, root) = queue(
        &["held"],
        "heartbeat = \"100ms\"\nheartbeat_timeout = \"1s\"",
    );
    // A worker on another host claimed `held`, beat once, and died.
    let owner = "elsewhere-4242-1";
    fs::create_dir_all(root.join("process").join(owner)).unwrap();
    fs::rename(
        root.join("held"),
        root.join("process").join(owner).join("held"),
    )
    .unwrap();
    let beat = format!("{{\"id\": \"{owner}\", \"host\": \"elsewhere\", \"pid\": 4242}}");
    fs::write(root.join("_meta/workers").join(owner), beat).unwrap();
    let runs = dir.path().join("runs");
    let script = format!("echo \"$1\" >> '{}'", runs.display());
    let out = drain(&root, &["--", "sh", "-c", &script, "sh", "{name}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("success")), ["held"], "{}", stderr(&out));
    assert_eq!(fs::read_to_string(&runs).unwrap(), "held\n");
    assert!(claimed(&root).is_empty());
}
