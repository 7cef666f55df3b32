//! Other users sharing a queue through a group: what they can write must not steer the worker.
//! A config, hook or command program they could change is refused; a claim they swap for a
//! symbolic link is never read through, and never moves on into a state folder.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::*;

fn chmod(path: &Path, mode: u32) {
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

/// The display names of the files in the root, sorted.
fn pending(root: &Path) -> Vec<String> {
    let mut names: Vec<String> = files_in(root)
        .iter()
        .map(|file| {
            fsq::queue::display_name(file)
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    names.sort();
    names
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[test]
fn a_config_others_can_write_stops_the_worker() {
    let (dir, root) = queue(&["a"], "command = [\"touch\", \"RAN\"]");
    let config = root.join("_meta/config.toml");
    chmod(&config, 0o666);
    let out = drain(&root, &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("config.toml") && err.contains("chmod go-w"),
        "{err}"
    );
    assert_eq!(pending(&root), ["a"], "nothing was claimed");
    assert!(!dir.path().join("RAN").exists());

    if is_root() {
        // Owned by another user (nobody), even with safe bits: its owner could rewrite it.
        chmod(&config, 0o644);
        std::os::unix::fs::chown(&config, Some(65534), Some(65534)).unwrap();
        let out = drain(&root, &[]);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(
            err.contains("owned by uid 65534") && err.contains("chown"),
            "{err}"
        );
        std::os::unix::fs::chown(&config, Some(0), Some(0)).unwrap();
    }
    let out = drain(&root, &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ls(&root.join("success")), ["a"]);
}

#[test]
fn a_hook_or_command_others_can_write_stops_the_worker() {
    let tmp = tempfile::tempdir().unwrap();
    let hook = tmp.path().join("hook.sh");
    fs::write(&hook, "#!/bin/sh\ntrue\n").unwrap();
    chmod(&hook, 0o775);
    let config = format!(
        "command = [\"true\"]\non_success = [\"{}\"]",
        hook.display()
    );
    let (_dir, root) = queue(&["a"], &config);
    let out = drain(&root, &[]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("hook.sh") && err.contains("chmod go-w"),
        "{err}"
    );
    assert_eq!(pending(&root), ["a"]);

    chmod(&hook, 0o755);
    let out = drain(&root, &["--", hook.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = tmp.path().join("convert.sh");
    fs::write(&script, "#!/bin/sh\ntrue\n").unwrap();
    chmod(&script, 0o777);
    add_old(&root, "b".as_ref(), b"b");
    let out = drain(&root, &["--", script.to_str().unwrap()]);
    assert!(
        stderr(&out).contains("convert.sh is writable by anyone"),
        "{}",
        stderr(&out)
    );
    assert_eq!(pending(&root), ["b"]);
}
