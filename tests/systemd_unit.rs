//! contrib/systemd/fsq-work@.service: systemd accepts it, and it keeps the settings fsq's stop
//! and the operator's commands depend on. (What `KillMode=mixed` relies on, that SIGTERM to fsq
//! alone requeues running items, is `sigterm_gives_grace_then_requeues_and_kills_the_group` in
//! worker_lifecycle.rs.)

mod common;

use std::collections::HashMap;
use std::fs;
use std::process::Command;

use common::{fsq, have};

const UNIT: &str = include_str!("../contrib/systemd/fsq-work@.service");

/// `Key=value` lines of the unit by section, comments left out.
fn keys(unit: &str) -> HashMap<(String, String), Vec<String>> {
    let mut section = String::new();
    let mut keys: HashMap<(String, String), Vec<String>> = HashMap::new();
    for line in unit.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = name.to_string();
            continue;
        }
        let (key, value) = line.split_once('=').expect("every other line is Key=value");
        keys.entry((section.clone(), key.to_string()))
            .or_default()
            .push(value.to_string());
    }
    keys
}

#[test]
fn the_unit_keeps_stop_semantics_and_hardening() {
    let keys = keys(UNIT);
    let get = |section: &str, key: &str| -> &str {
        keys.get(&(section.to_string(), key.to_string()))
            .and_then(|v| v.last())
            .unwrap_or_else(|| panic!("[{section}] {key} is missing"))
    };
    assert_eq!(get("Service", "ExecStart"), "/usr/local/bin/fsq work %f");
    assert_eq!(get("Service", "KillMode"), "mixed");
    assert_eq!(get("Service", "KillSignal"), "SIGTERM");
    assert_eq!(get("Service", "Restart"), "on-failure");
    assert_eq!(get("Service", "NoNewPrivileges"), "yes");
    assert_eq!(get("Service", "ProtectSystem"), "strict");
    assert_eq!(
        get("Service", "ReadWritePaths"),
        "%f",
        "the queue stays writable"
    );
    assert_eq!(get("Unit", "RequiresMountsFor"), "%f");
    // Longer than the default grace (10 s) so running jobs are requeued, not SIGKILLed.
    let stop: u64 = get("Service", "TimeoutStopSec")
        .trim_end_matches('s')
        .parse()
        .unwrap();
    assert!(stop > 10, "TimeoutStopSec {stop}");
}

#[test]
fn systemd_analyze_verifies_an_instance_of_the_unit() {
    if !have("systemd-analyze") {
        eprintln!("systemd-analyze is not installed; only the keys were checked");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // verify runs what it can: the binary must exist and `man fsq` must find the page.
    let unit = UNIT.replace("/usr/local/bin/fsq", env!("CARGO_BIN_EXE_fsq"));
    fs::write(dir.path().join("fsq-work@.service"), unit).unwrap();
    std::os::unix::fs::symlink(
        "fsq-work@.service",
        dir.path().join("fsq-work@srv-convert.service"),
    )
    .unwrap();
    let man = dir.path().join("man/man1");
    fs::create_dir_all(&man).unwrap();
    let page = fsq().arg("man").output().unwrap();
    fs::write(man.join("fsq.1"), page.stdout).unwrap();
    let out = Command::new("systemd-analyze")
        .args(["verify", "--man=yes"])
        .arg(dir.path().join("fsq-work@srv-convert.service"))
        .env("MANPATH", dir.path().join("man"))
        .env("SYSTEMD_LOG_COLOR", "0")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "systemd's warnings"
    );
}
