//! The mc habits: quick search, sort modes (never in pending), the info page, and help that
//! scrolls and closes only on its own keys.

use crossterm::event::{KeyCode, KeyModifiers};
use insta::assert_snapshot;

use crate::queue::State as QState;

use super::super::dialog::Overlay;
use super::super::effect::Effect;
use super::super::event::Event;
use super::super::info::InfoPage;
use super::Harness;

fn failed(names: &[&str]) -> Harness {
    let mut h = Harness::new(QState::Failed, QState::Pending, (80, 24));
    h.list(QState::Failed, names)
        .list(QState::Pending, &["b", "a"]);
    h
}

fn shown(h: &Harness) -> Vec<String> {
    let pane = h.model.pane();
    pane.shown
        .iter()
        .map(|&i| pane.items[i].display().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn quick_search_jumps_to_a_name_start_and_refuses_what_matches_nothing() {
    let mut h = failed(&["Apple.mp4", "banana.txt", "blue.txt", "cherry.pdf"]);
    h.key_with(KeyCode::Char('s'), KeyModifiers::CONTROL);
    assert_eq!(h.model.pane().search.as_deref(), Some(""));
    // `q`, `r` and friends are typed, not acted on, while searching.
    h.typed("BL");
    assert_eq!(h.cursor_name(), "blue.txt");
    h.typed("x");
    assert_eq!(
        h.model.pane().search.as_deref(),
        Some("BL"),
        "x matches nothing"
    );
    h.key(KeyCode::Backspace);
    assert_eq!(h.cursor_name(), "blue.txt", "b still matches where we are");
    // The search key again: the next match, wrapping.
    h.key_with(KeyCode::Char('s'), KeyModifiers::ALT);
    assert_eq!(h.cursor_name(), "banana.txt");
    // Another key ends the search and does its own thing.
    h.key(KeyCode::Down);
    assert_eq!(h.model.pane().search, None);
    assert_eq!(h.cursor_name(), "blue.txt");
    h.key_with(KeyCode::Char('s'), KeyModifiers::CONTROL)
        .typed("a");
    assert_eq!(h.cursor_name(), "Apple.mp4", "case is ignored");
    h.key(KeyCode::Esc);
    assert_eq!(
        (h.model.pane().search.as_ref(), h.cursor_name().as_str()),
        (None, "Apple.mp4")
    );
}

#[test]
fn the_search_line_replaces_the_status_line() {
    let mut h = failed(&["alpha", "beta"]);
    h.key_with(KeyCode::Char('s'), KeyModifiers::CONTROL)
        .typed("be");
    let screen = format!("{:?}", h.draw().backend());
    assert!(screen.contains("Search: be▏"), "{screen}");
}

#[test]
fn sort_cycles_name_size_time_and_back_and_reverses() {
    let mut h = failed(&["c", "a", "b"]);
    h.stat_all(); // sizes grow with the listing position: c < a < b; times: c newest
    assert_eq!(shown(&h), ["c", "a", "b"], "file order");
    h.key(KeyCode::Char('s'));
    assert_eq!(shown(&h), ["a", "b", "c"], "by name");
    h.key(KeyCode::Char('s'));
    assert_eq!(shown(&h), ["c", "a", "b"], "by size");
    h.key(KeyCode::Char('S'));
    assert_eq!(shown(&h), ["b", "a", "c"], "by size, reversed");
    h.key(KeyCode::Char('s'));
    assert_eq!(
        shown(&h),
        ["c", "a", "b"],
        "by time, reversed: newest first"
    );
    assert!(format!("{:?}", h.draw().backend()).contains(" failed/ 3 by time ↓ "));
    h.key(KeyCode::Char('S')).key(KeyCode::Char('s'));
    assert_eq!(shown(&h), ["c", "a", "b"], "file order again");
}

#[test]
fn sorting_by_size_asks_for_every_item_and_places_them_as_they_come() {
    let names: Vec<String> = (0..60).map(|i| format!("f{i:02}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut h = failed(&refs);
    h.key(KeyCode::Char('s')).key(KeyCode::Char('s'));
    let asked = h.stat_requests();
    // The 16 rows on screen were asked for when listed; the other rows now.
    assert_eq!(asked, 60 - 16);
    h.stat_all();
    assert_eq!(shown(&h)[0], "f00");
    h.key(KeyCode::Char('S'));
    assert_eq!(shown(&h)[0], "f59");
}

#[test]
fn pending_keeps_processing_order_and_says_so() {
    let mut h = failed(&["x"]);
    h.key(KeyCode::Char('s'));
    h.key(KeyCode::Tab).key(KeyCode::Char('s'));
    assert_eq!(shown(&h), ["b", "a"], "pending is never sorted");
    let message = h.model.message.clone().unwrap().text;
    assert!(message.contains("processing order"), "{message}");
    // The sort chosen for failed/ goes with the pane, but does not apply to pending.
    h.key(KeyCode::Tab)
        .key_with(KeyCode::Char('1'), KeyModifiers::ALT);
    h.list(QState::Pending, &["b", "a"]);
    assert_eq!(shown(&h), ["b", "a"]);
    assert!(format!("{:?}", h.draw().backend()).contains("Name (run order)"));
}

#[test]
fn info_opens_for_the_cursor_item_and_scrolls() {
    let mut h = failed(&["a", "b"]);
    h.key(KeyCode::Down).key(KeyCode::Char('i'));
    let asked = h
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Info(i) if i.display() == "b"));
    assert!(asked, "{:?}", h.effects);
    let page = InfoPage {
        title: "Info: b".into(),
        lines: (1..=40).map(|i| format!("line {i}")).collect(),
    };
    h.send(Event::InfoRead(page));
    h.key(KeyCode::PageDown).key(KeyCode::Down);
    assert!(matches!(
        h.model.overlay,
        Some(Overlay::Info { scroll: 19, .. })
    ));
    assert_snapshot!(h.draw().backend());
    h.key(KeyCode::End);
    assert!(matches!(
        h.model.overlay,
        Some(Overlay::Info { scroll: 22, .. })
    ));
    h.key(KeyCode::Esc);
    assert!(h.model.overlay.is_none());
}

#[test]
fn help_scrolls_with_page_keys_and_closes_only_on_its_keys() {
    let mut h = failed(&["a"]);
    h.key(KeyCode::F(1));
    h.key(KeyCode::PageDown);
    assert!(matches!(
        h.model.overlay,
        Some(Overlay::Help { scroll: 18 })
    ));
    h.key(KeyCode::Char('x')).key(KeyCode::Up);
    assert!(matches!(
        h.model.overlay,
        Some(Overlay::Help { scroll: 17 })
    ));
    h.key(KeyCode::End);
    assert_snapshot!(h.draw().backend());
    h.key(KeyCode::Esc);
    for close in [KeyCode::Esc, KeyCode::F(1), KeyCode::Char('q')] {
        h.key(KeyCode::F(1));
        assert!(h.model.overlay.is_some());
        h.key(close);
        assert!(h.model.overlay.is_none(), "{close:?} closes help");
        assert!(h.effects.is_empty(), "{close:?} does not quit");
    }
}
