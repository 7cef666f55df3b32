//! The ceilings the worker is measured against: how fast this machine can run `true` from Rust
//! at all, and how fast a bare rename-claim loop (claim by rename, run, rename to success/)
//! goes with no bookkeeping. Two threads each, like `fsq work --workers 2`.
//!
//!   cargo bench --bench ceiling -- [JOBS]
//!
//! Prints one line per ceiling: jobs/s, and the CPU this process spent per job (the parent's
//! share of a spawn, which fsq's own CPU per item is compared with).

use std::fs;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::Instant;

const THREADS: usize = 2;

fn main() {
    let jobs: usize = std::env::args()
        .skip(1)
        .find_map(|arg| arg.parse().ok())
        .unwrap_or(10_000);
    let (spawn, cpu) = rate(jobs, |_| run_true());
    println!(
        "spawn `true` from Rust, {THREADS} threads: {spawn:.0} jobs/s, {cpu:.0} us own CPU/job"
    );

    let dir = std::env::temp_dir().join(format!("fsq-ceiling-{}", std::process::id()));
    let names = make_queue(&dir, jobs);
    let (claim, cpu) = rate(jobs, |index| {
        let name = &names[index];
        let worker = dir
            .join("process")
            .join(format!("{:?}", thread::current().id()));
        let _ = fs::create_dir(&worker);
        fs::rename(dir.join(name), worker.join(name)).expect("claim");
        run_true();
        fs::rename(worker.join(name), dir.join("success").join(name)).expect("finish");
    });
    println!("rename-claim loop, {THREADS} threads: {claim:.0} jobs/s, {cpu:.0} us own CPU/job");
    let done = fs::read_dir(dir.join("success")).map_or(0, Iterator::count);
    fs::remove_dir_all(&dir).expect("clean up");
    assert_eq!(done, jobs, "every item ends in success/");
}

/// Runs `job(index)` for every index on `THREADS` threads; returns jobs per second and this
/// process's own CPU microseconds per job.
fn rate(jobs: usize, job: impl Fn(usize) + Sync) -> (f64, f64) {
    let next = AtomicUsize::new(0);
    let cpu = own_cpu_ticks();
    let start = Instant::now();
    thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= jobs {
                        break;
                    }
                    job(index);
                }
            });
        }
    });
    let wall = start.elapsed().as_secs_f64();
    let cpu = (own_cpu_ticks() - cpu) as f64 / TICKS_PER_SECOND * 1e6;
    (jobs as f64 / wall, cpu / jobs as f64)
}

/// The kernel's `USER_HZ`, the unit of /proc times: 100 on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// User + system time of this process so far, from /proc/self/stat (children excluded).
fn own_cpu_ticks() -> u64 {
    let stat = fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .expect("stat")
        .1
        .split_whitespace()
        .collect();
    fields[11].parse::<u64>().expect("utime") + fields[12].parse::<u64>().expect("stime")
}

fn run_true() {
    let status = Command::new("/bin/true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .status()
        .expect("run true");
    assert!(status.success());
}

fn make_queue(dir: &Path, jobs: usize) -> Vec<String> {
    fs::create_dir_all(dir.join("process")).expect("process/");
    fs::create_dir_all(dir.join("success")).expect("success/");
    (0..jobs)
        .map(|index| {
            let name = format!("job-{index:05}");
            fs::write(dir.join(&name), b"").expect("item");
            name
        })
        .collect()
}
