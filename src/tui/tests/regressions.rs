//! Screens that once said something false, drawn as they must look now. Each test is named
//! after what broke.

use std::time::Duration;

use crossterm::event::KeyCode;
use insta::assert_snapshot;

use crate::queue::{Heartbeat, Progress, Speed, State as QState, WorkerHealth, WorkerStatus};

use super::super::dialog::Overlay;
use super::super::effect::Effect;
use super::super::event::Event;
use super::{Harness, item};

#[test]
fn init_then_open_shows_the_worker_off_and_how_to_set_a_command() {
    let mut h = Harness::new(QState::Pending, QState::Process, (80, 24));
    h.list_all(&[(QState::Pending, &["first.txt"])]);
    h.model.say(crate::tui::NO_COMMAND);
    let terminal = h.draw();
    let screen = format!("{:?}", terminal.backend());
    assert!(screen.contains("worker off"), "{screen}");
    assert!(
        screen.contains("set [worker] command in _meta/config.toml"),
        "{screen}"
    );
    assert_snapshot!(terminal.backend());
}

#[test]
fn ffmpeg_speed_reads_as_a_multiple_of_real_time_not_bytes() {
    let mut h = Harness::new(QState::Pending, QState::Process, (120, 12));
    h.list_all(&[(QState::Process, &["concert.mkv", "backup.tar"])]);
    h.stat_all();
    for (name, speed) in [
        ("concert.mkv", Speed::Realtime(2.5)),
        ("backup.tar", Speed::BytesPerSec(262_144.0)),
    ] {
        let progress = Progress {
            fraction: Some(0.4),
            speed: Some(speed),
            eta_secs: Some(30.0),
            worker: "host-1-1".into(),
            ..Progress::default()
        };
        h.send(Event::Worker(crate::worker::EngineEvent::Progress {
            item: item(QState::Process, name),
            progress,
        }));
    }
    let terminal = h.draw();
    let screen = format!("{:?}", terminal.backend());
    assert!(screen.contains("2.5x"), "{screen}");
    assert!(screen.contains("256 KiB/s"), "{screen}");
    assert!(!screen.contains(" 2 B/s"), "{screen}");
    assert_snapshot!(terminal.backend());
}

fn worker(health: WorkerHealth, last_beat_secs: f64) -> WorkerStatus {
    WorkerStatus {
        heartbeat: Heartbeat {
            // The owner of the running item (see `item`).
            id: "host-1-1".into(),
            host: "render-2".into(),
            pid: 77,
            slots: 1,
            busy: 1,
            ..Heartbeat::default()
        },
        health,
        last_beat_secs,
    }
}

#[test]
fn workers_panel_refreshes_by_itself_and_shows_a_worker_that_died() {
    let mut h = Harness::new(QState::Pending, QState::Process, (80, 24));
    h.list_all(&[(QState::Process, &["clip.mp4"])]);
    h.key(KeyCode::Char('w'));
    h.send(Event::Workers(vec![worker(WorkerHealth::Alive, 0.2)]));
    assert!(h.model.tick_every().is_some(), "the open panel ticks");

    // A tick asks the disk again; the same reading draws nothing new.
    h.model.now += Duration::from_secs(1);
    h.send(Event::Tick);
    assert!(h.effects.contains(&Effect::ReadWorkers), "{:?}", h.effects);
    assert!(
        h.effects.contains(&Effect::ReadProgress),
        "another worker's item runs"
    );
    h.model.dirty = false;
    h.send(Event::Workers(vec![worker(WorkerHealth::Alive, 0.7)]));
    assert!(!h.model.dirty, "nothing on screen changed: no redraw");

    // Killed: nothing changes on disk, only time tells.
    h.model.now += Duration::from_secs(45);
    h.send(Event::Tick);
    assert!(h.effects.contains(&Effect::ReadWorkers));
    let down = WorkerHealth::Down {
        since_secs: 15.0,
        why: "no heartbeat for 45s".into(),
    };
    h.send(Event::Workers(vec![worker(down, 45.0)]));
    assert!(h.model.dirty);
    let terminal = h.draw();
    let screen = format!("{:?}", terminal.backend());
    assert!(screen.contains("DOWN since 15s"), "{screen}");
    assert!(screen.contains("down║"), "its item says so too: {screen}");
    assert_snapshot!(terminal.backend());
}

#[test]
fn closed_workers_panel_with_nothing_running_does_not_tick() {
    let mut h = Harness::new(QState::Pending, QState::Process, (80, 14));
    h.list_all(&[(QState::Pending, &["a"])]);
    h.model.now += Duration::from_secs(5);
    h.send(Event::Tick);
    assert_eq!(h.model.tick_every(), None);
    h.key(KeyCode::Char('w'));
    assert!(h.model.tick_every().is_some());
    h.key(KeyCode::Char('w'));
    assert_eq!(h.model.tick_every(), None);
}

#[test]
fn folders_in_the_root_show_as_folders_and_strays_count_as_failed() {
    let mut h = Harness::new(QState::Pending, QState::Failed, (80, 16));
    h.list_all(&[
        (QState::Pending, &["clip.mp4"]),
        (QState::Failed, &["bad.avi", "link"]),
    ]);
    h.send(Event::RootFolders {
        asked: None,
        found: vec!["Holiday photos".into()],
    });
    h.stat_all();
    let terminal = h.draw();
    let screen = format!("{:?}", terminal.backend());
    assert!(screen.contains("Holiday photos/"), "{screen}");
    assert!(screen.contains("folder, not an item"), "{screen}");
    assert!(screen.contains("failed 2"), "{screen}");
    assert_snapshot!(terminal.backend());

    // A recheck of the root that finds the folder gone takes it off.
    h.send(Event::RootFolders {
        asked: Some(vec!["Holiday photos".into(), "other".into()]),
        found: Vec::new(),
    });
    assert!(h.model.queue.root_folders.is_empty());
}

#[test]
fn reorder_keys_take_the_selection_and_the_filter() {
    use crossterm::event::KeyModifiers;

    use super::super::effect::{Op, Place};

    let mut h = Harness::new(QState::Pending, QState::Process, (80, 24));
    h.list_all(&[(QState::Pending, &["a.mp4", "b.txt", "c.mp4", "d.mp4"])]);
    h.key(KeyCode::Char('/')).typed("mp4").key(KeyCode::Enter);
    h.key(KeyCode::Down)
        .key(KeyCode::Insert)
        .key(KeyCode::Insert);
    h.key_with(KeyCode::Up, KeyModifiers::SHIFT);
    assert_eq!(
        h.effects,
        [Effect::Disk(Op::Reorder {
            items: vec![
                item(QState::Pending, "c.mp4"),
                item(QState::Pending, "d.mp4")
            ],
            place: Place::Up,
            shown: Some(vec!["a.mp4".into(), "c.mp4".into(), "d.mp4".into()]),
        })]
    );
}

#[test]
fn select_pattern_replaces_the_star_prefill_and_brackets_match() {
    let mut h = Harness::new(QState::Pending, QState::Process, (80, 12));
    h.list_all(&[(
        QState::Pending,
        &["IMG_0001.JPG", "IMG_0002.JPG", "IMG_0009.JPG", "notes.txt"],
    )]);
    h.key(KeyCode::Char('+'))
        .typed("IMG_000[12].JPG")
        .key(KeyCode::Enter);
    assert_eq!(h.model.pane().selected.len(), 2);
    h.key(KeyCode::Char('-'))
        .typed("*1.JPG")
        .key(KeyCode::Enter);
    assert_eq!(h.model.pane().selected.len(), 1);
    let message = h.model.message.clone().map(|m| m.text).unwrap_or_default();
    assert_eq!(message, "1 item unselected by \"*1.JPG\"");
    assert_snapshot!(h.draw().backend());
}

#[test]
fn pgdn_in_help_scrolls_instead_of_closing() {
    let mut h = Harness::new(QState::Pending, QState::Process, (80, 24));
    h.key(KeyCode::F(1)).key(KeyCode::PageDown);
    assert!(
        matches!(h.model.overlay, Some(Overlay::Help { scroll: 18, .. })),
        "{:?}",
        h.model.overlay
    );
    let screen = format!("{:?}", h.draw().backend());
    assert!(
        !screen.contains("F10, q"),
        "the first page is gone: {screen}"
    );
    // Past the end it stops at the last page; PgUp goes back.
    h.key(KeyCode::PageDown)
        .key(KeyCode::PageDown)
        .key(KeyCode::PageUp);
    assert!(matches!(h.model.overlay, Some(Overlay::Help { .. })));
    h.key(KeyCode::PageUp).key(KeyCode::PageUp);
    assert!(matches!(
        h.model.overlay,
        Some(Overlay::Help { scroll: 0, .. })
    ));
}

#[test]
fn f2_is_labelled_for_the_state_list_it_opens() {
    let h = Harness::new(QState::Pending, QState::Process, (80, 24));
    let screen = format!("{:?}", h.draw().backend());
    assert!(
        screen.contains("2State") && !screen.contains("2Menu"),
        "{screen}"
    );
}

#[test]
fn f3_on_a_success_item_opens_its_log() {
    let mut h = Harness::new(QState::Success, QState::Process, (80, 24));
    h.list_all(&[(QState::Success, &["movie.mp4"])]);
    h.key(KeyCode::F(3));
    assert_eq!(
        h.effects,
        [Effect::View {
            item: item(QState::Success, "movie.mp4"),
            log: true
        }]
    );
}

#[test]
fn viewer_refresh_does_its_io_off_the_event_loop() {
    use std::io::Write as _;

    let mut log = tempfile::NamedTempFile::new().unwrap();
    log.write_all(b"line one\n").unwrap();
    let mut viewer = crate::tui::viewer::Viewer::open(log.path(), "log of x").unwrap();
    viewer.set_follow(true);
    let mut h = Harness::new(QState::Pending, QState::Process, (60, 10));
    h.model.overlay = Some(Overlay::Viewer(Box::new(viewer)));
    log.write_all(b"line two\n").unwrap();
    // A tick asks for a look; update itself touches nothing.
    h.send(Event::Tick);
    let [Effect::ViewerLook(look)] = &h.effects[..] else {
        panic!("{:?}", h.effects);
    };
    // What the background thread does with it, and what comes back.
    let looked = look.clone().run().unwrap();
    h.send(Event::ViewerLooked(looked));
    while let [Effect::ViewerRead(request)] = &h.effects[..] {
        let chunk = request.read().unwrap();
        h.send(Event::ViewerChunk(chunk));
    }
    let screen = format!("{:?}", h.draw().backend());
    assert!(screen.contains("line two"), "{screen}");
}

#[test]
fn the_embedded_engines_reports_win_over_the_disk_for_its_own_items() {
    use super::super::changes::Changes;

    let mut h = Harness::new(QState::Pending, QState::Process, (80, 24));
    h.list_all(&[(QState::Process, &["ours.mp4"])]);
    h.send(Event::Engine(crate::worker::EngineStatus {
        slots: 1,
        busy: 1,
        paused: false,
        why: None,
    }));
    let report = |fraction: f64, updated: u64| Progress {
        fraction: Some(fraction),
        worker: "host-1-1".into(),
        updated,
        ..Progress::default()
    };
    h.send(Event::Worker(crate::worker::EngineEvent::Progress {
        item: item(QState::Process, "ours.mp4"),
        progress: report(0.5, 100),
    }));
    // Its own progress file changing is an echo: not read back.
    let echo = Changes {
        progress: true,
        ..Changes::default()
    };
    h.send(Event::Changed(echo.clone()));
    assert!(
        !h.effects.contains(&Effect::ReadProgress),
        "{:?}",
        h.effects
    );
    // Another worker's item appears; a read of the disk takes only that one.
    h.list(QState::Process, &["ours.mp4", "theirs.mp4"]);
    h.send(Event::Changed(echo));
    assert!(h.effects.contains(&Effect::ReadProgress), "{:?}", h.effects);
    h.send(Event::ProgressRead(vec![
        ("ours.mp4".into(), report(0.1, 999)),
        ("theirs.mp4".into(), report(0.7, 999)),
    ]));
    let running = &h.model.queue.running;
    assert_eq!(
        running[std::ffi::OsStr::new("ours.mp4")].fraction,
        Some(0.5)
    );
    assert_eq!(
        running[std::ffi::OsStr::new("theirs.mp4")].fraction,
        Some(0.7)
    );
}

#[test]
fn save_and_close_gives_the_held_item_back() {
    use super::super::editor::Editor;
    use crate::queue::Queue;
    let dir = tempfile::tempdir().unwrap();
    let queue = Queue::init(dir.path().join("q")).unwrap();
    std::fs::write(queue.root().join("note.txt"), "draft\n").unwrap();
    let item = queue.list(QState::Pending).unwrap().remove(0);
    let hold = queue.hold_for_edit(&item).unwrap();
    let editor = Editor::open(&queue, &hold.item).unwrap().holding(hold);
    let mut h = Harness::new(QState::Pending, QState::Paused, (80, 24));
    h.send(Event::EditorOpened(Box::new(editor)));
    // An edit, then Esc and "save" in the close prompt.
    h.typed("edited ").key(KeyCode::Esc).key(KeyCode::Char('s'));
    let Some(Effect::Save(request)) = h.effects.pop() else {
        panic!("no save asked for: {:?}", h.effects);
    };
    h.send(Event::Saved(request.run(&queue).map_err(|e| e.to_string())));
    assert!(h.model.overlay.is_none(), "the editor closed");
    let Some(Effect::Disk(super::super::effect::Op::ReleaseEdit(hold))) = h
        .effects
        .iter()
        .find(|e| matches!(e, Effect::Disk(_)))
        .cloned()
    else {
        panic!("the held item was not given back: {:?}", h.effects);
    };
    queue.release_edit(&hold).unwrap();
    let pending = queue.list(QState::Pending).unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        std::fs::read(queue.path_of(&pending[0])).unwrap(),
        b"edited draft\n"
    );
}
