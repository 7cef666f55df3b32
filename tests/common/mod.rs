//! Helpers for tests that run the built binary: a queue in a temp folder in one line, waiting
//! for a condition with a deadline instead of sleeping, and stopping workers cleanly.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant, SystemTime};

/// A fresh queue with `names` pending (written an hour ago, so they are stable), and `config`
/// as its `[worker]` section.
pub fn queue(names: &[&str], config: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("q");
    let status = fsq().arg("init").arg(&root).output().unwrap();
    assert!(status.status.success(), "{status:?}");
    fs::write(
        root.join("_meta/config.toml"),
        format!("[worker]\n{config}\n"),
    )
    .unwrap();
    for name in names {
        add_old(
            &root,
            OsStr::new(name),
            format!("content of {name}\n").as_bytes(),
        );
    }
    (dir, root)
}

/// Writes an item into the root with an mtime an hour ago.
pub fn add_old(root: &Path, name: &OsStr, content: &[u8]) {
    let path = root.join(name);
    fs::write(&path, content).unwrap();
    let file = fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(SystemTime::now() - Duration::from_secs(3600))
        .unwrap();
}

pub fn fsq() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fsq"))
}

/// `fsq work DIR --drain [extra...]`, with a deadline.
pub fn drain(root: &Path, extra: &[&str]) -> Output {
    let child = fsq()
        .arg("work")
        .arg(root)
        .arg("--drain")
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let watchdog = std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
            if !Path::new(&format!("/proc/{pid}")).exists() {
                return;
            }
        }
        if let Some(pid) = rustix::process::Pid::from_raw(pid as i32) {
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        }
    });
    let output = child.wait_with_output().unwrap();
    let _ = watchdog.join();
    output
}

/// Display names (file names without sort key and id) in a folder, sorted, as lossy strings.
pub fn ls(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name())
            .filter(|n| !n.as_encoded_bytes().starts_with(b"."))
            .map(|n| fsq::queue::display_name(&n).to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

/// The path of `_meta/<kind>/<id>` for the one item shown as `display` anywhere in the queue, or
/// in one state folder when given as `STATE/NAME`.
pub fn meta_of(root: &Path, kind: &str, display: &str) -> PathBuf {
    find_meta_of(root, kind, display)
        .unwrap_or_else(|| panic!("no item with an id shown as {display}"))
}

/// Like `meta_of`, or `None` while no item shown as `display` has an id (not claimed yet).
pub fn find_meta_of(root: &Path, kind: &str, display: &str) -> Option<PathBuf> {
    if let Some((state, name)) = display.split_once('/') {
        let id = fs::read_dir(root.join(state))
            .ok()?
            .flatten()
            .find_map(|e| {
                let file = e.file_name();
                let parsed = fsq::queue::parse_name(&file);
                (parsed.display == OsStr::new(name)).then_some(parsed.id?)
            })?;
        return Some(root.join("_meta").join(kind).join(id.as_str()));
    }
    let mut dirs = vec![root.to_path_buf()];
    for entry in fs::read_dir(root).unwrap().flatten() {
        if entry.file_type().unwrap().is_dir()
            && !entry.file_name().to_string_lossy().starts_with('_')
        {
            dirs.push(entry.path());
            if entry.file_name() == "process" {
                dirs.extend(
                    fs::read_dir(entry.path())
                        .unwrap()
                        .flatten()
                        .map(|e| e.path()),
                );
            }
        }
    }
    let ids: Vec<_> = dirs
        .iter()
        .filter_map(|dir| fs::read_dir(dir).ok())
        .flat_map(|entries| entries.flatten())
        .map(|e| e.file_name())
        .filter_map(|file| {
            let parsed = fsq::queue::parse_name(&file);
            (parsed.display == OsStr::new(display)).then_some(parsed.id?)
        })
        .collect();
    assert!(
        ids.len() <= 1,
        "one item with an id shown as {display}: {ids:?}"
    );
    Some(root.join("_meta").join(kind).join(ids.first()?.as_str()))
}

/// Every item file under `process/`, whoever holds it.
pub fn claimed(root: &Path) -> Vec<String> {
    let mut all = Vec::new();
    for owner in ls(&root.join("process")) {
        all.extend(ls(&root.join("process").join(owner)));
    }
    all
}

/// Polls `check` until it returns `Some`, or panics with `what` after `secs` seconds.
pub fn wait_for<T>(secs: u64, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The JSON `fsq ls STATE --json` prints.
pub fn ls_json(root: &Path, state: &str) -> serde_json::Value {
    let out = fsq()
        .args(["ls"])
        .arg(root)
        .args([state, "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

pub fn bytes(name: &OsStr) -> &[u8] {
    name.as_bytes()
}

/// Whether a process with this pid exists.
pub fn alive(pid: u32) -> bool {
    // A zombie (exited, not yet reaped) counts as gone.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Stops a `fsq work` as an operator would: SIGTERM, and again until it exits (a second signal
/// requeues running jobs at once), so no job of it outlives the test and spins on in the
/// background. SIGKILL only if it ignores both.
pub fn stop_worker(mut child: std::process::Child) {
    let pid = rustix::process::Pid::from_raw(child.id() as i32).expect("a pid");
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().expect("wait for fsq").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.wait();
}

/// A `fsq work` stopped (see `stop_worker`) when dropped, so a failing test leaks no worker.
pub struct WorkerGuard(pub Option<std::process::Child>);

impl WorkerGuard {
    pub fn id(&self) -> u32 {
        self.0.as_ref().map_or(0, std::process::Child::id)
    }
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.take() {
            stop_worker(child);
        }
    }
}

/// `fsq work DIR -- COMMAND...` in the background, its output discarded.
pub fn quiet_worker(root: &Path, command: &[&str]) -> std::process::Child {
    fsq()
        .arg("work")
        .arg(root)
        .arg("--")
        .args(command)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// `fsq work DIR [extra...]` in the background, stderr piped.
pub fn start_worker(root: &Path, extra: &[&str]) -> std::process::Child {
    fsq()
        .arg("work")
        .arg(root)
        .args(extra)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// The pids a test job wrote into `file`, one a line.
pub fn pids(file: &Path) -> Vec<u32> {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// ffmpeg converting the item to FLAC at real speed (`-re`), reporting progress on stdout.
pub const FFMPEG_TO_FLAC: [&str; 8] = [
    "ffmpeg",
    "-y",
    "-re",
    "-i",
    "{input}",
    "-progress",
    "pipe:1",
    "{out}/{stem}.flac",
];

/// Enqueues `tone.wav`, a sine tone of `secs` seconds made by ffmpeg (which must be installed).
pub fn add_tone(root: &Path, secs: u32) {
    let made = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i"])
        .arg(format!("sine=duration={secs}"))
        .args(["-ar", "8000"])
        .arg(root.join("new/tone.wav"))
        .status()
        .unwrap();
    assert!(made.success());
    fs::rename(root.join("new/tone.wav"), root.join("tone.wav")).unwrap();
}

/// A temp folder holding a fresh queue at `<tmp>/q`.
pub struct TestQueue {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
}

impl TestQueue {
    /// `fsq init` on a new temp folder.
    pub fn new() -> TestQueue {
        let tmp = tempfile::tempdir().expect("temp dir");
        let dir = tmp.path().join("q");
        let out = fsq().arg("init").arg(&dir).output().expect("run fsq init");
        assert!(
            out.status.success(),
            "init failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        TestQueue { tmp, dir }
    }

    /// Runs `fsq SUBCOMMAND DIR ARGS...`.
    pub fn run<I, S>(&self, subcommand: &str, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        fsq()
            .arg(subcommand)
            .arg(&self.dir)
            .args(args)
            .output()
            .expect("run fsq")
    }

    /// Like `run`, asserting success.
    pub fn ok<I, S>(&self, subcommand: &str, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = self.run(subcommand, args);
        assert!(
            out.status.success(),
            "fsq {subcommand} failed ({:?}): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// Writes a source file outside the queue and returns its path.
    pub fn source(&self, name: impl AsRef<OsStr>, content: &[u8]) -> PathBuf {
        let dir = self.tmp.path().join("src");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name.as_ref());
        std::fs::write(&path, content).unwrap();
        path
    }

    /// `fsq ls --json STATE` parsed.
    pub fn ls_json(&self, state: &str) -> Vec<serde_json::Value> {
        let out = self.ok("ls", [state, "--json"]);
        serde_json::from_slice(&out.stdout).expect("ls --json is JSON")
    }

    pub fn state_dir(&self, state: &str) -> PathBuf {
        if state == "pending" {
            self.dir.clone()
        } else {
            self.dir.join(state)
        }
    }
}

/// The regular files of a folder, sorted by bytes.
pub fn files_in(dir: &Path) -> Vec<std::ffi::OsString> {
    let mut names: Vec<_> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| e.file_name())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Whether `tool` is on `$PATH` (tests that need one skip, saying so, without it).
pub fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// A fixture of tests/invalid_configs/: its bytes and what its first line (`# expect: L:C:
/// message`, or `# commander expects: L:C: message` for what only the commander checks) says
/// fsq must report.
pub struct InvalidConfig {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    /// The bytes as text (lossy where they are not UTF-8).
    pub text: String,
    /// `L:C:`
    pub position: String,
    pub message: String,
    /// Every command that reads the config reports it, not only the commander.
    pub everywhere: bool,
}

/// The fixtures whose file names start with `user_` (user configs) or do not (queue configs);
/// folders (themes/) are not configs.
pub fn invalid_configs(user: bool) -> Vec<InvalidConfig> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_configs");
    let mut found = Vec::new();
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() || name.starts_with("user_") != user {
            continue;
        }
        let bytes = fs::read(&path).unwrap();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (everywhere, position, message) = expectation(&path, &text);
        found.push(InvalidConfig {
            position,
            message,
            everywhere,
            path,
            bytes,
            text,
        });
    }
    found
}

/// The `L:C:` and message a fixture's first line says `fsq` must report for it, and whether every
/// command checks it (`# expect:`) or only the commander (`# commander expects:`).
pub fn expectation(path: &Path, text: &str) -> (bool, String, String) {
    let first = text.lines().next().unwrap_or_default();
    let (everywhere, expected) = match first.strip_prefix("# expect: ") {
        Some(rest) => (true, rest),
        None => (
            false,
            first
                .strip_prefix("# commander expects: ")
                .unwrap_or_else(|| panic!("{path:?} says what it expects")),
        ),
    };
    let (position, message) = expected.split_once(' ').unwrap_or((expected, ""));
    (everywhere, position.to_string(), message.to_string())
}
