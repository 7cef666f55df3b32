//! Helpers for tests that run the built `fsq` binary on temp queues.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

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

/// The built binary.
pub fn fsq() -> Command {
    Command::new(env!("CARGO_BIN_EXE_fsq"))
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
