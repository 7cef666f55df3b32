use std::io::Write;
use std::os::unix::fs::FileExt;

use crossterm::event::{KeyCode, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;

const PLAIN: ViewStyle = ViewStyle {
    text: Style::new(),
    border: Style::new(),
    title: Style::new(),
    status: Style::new(),
    escape: Style::new(),
    hex_offset: Style::new(),
    hex_bytes: Style::new(),
};

fn file_with(bytes: &[u8]) -> tempfile::NamedTempFile {
    let mut file = tempfile::NamedTempFile::new().unwrap();
    file.write_all(bytes).unwrap();
    file
}

fn draw(viewer: &Viewer, width: u16, height: u16, style: &ViewStyle) -> Buffer {
    let mut buf = Buffer::empty(Rect::new(0, 0, width, height));
    viewer.render(buf.area, &mut buf, style);
    buf
}

fn press(viewer: &mut Viewer, code: KeyCode) -> ViewerOutcome {
    let outcome = viewer.handle_key(&Keymap::default(), KeyEvent::new(code, KeyModifiers::NONE));
    viewer.load().unwrap();
    outcome
}

/// The text inside the frame, one string per row, trailing spaces trimmed.
fn body(buf: &Buffer) -> Vec<String> {
    let area = buf.area;
    (1..area.height - 1)
        .map(|y| {
            let row: String = (1..area.width - 1).map(|x| buf[(x, y)].symbol()).collect();
            row.trim_end().to_string()
        })
        .collect()
}

fn numbered_lines(count: usize) -> Vec<u8> {
    (1..=count)
        .map(|n| format!("line {n:07}\n"))
        .collect::<String>()
        .into_bytes()
}

#[test]
fn shows_text_in_a_frame_with_title_and_position() {
    let file = file_with(b"hello\nworld\n");
    let viewer = Viewer::open(file.path(), "job.txt").unwrap();
    let buf = draw(&viewer, 40, 5, &PLAIN);
    assert_eq!(
        buf,
        Buffer::with_lines([
            "┌ job.txt ──────────── L1 100% of 12 B ┐",
            "│hello                                 │",
            "│world                                 │",
            "│                                      │",
            "└───────────────────────────── w h f q ┘",
        ])
    );
}

#[test]
fn control_characters_and_invalid_utf8_are_shown_escaped() {
    let file = file_with(b"red \x1b[31mtext\x07 \xff\xfe end\r\n");
    let viewer = Viewer::open(file.path(), "evil\x1b]0;title\x07").unwrap();
    assert!(!viewer.is_hex());
    let buf = draw(&viewer, 50, 4, &ViewStyle::default());
    assert_eq!(body(&buf), ["red ^[[31mtext^G \\xFF\\xFE end", ""]);
    // The title is escaped too, and escapes carry their own style.
    let top: String = (0..50).map(|x| buf[(x, 0)].symbol()).collect();
    assert!(top.contains("evil\\u{1b}]0;title\\u{7}"), "{top}");
    assert_eq!(buf[(5, 1)].fg, Color::Yellow);
    assert_eq!(buf[(1, 1)].fg, Color::Reset);
}

#[test]
fn wrap_toggle_folds_long_lines() {
    let file = file_with(b"abcdefghijklmnopqrstuvwxyz\nnext\nlast\n");
    let mut viewer = Viewer::open(file.path(), "t").unwrap();
    assert_eq!(
        body(&draw(&viewer, 12, 6, &PLAIN)),
        ["abcdefghij", "next", "last", ""]
    );
    press(&mut viewer, KeyCode::Right);
    assert_eq!(
        body(&draw(&viewer, 12, 6, &PLAIN)),
        ["ijklmnopqr", "", "", ""]
    );
    press(&mut viewer, KeyCode::Char('w'));
    assert_eq!(
        body(&draw(&viewer, 12, 6, &PLAIN)),
        ["abcdefghij", "klmnopqrst", "uvwxyz", "next"]
    );
    // Scrolling moves by screen rows within a wrapped line.
    press(&mut viewer, KeyCode::Down);
    assert_eq!(
        body(&draw(&viewer, 12, 6, &PLAIN)),
        ["klmnopqrst", "uvwxyz", "next", "last"]
    );
}

#[test]
fn binary_files_open_as_hex() {
    let mut bytes = b"\x7fELF\x02\x01\x01\x00".to_vec();
    bytes.extend(0u8..40);
    let file = file_with(&bytes);
    let mut viewer = Viewer::open(file.path(), "a.out").unwrap();
    assert!(viewer.is_hex());
    let mut terminal = Terminal::new(TestBackend::new(80, 7)).unwrap();
    terminal
        .draw(|frame| viewer.render(frame.area(), frame.buffer_mut(), &PLAIN))
        .unwrap();
    insta::assert_snapshot!("viewer_hex", terminal.backend());
    press(&mut viewer, KeyCode::Char('h'));
    assert!(!viewer.is_hex());
    assert_eq!(
        body(&draw(&viewer, 31, 3, &PLAIN))[0],
        "^?ELF^B^A^A^@^@^A^B^C^D^E^F^G"
    );
}

#[test]
fn paging_and_home_end_move_by_screens() {
    let file = file_with(&numbered_lines(100));
    let mut viewer = Viewer::open(file.path(), "t").unwrap();
    draw(&viewer, 20, 12, &PLAIN); // 10 text rows
    press(&mut viewer, KeyCode::PageDown);
    assert_eq!(body(&draw(&viewer, 20, 12, &PLAIN))[0], "line 0000011");
    press(&mut viewer, KeyCode::End);
    let rows = body(&draw(&viewer, 20, 12, &PLAIN));
    assert_eq!(
        (rows[0].as_str(), rows[9].as_str()),
        ("line 0000091", "line 0000100")
    );
    // At the end, further paging does not scroll past the last screen.
    press(&mut viewer, KeyCode::PageDown);
    assert_eq!(body(&draw(&viewer, 20, 12, &PLAIN))[0], "line 0000091");
    press(&mut viewer, KeyCode::Up);
    assert_eq!(body(&draw(&viewer, 20, 12, &PLAIN))[0], "line 0000090");
    press(&mut viewer, KeyCode::Home);
    assert_eq!(body(&draw(&viewer, 20, 12, &PLAIN))[0], "line 0000001");
    assert_eq!(press(&mut viewer, KeyCode::Esc), ViewerOutcome::Close);
}

#[test]
fn a_large_sparse_file_opens_without_being_read_whole() {
    let file = tempfile::NamedTempFile::new().unwrap();
    let len = 50 << 20;
    file.as_file().set_len(len).unwrap();
    file.as_file().write_all_at(b"the tail\n", len - 9).unwrap();
    let mut viewer = Viewer::open(file.path(), "big").unwrap();
    assert!(viewer.is_hex(), "NUL bytes mean binary");
    assert!(viewer.loaded_bytes() <= WINDOW);
    draw(&viewer, 80, 6, &PLAIN);
    press(&mut viewer, KeyCode::End);
    assert!(viewer.loaded_bytes() <= WINDOW);
    let rows = body(&draw(&viewer, 80, 6, &PLAIN));
    assert!(rows[3].ends_with("|.......the tail.|"), "{rows:?}");
    assert!(rows[3].starts_with("031ffff0"), "{rows:?}");
}

#[test]
fn scrolling_through_many_windows_meets_every_line_once() {
    // 1.3 MB of text: more than one window, so the window slides several times.
    let count = 100_000;
    let file = file_with(&numbered_lines(count));
    let mut viewer = Viewer::open(file.path(), "t").unwrap();
    draw(&viewer, 40, 102, &PLAIN); // 100 rows a page
    for page in 0..count / 100 - 1 {
        let buf = draw(&viewer, 40, 102, &PLAIN);
        let rows = body(&buf);
        assert_eq!(rows[0], format!("line {:07}", page * 100 + 1));
        let top: String = (0..40).map(|x| buf[(x, 0)].symbol()).collect();
        assert!(top.contains(&format!(" L{} ", page * 100 + 1)), "{top}");
        assert_eq!(rows[99], format!("line {:07}", page * 100 + 100));
        press(&mut viewer, KeyCode::PageDown);
        assert!(viewer.loaded_bytes() <= 2 * WINDOW);
    }
    press(&mut viewer, KeyCode::End);
    for page in (0..count / 100).rev().take(50) {
        let rows = body(&draw(&viewer, 20, 102, &PLAIN));
        assert_eq!(rows[0], format!("line {:07}", page * 100 + 1));
        press(&mut viewer, KeyCode::PageUp);
    }
}

#[test]
fn follow_mode_sticks_to_the_end_as_the_log_grows() {
    let mut file = file_with(&numbered_lines(3));
    let mut viewer = Viewer::open(file.path(), "job.log").unwrap();
    draw(&viewer, 20, 6, &PLAIN); // 4 rows
    press(&mut viewer, KeyCode::Char('f'));
    assert!(viewer.is_following());
    assert!(!viewer.refresh().unwrap(), "nothing changed yet");
    file.write_all(b"appended 1\nappended 2\nappended 3\n")
        .unwrap();
    assert!(viewer.refresh().unwrap());
    assert_eq!(
        body(&draw(&viewer, 20, 6, &PLAIN)),
        ["line 0000003", "appended 1", "appended 2", "appended 3"]
    );
    // Scrolling up leaves follow mode; later growth does not move the view.
    press(&mut viewer, KeyCode::Up);
    assert!(!viewer.is_following());
    file.write_all(b"appended 4\n").unwrap();
    assert!(viewer.refresh().unwrap());
    assert_eq!(body(&draw(&viewer, 20, 6, &PLAIN))[0], "line 0000002");
}

#[test]
fn a_log_replaced_under_its_path_is_reopened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("job.log");
    fs::write(&path, "first attempt\n").unwrap();
    let mut viewer = Viewer::open(&path, "job.log").unwrap();
    viewer.set_follow(true);
    fs::write(dir.path().join("new"), "second attempt\n").unwrap();
    fs::rename(dir.path().join("new"), &path).unwrap();
    assert!(viewer.refresh().unwrap());
    assert_eq!(body(&draw(&viewer, 20, 4, &PLAIN))[0], "second attempt");
}

#[test]
fn a_fifo_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::from(0o644)).unwrap();
    let err = Viewer::open(&fifo, "fifo").unwrap_err();
    assert!(err.to_string().contains("not a regular file"), "{err}");
}

#[test]
fn viewer_keys_come_from_the_key_map() {
    let file = file_with(b"text\n");
    let mut viewer = Viewer::open(file.path(), "t").unwrap();
    let over = crate::queue::Config::parse(
        "[tui.keys]\ntoggle_hex = [\"x\"]\n",
        std::path::Path::new("config.toml"),
    )
    .unwrap()
    .tui
    .keys;
    let keys = Keymap::with_overrides(&over).unwrap();
    let press_with = |viewer: &mut Viewer, c: char| {
        viewer.handle_key(&keys, KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
    };
    assert!(!viewer.is_hex());
    press_with(&mut viewer, 'h');
    assert!(!viewer.is_hex(), "h is no longer bound");
    press_with(&mut viewer, 'x');
    assert!(viewer.is_hex());
}
