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

/// The worker's copy (in `seen`) of the item `name` of `root`, once the item is in success/:
/// until the job has ended, the copy may be half written.
fn copy_once_done(root: &Path, seen: &Path, name: &str) -> Vec<u8> {
    wait_for(20, "the item to run", || {
        ls(&root.join("success"))
            .iter()
            .any(|done| done == name)
            .then_some(())
    });
    fs::read(seen.join(name)).unwrap()
}

/// Stops `copier` (a process group writing `target`) once it has written something, checks the
/// file stays unclaimed for three quiet periods, lets it finish, and checks the worker took it
/// whole (its copy in `seen`).
fn stopped_mid_file(mut copier: Child, target: &Path, content: &[u8], seen: &Path) {
    let group = Pid::from_raw(copier.id() as i32).unwrap();
    wait_for(20, "the copy's first bytes", || {
        (fs::metadata(target).ok()?.len() > 0).then_some(())
    });
    kill_process_group(group, Signal::STOP).unwrap();
    let stopped_at = fs::metadata(target).unwrap().len();
    assert!(
        stopped_at < content.len() as u64,
        "the copy ended before it was stopped"
    );
    stays_unclaimed(target, Duration::from_secs(3));
    kill_process_group(group, Signal::CONT).unwrap();
    assert!(copier.wait().unwrap().success());
    let name = target.file_name().unwrap().to_str().unwrap();
    let got = copy_once_done(target.parent().unwrap(), seen, name);
    assert!(
        got == content,
        "got {} of {} bytes",
        got.len(),
        content.len()
    );
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
    let got = copy_once_done(&root, &seen, "slow.bin");
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
    let got = copy_once_done(&root, &seen, "stalled.bin");
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
    let got = copy_once_done(&root, &seen, "two.txt");
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
    let rsync = Command::new("rsync")
        .args(["--inplace", "--bwlimit=100"])
        .arg(&source)
        .arg(&target)
        .process_group(0)
        .spawn()
        .unwrap();
    stopped_mid_file(rsync, &target, &content, &seen);
    stop_worker(worker);
}

/// An sshd bound to 127.0.0.1 on a free port, logging in the current user with a fresh key.
struct Sshd {
    child: Child,
    port: u16,
    key: PathBuf,
    user: String,
}

impl Sshd {
    /// Starts one in `dir`; `None` (said loudly by the caller) when sshd or its tools are missing.
    fn start(dir: &Path) -> Option<Sshd> {
        let keygen = |path: &Path| {
            Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(path)
                .status()
                .is_ok_and(|s| s.success())
        };
        let (host_key, key) = (dir.join("host_key"), dir.join("client_key"));
        if !keygen(&host_key) || !keygen(&key) {
            return None;
        }
        fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys")).ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let config = dir.join("sshd_config");
        fs::write(
            &config,
            format!(
                "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nAuthorizedKeysFile {}\n\
                 StrictModes no\nPidFile none\nUsePAM no\nSubsystem sftp internal-sftp\n",
                host_key.display(),
                dir.join("authorized_keys").display()
            ),
        )
        .ok()?;
        // Privilege separation wants its empty folder when sshd runs as root.
        let _ = fs::create_dir_all("/run/sshd");
        let child = Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let user = String::from_utf8(Command::new("id").arg("-un").output().ok()?.stdout).ok()?;
        let mut sshd = Sshd {
            child,
            port,
            key,
            user: user.trim().to_string(),
        };
        let listening = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > listening || sshd.child.try_wait().ok()?.is_some() {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(sshd)
    }

    /// `scp` of `source` to `target` on this host, at `kbits` per second, in its own group.
    fn scp(&self, source: &Path, target: &Path, kbits: u32) -> Child {
        Command::new("scp")
            .arg("-i")
            .arg(&self.key)
            .args(["-P", &self.port.to_string(), "-l", &kbits.to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "LogLevel=ERROR", "-o", "BatchMode=yes"])
            .arg(source)
            .arg(format!("{}@127.0.0.1:{}", self.user, target.display()))
            .process_group(0)
            .spawn()
            .unwrap()
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn scp_through_a_local_sshd_stopped_mid_file_is_taken_whole() {
    let (dir, root) = queue(&[], "quiet_period = \"1s\"\nsettle_time = \"500ms\"");
    let Some(sshd) = Sshd::start(dir.path()) else {
        eprintln!(
            "SKIPPED scp_through_a_local_sshd_stopped_mid_file_is_taken_whole: \
             sshd, ssh-keygen or scp is missing or sshd would not start"
        );
        return;
    };
    let (worker, seen) = copying_worker(dir.path(), &root);
    let source = dir.path().join("clip.bin");
    let content: Vec<u8> = (0..300_000u32).map(|i| (i % 253) as u8).collect();
    fs::write(&source, &content).unwrap();
    let target = root.join("clip.bin");
    // 800 kbit/s: about three seconds for the whole file.
    let scp = sshd.scp(&source, &target, 800);
    // The client stops; the server's sftp process keeps the file open.
    stopped_mid_file(scp, &target, &content, &seen);
    stop_worker(worker);
}
