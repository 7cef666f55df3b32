//! Every item is itself: attempts, reasons and logs belong to one item through its states and
//! renames, a new item of an old name inherits nothing, removing one touches no other, and names
//! people choose (with `!`, camera numbering, 255 bytes) keep every byte through reorders and
//! built-in copies. Each test is named after what broke when records belonged to a name.

mod common;

use std::fs;

use common::*;

fn fail_with(root: &std::path::Path, attempts: &str) -> std::process::Output {
    drain(root, &["--max-attempts", attempts, "--", "false"])
}

#[test]
fn a_new_item_of_a_failed_name_starts_with_no_attempts() {
    let (_dir, root) = queue(&["scan.pdf"], "");
    let out = fail_with(&root, "1");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("failed")), ["scan.pdf"]);
    // The same name dropped again tomorrow, new content: its first failure is its first.
    add_old(&root, "scan.pdf".as_ref(), b"a better scan");
    let out = fail_with(&root, "1");
    assert!(out.status.success(), "{}", stderr(&out));
    let failed = ls_json(&root, "failed");
    let failed = failed.as_array().unwrap();
    assert_eq!(failed.len(), 2);
    for item in failed {
        assert_eq!(item["name"], "scan.pdf");
        assert_eq!(item["attempts"], 1, "{item}");
    }
}

#[test]
fn removing_a_success_item_keeps_the_records_of_a_failed_one_of_the_same_name() {
    let (_dir, root) = queue(&["report.pdf"], "");
    assert!(fail_with(&root, "1").status.success());
    add_old(&root, "report.pdf".as_ref(), b"second");
    assert!(drain(&root, &["--", "true"]).status.success());
    assert_eq!(ls(&root.join("success")), ["report.pdf"]);
    let failed_log = meta_of(&root, "logs", "failed/report.pdf");
    let out = fsq()
        .arg("rm")
        .arg(&root)
        .arg("success/report.pdf")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(failed_log.exists(), "the failed item's log is its own");
    let failed = ls_json(&root, "failed");
    assert_eq!(failed[0]["reason"], "exit code 1");
}

#[test]
fn re_adding_a_name_already_in_success_keeps_each_run_in_its_own_log() {
    let (_dir, root) = queue(&["note.txt"], "");
    let loud = ["--", "sh", "-c", "echo run of {name}; cat {input}"];
    assert!(drain(&root, &loud).status.success());
    add_old(&root, "note.txt".as_ref(), b"the second note\n");
    assert!(drain(&root, &loud).status.success());
    let logs: Vec<String> = fs::read_dir(root.join("_meta/logs"))
        .unwrap()
        .flatten()
        .map(|e| fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(logs.len(), 2, "{logs:?}");
    assert!(logs.iter().all(|log| log.matches("=== fsq:").count() == 1));
    assert!(logs.iter().any(|log| log.contains("the second note")));
}

#[test]
fn names_that_look_like_sort_prefixes_are_all_copied_whole() {
    let (dir, root) = queue(&["Draft1!notes.txt", "Draft2!notes.txt", "notes.txt"], "");
    let backup = dir.path().join("backup");
    fs::write(
        root.join("_meta/config.toml"),
        format!(
            "[worker]\nprocessor = \"copy\"\ndestinations = [\"{}\"]\n",
            backup.display()
        ),
    )
    .unwrap();
    let out = drain(&root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        ls(&backup),
        ["Draft1!notes.txt", "Draft2!notes.txt", "notes.txt"]
    );
    let content = fs::read_to_string(backup.join("Draft2!notes.txt")).unwrap();
    assert_eq!(content, "content of Draft2!notes.txt\n");
}

#[test]
fn two_long_names_sharing_their_first_200_bytes_copy_in_parallel_without_mixing() {
    let stem = "x".repeat(210);
    let (one, two) = (format!("{stem}-one.bin"), format!("{stem}-two.bin"));
    let (dir, root) = queue(&[&one, &two], "");
    let backup = dir.path().join("backup");
    fs::write(
        root.join("_meta/config.toml"),
        format!(
            "[worker]\nprocessor = \"copy\"\nthrottle = \"64KiB\"\ndestinations = [\"{}\"]\n",
            backup.display()
        ),
    )
    .unwrap();
    // Enough content that the two copies overlap in time at the throttle.
    for name in [&one, &two] {
        add_old(&root, name.as_ref(), name.repeat(200).as_bytes());
    }
    let out = drain(&root, &["--workers", "2"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for name in [&one, &two] {
        assert_eq!(
            fs::read(backup.join(name)).unwrap(),
            name.repeat(200).as_bytes()
        );
    }
}

#[test]
fn reordering_a_name_with_an_exclamation_mark_keeps_it_whole() {
    let (_dir, root) = queue(&["Hello!World.txt", "a.txt", "b.txt"], "");
    let out = fsq()
        .arg("order")
        .arg(&root)
        .arg("Hello!World.txt")
        .arg("--last")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let pending = ls_json(&root, "pending");
    let names: Vec<&str> = pending
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["a.txt", "b.txt", "Hello!World.txt"]);
}
