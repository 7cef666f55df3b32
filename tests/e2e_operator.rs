//! What an operator sees is true: the commander end to end in a pseudo-terminal, on the cases
//! where it once showed something false (a newcomer's first queue, ffmpeg's speed, a panel that
//! never refreshed, folders that vanished into failed/).

mod pty;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pty::{PtySession, keys, wait_for};

/// Generous, because CI machines stall; the tests return as soon as the condition holds.
const SCREEN: Duration = Duration::from_secs(15);

/// `fsq init <tmp>/q` through the binary, as a newcomer types it.
fn init(tmp: &Path) -> PathBuf {
    let dir = tmp.join("q");
    let mut session = PtySession::fsq(&["init", dir.to_str().expect("utf-8 path")], tmp, 100, 30);
    assert!(session.wait_exit(SCREEN).success());
    dir
}

#[test]
fn init_then_open_shows_the_commander_with_the_worker_off() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = init(tmp.path());
    fs::write(dir.join("first.txt"), "1").expect("write item");
    let mut session = PtySession::fsq(&[dir.to_str().expect("utf-8 path")], tmp.path(), 100, 30);
    session.wait_for_text("first.txt", SCREEN);
    session.wait_for_text("worker off", SCREEN);
    session.wait_for_text("set [worker] command", SCREEN);
    assert!(session.alternate_screen());
    session.send_keys(keys::F10);
    assert!(session.wait_exit(SCREEN).success());
    assert!(dir.join("first.txt").exists(), "nothing ran the item");
}
