//! Quick search, as mc's Ctrl+S: type the start of a name and the cursor jumps to the first
//! item from the cursor on (wrapping) whose name starts so, ignoring case. A character that
//! matches nothing is refused, so the text always names something on screen; the search key
//! again jumps to the next match; Backspace takes a character back; Esc, Enter or any other key
//! ends the search (that key then does what it always does).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::queue::printable;

use super::keymap::{Action, Context, Keymap};
use super::pane::Pane;

/// What a key did to a running search.
#[derive(Debug, PartialEq, Eq)]
pub enum Searched {
    /// The key was the search's; nothing more to do.
    Taken,
    /// The search is over; the key was not the search's and goes on to the panes.
    Ended,
}

impl Pane {
    /// Starts a quick search (or, when one runs, jumps to the next match).
    pub fn quick_search(&mut self) {
        match &self.search {
            Some(text) if !text.is_empty() => {
                let text = text.clone();
                if let Some(at) = self.find_from(&text, self.cursor + 1) {
                    self.cursor = at;
                }
            }
            _ => self.search = Some(String::new()),
        }
    }

    /// Where the first shown item from `start` (wrapping) whose name starts with `text` is.
    fn find_from(&self, text: &str, start: usize) -> Option<usize> {
        let text = text.to_lowercase();
        let n = self.shown.len();
        (0..n).map(|k| (start + k) % n).find(|&pos| {
            let item = &self.items[self.shown[pos]];
            printable(item.display()).to_lowercase().starts_with(&text)
        })
    }
}

/// Handles `key` while the pane's search runs.
pub fn key(pane: &mut Pane, keys: &Keymap, key: &KeyEvent) -> Searched {
    if keys.action(Context::Pane, key) == Some(Action::QuickSearch) {
        pane.quick_search();
        return Searched::Taken;
    }
    let Some(text) = pane.search.clone() else {
        return Searched::Ended;
    };
    let plain = !key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
    match key.code {
        KeyCode::Char(c) if plain => {
            let longer = format!("{text}{c}");
            if let Some(at) = pane.find_from(&longer, pane.cursor) {
                pane.cursor = at;
                pane.search = Some(longer);
            }
            Searched::Taken
        }
        KeyCode::Backspace => {
            let mut shorter = text;
            shorter.pop();
            pane.search = Some(shorter);
            Searched::Taken
        }
        KeyCode::Esc | KeyCode::Enter => {
            pane.search = None;
            Searched::Taken
        }
        _ => {
            pane.search = None;
            Searched::Ended
        }
    }
}
