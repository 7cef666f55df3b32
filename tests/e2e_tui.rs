//! The commander end to end: the built binary in a pseudo-terminal, driven by keys, checked on
//! the screen (through a vt100 parser) and on the disk.

mod pty;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fsq::queue::{Queue, State};
use pty::{PtySession, keys, wait_for};

/// Generous, because CI machines stall; the tests return as soon as the condition holds.
const SCREEN: Duration = Duration::from_secs(10);

/// A temp folder with a queue at `<tmp>/q` holding `items` (name, content) pending.
fn queue_with(items: &[(&str, &str)]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("q");
    let queue = Queue::init(&dir).expect("init queue");
    for (name, content) in items {
        fs::write(queue.root().join(name), content).expect("write item");
    }
    (tmp, dir)
}

fn pending_names(dir: &Path) -> Vec<String> {
    Queue::open(dir)
        .and_then(|q| q.list(State::Pending))
        .expect("list pending")
        .iter()
        .map(|item| item.display().to_string_lossy().into_owned())
        .collect()
}

/// Starts the commander on `dir` without a worker, and waits for its first screen.
fn commander(dir: &Path, extra: &[&str], first: &str) -> PtySession {
    let dir_arg = dir.to_str().expect("utf-8 temp path");
    let mut args = vec![dir_arg, "--no-worker"];
    args.extend_from_slice(extra);
    let session = PtySession::fsq(&args, dir.parent().unwrap_or(dir), 100, 30);
    session.wait_for_text(first, SCREEN);
    session
}

#[test]
fn help_prints_in_a_terminal_and_exits_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let mut session = PtySession::fsq(&["--help"], tmp.path(), 100, 80);
    session.wait_for_text("Usage: fsq", SCREEN);
    let status = session.wait_exit(SCREEN);
    assert!(status.success());
    assert!(!session.alternate_screen());
    assert!(session.screen_text().contains("--no-worker"));
}

#[test]
fn hostile_names_listed_in_a_terminal_cannot_drive_it() {
    let (_tmp, dir) = queue_with(&[
        ("evil\x1b[31m\x1b]0;pwned\x07.txt", "x"),
        ("plain.txt", "y"),
    ]);
    let mut session = PtySession::fsq(&["ls", dir.to_str().unwrap()], &dir, 100, 30);
    assert!(session.wait_exit(SCREEN).success());
    let screen = session.screen();
    assert!(
        screen.contents().contains("evil\\u{1b}[31m"),
        "{}",
        screen.contents()
    );
    assert!(screen.contents().contains("plain.txt"));
    let plain_row = screen
        .contents()
        .lines()
        .position(|l| l.contains("plain.txt"))
        .unwrap();
    let cell = screen.cell(plain_row as u16, 0).unwrap();
    assert_eq!(
        cell.fgcolor(),
        vt100::Color::Default,
        "a name changed the colours"
    );
}

#[test]
fn a_folder_that_is_not_a_queue_is_an_error_and_the_terminal_is_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let not_a_queue = tmp.path().join("plain");
    fs::create_dir(&not_a_queue).unwrap();
    let mut session = PtySession::fsq(&[not_a_queue.to_str().unwrap()], tmp.path(), 100, 30);
    let status = session.wait_exit(SCREEN);
    assert!(!status.success());
    assert!(!session.alternate_screen());
    assert!(!session.cursor_hidden());
    assert!(
        session.screen_text().contains("not a queue"),
        "{}",
        session.screen_text()
    );
}

#[test]
fn quit_restores_the_terminal() {
    let (_tmp, dir) = queue_with(&[("first.txt", "1")]);
    let mut session = commander(&dir, &[], "first.txt");
    assert!(session.alternate_screen());
    session.send_keys(keys::F10);
    let status = session.wait_exit(SCREEN);
    assert!(status.success());
    assert!(!session.alternate_screen(), "still on the alternate screen");
    assert!(!session.cursor_hidden(), "the cursor was left hidden");
}

#[test]
fn f6_moves_the_cursor_item_to_the_other_pane_after_confirmation() {
    let (_tmp, dir) = queue_with(&[("alpha.txt", "a"), ("beta.txt", "b")]);
    let session = commander(&dir, &["--right", "paused"], "alpha.txt");
    session.send_keys(keys::F6);
    session.wait_for_text("paused/?", SCREEN);
    session.send_keys(keys::ENTER);
    wait_for("alpha.txt in paused/", SCREEN, || {
        dir.join("paused/alpha.txt").is_file() && !dir.join("alpha.txt").exists()
    });
    session.wait_for_text_gone("paused/?", SCREEN);
    assert_eq!(pending_names(&dir), ["beta.txt"]);
    assert!(
        session.screen_text().contains("alpha.txt"),
        "shown in the right pane"
    );
}

#[test]
fn shift_down_moves_a_pending_item_one_place_later() {
    let (_tmp, dir) = queue_with(&[("a.txt", "a"), ("b.txt", "b"), ("c.txt", "c")]);
    let session = commander(&dir, &[], "c.txt");
    session.send_keys(keys::SHIFT_DOWN);
    wait_for("a.txt after b.txt", SCREEN, || {
        pending_names(&dir) == ["b.txt", "a.txt", "c.txt"]
    });
    // The screen follows: b.txt is listed above a.txt.
    session.wait_until("b.txt above a.txt", SCREEN, |screen| {
        let text = screen.contents();
        matches!((text.find("b.txt"), text.find("a.txt")), (Some(b), Some(a)) if b < a)
    });
}

#[test]
fn f4_edits_an_item_and_f2_saves_it() {
    let (_tmp, dir) = queue_with(&[("note.txt", "hello\n")]);
    let session = commander(&dir, &[], "note.txt");
    session.send_keys(keys::F4);
    // Held in paused/ while open, so no worker takes it mid-edit.
    session.wait_for_text("Edit: paused/note.txt", SCREEN);
    session.send_keys(b"edited ");
    session.wait_for_text("edited hello", SCREEN);
    session.send_keys(keys::F2);
    wait_for("the saved text on disk", SCREEN, || {
        fs::read_to_string(dir.join("paused/note.txt"))
            .ok()
            .as_deref()
            == Some("edited hello\n")
    });
    session.wait_for_text("saved paused/note.txt", SCREEN);
    session.send_keys(keys::ESC);
    session.wait_for_text_gone("Edit: paused/note.txt", SCREEN);
    wait_for("the item back in pending", SCREEN, || {
        fs::read_to_string(dir.join("note.txt")).ok().as_deref() == Some("edited hello\n")
    });
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().starts_with(".fsq-edit"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");
}

#[test]
fn a_file_moved_in_by_another_process_appears_live() {
    let (tmp, dir) = queue_with(&[("already-here.txt", "x")]);
    let session = commander(&dir, &[], "already-here.txt");
    let outside = tmp.path().join("arrived-later.txt");
    fs::write(&outside, "dropped by someone else").unwrap();
    fs::rename(&outside, dir.join("arrived-later.txt")).unwrap();
    session.wait_for_text("arrived-later.txt", Duration::from_secs(2));
}

#[test]
fn the_embedded_worker_shows_progress_and_finishes_items() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("demo");
    let session = PtySession::fsq(&["demo", dir.to_str().unwrap()], tmp.path(), 100, 30);
    // A running item shows a percentage, and it grows.
    session.wait_until("a progress percentage", Duration::from_secs(20), |screen| {
        percentages(&screen.contents())
            .iter()
            .any(|p| (1..100).contains(p))
    });
    wait_for("an item in success/", Duration::from_secs(60), || {
        fs::read_dir(dir.join("success")).is_ok_and(|mut entries| entries.next().is_some())
    });
}

/// Every `NN%` on the screen.
fn percentages(text: &str) -> Vec<u32> {
    text.split(|c: char| !c.is_ascii_digit() && c != '%')
        .filter_map(|word| word.strip_suffix('%'))
        .filter_map(|digits| digits.parse().ok())
        .collect()
}
