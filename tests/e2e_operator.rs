//! What an operator sees is true: the commander end to end in a pseudo-terminal, on the cases
//! where it once showed something false (a newcomer's first queue, ffmpeg's speed, a panel that
//! never refreshed, folders that vanished into failed/).

mod common;
mod pty;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{FFMPEG_TO_FLAC, add_tone, have, quiet_worker};
use pty::{PtySession, keys, wait_for};

/// Generous, because CI machines stall; the tests return as soon as the condition holds.
const SCREEN: Duration = Duration::from_secs(15);

/// Whether `folder` holds an item shown as `name` (its file name may carry an id and a key).
fn holds(folder: &Path, name: &str) -> bool {
    fs::read_dir(folder).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| fsq::queue::display_name(&entry.file_name()) == std::ffi::OsStr::new(name))
    })
}

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

#[test]
fn ffmpeg_speed_shows_as_a_multiple_of_real_time() {
    if !have("ffmpeg") {
        eprintln!("ffmpeg is not installed: skipping");
        return;
    }
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = init(tmp.path());
    add_tone(&dir, 8);
    let mut args = vec![dir.to_str().expect("utf-8 path"), "--"];
    args.extend(FFMPEG_TO_FLAC);
    let mut session = PtySession::fsq(&args, tmp.path(), 120, 30);
    // -re holds ffmpeg to real time: about 1.0x, never bytes per second.
    session.wait_until("a speed like 1.0x on the tone's row", SCREEN, |screen| {
        screen.contents().lines().any(|line| {
            line.contains("tone.wav")
                && line
                    .split('│')
                    .any(|cell| matches!(cell.trim(), "0.8x" | "0.9x" | "1.0x" | "1.1x"))
        })
    });
    assert!(
        !session.screen_text().contains("B/s"),
        "{}",
        session.screen_text()
    );
    session.send_keys(keys::F10);
    session.wait_for_text("Stop and requeue", SCREEN);
    session.send_keys(keys::RIGHT);
    session.send_keys(keys::ENTER);
    assert!(session.wait_exit(SCREEN).success());
    wait_for("the tone back in the queue or done", SCREEN, || {
        holds(&dir, "tone.wav") || holds(&dir.join("success"), "tone.wav")
    });
}

#[test]
fn workers_panel_refreshes_by_itself_when_a_worker_dies() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = init(tmp.path());
    fs::write(dir.join("long.job"), "x").expect("write item");
    let mut worker = quiet_worker(&dir, &["sleep", "8"]);
    wait_for("the worker to claim the item", SCREEN, || {
        !holds(&dir, "long.job")
    });
    let session = PtySession::fsq(
        &[dir.to_str().expect("utf-8 path"), "--no-worker"],
        tmp.path(),
        100,
        30,
    );
    session.wait_for_text("long.job", SCREEN);
    session.send_keys(b"w");
    session.wait_for_text("alive", SCREEN);
    worker.kill().expect("kill the worker");
    let _ = worker.wait();
    // No key pressed: the panel notices by itself.
    session.wait_for_text("DOWN since", SCREEN);
    session.send_keys(keys::F10);
}

#[test]
fn a_folder_in_the_root_stays_and_a_symlink_is_counted_as_failed() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = init(tmp.path());
    fs::write(dir.join("a.txt"), "a").expect("write item");
    let args = [
        dir.to_str().expect("utf-8 path"),
        "--right",
        "failed",
        "--",
        "true",
    ];
    let session = PtySession::fsq(&args, tmp.path(), 100, 30);
    session.wait_for_text("success 1", SCREEN);
    // mc's F7, then a symlink, while the commander and its worker run.
    fs::create_dir(dir.join("Holiday photos")).expect("mkdir");
    std::os::unix::fs::symlink("/etc/hostname", dir.join("link")).expect("symlink");
    session.wait_for_text("Holiday photos/", SCREEN);
    session.wait_for_text("folder, not an item", SCREEN);
    session.wait_for_text("failed 1", SCREEN);
    session.wait_until("the link in the failed pane", SCREEN, |screen| {
        screen
            .contents()
            .lines()
            .any(|l| l.contains("link") && l.contains("symbolic"))
    });
    assert!(dir.join("Holiday photos").is_dir(), "the folder was moved");
    assert!(!dir.join("failed/Holiday photos").exists());
    session.send_keys(keys::F10);
}

#[test]
fn f4_holds_the_item_so_no_worker_takes_it_mid_edit() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = init(tmp.path());
    fs::write(dir.join("note.txt"), "draft\n").expect("write item");
    let session = PtySession::fsq(
        &[dir.to_str().expect("utf-8 path"), "--no-worker"],
        tmp.path(),
        100,
        30,
    );
    session.wait_for_text("note.txt", SCREEN);
    session.send_keys(keys::F4);
    session.wait_for_text("held: back to pending on close", SCREEN);
    // A worker starts while the editor is open; it takes another item, never ours.
    let mut worker = quiet_worker(&dir, &["cp", "{input}", "{out}/{name}"]);
    fs::write(dir.join("new/other.txt"), "other\n").expect("stage");
    fs::rename(dir.join("new/other.txt"), dir.join("other.txt")).expect("enqueue");
    wait_for("the worker to finish the other item", SCREEN, || {
        holds(&dir.join("success"), "other.txt")
    });
    assert!(
        holds(&dir.join("paused"), "note.txt"),
        "the edited item was taken"
    );
    session.send_keys(b"edited ");
    session.send_keys(keys::F2);
    session.wait_for_text("saved", SCREEN);
    session.send_keys(keys::ESC);
    // Closed: the item goes back and the worker runs the edited text.
    wait_for("the edited item to be processed", SCREEN, || {
        fs::read_to_string(dir.join("_out/note.txt")).is_ok_and(|t| t == "edited draft\n")
    });
    let _ = worker.kill();
    let _ = worker.wait();
    session.send_keys(keys::F10);
}

#[test]
fn term_dumb_gets_no_colours_and_no_alternate_screen() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = init(tmp.path());
    fs::write(dir.join("first.txt"), "1").expect("write item");
    let mut command = pty::fsq_command(
        &[dir.to_str().expect("utf-8 path"), "--no-worker"],
        tmp.path(),
    );
    command.env("TERM", "dumb");
    let mut session = PtySession::spawn(command, 100, 30);
    session.wait_for_text("first.txt", SCREEN);
    assert!(
        !session.alternate_screen(),
        "a dumb terminal got the alternate screen"
    );
    let screen = session.screen();
    for row in 0..30 {
        for col in 0..100 {
            let cell = screen.cell(row, col).expect("a cell");
            assert_eq!(
                (cell.fgcolor(), cell.bgcolor()),
                (vt100::Color::Default, vt100::Color::Default),
                "a colour at row {row}, column {col}"
            );
        }
    }
    session.send_keys(keys::F10);
    assert!(session.wait_exit(SCREEN).success());
}

#[test]
fn ls_on_a_terminal_escapes_bidi_and_invisible_characters() {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = init(tmp.path());
    fs::write(dir.join("invoice\u{202e}fdp.exe"), "x").expect("write item");
    fs::write(dir.join("a\u{200b}b\u{2028}c.txt"), "y").expect("write item");
    let mut session = PtySession::fsq(
        &["ls", dir.to_str().expect("utf-8 path")],
        tmp.path(),
        100,
        10,
    );
    assert!(session.wait_exit(SCREEN).success());
    let text = session.screen_text();
    assert!(text.contains("invoice\\u{202e}fdp.exe"), "{text}");
    assert!(text.contains("a\\u{200b}b\\u{2028}c.txt"), "{text}");
}
