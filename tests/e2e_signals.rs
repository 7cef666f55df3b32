//! Signals to the commander in a pseudo-terminal: SIGINT, SIGQUIT, SIGHUP and SIGTERM give the
//! terminal back and requeue running jobs; Ctrl+Z gives the terminal to the shell and `fg` takes
//! it again; a config that others can write is refused before the screen is taken.

mod pty;

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fsq::queue::{Queue, State};
use portable_pty::CommandBuilder;
use pty::{PtySession, fsq_binary, wait_for};

const SCREEN: Duration = Duration::from_secs(15);

/// A queue whose command runs until killed, with `items` pending.
fn queue_with(items: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("q");
    let queue = Queue::init(&dir).expect("init queue");
    fs::write(
        queue.config_path(),
        "[worker]\ncommand = [\"sleep\", \"1000\"]\nquiet_period = \"0s\"\n",
    )
    .unwrap();
    for name in items {
        fs::write(queue.root().join(name), "x").unwrap();
    }
    (tmp, dir)
}

fn count(dir: &Path, state: State) -> usize {
    Queue::open(dir).unwrap().list(state).unwrap().len()
}

#[test]
fn sigint_sigquit_sighup_and_sigterm_restore_the_terminal_and_requeue_claims() {
    for signal in [
        rustix::process::Signal::INT,
        rustix::process::Signal::QUIT,
        rustix::process::Signal::HUP,
        rustix::process::Signal::TERM,
    ] {
        let (_tmp, dir) = queue_with(&["job"]);
        let mut session = PtySession::fsq(&[dir.to_str().unwrap()], dir.parent().unwrap(), 100, 30);
        wait_for("the job to be claimed", SCREEN, || {
            count(&dir, State::Process) == 1
        });
        assert!(session.alternate_screen());
        let pid = rustix::process::Pid::from_raw(session.pid().unwrap() as i32).unwrap();
        rustix::process::kill_process(pid, signal).unwrap();
        session.wait_exit(SCREEN);
        assert!(
            !session.alternate_screen(),
            "{signal:?}: the screen is given back"
        );
        assert!(!session.cursor_hidden(), "{signal:?}: the cursor shows");
        assert_eq!(
            count(&dir, State::Pending),
            1,
            "{signal:?}: the claim is back"
        );
        assert_eq!(count(&dir, State::Process), 0);
    }
}

#[test]
fn ctrl_z_gives_the_terminal_to_the_shell_and_fg_takes_it_again() {
    let (_tmp, dir) = queue_with(&["job"]);
    let mut bash = CommandBuilder::new("bash");
    bash.args(["--norc", "--noprofile", "-i"]);
    bash.cwd(dir.parent().unwrap());
    bash.env("TERM", "xterm-256color");
    bash.env("PS1", "prompt$ ");
    let session = PtySession::spawn(bash, 100, 30);
    session.wait_for_text("prompt$", SCREEN);
    let line = format!("{} {} --no-worker\r", fsq_binary().display(), dir.display());
    session.send_keys(line.as_bytes());
    session.wait_until("the commander's screen", SCREEN, |s| {
        s.alternate_screen() && s.contents().contains("job")
    });
    session.send_keys(b"\x1a");
    session.wait_until("the shell after Ctrl+Z", SCREEN, |s| {
        !s.alternate_screen() && s.contents().contains("Stopped")
    });
    session.send_keys(b"fg\r");
    session.wait_until("the commander again", SCREEN, |s| {
        s.alternate_screen() && s.contents().contains("job")
    });
    // Raw mode is back: a single key, without Enter, reaches the commander.
    session.send_keys(b"q");
    session.wait_until("the shell after quitting", SCREEN, |s| {
        !s.alternate_screen() && s.contents().matches("prompt$").count() >= 3
    });
    session.send_keys(b"exit\r");
}

#[test]
fn the_commander_refuses_a_config_others_can_write() {
    let (_tmp, dir) = queue_with(&[]);
    let config = dir.join("_meta/config.toml");
    fs::set_permissions(&config, fs::Permissions::from_mode(0o666)).unwrap();
    let mut session = PtySession::fsq(&[dir.to_str().unwrap()], dir.parent().unwrap(), 150, 30);
    let status = session.wait_exit(SCREEN);
    assert!(!status.success());
    assert!(!session.alternate_screen());
    let screen = session.screen_text();
    assert!(
        screen.contains("chmod go-w") && screen.contains("config.toml"),
        "{screen}"
    );
}

#[test]
fn a_signal_while_editing_gives_the_held_item_back() {
    let (_tmp, dir) = queue_with(&["note.txt"]);
    let args = [dir.to_str().unwrap(), "--no-worker"];
    let mut session = PtySession::fsq(&args, dir.parent().unwrap(), 100, 30);
    session.wait_for_text("note.txt", SCREEN);
    session.send_keys(pty::keys::F4);
    session.wait_for_text("held: back to pending on close", SCREEN);
    assert_eq!(count(&dir, State::Paused), 1, "held while edited");
    let pid = rustix::process::Pid::from_raw(session.pid().unwrap() as i32).unwrap();
    rustix::process::kill_process(pid, rustix::process::Signal::HUP).unwrap();
    session.wait_exit(SCREEN);
    assert_eq!(count(&dir, State::Paused), 0);
    assert_eq!(
        count(&dir, State::Pending),
        1,
        "the item is back in pending"
    );
}
