//! The commander's look from three layers: the operator's config under the queue's `[tui]`
//! under the flags. Built from real files in a temp folder, drawn into a TestBackend.

use std::fs;
use std::path::Path;

use crossterm::event::KeyCode;
use insta::assert_snapshot;
use ratatui::style::Color;

use crate::cli::TuiArgs;
use crate::queue::{State as QState, TuiConfig};

use super::super::look::{Look, UserLayer, resolve};
use super::Harness;

/// A user config folder with `config` and a theme `mine` (red cursor).
fn user_layer(dir: &Path, config: &str) -> UserLayer {
    let home = dir.join("fsq");
    fs::create_dir_all(home.join("themes")).unwrap();
    fs::write(home.join("config.toml"), config).unwrap();
    fs::write(
        home.join("themes/mine.toml"),
        "cursor = { fg = \"white\", bg = \"red\" }\n",
    )
    .unwrap();
    UserLayer::read(Some(home)).unwrap()
}

fn queue_tui(text: &str) -> TuiConfig {
    let config = crate::queue::Config::parse(text, Path::new("q/_meta/config.toml")).unwrap();
    config.tui
}

const USER: &str = "[tui]\ntheme = \"mine\"\nleft = \"failed\"\nright = \"success\"\n\
                    [tui.keys]\nquit = [\"C-q\"]\n";

/// A commander drawn with `look`, each pane listing one item.
fn drawn(look: &Look) -> (Harness, ratatui::Terminal<ratatui::backend::TestBackend>) {
    let mut h = Harness::new(look.left, look.right, (80, 12));
    h.keys = look.keys.clone();
    h.list_all(&[(look.left, &["left-item"]), (look.right, &["right-item"])]);
    let terminal = h.draw_with(&look.theme);
    (h, terminal)
}

/// The background of the cursor row (the left pane's first item).
fn cursor_bg(terminal: &ratatui::Terminal<ratatui::backend::TestBackend>) -> Option<Color> {
    let buffer = terminal.backend().buffer();
    let row = (0..buffer.area.height)
        .find(|&y| {
            let line: String = (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect();
            line.contains("left-item")
        })
        .unwrap();
    Some(buffer[(2, row)].bg)
}

#[test]
fn the_user_config_sets_theme_keys_and_panes() {
    let dir = tempfile::tempdir().unwrap();
    let user = user_layer(dir.path(), USER);
    let look = resolve(
        &TuiArgs::default(),
        &TuiConfig::default(),
        Path::new("q"),
        &user,
    )
    .unwrap();
    assert_eq!((look.left, look.right), (QState::Failed, QState::Success));
    let (mut h, terminal) = drawn(&look);
    assert_eq!(cursor_bg(&terminal), Some(Color::Red), "the user's theme");
    assert_snapshot!("user_layer", terminal.backend());
    h.key(KeyCode::Char('q'));
    assert!(h.effects.is_empty(), "q is no longer quit");
}

#[test]
fn the_queue_tui_section_wins_over_the_user_config() {
    let dir = tempfile::tempdir().unwrap();
    let user = user_layer(dir.path(), USER);
    let queue =
        queue_tui("[tui]\nright = \"paused\"\ntheme = \"dark\"\n[tui.keys]\nhold = \"h\"\n");
    let look = resolve(&TuiArgs::default(), &queue, Path::new("q"), &user).unwrap();
    assert_eq!((look.left, look.right), (QState::Failed, QState::Paused));
    assert_eq!(look.keys.describe(super::super::keymap::Action::Hold), "h");
    assert_eq!(
        look.keys.describe(super::super::keymap::Action::Quit),
        "C-q",
        "user's, kept"
    );
    let (_, terminal) = drawn(&look);
    assert_ne!(cursor_bg(&terminal), Some(Color::Red), "the queue's theme");
    assert_snapshot!("queue_over_user", terminal.backend());
}

#[test]
fn flags_win_over_both() {
    let dir = tempfile::tempdir().unwrap();
    let user = user_layer(dir.path(), USER);
    let queue = queue_tui("[tui]\nleft = \"paused\"\ntheme = \"dark\"\n");
    let args = TuiArgs {
        left: Some(QState::Delayed),
        theme: Some("mine".into()),
        ..TuiArgs::default()
    };
    let look = resolve(&args, &queue, Path::new("q"), &user).unwrap();
    assert_eq!((look.left, look.right), (QState::Delayed, QState::Success));
    let (_, terminal) = drawn(&look);
    assert_eq!(
        cursor_bg(&terminal),
        Some(Color::Red),
        "the flag's theme, a user theme"
    );
    assert_snapshot!("flags_over_both", terminal.backend());
}

#[test]
fn a_mistake_names_the_layer_it_is_in() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("fsq");
    fs::create_dir_all(&home).unwrap();
    fs::write(home.join("config.toml"), "[tui]\nthem = \"dark\"\n").unwrap();
    let err = UserLayer::read(Some(home.clone()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("fsq/config.toml:2:1: unknown field `them`"),
        "{err}"
    );
    fs::write(home.join("config.toml"), "[worker]\nworkers = 2\n").unwrap();
    let err = UserLayer::read(Some(home.clone()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("config.toml:1:2: unknown field `worker`"),
        "{err}"
    );
    fs::write(home.join("config.toml"), "[tui.keys]\nfly = \"x\"\n").unwrap();
    let user = UserLayer::read(Some(home)).unwrap();
    let err = resolve(
        &TuiArgs::default(),
        &TuiConfig::default(),
        Path::new("q/c.toml"),
        &user,
    )
    .err()
    .unwrap()
    .to_string();
    assert!(
        err.contains("fsq/config.toml:2:1: [tui.keys]: unknown action \"fly\""),
        "{err}"
    );
    assert!(
        UserLayer::read(None).unwrap().tui.theme.is_none(),
        "no config dir, no layer"
    );
}
