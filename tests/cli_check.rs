//! `fsq check` on a healthy queue and on each problem it names, each made for real in a temp
//! folder: loose permissions, a missing folder, a broken config, a hook anyone may edit, a full
//! filesystem, a skewed clock, folders this user cannot write.

mod common;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use common::{fsq, have, queue};

/// `fsq check ROOT`, with no user config (the tests' own user's is not the test's business).
fn check(root: &Path) -> Output {
    fsq()
        .arg("check")
        .arg(root)
        .env("XDG_CONFIG_HOME", no_user_config(root))
        .output()
        .unwrap()
}

fn no_user_config(root: &Path) -> std::path::PathBuf {
    root.parent().unwrap().join("no-user-config")
}

/// `fsq check ROOT` run through `wrapper` (faketime, setpriv...).
fn check_through(wrapper: &[&str], root: &Path) -> Output {
    Command::new(wrapper[0])
        .args(&wrapper[1..])
        .arg(env!("CARGO_BIN_EXE_fsq"))
        .arg("check")
        .arg(root)
        .env("XDG_CONFIG_HOME", no_user_config(root))
        .output()
        .unwrap()
}

/// The problem lines of a failed check (notes and the verdict left out).
fn problems(out: &Output) -> Vec<String> {
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with("note: "))
        .map(String::from)
        .collect()
}

fn is_root() -> bool {
    rustix_uid() == 0
}

fn rustix_uid() -> u32 {
    use std::os::unix::fs::MetadataExt;
    fs::metadata("/proc/self").map_or(1, |m| m.uid())
}

#[test]
fn a_fresh_queue_is_healthy() {
    let (_dir, root) = queue(&["a.txt"], "command = [\"true\"]");
    fs::set_permissions(
        root.join("_meta/config.toml"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let out = check(&root);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains(": healthy ("), "{stdout}");
    assert!(stdout.contains("clock within"), "{stdout}");
}

#[test]
fn a_world_writable_config_is_one_line_naming_the_fix() {
    let (_dir, root) = queue(&[], "");
    let config = root.join("_meta/config.toml");
    fs::set_permissions(&config, fs::Permissions::from_mode(0o666)).unwrap();
    let lines = problems(&check(&root));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!(
            "{}: writable by its group and others",
            config.display()
        )),
        "{lines:?}"
    );
    assert!(lines[0].contains("chmod go-w"), "{lines:?}");
}

#[test]
fn a_config_owned_by_another_user_is_a_problem() {
    if !is_root() {
        eprintln!("only root can give a file away; skipped");
        return;
    }
    let (_dir, root) = queue(&[], "");
    let config = root.join("_meta/config.toml");
    std::os::unix::fs::chown(&config, Some(65534), None).unwrap();
    let lines = problems(&check(&root));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("owned by uid 65534"), "{lines:?}");
}

#[test]
fn a_missing_state_folder_is_named_with_the_fix() {
    let (_dir, root) = queue(&[], "");
    fs::remove_dir(root.join("failed")).unwrap();
    fs::remove_dir(root.join("_meta/logs")).unwrap();
    let lines = problems(&check(&root));
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with(&format!("{}: missing", root.join("failed").display())));
    assert!(lines[1].starts_with(&format!("{}: missing", root.join("_meta/logs").display())));
    assert!(lines[0].contains("fsq init"), "{lines:?}");
    // The fix it names works.
    assert!(
        fsq()
            .arg("init")
            .arg(&root)
            .output()
            .unwrap()
            .status
            .success()
    );
    assert_eq!(check(&root).status.code(), Some(0));
}

#[test]
fn a_broken_config_is_reported_with_line_and_column() {
    let (_dir, root) = queue(&[], "");
    fs::write(
        root.join("_meta/config.toml"),
        "[worker]\nworkers = \"many\"\n",
    )
    .unwrap();
    let lines = problems(&check(&root));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("config.toml:2:11:"), "{lines:?}");
}

#[test]
fn a_folder_that_is_not_a_queue_says_how_to_make_one() {
    let dir = tempfile::tempdir().unwrap();
    let lines = problems(&check(dir.path()));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("fsq init"), "{lines:?}");
}

#[test]
fn a_group_writable_hook_is_a_problem_and_a_private_one_is_not() {
    let (dir, root) = queue(&[], "");
    let hook = dir.path().join("notify.sh");
    fs::write(&hook, "#!/bin/sh\n").unwrap();
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o775)).unwrap();
    fs::write(
        root.join("_meta/config.toml"),
        format!(
            "[worker]\ncommand = [\"true\"]\non_failure = [\"{}\", \"{{name}}\"]\n",
            hook.display()
        ),
    )
    .unwrap();
    fs::set_permissions(
        root.join("_meta/config.toml"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let lines = problems(&check(&root));
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with(&format!("{}: writable by its group", hook.display())),
        "{lines:?}"
    );
    fs::set_permissions(&hook, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(check(&root).status.code(), Some(0));
}

#[test]
fn a_skewed_clock_is_a_problem() {
    if !have("faketime") {
        eprintln!("faketime is not installed; skipped");
        return;
    }
    let (_dir, root) = queue(&[], "");
    let out = check_through(&["faketime", "-f", "+90s"], &root);
    let lines = problems(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("clock is 90"), "{lines:?}");
    assert!(lines[0].contains("behind this host's"), "{lines:?}");
}

#[test]
fn a_full_filesystem_and_a_full_inode_table_are_problems() {
    let dir = tempfile::tempdir().unwrap();
    // A private mount namespace with a small tmpfs (as root, or as a mapped root user).
    let script = r#"mount -t tmpfs -o size=4m,nr_inodes=300 tmpfs "$1" && "$2" init "$1/q" >/dev/null && "$2" check "$1/q""#;
    let out = Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c", script, "sh"])
        .arg(dir.path())
        .arg(env!("CARGO_BIN_EXE_fsq"))
        .env("XDG_CONFIG_HOME", dir.path().join("no-user-config"))
        .output();
    let Ok(out) = out else {
        eprintln!("unshare is not installed; skipped");
        return;
    };
    if out.stdout.is_empty() {
        eprintln!("cannot mount a tmpfs here ({out:?}); skipped");
        return;
    }
    let lines = problems(&out);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("MiB free of 4.0 MiB"), "{lines:?}");
    assert!(lines[1].contains("inodes free of 300"), "{lines:?}");
}

#[test]
fn folders_this_user_cannot_write_are_problems() {
    if !is_root() || !have("setpriv") {
        eprintln!("needs root and setpriv to run the check as another user; skipped");
        return;
    }
    let (dir, root) = queue(&[], "");
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).unwrap();
    fs::create_dir(root.join("_out")).unwrap();
    let out = check_through(
        &[
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
        ],
        &root,
    );
    let lines = problems(&out);
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "{}: not writable by this user",
            root.join("failed").display()
        ))),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "{}: an output folder this user cannot write",
            root.join("_out").display()
        ))),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("cannot touch a file there")),
        "{lines:?}"
    );
    // The config belongs to root, which is trusted.
    assert!(
        !lines.iter().any(|l| l.contains("config.toml")),
        "{lines:?}"
    );
}

/// `fsq check ROOT` for a user whose config folder (`$XDG_CONFIG_HOME/fsq`) holds `files`.
fn check_with_user_files(files: &[(&str, &str)]) -> (Output, std::path::PathBuf) {
    let (dir, root) = queue(&[], "");
    let home = dir.path().join("home");
    for (name, text) in files {
        let path = home.join("fsq").join(name);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, text).unwrap();
        if name.starts_with("themes/") {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o664)).unwrap();
        }
    }
    let out = fsq()
        .arg("check")
        .arg(&root)
        .env("XDG_CONFIG_HOME", &home)
        .output()
        .unwrap();
    // The temp folder goes with this call; the output and paths are what the tests look at.
    drop(dir);
    (out, home.join("fsq"))
}

/// `fsq check` reads the operator's own config too: each `user_*` fixture in
/// tests/invalid_configs/ is reported with the position its first line names.
#[test]
fn a_broken_user_config_is_reported_with_line_and_column() {
    let fixtures = common::invalid_configs(true);
    for fixture in &fixtures {
        let (out, _) = check_with_user_files(&[("config.toml", &fixture.text)]);
        let lines = problems(&out);
        let path = &fixture.path;
        assert_eq!(lines.len(), 1, "{path:?}: {lines:?}");
        assert!(
            lines[0].contains(&format!("fsq/config.toml:{}", fixture.position)),
            "{path:?}: {lines:?}"
        );
        assert!(lines[0].contains(&fixture.message), "{path:?}: {lines:?}");
    }
    assert!(fixtures.len() >= 4);
}

/// A theme file is instructions too; the test helper makes every theme mode 0664.
#[test]
fn a_group_writable_user_theme_is_a_problem() {
    let (out, home) = check_with_user_files(&[("themes/mine.toml", "cursor = { bg = \"red\" }\n")]);
    let lines = problems(&out);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let theme = home.join("themes/mine.toml");
    assert!(lines[0].starts_with(&format!("{}: writable by its group", theme.display())));
}
