//! The management CLI on real queues in temp folders: every transition, the JSON contract,
//! hostile names, bad input, and processes racing over the same items.

mod common;

use std::ffi::{OsStr, OsString};
use std::fs;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use common::{TestQueue, files_in, fsq};

fn names(q: &TestQueue, state: &str) -> Vec<String> {
    q.ls_json(state)
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_string())
        .collect()
}

fn add_all(q: &TestQueue, names: &[&str]) {
    for name in names {
        let src = q.source(name, name.as_bytes());
        q.ok("add", [src]);
    }
}

#[test]
fn init_is_idempotent_and_writes_a_config() {
    let q = TestQueue::new();
    fs::write(q.dir.join("_meta/config.toml"), "[worker]\nworkers = 4\n").unwrap();
    let out = fsq().arg("init").arg(&q.dir).output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        fs::read_to_string(q.dir.join("_meta/config.toml")).unwrap(),
        "[worker]\nworkers = 4\n"
    );
    for state in ["new", "process", "success", "failed", "delayed", "paused"] {
        assert!(q.dir.join(state).is_dir(), "{state}");
    }
}

#[test]
fn a_missing_or_foreign_folder_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = fsq()
        .args(["ls"])
        .arg(tmp.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("No such file"));
    let out = fsq().args(["ls"]).arg(tmp.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a queue"));
    let out = fsq().args(["ls", "--bogus"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn order_first_renames_only_that_item_and_plain_ls_shows_it_first() {
    let q = TestQueue::new();
    add_all(&q, &["a", "b", "c", "d"]);
    let before = files_in(&q.dir);
    q.ok("order", ["c", "--first"]);
    let after = files_in(&q.dir);
    // Plain byte-order listing (what `LC_ALL=C ls` prints) starts with c.
    assert_eq!(OsStr::new(&after[0]).as_bytes().last(), Some(&b'c'));
    let unchanged: Vec<_> = before.iter().filter(|n| after.contains(n)).collect();
    assert_eq!(
        unchanged.len(),
        3,
        "only c was renamed: {before:?} -> {after:?}"
    );
    let out = std::process::Command::new("ls")
        .arg(&q.dir)
        .env("LC_ALL", "C")
        .output()
        .unwrap();
    let first_line = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    assert!(first_line.ends_with("+c"), "{first_line}");
    assert_eq!(names(&q, "pending"), ["c", "a", "b", "d"]);

    q.ok("order", ["a", "--after", "d"]);
    assert_eq!(names(&q, "pending"), ["c", "b", "d", "a"]);
    q.ok("order", ["c", "--before", "a"]);
    assert_eq!(names(&q, "pending"), ["b", "d", "c", "a"]);
    q.ok("order", ["b", "--last"]);
    assert_eq!(names(&q, "pending"), ["d", "c", "a", "b"]);
    // Processing and output names never show the prefix.
    let text = String::from_utf8(q.ok("ls", ["pending"]).stdout).unwrap();
    assert_eq!(text, "d\nc\na\nb\n");
}

#[test]
fn ls_json_has_the_documented_fields() {
    let q = TestQueue::new();
    add_all(&q, &["x.txt"]);
    let items = q.ls_json("pending");
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(item["name"], "x.txt");
    assert_eq!(item["file"], "x.txt");
    assert_eq!(item["state"], "pending");
    assert_eq!(item["size"], 5);
    assert!(item["mtime"].as_u64().unwrap() > 1_600_000_000);
    assert_eq!(item["attempts"], 0);
    assert!(item["reason"].is_null());
}

#[test]
fn status_json_counts_every_state() {
    let q = TestQueue::new();
    add_all(&q, &["a", "b"]);
    q.ok("pause", ["b"]);
    let out = q.ok("status", ["--json"]);
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let counts = &status["counts"];
    for state in [
        "pending", "new", "process", "success", "failed", "delayed", "paused",
    ] {
        assert!(counts[state].is_u64(), "{state}");
    }
    assert_eq!(counts["pending"], 1);
    assert_eq!(counts["paused"], 1);
    assert!(status["workers"].is_array());
    assert!(status["running"].is_array());
    assert_eq!(status["failed"], serde_json::json!([]));
}

#[test]
fn status_says_why_failed_items_failed() {
    let q = TestQueue::new();
    add_all(&q, &["bad.mp4"]);
    let out = common::drain(&q.dir, &["--max-attempts", "1", "--", "false"]);
    assert!(out.status.success(), "{out:?}");
    let status: serde_json::Value =
        serde_json::from_slice(&q.ok("status", ["--json"]).stdout).unwrap();
    assert_eq!(status["failed"][0]["item"], "bad.mp4");
    assert_eq!(status["failed"][0]["reason"], "exit code 1");
    assert_eq!(status["failed"][0]["attempts"], 1);
    let text = String::from_utf8(q.ok("status", Vec::<&str>::new()).stdout).unwrap();
    assert!(text.contains("failed bad.mp4: exit code 1"), "{text}");
}

#[test]
fn transitions_between_states() {
    let q = TestQueue::new();
    add_all(&q, &["a", "b", "c"]);
    q.ok("pause", ["a"]);
    assert_eq!(names(&q, "paused"), ["a"]);
    let out = q.run("pause", ["a"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a paused item cannot be paused again"
    );
    q.ok("resume", ["a"]);
    q.ok("mv", ["a", "b", "--to", "failed"]);
    assert_eq!(names(&q, "failed"), ["a", "b"]);
    q.ok("retry", ["a"]);
    q.ok("mv", ["c", "--to", "delayed"]);
    q.ok("retry", ["--all"]);
    assert_eq!(names(&q, "pending"), ["a", "b", "c"]);
    assert_eq!(q.run("mv", ["a", "--to", "process"]).status.code(), Some(1));
    q.ok("rm", ["a"]);
    assert_eq!(names(&q, "pending"), ["b", "c"]);
}

#[test]
fn rm_refuses_running_items_without_force() {
    let q = TestQueue::new();
    fs::create_dir_all(q.dir.join("process/w1")).unwrap();
    fs::write(q.dir.join("process/w1/job"), "x").unwrap();
    let out = q.run("rm", ["job"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force"));
    assert!(q.dir.join("process/w1/job").exists());
    q.ok("rm", ["job", "--force"]);
    assert!(!q.dir.join("process/w1/job").exists());
}

#[test]
fn ambiguous_names_need_a_state() {
    let q = TestQueue::new();
    add_all(&q, &["a"]);
    fs::write(q.dir.join("failed/a"), "old").unwrap();
    let out = q.run("rm", ["a"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("several states"));
    q.ok("rm", ["failed/a"]);
    assert_eq!(names(&q, "pending"), ["a"]);
}

#[test]
fn one_missing_item_is_reported_and_the_rest_go_on() {
    let q = TestQueue::new();
    add_all(&q, &["a", "b"]);
    let out = q.run("mv", ["gone", "b", "--to", "paused"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no item named gone"));
    assert_eq!(names(&q, "paused"), ["b"]);
}

#[test]
fn add_from_stdin_move_and_name_collisions() {
    let q = TestQueue::new();
    let mut child = fsq()
        .args(["add"])
        .arg(&q.dir)
        .args(["-", "--name", "from-stdin.txt"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"piped").unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(fs::read(q.dir.join("from-stdin.txt")).unwrap(), b"piped");

    let src = q.source("from-stdin.txt", b"second");
    let out = q.ok("add", [&src]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("from-stdin (2).txt"));
    assert!(src.exists(), "copies leave the source");
    let moved = q.source("moved", b"m");
    q.ok("add", [moved.as_os_str(), OsStr::new("--move")]);
    assert!(!moved.exists());
    assert_eq!(fs::read(q.dir.join("moved")).unwrap(), b"m");
}

#[test]
fn add_refuses_symlinks_unless_followed() {
    let q = TestQueue::new();
    let target = q.source("target", b"t");
    let link = q.tmp.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = q.run("add", [&link]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("symbolic link") && stderr.contains("--follow"),
        "{stderr}"
    );
    assert!(names(&q, "pending").is_empty());
    q.ok("add", [link.as_os_str(), OsStr::new("--follow")]);
    assert_eq!(fs::read(q.dir.join("link")).unwrap(), b"t");
}

/// Names that break shells, terminals and naive parsers.
fn hostile_names() -> Vec<OsString> {
    let mut names: Vec<OsString> = [
        "with space",
        "quote'single",
        "quote\"double",
        "$(touch CANARY)",
        "`touch CANARY`",
        "semi;pipe|amp&",
        "new\nline",
        "tab\there",
        "esc\u{1b}[31mred",
        "-rf",
        "--help",
        "日本語のファイル.txt",
        "emoji 🎞️.mp4",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    names.push(OsString::from(format!("{}.txt", "n".repeat(251))));
    names.push(OsString::from_vec(b"latin1-\xe9t\xe9".to_vec()));
    names
}

#[test]
fn hostile_names_round_trip_through_every_command() {
    let q = TestQueue::new();
    let names = hostile_names();
    for name in &names {
        let src = q.source(name, name.as_bytes());
        q.ok("add", [&src]);
    }
    let listed = q.ls_json("pending");
    assert_eq!(listed.len(), names.len());
    let escaped: Vec<_> = listed
        .iter()
        .filter(|v| v["name_escaped"] == true)
        .collect();
    assert_eq!(escaped.len(), 1);
    assert_eq!(escaped[0]["name"], "latin1-\\xE9t\\xE9");

    let sep = OsStr::new("--");
    for name in &names {
        let args = |extra: &[&str]| -> Vec<OsString> {
            let mut v: Vec<OsString> = extra.iter().map(OsString::from).collect();
            v.push(sep.into());
            v.push(name.clone());
            v
        };
        q.ok("pause", args(&[]));
        assert_eq!(q.ls_json("paused").len(), 1);
        q.ok("resume", args(&[]));
        q.ok("order", args(&["--first"]));
        let first = &q.ls_json("pending")[0];
        let shown = if first["name_escaped"] == true {
            None
        } else {
            first["name"].as_str()
        };
        if let Some(shown) = shown {
            assert_eq!(OsStr::new(shown), name.as_os_str());
        }
        q.ok("mv", args(&["--to", "failed"]));
        q.ok("retry", args(&[]));
        q.ok("mv", args(&["--to", "success"]));
    }
    // Content intact (each file holds its own display name), no canary created anywhere.
    let done = files_in(&q.dir.join("success"));
    assert_eq!(done.len(), names.len());
    for file in &done {
        let content = fs::read(q.dir.join("success").join(file)).unwrap();
        let (shown, shortened) = without_tag(file.as_bytes());
        if shortened {
            // The file name carries the first bytes of the name; the whole is in its record.
            let stem = shown.split(|b| *b == b'.').next().unwrap();
            assert!(content.starts_with(stem), "{file:?}");
        } else {
            assert_eq!(content, shown, "{file:?}");
        }
    }
    assert!(!q.tmp.path().join("CANARY").exists() && !q.dir.join("CANARY").exists());
    assert!(!std::path::Path::new("CANARY").exists());
    for name in &names {
        q.ok("rm", [sep, name.as_os_str()]);
    }
    assert!(files_in(&q.dir.join("success")).is_empty());
}

/// The format's rule, written again independently from docs/FORMAT.md: the name after the first
/// `+ID+` (or `+ID=`, shortened) whose 15-character id is lowercase base32 with a valid check
/// character; the whole name when there is none. Returns the name and whether it is shortened.
fn without_tag(file: &[u8]) -> (&[u8], bool) {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuv";
    let check = |id: &[u8]| {
        let mut h: u32 = 0x811c_9dc5;
        for b in &id[..14] {
            h = (h ^ u32::from(*b)).wrapping_mul(0x0100_0193);
        }
        let folded = (h ^ (h >> 5) ^ (h >> 10) ^ (h >> 15) ^ (h >> 20) ^ (h >> 25)) & 31;
        DIGITS[folded as usize] == id[14]
    };
    for start in (0..file.len()).filter(|i| file[*i] == b'+') {
        let Some(block) = file.get(start..start + 17) else {
            break;
        };
        let id = &block[1..16];
        if id.iter().all(|b| DIGITS.contains(b)) && check(id) && matches!(block[16], b'+' | b'=') {
            return (&file[start + 17..], block[16] == b'=');
        }
    }
    (file, false)
}

#[test]
fn ls_prints_raw_bytes_to_a_pipe() {
    let q = TestQueue::new();
    let name = OsString::from_vec(b"bad-\xff".to_vec());
    let src = q.source(&name, b"x");
    q.ok("add", [&src]);
    let out = q.ok("ls", ["pending"]);
    assert_eq!(out.stdout, b"bad-\xff\n");
}

/// A full disk during `add` leaves no partial item (needs root to mount a small tmpfs; the
/// injected-failure unit test in `queue::enqueue` covers the same path without root).
#[test]
fn full_disk_during_add_leaves_no_partial_item() {
    let tmp = tempfile::tempdir().unwrap();
    let mount_point = tmp.path().join("small");
    fs::create_dir(&mount_point).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=256k", "tmpfs"])
        .arg(&mount_point)
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: cannot mount a tmpfs here (not root)");
        return;
    }
    let result = std::panic::catch_unwind(|| {
        let dir = mount_point.join("q");
        assert!(fsq().arg("init").arg(&dir).status().unwrap().success());
        let big = tmp.path().join("big.bin");
        fs::write(&big, vec![7u8; 1 << 20]).unwrap();
        let out = fsq().arg("add").arg(&dir).arg(&big).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("No space left"),
            "{:?}",
            out
        );
        assert!(files_in(&dir).is_empty(), "no partial item in the root");
        assert!(
            fs::read_dir(dir.join("new")).unwrap().next().is_none(),
            "no temp left in new/"
        );
    });
    let _ = std::process::Command::new("umount")
        .arg(&mount_point)
        .status();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

/// Every file in tests/invalid_configs/ names, in its first line, the line:column and message
/// that `fsq` must report for it; nothing in the queue may change. The commander (which checks
/// `[tui]`, its keys and its theme before it needs a terminal) reports them all. (`user_*` files
/// are user configs, checked in cli_check.rs.)
#[test]
fn broken_configs_are_reported_with_line_and_column() {
    let mut checked = 0;
    for fixture in common::invalid_configs(false) {
        let (path, position, message) = (
            &fixture.path,
            fixture.position.as_str(),
            fixture.message.as_str(),
        );
        let q = TestQueue::new();
        add_all(&q, &["item"]);
        fs::write(q.dir.join("_meta/config.toml"), &fixture.bytes).unwrap();
        let mut commands = vec![vec!["--no-worker"]];
        if fixture.everywhere {
            commands.extend([vec!["status"], vec!["work", "--drain"]]);
        }
        for args in commands {
            let mut command = fsq();
            if args[0] == "--no-worker" {
                command.arg(&q.dir).args(&args);
            } else {
                command.arg(args[0]).arg(&q.dir).args(&args[1..]);
            }
            let out = command.output().unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{path:?} {args:?}: {stderr}");
            assert!(
                stderr.contains(&format!("config.toml:{position}")),
                "{path:?} {args:?}: {stderr}"
            );
            assert!(stderr.contains(message), "{path:?} {args:?}: {stderr}");
        }
        assert_eq!(names(&q, "pending"), ["item"], "nothing was claimed");
        checked += 1;
    }
    assert!(checked >= 10);
}

/// Theme files in tests/invalid_configs/themes/ likewise: the error names the theme file, the
/// line and the column.
#[test]
fn broken_theme_files_are_reported_with_line_and_column() {
    let fixtures =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/invalid_configs/themes");
    let mut checked = 0;
    for entry in fs::read_dir(&fixtures).unwrap() {
        let path = entry.unwrap().path();
        let text = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
        let (_, position, message) = common::expectation(&path, &text);
        let q = TestQueue::new();
        for theme in [
            vec!["--theme".to_string(), path.display().to_string()],
            vec![],
        ] {
            let config = format!("[tui]\ntheme = {:?}\n", path.display().to_string());
            fs::write(q.dir.join("_meta/config.toml"), config).unwrap();
            let out = fsq()
                .arg(&q.dir)
                .arg("--no-worker")
                .args(&theme)
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(1), "{path:?}: {stderr}");
            let file_name = path.file_name().unwrap().to_string_lossy();
            assert!(
                stderr.contains(&format!("{file_name}:{position}")),
                "{path:?}: {stderr}"
            );
            assert!(stderr.contains(&message), "{path:?}: {stderr}");
        }
        checked += 1;
    }
    assert!(checked >= 3);
}

#[test]
fn retry_via_cli_of_a_renumbered_item_resets_its_attempts() {
    let q = TestQueue::new();
    fs::write(q.dir.join("a.txt"), "new").unwrap();
    fs::create_dir_all(q.state_dir("failed")).unwrap();
    fs::write(q.state_dir("failed").join("a.txt"), "old").unwrap();
    fs::write(
        q.dir.join("_meta/items/a.txt"),
        r#"{"attempts": 3, "reason": "exit code 1", "retry_at": null}"#,
    )
    .unwrap();
    q.ok("retry", ["failed/a.txt"]);
    let pending = q.ls_json("pending");
    let renamed = pending
        .iter()
        .find(|i| i["name"] == "a (2).txt")
        .unwrap_or_else(|| panic!("{pending:?}"));
    assert_eq!(renamed["attempts"], 0, "{renamed}");
}

/// `fsq rm q x 2>&1 | true`: with nobody reading stderr, the message is dropped and the exit code
/// still says what happened (1: an item was not found), instead of a panic's 101.
#[test]
fn a_message_to_a_closed_stderr_keeps_the_exit_code() {
    let q = TestQueue::new();
    let (reader, writer) = rustix::pipe::pipe().unwrap();
    drop(reader);
    let status = fsq()
        .arg("rm")
        .arg(&q.dir)
        .arg("no-such-item")
        .stderr(std::process::Stdio::from(writer))
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
}

/// `fsq status q | head -0`, `fsq check q | head -0`: a reader that left is no error and no
/// panic; the command stops quietly.
#[test]
fn status_and_check_into_a_closed_pipe_exit_quietly() {
    let q = TestQueue::new();
    add_all(&q, &["a", "b", "c"]);
    for command in ["status", "check", "ls"] {
        let (reader, writer) = rustix::pipe::pipe().unwrap();
        drop(reader);
        let out = fsq()
            .arg(command)
            .arg(&q.dir)
            .stdout(std::process::Stdio::from(writer))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{command}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{command}: {stderr}");
    }
}
