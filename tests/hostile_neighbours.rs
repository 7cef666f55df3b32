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
        stderr(&out).contains("convert.sh: writable by its group and others"),
        "{}",
        stderr(&out)
    );
    assert_eq!(pending(&root), ["b"]);
}

/// Every entry under the state folders (and the root) that is a symbolic link.
fn symlinks_in_states(root: &Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap().flatten() {
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                found.push(entry.path());
            } else if kind.is_dir() && entry.file_name() != "_meta" {
                dirs.push(entry.path());
            }
        }
    }
    found
}

#[test]
fn a_claim_swapped_for_a_symlink_is_never_read_through_nor_moved_on() {
    let (dir, root) = queue(&["doc.txt"], "");
    let secret = dir.path().join("secret");
    fs::write(&secret, "TOP SECRET\n").unwrap();
    chmod(&secret, 0o600);
    let (gate, out) = (dir.path().join("gate"), dir.path().join("out"));
    let started = dir.path().join("started");
    // The swap must come after the worker opened and validated the claim: the job says when.
    let script = format!(
        "touch '{}'; while [ ! -e '{}' ]; do sleep 0.02; done; cat \"$1\" > '{}'",
        started.display(),
        gate.display(),
        out.display()
    );
    let worker = WorkerGuard(Some(
        fsq()
            .arg("work")
            .arg(&root)
            .args(["--", "sh", "-c", &script, "sh", "{input}"])
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    ));
    let claim = wait_for(20, "the claim", || {
        let owner = fs::read_dir(root.join("process")).ok()?.flatten().next()?;
        let item = fs::read_dir(owner.path())
            .ok()?
            .flatten()
            .find(|e| !e.file_name().as_encoded_bytes().starts_with(b"."))?;
        Some(item.path())
    });
    wait_for(20, "the job to start", || started.exists().then_some(()));
    let folder = claim.parent().unwrap();
    let mode = fs::metadata(folder).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o700, "a claim folder is the worker's alone");
    // The swap, as a neighbour with write access would do it: a link renamed over the claim.
    let link = folder.join("swap");
    std::os::unix::fs::symlink(&secret, &link).unwrap();
    fs::rename(&link, &claim).unwrap();
    fs::write(&gate, "").unwrap();
    wait_for(20, "the run to end", || {
        let ended = fs::read_dir(folder).map_or(true, |d| d.count() == 0);
        (ended && out.exists()).then_some(())
    });
    drop(worker);
    let read = fs::read_to_string(&out).unwrap();
    assert_eq!(
        read, "content of doc.txt\n",
        "the command read the validated file"
    );
    assert_eq!(symlinks_in_states(&root), Vec::<std::path::PathBuf>::new());
    assert!(
        fs::read_to_string(&secret).unwrap().contains("SECRET"),
        "untouched"
    );
}
