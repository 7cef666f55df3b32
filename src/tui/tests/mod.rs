//! Tests of the whole commander without a terminal: models built from synthetic events, driven
//! through `update`, drawn into a `TestBackend` and compared with insta snapshots. Paths are
//! fixed (`/srv/convert`) and the clock is frozen, so snapshots never depend on the machine.

mod habits;
mod header;
mod live;
mod look;
mod regressions;
mod render;
mod update;

use std::ffi::OsString;
use std::time::{Duration, SystemTime};

use crossterm::event::{Event as Term, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::queue::{Item, Progress, State as QState};

use super::effect::Effect;
use super::event::Event;
use super::keymap::Keymap;
use super::model::Model;
use super::pane::{Details, Key};
use super::theme::Theme;
use super::update::update;

/// A frozen "now": 2026-01-01 12:00:00 UTC.
pub fn now() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_268_800)
}

pub fn item(state: QState, file: &str) -> Item {
    Item {
        state,
        owner: (state == QState::Process).then(|| OsString::from("host-1-1")),
        file: file.into(),
    }
}

/// A commander of `size` showing `left` and `right`, with those states listed.
pub struct Harness {
    pub model: Model,
    pub keys: Keymap,
    pub effects: Vec<Effect>,
}

impl Harness {
    pub fn new(left: QState, right: QState, size: (u16, u16)) -> Harness {
        let mut model = Model::new("/srv/convert".into(), left, right, size);
        model.now = now();
        Harness {
            model,
            keys: Keymap::default(),
            effects: Vec::new(),
        }
    }

    pub fn send(&mut self, event: Event) -> &mut Self {
        self.effects = update(&mut self.model, &self.keys, event);
        self
    }

    pub fn list(&mut self, state: QState, files: &[&str]) -> &mut Self {
        let items = files.iter().map(|f| item(state, f)).collect();
        self.send(Event::Listed { state, items })
    }

    /// Lists every state: `files` for those given, empty for the rest.
    pub fn list_all(&mut self, given: &[(QState, &[&str])]) -> &mut Self {
        for state in QState::ALL {
            let files = given
                .iter()
                .find(|(s, _)| *s == state)
                .map_or(&[][..], |(_, f)| f);
            self.list(state, files);
        }
        self
    }

    /// Gives every listed item a size and an age, as the stat thread would.
    pub fn stat_all(&mut self) -> &mut Self {
        let mut details = Vec::new();
        for pane in &self.model.panes {
            for (i, item) in pane.items.iter().enumerate() {
                let details_for = Details {
                    size: 1000 * (i as u64 + 1) * (i as u64 + 1) * 37,
                    modified: Some(now() - Duration::from_secs(45 * (i as u64 + 1))),
                    reason: (item.state == QState::Failed || item.state == QState::Delayed)
                        .then(|| "exit status 1: no such codec".to_string()),
                    retry_at: (item.state == QState::Delayed)
                        .then(|| crate::queue::unix_ms(now()) + 95_000),
                    arriving: false,
                };
                details.push((item.state, Key::of(item), details_for));
            }
        }
        self.send(Event::Details(details))
    }

    /// How many items the last event asked to stat.
    pub fn stat_requests(&self) -> usize {
        self.effects
            .iter()
            .map(|e| match e {
                Effect::Stat(items) => items.len(),
                _ => 0,
            })
            .sum()
    }

    pub fn progress(&mut self, name: &str, fraction: f64) -> &mut Self {
        let progress = Progress {
            fraction: Some(fraction),
            speed: Some(crate::queue::Speed::BytesPerSec(262_144.0)),
            eta_secs: Some(12.0 / fraction.max(0.01)),
            worker: "host-1-1".into(),
            ..Progress::default()
        };
        self.send(Event::Worker(crate::worker::EngineEvent::Progress {
            item: item(QState::Process, name),
            progress,
        }))
    }

    pub fn key(&mut self, code: KeyCode) -> &mut Self {
        self.key_with(code, KeyModifiers::NONE)
    }

    pub fn key_with(&mut self, code: KeyCode, mods: KeyModifiers) -> &mut Self {
        self.send(Event::Input(Term::Key(KeyEvent::new(code, mods))))
    }

    pub fn typed(&mut self, text: &str) -> &mut Self {
        for c in text.chars() {
            self.key(KeyCode::Char(c));
        }
        self
    }

    /// The cursor item's display name in the active pane.
    pub fn cursor_name(&self) -> String {
        self.model
            .pane()
            .current()
            .map(|i| i.display().to_string_lossy().into_owned())
            .unwrap_or_default()
    }

    pub fn draw_with(&self, theme: &Theme) -> Terminal<TestBackend> {
        let (w, h) = self.model.size;
        let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap_or_else(|e| panic!("{e}"));
        terminal
            .draw(|frame| super::render::draw(frame, &self.model, theme, &self.keys))
            .unwrap_or_else(|e| panic!("{e}"));
        terminal
    }

    pub fn draw(&self) -> Terminal<TestBackend> {
        self.draw_with(&Theme::default())
    }
}
