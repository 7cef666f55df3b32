//! `fsq work --drain` end to end: commands, built-ins, failures and retries, bad input.

mod common;

use std::ffi::OsStr;
use std::fs;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;

use common::*;

#[test]
fn drain_runs_every_item_once_in_order() {
    let names: Vec<String> = (0..30).map(|i| format!("item{i:02}.txt")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let (dir, root) = queue(&refs, "");
    let record = dir.path().join("ran");
    let script = format!("echo \"$1\" >> '{}'", record.display());
    let out = drain(&root, &["--", "sh", "-c", &script, "sh", "{name}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("success")), names);
    assert!(ls(&root).iter().all(|n| !n.starts_with("item")));
    let ran = fs::read_to_string(&record).unwrap();
    let ran: Vec<&str> = ran.lines().collect();
    assert_eq!(ran, refs, "one slot runs items in name order, each once");
    assert!(
        stderr(&out).contains("30 done, 0 failed"),
        "{}",
        stderr(&out)
    );
    assert!(
        ls(&root.join("_meta/workers")).is_empty(),
        "heartbeat retired"
    );
    assert!(ls(&root.join("_meta/progress")).is_empty());
}

#[test]
fn placeholders_and_output_folder() {
    let (_dir, root) = queue(&["clip.one.mp4"], "output = \"_out\"");
    let out = drain(&root, &["--", "cp", "{input}", "{out}/{stem}-{ext}-{name}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        fs::read_to_string(root.join("_out/clip.one-mp4-clip.one.mp4")).unwrap(),
        "content of clip.one.mp4\n"
    );
}

#[test]
fn builtin_copy_to_two_destinations_and_gzip() {
    let (dir, root) = queue(&["a.bin", "b.bin"], "");
    let (one, two) = (dir.path().join("one"), dir.path().join("two"));
    fs::write(
        root.join("_meta/config.toml"),
        format!(
            "[worker]\nprocessor = \"copy\"\ndestinations = [\"{}\", \"{}\"]\n",
            one.display(),
            two.display()
        ),
    )
    .unwrap();
    let out = drain(&root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    for dest in [&one, &two] {
        assert_eq!(ls(dest), ["a.bin", "b.bin"]);
        assert_eq!(
            fs::read_to_string(dest.join("b.bin")).unwrap(),
            "content of b.bin\n"
        );
    }

    let (_dir, root) = queue(&["c.txt"], "processor = \"gzip\"");
    let out = drain(&root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let gz = fs::File::open(root.join("_out/c.txt.gz")).unwrap();
    let mut back = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz), &mut back).unwrap();
    assert_eq!(back, "content of c.txt\n");
    assert_eq!(ls(&root.join("success")), ["c.txt"]);
}

#[test]
fn failure_goes_through_delayed_to_failed_with_attempts() {
    let (dir, root) = queue(
        &["bad", "good"],
        "retry_delay = \"1h\"\nretry_when_idle = true",
    );
    let runs = dir.path().join("runs");
    let script = format!("echo \"$1\" >> '{}'; test \"$1\" = good", runs.display());
    let out = drain(
        &root,
        &[
            "--max-attempts",
            "3",
            "--",
            "sh",
            "-c",
            &script,
            "sh",
            "{name}",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("failed")), ["bad"]);
    assert_eq!(ls(&root.join("success")), ["good"]);
    let runs = fs::read_to_string(&runs).unwrap();
    assert_eq!(runs.lines().filter(|l| *l == "bad").count(), 3, "{runs}");
    let failed = ls_json(&root, "failed");
    assert_eq!(failed[0]["attempts"], 3);
    assert_eq!(failed[0]["reason"], "exit code 1");
    let log = fs::read_to_string(meta_of(&root, "logs", "bad")).unwrap();
    assert_eq!(log.matches("[fsq: exit code 1]").count(), 3, "{log}");
    let err = stderr(&out);
    assert_eq!(
        err.matches("fsq: bad: will retry after ").count(),
        2,
        "{err}"
    );
    assert!(err.contains("fsq: bad: failed after "), "{err}");
    assert!(err.contains("s: exit code 1\n"), "{err}");
}

#[test]
fn a_builtin_that_runs_too_long_times_out_and_leaves_no_partial_output() {
    // 64 KiB at 16 KiB/s takes 4 s; the timeout is 1 s.
    let (_dir, root) = queue(
        &[],
        "processor = \"gzip\"\nthrottle = \"16KiB\"\ntimeout = \"1s\"\nmax_attempts = 1",
    );
    add_old(&root, OsStr::new("big.txt"), &vec![b'x'; 64 << 10]);
    let started = std::time::Instant::now();
    let out = drain(&root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(4),
        "stopped at the timeout"
    );
    assert_eq!(ls(&root.join("failed")), ["big.txt"]);
    assert_eq!(ls_json(&root, "failed")[0]["reason"], "timed out after 1s");
    assert!(
        ls(&root.join("_out")).is_empty(),
        "no partial output left behind"
    );
}

#[test]
fn a_failed_item_waits_in_delayed_while_others_run() {
    // While the root still has work, a failed item keeps its retry time.
    let (dir, root) = queue(&["a-bad", "b", "c"], "retry_delay = \"1h\"");
    let gate = dir.path().join("gate");
    let script = format!(
        "case \"$1\" in a-bad) exit 3;; esac; while [ ! -e '{}' ]; do sleep 0.02; done",
        gate.display()
    );
    let child = fsq()
        .arg("work")
        .arg(&root)
        .args(["--", "sh", "-c", &script, "sh", "{name}"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_for(20, "a-bad in delayed/", || {
        (ls(&root.join("delayed")) == ["a-bad"]).then_some(())
    });
    let delayed = ls_json(&root, "delayed");
    assert_eq!(delayed[0]["attempts"], 1);
    assert_eq!(delayed[0]["reason"], "exit code 3");
    let retry_at = delayed[0]["retry_at"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // An hour, shortened by up to a quarter for jitter.
    assert!(
        retry_at >= now + 2690 && retry_at <= now + 3700,
        "{retry_at} vs {now}"
    );
    fs::write(&gate, "").unwrap();
    stop_worker(child);
}

#[test]
fn missing_command_fails_the_item_and_the_worker_goes_on() {
    let (_dir, root) = queue(&["a", "b"], "max_attempts = 1");
    let out = drain(&root, &["--", "no-such-command-fsq", "{input}"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("failed")), ["a", "b"]);
    let failed = ls_json(&root, "failed");
    assert_eq!(
        failed[0]["reason"],
        "command not found: no-such-command-fsq"
    );
}

#[test]
fn a_bare_command_is_never_taken_from_the_working_directory() {
    let (dir, root) = queue(&["a"], "max_attempts = 1");
    let canary = dir.path().join("canary");
    let trap = dir.path().join("no-such-command-fsq");
    fs::write(&trap, format!("#!/bin/sh\ntouch '{}'\n", canary.display())).unwrap();
    fs::set_permissions(&trap, fs::Permissions::from_mode(0o755)).unwrap();
    let out = fsq()
        .current_dir(dir.path())
        .args(["work", "--drain"])
        .arg(&root)
        .args(["--", "no-such-command-fsq"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        ls_json(&root, "failed")[0]["reason"],
        "command not found: no-such-command-fsq"
    );
    assert!(!canary.exists(), "the file in the working directory ran");
}

#[test]
fn broken_config_stops_before_any_claim() {
    let (_dir, root) = queue(&["a"], "workers = 2\ntimeout = \"soon\"");
    let out = drain(&root, &["--", "true"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("config.toml:3:11:"), "{err}");
    assert_eq!(
        ls(&root),
        [
            "_meta", "a", "delayed", "failed", "new", "paused", "process", "success"
        ]
    );
    assert!(claimed(&root).is_empty());
}

#[test]
fn nothing_to_run_is_an_error() {
    let (_dir, root) = queue(&["a"], "");
    let out = drain(&root, &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nothing to run"), "{}", stderr(&out));
    assert_eq!(ls(&root)[1], "a");
}

#[test]
fn hostile_names_reach_the_command_as_one_argument_each() {
    let names: Vec<&[u8]> = vec![
        b"$(touch CANARY1)",
        b"`touch CANARY2`",
        b"a;touch CANARY3|x&y",
        b"line\nbreak",
        b"-rf",
        b"bad \xff utf8",
        b"quote'\"",
    ];
    let (dir, root) = queue(&[], "");
    for name in &names {
        add_old(&root, std::ffi::OsStr::from_bytes(name), b"x");
    }
    let argv_dir = dir.path().join("argv");
    fs::create_dir(&argv_dir).unwrap();
    // Each run stores its argument count and its arguments, NUL-separated.
    let script = format!(
        "n=$(ls '{0}' | wc -l); printf '%s\\0' \"$#\" \"$@\" > '{0}'/$n",
        argv_dir.display()
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fsq"))
        .current_dir(dir.path())
        .arg("work")
        .arg(&root)
        .args([
            "--drain", "--", "sh", "-c", &script, "sh", "{name}", "{input}",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let mut seen = Vec::new();
    for run in ls(&argv_dir) {
        let bytes = fs::read(argv_dir.join(run)).unwrap();
        let parts: Vec<&[u8]> = bytes.split(|b| *b == 0).collect();
        assert_eq!(parts[0], b"2", "{parts:?}");
        // The validated file, handed over through a folder the worker holds open.
        assert!(parts[2].starts_with(b"/dev/fd/"), "{parts:?}");
        assert!(parts[2].ends_with(parts[1]));
        seen.push(parts[1].to_vec());
    }
    seen.sort();
    let mut expected: Vec<Vec<u8>> = names.iter().map(|n| n.to_vec()).collect();
    expected.sort();
    assert_eq!(seen, expected);
    for canary in ["CANARY1", "CANARY2", "CANARY3", "X"] {
        assert!(!dir.path().join(canary).exists(), "{canary} was created");
        assert!(!root.join(canary).exists(), "{canary} was created");
    }
    assert_eq!(ls(&root.join("success")).len(), names.len());
}

#[test]
fn strays_go_to_failed_counted_and_listed_and_folders_stay_where_they_are() {
    let (dir, root) = queue(&["real"], "");
    std::os::unix::fs::symlink(dir.path().join("elsewhere"), root.join("link")).unwrap();
    fs::create_dir(root.join("Holiday photos")).unwrap();
    fs::write(root.join("Holiday photos/IMG_0001.JPG"), "jpeg").unwrap();
    let fifo = root.join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let out = drain(&root, &["--", "true"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("failed")), ["fifo", "link"]);
    assert_eq!(ls(&root.join("success")), ["real"]);
    assert!(
        root.join("Holiday photos/IMG_0001.JPG").is_file(),
        "the folder stays"
    );
    let failed = ls_json(&root, "failed");
    let mut listed: Vec<(&str, &str)> = failed
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["reason"].as_str().unwrap()))
        .collect();
    listed.sort();
    assert_eq!(listed.len(), 2, "{failed}");
    assert!(
        listed[0].0 == "fifo" && listed[0].1.contains("FIFO"),
        "{listed:?}"
    );
    assert!(
        listed[1].0 == "link" && listed[1].1.contains("symbolic link"),
        "{listed:?}"
    );
    let status = fsq()
        .arg("status")
        .arg(&root)
        .arg("--json")
        .output()
        .unwrap();
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["counts"]["failed"], 2, "{status}");
    assert_eq!(status["counts"]["pending"], 0, "a folder is not an item");
    assert_eq!(status["failed"].as_array().unwrap().len(), 2, "{status}");
}

#[test]
fn output_flood_stays_within_the_log_cap() {
    let (_dir, root) = queue(&["loud"], "log_cap = \"64KiB\"\nmax_attempts = 1");
    let out = drain(
        &root,
        &[
            "--",
            "sh",
            "-c",
            "head -c 50000000 /dev/zero | tr '\\0' x; echo THE-END; exit 2",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let log = fs::read(meta_of(&root, "logs", "loud")).unwrap();
    assert!(log.len() < 64 * 1024 + 1024, "log is {} bytes", log.len());
    let text = String::from_utf8_lossy(&log);
    assert!(text.contains("THE-END"), "the tail is kept");
    assert!(text.contains("bytes of output left out"));
    let failed = ls_json(&root, "failed");
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("exit code 2; output cap hit"),
        "{reason}"
    );
}

#[test]
fn a_command_flooding_without_end_still_times_out() {
    // `yes` never pauses, so the pipe is always ready: the timeout must not starve behind it.
    let (_dir, root) = queue(&["endless"], "log_cap = \"64KiB\"\nmax_attempts = 1");
    let out = drain(&root, &["--timeout", "1s", "--", "yes"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let failed = ls_json(&root, "failed");
    let reason = failed[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("timed out after 1s"), "{reason}");
    let log = fs::metadata(meta_of(&root, "logs", "endless")).unwrap();
    assert!(log.len() < 64 * 1024 + 1024, "log is {} bytes", log.len());
}

#[test]
fn hooks_run_after_success_and_final_failure() {
    let (dir, root) = queue(&["ok", "ko"], "max_attempts = 1");
    let hooks = dir.path().join("hooks");
    let config = format!(
        "[worker]\nmax_attempts = 1\ncommand = [\"sh\", \"-c\", \"test $1 = ok\", \"sh\", \"{{name}}\"]\n\
         on_success = [\"sh\", \"-c\", \"echo ok:$1 >> {0}\", \"sh\", \"{{name}}\"]\n\
         on_failure = [\"sh\", \"-c\", \"echo fail:$1:$2 >> {0}\", \"sh\", \"{{name}}\", \"{{reason}}\"]\n",
        hooks.display()
    );
    fs::write(root.join("_meta/config.toml"), config).unwrap();
    let out = drain(&root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = wait_for(10, "both hooks", || {
        let text = fs::read_to_string(&hooks).ok()?;
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        lines.sort();
        (lines.len() == 2).then_some(lines)
    });
    assert_eq!(lines, ["fail:ko:exit code 1", "ok:ok"]);
}

#[test]
fn copy_processor_never_overwrites_a_backup_of_the_same_name() {
    let (dir, root) = queue(&[], "");
    let backup = dir.path().join("backup");
    let write_config = |extra: &str| {
        let config = format!(
            "[worker]\nprocessor = \"copy\"\ndestinations = [\"{}\"]\n{extra}",
            backup.display()
        );
        fs::write(root.join("_meta/config.toml"), config).unwrap();
    };
    write_config("");
    // Two different note.txt, one after the other: the backup keeps both, and the mtime.
    for (content, copy) in [
        ("first note\n", "note.txt"),
        ("second note\n", "note (2).txt"),
    ] {
        add_old(&root, OsStr::new("note.txt"), content.as_bytes());
        let mtime = fs::metadata(root.join("note.txt"))
            .unwrap()
            .modified()
            .unwrap();
        let out = drain(&root, &[]);
        assert!(out.status.success(), "{}", stderr(&out));
        let copy = fs::metadata(backup.join(copy)).unwrap();
        assert_eq!(copy.modified().unwrap(), mtime);
        for done in fs::read_dir(root.join("success")).unwrap() {
            fs::remove_file(done.unwrap().path()).unwrap();
        }
    }
    assert_eq!(ls(&backup), ["note (2).txt", "note.txt"]);
    assert_eq!(
        fs::read_to_string(backup.join("note.txt")).unwrap(),
        "first note\n"
    );
    assert_eq!(
        fs::read_to_string(backup.join("note (2).txt")).unwrap(),
        "second note\n"
    );

    // on_conflict = "fail": the item fails and says why; the backup is untouched.
    write_config("max_attempts = 1\n[processor]\non_conflict = \"fail\"\n");
    add_old(&root, OsStr::new("note.txt"), b"third note\n");
    let out = drain(&root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("failed")), ["note.txt"]);
    assert!(stderr(&out).contains("already exists"), "{}", stderr(&out));
    assert_eq!(ls(&backup), ["note (2).txt", "note.txt"]);
}

/// The private link that hands `{input}` over costs a folder and a link per job: a command that
/// does not name `{input}` must not pay for it (tiny jobs fell 25% behind xargs when it did).
#[test]
fn a_command_without_input_gets_no_private_link_folder() {
    let claim_folder_during_run = |extra: &[&str]| {
        let (dir, root) = queue(&["a.txt"], "");
        let listing = dir.path().join("listing");
        let script = format!("ls -A \"$0\"/process/*/ > '{}'", listing.display());
        let mut args = vec!["--", "sh", "-c", &script, "{queue}"];
        args.extend(extra);
        let out = drain(&root, &args);
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(ls(&root.join("success")), ["a.txt"]);
        fs::read_to_string(listing).unwrap()
    };
    let without = claim_folder_during_run(&[]);
    assert!(!without.contains(".in-"), "{without}");
    assert!(without.contains("a.txt"), "{without}");
    // The same look sees the folder where the command does name `{input}`.
    let with = claim_folder_during_run(&["{input}"]);
    assert!(with.contains(".in-"), "{with}");
}
