//! Several processes moving and claiming the same items at once: every item must end in
//! exactly one place, claimed exactly once, with its content intact.

mod common;

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::{TestQueue, files_in, fsq};
use fsq::queue::{Queue, State};

const ITEMS: usize = 400;
const CLAIMERS: usize = 4;

/// A claimer process: claims pending items in order and finishes each to success/, logging what
/// it claimed, until the queue root stays empty after the shufflers are done.
#[test]
#[ignore = "child process of racing_processes_never_lose_or_duplicate_items"]
fn race_claimer() {
    let (Ok(dir), Ok(id)) = (std::env::var("FSQ_RACE_DIR"), std::env::var("FSQ_RACE_ID")) else {
        return;
    };
    let queue = Queue::open(&dir).unwrap();
    let done_flag = Path::new(&dir).join("_meta/race-done");
    let mut log = String::new();
    let mut idle_scans = 0;
    while idle_scans < 3 {
        let pending = queue.list(State::Pending).unwrap();
        if pending.is_empty() && done_flag.exists() {
            idle_scans += 1;
        }
        for item in pending {
            if let Some(claimed) = queue.claim(&item, OsStr::new(&id)).unwrap() {
                log.push_str(&claimed.display().to_string_lossy());
                log.push('\n');
                // The "job": long enough that holds and reorders overlap the claims.
                std::thread::sleep(Duration::from_millis(3));
                queue.move_to(&claimed, State::Success).unwrap();
            }
        }
    }
    fs::write(Path::new(&dir).join(format!("_meta/claims.{id}")), log).unwrap();
}

fn spawn_claimer(dir: &Path, id: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--ignored", "--exact", "race_claimer", "--quiet"])
        .env("FSQ_RACE_DIR", dir)
        .env("FSQ_RACE_ID", format!("claimer{id}"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Runs `fsq pause`/`fsq resume` over every tenth item for a while, racing the claimers.
fn shuffle(q: &TestQueue, round: usize) {
    let names: Vec<String> = (round % 10..ITEMS).step_by(10).map(item_name).collect();
    let _ = q.run("pause", &names);
    let paused: Vec<String> = q
        .ls_json("paused")
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect();
    if !paused.is_empty() {
        q.ok("resume", &paused);
    }
}

fn item_name(i: usize) -> String {
    format!("item-{i:04}")
}

#[test]
fn racing_processes_never_lose_or_duplicate_items() {
    let q = TestQueue::new();
    for i in 0..ITEMS {
        fs::write(q.dir.join(item_name(i)), format!("payload {i}")).unwrap();
    }
    let claimers: Vec<Child> = (0..CLAIMERS).map(|id| spawn_claimer(&q.dir, id)).collect();
    // Reorders and holds race the claims too.
    for round in 0..20 {
        shuffle(&q, round);
        let _ = fsq()
            .arg("order")
            .arg(&q.dir)
            .arg(item_name(ITEMS - 1 - round))
            .arg("--first")
            .output();
    }
    fs::write(q.dir.join("_meta/race-done"), "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    for child in claimers {
        let waiter = std::thread::spawn(move || child.wait_with_output().unwrap());
        while !waiter.is_finished() {
            assert!(Instant::now() < deadline, "claimers did not finish");
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = waiter.join().unwrap();
        assert!(
            out.status.success(),
            "a claimer failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }

    // Every item exactly once, in success/, content intact.
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for state in [
        "pending", "new", "process", "failed", "delayed", "paused", "success",
    ] {
        let dir = q.state_dir(state);
        for file in files_in(&dir) {
            let file = file.into_string().unwrap();
            let display = fsq::queue::display_name(OsStr::new(&file))
                .to_string_lossy()
                .into_owned();
            assert_eq!(state, "success", "{display} left in {state}");
            let content = fs::read_to_string(dir.join(&file)).unwrap();
            let index: usize = display["item-".len()..].parse().unwrap();
            assert_eq!(content, format!("payload {index}"));
            assert!(
                seen.insert(display.clone(), dir.join(&file)).is_none(),
                "{display} twice"
            );
        }
    }
    assert_eq!(seen.len(), ITEMS);
    let mut claims: HashMap<String, usize> = HashMap::new();
    for id in 0..CLAIMERS {
        let log = fs::read_to_string(q.dir.join(format!("_meta/claims.claimer{id}"))).unwrap();
        for line in log.lines() {
            *claims.entry(line.to_string()).or_default() += 1;
        }
    }
    assert_eq!(claims.len(), ITEMS);
    assert!(
        claims.values().all(|n| *n == 1),
        "an item was claimed twice"
    );
}
