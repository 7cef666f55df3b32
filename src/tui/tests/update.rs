//! `update` alone: navigation, identity-following cursor and selection, filter, the actions'
//! confirmations and the effects they return.

use crossterm::event::{KeyCode, KeyModifiers};

use crate::queue::{Request, State as QState};
use crate::worker::{EngineStatus, StopMode};

use super::super::changes::Changes;
use super::super::effect::{Effect, Op, Place};
use super::super::event::Event;
use super::{Harness, item, now};

fn pending(names: &[&str]) -> Harness {
    let mut h = Harness::new(QState::Pending, QState::Paused, (80, 24));
    h.list(QState::Pending, names).list(QState::Paused, &[]);
    h
}

#[test]
fn arrows_page_keys_and_ends_move_the_cursor_within_bounds() {
    let names: Vec<String> = (0..100).map(|i| format!("item-{i:03}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut h = pending(&refs);
    h.key(KeyCode::Up);
    assert_eq!(h.cursor_name(), "item-000");
    h.key(KeyCode::Down).key(KeyCode::Down);
    assert_eq!(h.cursor_name(), "item-002");
    h.key(KeyCode::PageDown);
    assert_eq!(h.cursor_name(), "item-017");
    assert!(h.model.pane().offset > 0, "the page scrolled");
    h.key(KeyCode::End);
    assert_eq!(h.cursor_name(), "item-099");
    h.key(KeyCode::Down);
    assert_eq!(h.cursor_name(), "item-099");
    h.key(KeyCode::Home);
    assert_eq!(
        (h.cursor_name().as_str(), h.model.pane().offset),
        ("item-000", 0)
    );
    h.key(KeyCode::Tab);
    assert_eq!(h.model.active, 1);
}

#[test]
fn cursor_follows_its_item_when_items_above_vanish() {
    let mut h = pending(&["a", "b", "c", "d"]);
    h.key(KeyCode::Down).key(KeyCode::Down);
    assert_eq!(h.cursor_name(), "c");
    h.list(QState::Pending, &["b", "c", "d"]);
    assert_eq!(h.cursor_name(), "c");
    // Reordered (a new sort key): still the same item.
    h.list(QState::Pending, &["0+1k8mb6l1719vl5f+c", "b", "d"]);
    assert_eq!(h.cursor_name(), "c");
}

#[test]
fn cursor_stays_in_place_when_its_own_item_vanishes() {
    let mut h = pending(&["a", "b", "c", "d"]);
    h.key(KeyCode::Down).key(KeyCode::Down);
    h.list(QState::Pending, &["a", "b", "d"]);
    assert_eq!(h.cursor_name(), "d");
    h.list(QState::Pending, &[]);
    assert_eq!(h.cursor_name(), "");
    h.list(QState::Pending, &["x"]);
    assert_eq!(h.cursor_name(), "x");
}

#[test]
fn selection_follows_identity_and_drops_what_vanished() {
    let mut h = pending(&["a", "b", "c", "d"]);
    h.key(KeyCode::Insert)
        .key(KeyCode::Down)
        .key(KeyCode::Char(' '));
    assert_eq!(h.model.pane().selected.len(), 2, "a and c");
    assert_eq!(h.cursor_name(), "d", "select moves down, as in mc");
    h.list(QState::Pending, &["0+1k8mb6l1719vl5f+c", "b", "d"]);
    let targets: Vec<_> = h
        .model
        .pane()
        .targets()
        .iter()
        .map(|i| i.file.clone())
        .collect();
    assert_eq!(targets, ["0+1k8mb6l1719vl5f+c"]);
    h.key(KeyCode::Char('*'));
    let selected: Vec<_> = h
        .model
        .pane()
        .targets()
        .iter()
        .map(|i| i.file.clone())
        .collect();
    assert_eq!(selected, ["b", "d"]);
}

#[test]
fn glob_selection_and_filter() {
    let mut h = pending(&["a.mp4", "b.mkv", "c.mp4", "notes.txt"]);
    h.key(KeyCode::Char('+'));
    h.key(KeyCode::Backspace).typed("*.mp4").key(KeyCode::Enter);
    assert_eq!(h.model.pane().selected.len(), 2);
    h.key(KeyCode::Char('-'))
        .key(KeyCode::Backspace)
        .typed("a*")
        .key(KeyCode::Enter);
    assert_eq!(h.model.pane().selected.len(), 1);
    h.key(KeyCode::End);
    h.key(KeyCode::Char('/')).typed("mp").key(KeyCode::Enter);
    assert_eq!(h.model.pane().shown.len(), 2);
    assert_eq!(h.cursor_name(), "a.mp4");
    h.key(KeyCode::Down);
    assert_eq!(h.cursor_name(), "c.mp4");
    // A new listing keeps the filter.
    h.list(QState::Pending, &["a.mp4", "b.mkv", "c.mp4", "d.mp4"]);
    assert_eq!(h.model.pane().shown.len(), 3);
    assert_eq!(h.cursor_name(), "c.mp4");
    h.key(KeyCode::Char('/'));
    for _ in 0..2 {
        h.key(KeyCode::Backspace);
    }
    h.key(KeyCode::Enter);
    assert_eq!(h.model.pane().shown.len(), 4);
    assert_eq!(h.cursor_name(), "c.mp4");
}

#[test]
fn move_asks_first_and_enter_confirms() {
    let mut h = pending(&["a", "b"]);
    h.key(KeyCode::F(6));
    assert!(h.effects.is_empty() && h.model.overlay.is_some());
    h.key(KeyCode::Esc);
    assert!(h.effects.is_empty() && h.model.overlay.is_none());
    h.key(KeyCode::F(6)).key(KeyCode::Enter);
    assert_eq!(
        h.effects,
        [Effect::Disk(Op::Move {
            items: vec![item(QState::Pending, "a")],
            to: QState::Paused
        })]
    );
}

#[test]
fn delete_defaults_to_no() {
    let mut h = pending(&["a"]);
    h.key(KeyCode::F(8)).key(KeyCode::Enter);
    assert!(h.effects.is_empty());
    h.key(KeyCode::F(8)).key(KeyCode::Left).key(KeyCode::Enter);
    assert_eq!(
        h.effects,
        [Effect::Disk(Op::Delete {
            items: vec![item(QState::Pending, "a")]
        })]
    );
}

#[test]
fn readonly_refuses_changes_and_says_so() {
    let mut h = pending(&["a"]);
    h.model.readonly = true;
    for key in [
        KeyCode::F(6),
        KeyCode::F(8),
        KeyCode::F(7),
        KeyCode::Char('p'),
    ] {
        h.key(key);
        assert!(h.effects.is_empty() && h.model.overlay.is_none());
        let message = h.model.message.clone().map(|m| m.text).unwrap_or_default();
        assert!(message.starts_with("read-only"), "{message}");
    }
    h.key_with(KeyCode::Down, KeyModifiers::SHIFT);
    assert!(h.effects.is_empty());
}

#[test]
fn shift_arrows_reorder_pending_only() {
    let mut h = pending(&["a", "b"]);
    h.key_with(KeyCode::Down, KeyModifiers::SHIFT);
    assert_eq!(
        h.effects,
        [Effect::Disk(Op::Reorder {
            items: vec![item(QState::Pending, "a")],
            place: Place::Down,
            shown: None,
        })]
    );
    h.key_with(KeyCode::End, KeyModifiers::SHIFT);
    assert!(matches!(
        &h.effects[..],
        [Effect::Disk(Op::Reorder {
            place: Place::Bottom,
            ..
        })]
    ));
    h.key(KeyCode::Tab)
        .key_with(KeyCode::Up, KeyModifiers::SHIFT);
    assert!(h.effects.is_empty());
}

#[test]
fn move_key_retries_in_failed() {
    let mut h = Harness::new(QState::Failed, QState::Pending, (80, 24));
    h.list(QState::Failed, &["x"]);
    h.key(KeyCode::F(6)).key(KeyCode::Enter);
    assert_eq!(
        h.effects,
        [Effect::Disk(Op::Retry {
            items: vec![item(QState::Failed, "x")]
        })]
    );
}

#[test]
fn quitting_with_jobs_running_asks_wait_or_requeue() {
    let mut h = pending(&[]);
    h.key(KeyCode::F(10));
    assert_eq!(h.effects, [Effect::Quit(StopMode::Requeue)]);
    h.send(Event::Engine(EngineStatus {
        slots: 2,
        busy: 1,
        paused: false,
        why: None,
    }));
    h.key(KeyCode::Char('q'));
    assert!(h.model.overlay.is_some());
    h.key(KeyCode::Enter);
    assert_eq!(h.effects, [Effect::PauseEngine(true)]);
    h.send(Event::Engine(EngineStatus {
        slots: 2,
        busy: 0,
        paused: true,
        why: None,
    }));
    assert_eq!(h.effects, [Effect::Quit(StopMode::Wait)]);
    let mut h = pending(&[]);
    h.send(Event::Engine(EngineStatus {
        slots: 2,
        busy: 1,
        paused: false,
        why: None,
    }));
    h.key(KeyCode::F(10)).key(KeyCode::Char('s'));
    assert_eq!(h.effects, [Effect::Quit(StopMode::Requeue)]);
    h.send(Event::Terminate);
    assert_eq!(h.effects, [Effect::Quit(StopMode::Requeue)]);
}

#[test]
fn file_changes_become_relists() {
    let mut h = pending(&[]);
    // Another worker runs an item: its progress is read from the disk.
    h.list(QState::Process, &["clip.mp4"]);
    let mut changes = Changes::default();
    changes.states.insert(QState::Failed);
    changes.progress = true;
    h.send(Event::Changed(changes));
    assert_eq!(
        h.effects,
        [Effect::List(QState::Failed), Effect::ReadProgress]
    );
}

#[test]
fn new_arrivals_are_fresh_until_a_tick_after_the_highlight_time() {
    let mut h = pending(&["a"]);
    h.list(QState::Pending, &["a", "b"]);
    assert!(
        h.model
            .pane()
            .fresh
            .contains_key(&super::super::pane::Key::of(&item(QState::Pending, "b")))
    );
    assert!(h.model.tick_every().is_some());
    h.model.now = now() + std::time::Duration::from_secs(3);
    h.send(Event::Tick);
    assert!(h.model.pane().fresh.is_empty());
    assert_eq!(h.model.tick_every(), None, "idle: no ticks");
}

#[test]
fn only_rows_on_screen_are_statted() {
    let names: Vec<String> = (0..100_000).map(|i| format!("{i:06}.mp4")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut h = Harness::new(QState::Pending, QState::Paused, (80, 24));
    h.list(QState::Pending, &refs);
    let asked = h.stat_requests();
    assert_eq!(asked, 16);
    h.key(KeyCode::Down);
    assert!(h.effects.is_empty(), "already asked: {:?}", h.effects.len());
    h.key(KeyCode::PageDown).key(KeyCode::PageDown);
    assert!(!h.effects.is_empty());
}

#[test]
fn follow_switches_the_pane_to_where_the_item_went() {
    let mut h = pending(&["a", "b"]);
    h.key(KeyCode::Down).key(KeyCode::Char('f'));
    h.list(QState::Process, &["b"]);
    assert_eq!(h.model.pane().state, QState::Process);
    assert_eq!(h.effects, [Effect::List(QState::Process)]);
    h.list(QState::Process, &["b"]);
    assert_eq!(h.cursor_name(), "b");
}

#[test]
fn state_menu_and_alt_digits_open_states() {
    let mut h = pending(&["a"]);
    h.key(KeyCode::F(2))
        .key(KeyCode::Down)
        .key(KeyCode::Down)
        .key(KeyCode::Enter);
    assert_eq!(h.model.pane().state, QState::Process);
    h.key_with(KeyCode::Char('5'), KeyModifiers::ALT);
    assert_eq!(h.model.pane().state, QState::Failed);
    assert_eq!(h.effects, [Effect::List(QState::Failed)]);
}

#[test]
fn view_opens_the_log_of_a_running_item() {
    let mut h = Harness::new(QState::Pending, QState::Process, (100, 30));
    h.list(QState::Pending, &["a"]).list(QState::Process, &[]);
    h.list(QState::Process, &["b", "c"]);
    h.key(KeyCode::Tab).key(KeyCode::F(3));
    assert_eq!(
        h.effects,
        [Effect::View {
            item: item(QState::Process, "b"),
            log: true
        }]
    );
}

#[test]
fn cancel_key_asks_pending_or_failed_and_defaults_to_keep_running() {
    let mut h = Harness::new(QState::Pending, QState::Process, (100, 30));
    h.list(QState::Pending, &["a"])
        .list(QState::Process, &["b"]);
    h.key(KeyCode::Char('c'));
    assert!(h.effects.is_empty(), "nothing runs in pending");
    h.key(KeyCode::Tab)
        .key(KeyCode::Char('c'))
        .key(KeyCode::Enter);
    assert!(h.effects.is_empty(), "Enter alone keeps it running");
    h.key(KeyCode::Char('c'))
        .key(KeyCode::Left)
        .key(KeyCode::Enter);
    assert_eq!(
        h.effects,
        [Effect::Disk(Op::Request {
            items: vec![item(QState::Process, "b")],
            request: Request::Fail,
        })]
    );
}

#[test]
fn freeze_and_thaw_keys_ask_the_worker_only_for_running_items() {
    let mut h = Harness::new(QState::Pending, QState::Process, (100, 30));
    h.list(QState::Pending, &["a"])
        .list(QState::Process, &["b"]);
    h.key(KeyCode::Char('z'));
    assert!(h.effects.is_empty());
    h.key(KeyCode::Tab).key(KeyCode::Char('z'));
    let freeze = Op::Request {
        items: vec![item(QState::Process, "b")],
        request: Request::Freeze,
    };
    assert_eq!(h.effects, [Effect::Disk(freeze)]);
    h.key_with(KeyCode::Char('Z'), KeyModifiers::SHIFT);
    let thaw = Op::Request {
        items: vec![item(QState::Process, "b")],
        request: Request::Thaw,
    };
    assert_eq!(h.effects, [Effect::Disk(thaw)]);
}

#[test]
fn pause_workers_key_takes_a_length_and_refuses_zero() {
    let mut h = pending(&["a"]);
    h.key_with(KeyCode::Char('P'), KeyModifiers::SHIFT)
        .typed("0")
        .key(KeyCode::Enter);
    assert!(h.effects.is_empty());
    h.key_with(KeyCode::Char('P'), KeyModifiers::SHIFT)
        .typed("2h")
        .key(KeyCode::Enter);
    let two_hours = Some(std::time::Duration::from_secs(7200));
    assert_eq!(
        h.effects,
        [Effect::Disk(Op::PauseWorkers { for_: two_hours })]
    );
    h.key_with(KeyCode::Char('U'), KeyModifiers::SHIFT);
    assert_eq!(h.effects, [Effect::Disk(Op::ResumeWorkers)]);
}
