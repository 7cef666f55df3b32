//! mc habits end to end, in a pseudo-terminal: quick search moves the cursor to the item an
//! action then works on (checked on the disk), and sort modes reorder a pane on screen while a
//! pending pane keeps processing order.

mod pty;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use fsq::queue::{Queue, State};
use pty::{PtySession, keys};

const SCREEN: Duration = Duration::from_secs(10);

fn queue() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("q");
    Queue::init(&dir).expect("init queue");
    (tmp, dir)
}

fn names(dir: &Path, state: State) -> Vec<String> {
    Queue::open(dir)
        .and_then(|q| q.list(state))
        .expect("list")
        .iter()
        .map(|item| item.display().to_string_lossy().into_owned())
        .collect()
}

/// The screen rows, top to bottom, on which each of `names` first shows.
fn rows_of(session: &PtySession, names: &[&str]) -> Vec<usize> {
    let text = session.screen_text();
    names
        .iter()
        .map(|name| {
            text.lines()
                .position(|l| l.contains(name))
                .unwrap_or_else(|| panic!("{name} not on screen:\n{text}"))
        })
        .collect()
}

fn commander(dir: &Path, extra: &[&str], first: &str) -> PtySession {
    let mut args = vec![dir.to_str().expect("utf-8 temp path"), "--no-worker"];
    args.extend_from_slice(extra);
    let session = PtySession::fsq(&args, dir.parent().unwrap_or(dir), 100, 30);
    session.wait_for_text(first, SCREEN);
    session
}

#[test]
fn quick_search_puts_the_cursor_on_the_item_the_next_key_acts_on() {
    let (_tmp, dir) = queue();
    for name in ["apple.txt", "banana.txt", "cherry.pdf", "cranberry.txt"] {
        fs::write(dir.join(name), name).unwrap();
    }
    let mut session = commander(&dir, &[], "cranberry.txt");
    session.send_keys(keys::CTRL_S);
    session.send_keys(b"cr");
    session.wait_for_text("Search: cr", SCREEN);
    // Alt+S looks for the next match: cranberry is the only one, so the cursor stays.
    session.send_keys(b"\x1bs");
    session.send_keys(keys::ESC);
    session.wait_for_text_gone("Search:", SCREEN);
    session.send_keys(b"p"); // hold the cursor item
    pty::wait_for("cranberry.txt held", SCREEN, || {
        names(&dir, State::Paused) == ["cranberry.txt"]
    });
    assert_eq!(
        names(&dir, State::Pending),
        ["apple.txt", "banana.txt", "cherry.pdf"]
    );
    session.send_keys(b"q");
    assert!(session.wait_exit(SCREEN).success());
}

#[test]
fn sort_by_size_reorders_failed_items_and_pending_keeps_its_order() {
    let (_tmp, dir) = queue();
    for (name, size) in [("a-big.txt", 3000), ("b-small.txt", 10), ("c-mid.txt", 500)] {
        fs::write(dir.join("failed").join(name), vec![b'x'; size]).unwrap();
    }
    for name in ["z-first", "y-second"] {
        fs::write(dir.join(name), "x").unwrap();
    }
    let mut session = commander(
        &dir,
        &["--left", "failed", "--right", "pending"],
        "c-mid.txt",
    );
    let files = ["a-big.txt", "b-small.txt", "c-mid.txt"];
    let rows = rows_of(&session, &files);
    assert!(
        rows[0] < rows[1] && rows[1] < rows[2],
        "file order: {rows:?}"
    );
    session.send_keys(b"ss"); // name, then size
    session.wait_for_text("by size", SCREEN);
    pty::wait_for("sorted by size", SCREEN, || {
        let rows = rows_of(&session, &files);
        rows[1] < rows[2] && rows[2] < rows[0]
    });
    session.send_keys(b"S");
    session.wait_for_text("by size ↓", SCREEN);
    pty::wait_for("sorted by size, reversed", SCREEN, || {
        let rows = rows_of(&session, &files);
        rows[0] < rows[2] && rows[2] < rows[1]
    });
    session.send_keys(keys::TAB);
    session.send_keys(b"s");
    session.wait_for_text("pending always shows processing order", SCREEN);
    let rows = rows_of(&session, &["y-second", "z-first"]);
    assert!(
        rows[0] < rows[1],
        "pending stays in processing order: {rows:?}"
    );
    session.send_keys(b"q");
    assert!(session.wait_exit(SCREEN).success());
}

/// The commander with `XDG_CONFIG_HOME` at `home`.
fn commander_for(dir: &Path, home: &Path) -> PtySession {
    let mut cmd = pty::fsq_command(
        &[dir.to_str().expect("utf-8 temp path"), "--no-worker"],
        dir.parent().unwrap_or(dir),
    );
    cmd.env("XDG_CONFIG_HOME", home);
    PtySession::spawn(cmd, 100, 30)
}

#[test]
fn the_user_config_sets_panes_and_keys_under_the_queue_config() {
    let (tmp, dir) = queue();
    let home = tmp.path().join("home");
    fs::create_dir_all(home.join("fsq")).unwrap();
    fs::write(
        home.join("fsq/config.toml"),
        "[tui]\nleft = \"failed\"\nright = \"success\"\n[tui.keys]\nquit = [\"C-q\"]\n",
    )
    .unwrap();
    fs::write(dir.join("_meta/config.toml"), "[tui]\nright = \"paused\"\n").unwrap();
    let mut session = commander_for(&dir, &home);
    session.wait_for_text("failed/ 0", SCREEN);
    session.wait_for_text("paused/ 0", SCREEN);
    session.send_keys(b"q");
    session.send_keys(keys::F1);
    session.wait_for_text("C-q", SCREEN); // help: quit is the user's key now, q does nothing
    session.send_keys(keys::ESC);
    session.wait_for_text_gone("C-q", SCREEN);
    session.send_keys(b"\x11"); // Ctrl+Q
    assert!(session.wait_exit(SCREEN).success());
}

#[test]
fn a_broken_user_config_stops_the_commander_with_file_line_and_column() {
    let (tmp, dir) = queue();
    let home = tmp.path().join("home");
    fs::create_dir_all(home.join("fsq")).unwrap();
    fs::write(home.join("fsq/config.toml"), "[tui]\nthem = \"dark\"\n").unwrap();
    let mut session = commander_for(&dir, &home);
    assert!(!session.wait_exit(SCREEN).success());
    let text = session.screen_text();
    assert!(
        text.contains("fsq/config.toml:2:1: unknown field `them`"),
        "{text}"
    );
    assert!(!session.alternate_screen());
}
