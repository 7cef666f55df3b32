use std::fs;

use crossterm::event::KeyModifiers;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::*;
use crate::queue::State;

fn queue_with(name: &str, content: &[u8]) -> (tempfile::TempDir, Queue, Item) {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::init(dir.path().join("q")).unwrap();
    fs::write(queue.root().join(name), content).unwrap();
    let item = queue.list(State::Pending).unwrap().remove(0);
    (dir, queue, item)
}

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn type_text(editor: &mut Editor, text: &str) {
    for c in text.chars() {
        assert!(matches!(
            editor.handle_key(&Keymap::default(), key(KeyCode::Char(c))),
            EditorOutcome::Continue
        ));
    }
}

fn expect_save(outcome: EditorOutcome) -> SaveRequest {
    match outcome {
        EditorOutcome::Save(request) => request,
        other => panic!("expected a save, got {other:?}"),
    }
}

fn hidden_files(queue: &Queue) -> Vec<String> {
    fs::read_dir(queue.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|name| name.starts_with('.'))
        .collect()
}

fn screen(editor: &Editor, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| editor.render(frame.area(), frame.buffer_mut()))
        .unwrap();
    terminal
}

#[test]
fn f2_saves_atomically_and_leaves_no_temp_file() {
    let (_dir, queue, item) = queue_with("job.txt", b"hello\nworld\n");
    let mut editor = Editor::open(&queue, &item).unwrap();
    assert!(!editor.is_modified());
    type_text(&mut editor, "> ");
    assert!(editor.is_modified());
    let request = expect_save(editor.handle_key(&Keymap::default(), key(KeyCode::F(2))));
    assert_eq!(request.bytes, b"> hello\nworld\n");
    let saved = request.run(&queue).unwrap();
    assert!(matches!(editor.saved(saved), EditorOutcome::Continue));
    assert!(!editor.is_modified());
    assert_eq!(fs::read(queue.path_of(&item)).unwrap(), b"> hello\nworld\n");
    assert!(hidden_files(&queue).is_empty());
    // Ctrl+S saves again over the new file.
    type_text(&mut editor, "!");
    let request = expect_save(editor.handle_key(
        &Keymap::default(),
        KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL),
    ));
    editor.saved(request.run(&queue).unwrap());
    assert_eq!(
        fs::read(queue.path_of(&item)).unwrap(),
        b"> !hello\nworld\n"
    );
}

#[test]
fn save_is_refused_after_a_worker_claimed_the_item_and_the_text_is_kept() {
    let (_dir, queue, item) = queue_with("job.txt", b"original\n");
    let mut editor = Editor::open(&queue, &item).unwrap();
    type_text(&mut editor, "edited ");
    let claimed = queue.claim(&item, OsStr::new("worker-1")).unwrap().unwrap();
    let request = expect_save(editor.handle_key(&Keymap::default(), key(KeyCode::F(2))));
    let err = request.run(&queue).unwrap_err();
    editor.save_failed(err.to_string());
    assert!(editor.is_modified());
    assert_eq!(editor.content(), b"edited original\n");
    assert_eq!(fs::read(queue.path_of(&claimed)).unwrap(), b"original\n");
    assert!(!queue.path_of(&item).exists());
    assert!(hidden_files(&queue).is_empty());
    let terminal = screen(&editor, 80, 6);
    insta::assert_snapshot!("editor_save_refused", terminal.backend());
}

#[test]
fn save_is_refused_after_the_item_was_moved() {
    let (_dir, queue, item) = queue_with("job.txt", b"original\n");
    let mut editor = Editor::open(&queue, &item).unwrap();
    type_text(&mut editor, "x");
    queue.move_to(&item, State::Paused).unwrap();
    let request = expect_save(editor.handle_key(&Keymap::default(), key(KeyCode::F(2))));
    let message = request.run(&queue).unwrap_err().to_string();
    assert!(message.contains("pending/job.txt"), "{message}");
    assert!(message.contains("no longer there"), "{message}");
}

#[test]
fn esc_with_unsaved_changes_asks_first() {
    let (_dir, queue, item) = queue_with("job.txt", b"text\n");
    let mut editor = Editor::open(&queue, &item).unwrap();
    assert!(matches!(
        editor.handle_key(&Keymap::default(), key(KeyCode::Esc)),
        EditorOutcome::Close
    ));
    type_text(&mut editor, "new ");
    assert!(matches!(
        editor.handle_key(&Keymap::default(), key(KeyCode::Esc)),
        EditorOutcome::Continue
    ));
    let terminal = screen(&editor, 60, 5);
    insta::assert_snapshot!("editor_close_prompt", terminal.backend());
    // Cancel keeps editing; discard closes without saving.
    editor.handle_key(&Keymap::default(), key(KeyCode::Char('c')));
    type_text(&mut editor, "more ");
    assert_eq!(editor.content(), b"new more text\n");
    editor.handle_key(&Keymap::default(), key(KeyCode::Esc));
    assert!(matches!(
        editor.handle_key(&Keymap::default(), key(KeyCode::Char('d'))),
        EditorOutcome::Close
    ));
    assert_eq!(fs::read(queue.path_of(&item)).unwrap(), b"text\n");
}

#[test]
fn save_from_the_close_prompt_closes_once_saved() {
    let (_dir, queue, item) = queue_with("job.txt", b"text\n");
    let mut editor = Editor::open(&queue, &item).unwrap();
    type_text(&mut editor, "a");
    editor.handle_key(&Keymap::default(), key(KeyCode::Esc));
    let request = expect_save(editor.handle_key(&Keymap::default(), key(KeyCode::Char('s'))));
    let saved = request.run(&queue).unwrap();
    assert!(matches!(editor.saved(saved), EditorOutcome::Close));
    assert_eq!(fs::read(queue.path_of(&item)).unwrap(), b"atext\n");
}

#[test]
fn unchanged_text_saves_byte_for_byte() {
    for content in [
        &b"a\r\nb\r\n"[..],
        b"no newline at end",
        b"",
        b"\n\n",
        b"tab\there\n",
    ] {
        let (_dir, queue, item) = queue_with("f", content);
        let editor = Editor::open(&queue, &item).unwrap();
        assert_eq!(
            editor.content(),
            content,
            "{:?}",
            String::from_utf8_lossy(content)
        );
    }
}

#[test]
fn refuses_what_is_not_plain_text() {
    let cases: [(&[u8], &str); 4] = [
        (b"abc\x00def", "a NUL byte at offset 3"),
        (b"ok\xff", "invalid UTF-8 at byte 2"),
        (
            b"one\ntwo \x1b[31m\n",
            "a control character U+001B on line 2",
        ),
        (b"lone\rreturn\n", "a control character U+000D on line 1"),
    ];
    for (content, reason) in cases {
        let (_dir, queue, item) = queue_with("data.bin", content);
        let message = Editor::open(&queue, &item).err().unwrap().to_string();
        assert_eq!(
            message,
            format!("pending/data.bin is not plain text ({reason}); view it with F3")
        );
    }
}

#[test]
fn refuses_large_files_without_reading_them() {
    let (_dir, queue, item) = queue_with("huge.txt", b"");
    let file = fs::OpenOptions::new()
        .write(true)
        .open(queue.path_of(&item))
        .unwrap();
    file.set_len(MAX_EDIT_SIZE + 1).unwrap();
    let message = Editor::open(&queue, &item).err().unwrap().to_string();
    assert!(
        message.contains("pending/huge.txt is 8.00 MiB"),
        "{message}"
    );
    assert!(message.contains("too large"), "{message}");
}

#[test]
fn f7_creates_a_new_pending_item() {
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::init(dir.path().join("q")).unwrap();
    let mut editor = Editor::new_item(OsStr::new("note.txt"));
    type_text(&mut editor, "convert me");
    let request = expect_save(editor.handle_key(&Keymap::default(), key(KeyCode::F(2))));
    let saved = request.run(&queue).unwrap();
    assert_eq!(saved.item.state, State::Pending);
    editor.saved(saved.clone());
    assert_eq!(
        fs::read(queue.path_of(&saved.item)).unwrap(),
        b"convert me\n"
    );
    // Further saves replace the new item.
    type_text(&mut editor, "!");
    let request = expect_save(editor.handle_key(&Keymap::default(), key(KeyCode::F(2))));
    editor.saved(request.run(&queue).unwrap());
    assert_eq!(
        fs::read(queue.path_of(&saved.item)).unwrap(),
        b"convert me!\n"
    );
    assert_eq!(queue.list(State::Pending).unwrap().len(), 1);
}

#[test]
fn a_refused_save_can_still_be_kept_as_a_new_item() {
    let (_dir, queue, item) = queue_with("job.txt", b"hello\n");
    let hold = queue.hold_for_edit(&item).unwrap();
    let mut editor = Editor::open(&queue, &hold.item).unwrap().holding(hold);
    type_text(&mut editor, "edited ");
    // Someone else rewrites the file meanwhile: the save over it is refused.
    fs::write(
        queue.path_of(&queue.list(State::Paused).unwrap()[0]),
        b"theirs\n",
    )
    .unwrap();
    let request = expect_save(editor.handle_key(&Keymap::default(), key(KeyCode::F(2))));
    let refused = request.run(&queue).unwrap_err();
    editor.save_failed(refused.to_string());
    let terminal = screen(&editor, 70, 8);
    insta::assert_snapshot!(terminal.backend());
    // F7 keeps the text as a new pending item, and closes once saved.
    let request = expect_save(editor.handle_key(&Keymap::default(), key(KeyCode::F(7))));
    let saved = request.run(&queue).unwrap();
    assert_eq!(saved.item.state, State::Pending);
    assert_eq!(
        fs::read(queue.path_of(&saved.item)).unwrap(),
        b"edited hello\n"
    );
    assert!(matches!(editor.saved(saved), EditorOutcome::Close));
    let hold = editor.take_hold().unwrap();
    queue.release_edit(&hold).unwrap();
    let pending: Vec<_> = queue.list(State::Pending).unwrap();
    let names: Vec<_> = pending.iter().map(|i| i.display().to_owned()).collect();
    assert_eq!(
        names,
        ["job (2).txt", "job.txt"],
        "theirs came back, ours beside it"
    );
}

#[test]
fn editor_keys_come_from_the_key_map() {
    let (_dir, queue, item) = queue_with("note.txt", b"a\n");
    let mut editor = Editor::open(&queue, &item).unwrap();
    let over: Vec<crate::queue::KeyOverride> = crate::queue::Config::parse(
        "[tui.keys]\nsave = [\"C-w\"]\n",
        std::path::Path::new("config.toml"),
    )
    .unwrap()
    .tui
    .keys;
    let keys = Keymap::with_overrides(&over).unwrap();
    assert!(matches!(
        editor.handle_key(&keys, key(KeyCode::F(2))),
        EditorOutcome::Continue
    ));
    let ctrl_w = KeyEvent::new(KeyCode::Char('w'), KeyModifiers::CONTROL);
    expect_save(editor.handle_key(&keys, ctrl_w));
}
