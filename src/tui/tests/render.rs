//! Whole-screen render snapshots (text only; styles are checked cell by cell where they carry
//! meaning) and the promise that no size and no name can break the layout.

use crossterm::event::KeyCode;
use insta::assert_snapshot;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::queue::{Heartbeat, State as QState, WorkerHealth, WorkerStatus};
use crate::worker::EngineStatus;

use super::super::event::Event;
use super::super::theme::Theme;
use super::Harness;

const PENDING: &[&str] = &[
    "interview-raw.mov",
    "0+1k8mb6l1719vl5f+urgent-trailer.mp4",
    "lecture-03.mkv",
    "podcast-episode-118.wav",
    "a file name far too long to fit into one pane of the commander.mp4",
    "日本語のビデオ.mp4",
];

fn busy_queue(size: (u16, u16)) -> Harness {
    let mut h = Harness::new(QState::Pending, QState::Process, size);
    h.list_all(&[
        (QState::Pending, PENDING),
        (QState::Process, &["holiday.mp4", "concert.mkv"]),
        (QState::Success, &["s1", "s2", "s3"]),
        (QState::Failed, &["bad.avi"]),
    ]);
    h.stat_all()
        .progress("holiday.mp4", 0.42)
        .progress("concert.mkv", 0.07);
    h.send(Event::Engine(EngineStatus {
        slots: 2,
        busy: 2,
        paused: false,
        why: None,
    }));
    h
}

#[test]
fn both_panes_80x24() {
    let h = busy_queue((80, 24));
    let terminal = h.draw();
    assert_snapshot!(terminal.backend());
    // The cursor row is drawn in the cursor colours, in the active pane only.
    let buffer = terminal.backend().buffer();
    let theme = Theme::default();
    assert_eq!(buffer[(3, 4)].style().bg, theme.cursor.bg);
    assert_eq!(buffer[(43, 4)].style().bg, theme.base.bg);
}

#[test]
fn both_panes_120x30_show_speed_columns() {
    assert_snapshot!(busy_queue((120, 30)).draw().backend());
}

/// What the stat thread says about a pending file still open for writing.
fn arriving(h: &mut Harness, name: &str, size: u64) {
    let item = super::item(QState::Pending, name);
    let details = super::super::pane::Details {
        size,
        modified: Some(super::now()),
        arriving: true,
        ..Default::default()
    };
    h.send(Event::Details(vec![(
        QState::Pending,
        super::super::pane::Key::of(&item),
        details,
    )]));
}

#[test]
fn an_arriving_file_is_marked_and_its_size_grows_live() {
    // Listings come in processing order, which the look at one name relies on.
    let mut sorted = PENDING.to_vec();
    sorted.sort();
    let mut h = Harness::new(QState::Pending, QState::Process, (80, 24));
    h.list_all(&[(QState::Pending, &sorted)]);
    h.stat_all();
    arriving(&mut h, "interview-raw.mov", 1_000_000);
    h.key(KeyCode::Down).key(KeyCode::Down);
    assert_snapshot!("arriving_first_look", h.draw().backend());
    // The watcher saw it written: the listing is unchanged, and its details are asked again.
    h.send(Event::Rechecked {
        state: QState::Pending,
        files: vec!["interview-raw.mov".into()],
        found: vec![super::item(QState::Pending, "interview-raw.mov")],
    });
    assert!(
        h.effects
            .iter()
            .any(|e| matches!(e, super::super::effect::Effect::Stat(items)
            if items.iter().any(|i| i.file == "interview-raw.mov"))),
        "{:?}",
        h.effects
    );
    arriving(&mut h, "interview-raw.mov", 48_000_000);
    assert_snapshot!("arriving_grown", h.draw().backend());
}

#[test]
fn failed_and_delayed_panes() {
    let mut h = Harness::new(QState::Failed, QState::Delayed, (80, 24));
    h.list_all(&[
        (QState::Failed, &["bad.avi", "truncated.mp4"]),
        (QState::Delayed, &["flaky-upload.mov"]),
    ]);
    h.stat_all();
    assert_snapshot!(h.draw().backend());
}

#[test]
fn move_confirmation_dialog() {
    let mut h = busy_queue((80, 24));
    h.key(KeyCode::Tab).key(KeyCode::Char('5')); // nothing bound: ignored
    h.key(KeyCode::Tab);
    h.model.panes[1].switch_to(QState::Paused);
    h.list(QState::Paused, &[]);
    h.key(KeyCode::Insert)
        .key(KeyCode::Insert)
        .key(KeyCode::F(6));
    assert_snapshot!(h.draw().backend());
}

#[test]
fn delete_confirmation_dialog() {
    let mut h = busy_queue((80, 24));
    h.key(KeyCode::F(8));
    assert_snapshot!(h.draw().backend());
}

#[test]
fn filter_prompt_and_state_menu() {
    let mut h = busy_queue((80, 24));
    h.key(KeyCode::Char('/')).typed("mp4");
    assert_snapshot!("filter_prompt", h.draw().backend());
    h.key(KeyCode::Enter).key(KeyCode::F(2));
    assert_snapshot!("state_menu", h.draw().backend());
}

#[test]
fn help_lists_every_key() {
    let mut h = busy_queue((80, 24));
    h.key(KeyCode::F(1));
    assert_snapshot!(h.draw().backend());
    let all = super::super::render_help_lines(&h.keys);
    assert!(all.iter().any(|l| l.contains("S-Down")));
    assert!(all.iter().any(|l| l.starts_with("F10, q")));
}

#[test]
fn workers_panel_shows_a_dead_worker_in_alarm_colour() {
    let mut h = busy_queue((100, 30));
    let worker = |host: &str, pid: u32, health: WorkerHealth, last: f64| WorkerStatus {
        heartbeat: Heartbeat {
            id: format!("{host}-{pid}-1"),
            host: host.into(),
            pid,
            slots: 2,
            busy: 1,
            ..Heartbeat::default()
        },
        health,
        last_beat_secs: last,
    };
    h.key(KeyCode::Char('w'));
    h.send(Event::Workers(vec![
        worker("workstation", 4242, WorkerHealth::Alive, 1.2),
        worker(
            "render-2",
            77,
            WorkerHealth::Down {
                since_secs: 95.0,
                why: "no heartbeat for 125s".into(),
            },
            125.0,
        ),
    ]));
    let terminal = h.draw();
    assert_snapshot!(terminal.backend());
    let buffer = terminal.backend().buffer();
    let row = (0..30)
        .find(|y| {
            (0..100)
                .map(|x| buffer[(x, *y)].symbol())
                .collect::<String>()
                .contains("render-2")
        })
        .unwrap_or_else(|| panic!("no render-2 row"));
    assert_eq!(buffer[(3, row)].style().fg, Theme::default().alarm.fg);
}

#[test]
fn a_40x10_terminal_shows_one_pane() {
    assert_snapshot!(busy_queue((40, 10)).draw().backend());
}

#[test]
fn no_size_panics() {
    for w in 0..=45 {
        for h in 0..=14 {
            let mut harness = busy_queue((w, h));
            harness.draw();
            harness.key(KeyCode::F(8));
            harness.draw();
            harness.key(KeyCode::Esc).key(KeyCode::F(1));
            harness.draw();
        }
    }
}

#[test]
fn hostile_names_never_break_the_layout() {
    let mut h = Harness::new(QState::Pending, QState::Paused, (80, 24));
    h.list_all(&[(
        QState::Pending,
        &[
            "evil\u{1b}[2J\u{1b}[31mred",
            "bell\u{7}\r\nnew line",
            "ｗｉｄｅ全角ファイル名がとても長い名前のファイル.mp4",
            "e\u{301}\u{301}\u{301}combining",
            "tab\there",
        ],
    )]);
    h.stat_all();
    let terminal = h.draw();
    assert_snapshot!(terminal.backend());
    let buffer = terminal.backend().buffer();
    for y in 4..9 {
        assert_eq!(
            buffer[(39, y)].symbol(),
            "║",
            "row {y} spilled over the border"
        );
        assert_eq!(buffer[(40, y)].symbol(), "║");
    }
}

#[test]
fn no_color_keeps_the_cursor_visible() {
    let h = busy_queue((80, 24));
    let theme = Theme::default().without_colour();
    let terminal = h.draw_with(&theme);
    let cell = &terminal.backend().buffer()[(3, 4)];
    assert!(matches!(
        cell.style().bg,
        None | Some(ratatui::style::Color::Reset)
    ));
    assert!(
        cell.style()
            .add_modifier
            .contains(ratatui::style::Modifier::REVERSED)
    );
}

/// One redraw of a full 200x60 screen over a 100,000-item listing (timed; the figure in
/// docs/BENCHMARKS.md comes from `cargo test --release render_time -- --nocapture`).
#[test]
fn render_time_200x60_with_100k_items() {
    let names: Vec<String> = (0..100_000).map(|i| format!("item-{i:06}.mp4")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut h = Harness::new(QState::Pending, QState::Process, (200, 60));
    h.list_all(&[
        (QState::Pending, &refs),
        (QState::Process, &["a.mp4", "b.mp4"]),
    ]);
    h.stat_all().progress("a.mp4", 0.5);
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).unwrap_or_else(|e| panic!("{e}"));
    let theme = Theme::default();
    let runs = 50;
    let start = std::time::Instant::now();
    for _ in 0..runs {
        terminal
            .draw(|frame| super::super::render::draw(frame, &h.model, &theme, &h.keys))
            .unwrap_or_else(|e| panic!("{e}"));
    }
    let each = start.elapsed() / runs;
    eprintln!("render 200x60: {each:?} per frame");
    assert!(each < std::time::Duration::from_millis(100), "{each:?}");
}

#[test]
fn the_header_says_why_nothing_is_claimed() {
    let mut h = busy_queue((100, 24));
    h.send(Event::Engine(EngineStatus {
        slots: 2,
        busy: 1,
        paused: true,
        why: Some("outside schedule (next window 19:00)".into()),
    }));
    let terminal = h.draw();
    let buffer = terminal.backend().buffer();
    let top: String = (0..100).map(|x| buffer[(x, 0)].symbol()).collect();
    assert!(
        top.contains("worker 1/2: outside schedule (next window 19:00)"),
        "{top}"
    );
}

#[test]
fn a_frozen_job_says_frozen_where_its_eta_was() {
    let mut h = busy_queue((100, 24));
    let progress = crate::queue::Progress {
        fraction: Some(0.3),
        frozen: true,
        worker: "host-1-1".into(),
        ..Default::default()
    };
    h.send(Event::Worker(crate::worker::EngineEvent::Progress {
        item: super::item(QState::Process, "holiday.mp4"),
        progress,
    }));
    let terminal = h.draw();
    let buffer = terminal.backend().buffer();
    let rows: Vec<String> = (0..24)
        .map(|y| (0..100).map(|x| buffer[(x, y)].symbol()).collect())
        .collect();
    let row = rows.iter().find(|r| r.contains("holiday.mp4")).unwrap();
    assert!(row.contains("frozen"), "{row}");
}
