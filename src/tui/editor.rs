//! The F4 / F7 editor: a text item edited in place, saved without ever clobbering a change made
//! by someone else meanwhile.
//!
//! The component holds a `tui_textarea::TextArea` and the identity of the file it was read from.
//! It does no disk I/O after `open`: saving returns a `SaveRequest` the app runs off the render
//! path (`SaveRequest::run` calls the queue layer's `replace_content` or `enqueue`), then reports
//! back with `saved` or `save_failed`. A refused save keeps the text, so the operator can retry
//! or cancel. Files that are not plain text, or larger than `MAX_EDIT_SIZE`, are refused at
//! `open` with a message saying why, because the textarea would draw their control bytes raw.

mod save;
mod text;

#[cfg(test)]
mod tests;

use std::ffi::{OsStr, OsString};

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};
use tui_textarea::TextArea;
use unicode_width::UnicodeWidthStr;

use super::keymap::{Action, Context, Keymap};
use crate::queue::{self, EditHold, Item, Queue, printable};

pub use save::{SaveRequest, SaveTarget, Saved};

use text::{LineEnding, decode};

/// Files larger than this are not opened in the editor.
pub const MAX_EDIT_SIZE: u64 = 8 << 20;

/// Why an item cannot be edited.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("{name} is {size}: too large to edit (the limit is 8 MiB); view it with F3")]
    TooLarge { name: String, size: String },
    #[error("{name} is not plain text ({reason}); view it with F3")]
    NotText { name: String, reason: String },
    #[error(transparent)]
    Queue(#[from] queue::Error),
}

/// The editor's colours; the app maps its theme onto these.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EditStyle {
    pub text: Style,
    pub cursor: Style,
    pub cursor_line: Style,
    pub border: Style,
    pub title: Style,
    /// Position and key hints in the frame.
    pub status: Style,
    pub message: Style,
    pub error: Style,
    /// The "save changes?" question.
    pub prompt: Style,
}

impl Default for EditStyle {
    fn default() -> Self {
        EditStyle {
            text: Style::new(),
            cursor: Style::new().add_modifier(Modifier::REVERSED),
            cursor_line: Style::new(),
            border: Style::new(),
            title: Style::new().add_modifier(Modifier::BOLD),
            status: Style::new(),
            message: Style::new().fg(Color::Green),
            error: Style::new().fg(Color::Red).add_modifier(Modifier::BOLD),
            prompt: Style::new().add_modifier(Modifier::REVERSED),
        }
    }
}

/// What the app should do after a key.
#[derive(Debug)]
pub enum EditorOutcome {
    Continue,
    /// Run this save off the render path, then call `saved` or `save_failed`.
    Save(SaveRequest),
    Close,
}

/// A line of news at the bottom of the frame.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Message {
    text: String,
    is_error: bool,
}

/// The state of one open editor.
pub struct Editor {
    textarea: TextArea<'static>,
    target: SaveTarget,
    /// `STATE/NAME` (or the new item's name), escaped for display.
    title: String,
    line_ending: LineEnding,
    trailing_newline: bool,
    /// Bumped by every edit; the text is unsaved while it differs from `saved_revision`.
    revision: u64,
    saved_revision: u64,
    /// The revision being saved right now, if a save is running.
    saving: Option<u64>,
    close_after_save: bool,
    asking_to_close: bool,
    message: Option<Message>,
    style: EditStyle,
    /// The hold that keeps workers off the item while it is open; ended when the editor closes.
    hold: Option<EditHold>,
    /// The last save over the item was refused: F7 keeps the text as a new item instead.
    refused: bool,
}

impl Editor {
    /// Reads `item` and its identity (the only disk I/O the editor does; call it off the render
    /// path). Refuses files over `MAX_EDIT_SIZE` and anything but UTF-8 text without NUL or
    /// control characters (tabs and line ends are fine).
    pub fn open(queue: &Queue, item: &Item) -> Result<Editor, OpenError> {
        let name = item.qualified();
        let too_large = |size: u64| OpenError::TooLarge {
            name: name.clone(),
            size: humansize::format_size(size, humansize::BINARY),
        };
        let identity = queue.identity(item)?;
        if identity.size > MAX_EDIT_SIZE {
            return Err(too_large(identity.size));
        }
        let (bytes, identity) = queue.read_for_edit(item, MAX_EDIT_SIZE)?;
        if bytes.len() as u64 > MAX_EDIT_SIZE {
            return Err(too_large(bytes.len() as u64));
        }
        let (lines, line_ending, trailing_newline) =
            decode(&bytes).map_err(|reason| OpenError::NotText {
                name: name.clone(),
                reason,
            })?;
        let target = SaveTarget::Replace {
            item: item.clone(),
            expected: Some(identity),
        };
        Ok(Self::with_lines(
            lines,
            target,
            name,
            line_ending,
            trailing_newline,
        ))
    }

    /// The editor with `hold` to end when it closes.
    pub fn holding(mut self, hold: EditHold) -> Editor {
        if hold.item.state != hold.home {
            let home = crate::tui::actions::folder(hold.home);
            self.title = format!("{}, held: back to {home} on close", self.title);
        }
        self.hold = Some(hold);
        self
    }

    /// The hold to end now that the editor is closing.
    pub fn take_hold(&mut self) -> Option<EditHold> {
        self.hold.take()
    }

    /// An empty editor for a new pending item called `name` (F7); the first save creates it.
    pub fn new_item(name: &OsStr) -> Editor {
        let target = SaveTarget::Create {
            name: OsString::from(name),
        };
        let title = format!("new item {}", printable(name));
        Self::with_lines(vec![String::new()], target, title, LineEnding::Lf, true)
    }

    fn with_lines(
        lines: Vec<String>,
        target: SaveTarget,
        title: String,
        line_ending: LineEnding,
        trailing_newline: bool,
    ) -> Editor {
        let mut editor = Editor {
            textarea: TextArea::new(lines),
            target,
            title,
            line_ending,
            trailing_newline,
            revision: 0,
            saved_revision: 0,
            saving: None,
            close_after_save: false,
            asking_to_close: false,
            message: None,
            style: EditStyle::default(),
            hold: None,
            refused: false,
        };
        editor.set_style(EditStyle::default());
        editor
    }

    /// Sets the colours (call after `open` and when the theme changes).
    pub fn set_style(&mut self, style: EditStyle) {
        self.textarea.set_style(style.text);
        self.textarea.set_cursor_style(style.cursor);
        self.textarea.set_cursor_line_style(style.cursor_line);
        self.style = style;
    }

    /// Whether the text has changes not yet saved.
    pub fn is_modified(&self) -> bool {
        self.revision != self.saved_revision
    }

    /// The text as it would be saved.
    pub fn content(&self) -> Vec<u8> {
        let ending = match self.line_ending {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        };
        let mut text = self.textarea.lines().join(ending);
        if self.trailing_newline && !text.is_empty() {
            text.push_str(ending);
        }
        text.into_bytes()
    }

    /// Handles a key by the key map's `[editor]` section: `save` (F2, Ctrl+S), `keep_as_new`
    /// (F7, after a refused save), `close_editor` (Esc, F10; asking first when there are unsaved
    /// changes: `s` save, `d` discard, `c` or Esc cancel); every other key edits.
    pub fn handle_key(&mut self, keys: &Keymap, key: KeyEvent) -> EditorOutcome {
        if key.kind == KeyEventKind::Release {
            return EditorOutcome::Continue;
        }
        if self.asking_to_close {
            return self.answer_close_prompt(key);
        }
        match keys.action(Context::Editor, &key) {
            Some(Action::Save) => self.save(false),
            Some(Action::KeepAsNew) if self.refused => self.keep_as_new_item(),
            Some(Action::CloseEditor) if self.is_modified() => {
                self.asking_to_close = true;
                EditorOutcome::Continue
            }
            Some(Action::CloseEditor) => EditorOutcome::Close,
            _ => {
                if self.textarea.input(key) {
                    self.revision += 1;
                    self.message = None;
                }
                EditorOutcome::Continue
            }
        }
    }

    fn answer_close_prompt(&mut self, key: KeyEvent) -> EditorOutcome {
        match key.code {
            KeyCode::Char('s' | 'S' | 'y' | 'Y') | KeyCode::Enter | KeyCode::F(2) => {
                self.asking_to_close = false;
                self.save(true)
            }
            KeyCode::Char('d' | 'D' | 'n' | 'N') => EditorOutcome::Close,
            KeyCode::Char('c' | 'C') | KeyCode::Esc => {
                self.asking_to_close = false;
                EditorOutcome::Continue
            }
            _ => EditorOutcome::Continue,
        }
    }

    fn save(&mut self, then_close: bool) -> EditorOutcome {
        if self.saving.is_some() {
            self.show("still saving\u{2026}", false);
            return EditorOutcome::Continue;
        }
        if let SaveTarget::Replace {
            item,
            expected: None,
        } = &self.target
        {
            let text = format!(
                "{}: not saved, it was claimed by a worker right after it was created",
                item.qualified()
            );
            self.show(&text, true);
            return EditorOutcome::Continue;
        }
        self.saving = Some(self.revision);
        self.close_after_save = then_close;
        self.show("saving\u{2026}", false);
        EditorOutcome::Save(SaveRequest {
            target: self.target.clone(),
            bytes: self.content(),
        })
    }

    /// After a refused save: the text becomes a new pending item named like the original (or
    /// its first free numbered variant), and the editor goes on with that item.
    fn keep_as_new_item(&mut self) -> EditorOutcome {
        let SaveTarget::Replace { item, .. } = &self.target else {
            return EditorOutcome::Continue;
        };
        self.target = SaveTarget::Create {
            name: item.display().to_os_string(),
        };
        self.refused = false;
        // The new item is not held: close once it is saved, before a worker takes it.
        self.save(true)
    }

    /// The save the app ran succeeded. Returns `Close` if the operator asked to save and close.
    pub fn saved(&mut self, saved: Saved) -> EditorOutcome {
        if let Some(revision) = self.saving.take() {
            self.saved_revision = revision;
        }
        self.title = saved.item.qualified();
        let text = format!("saved {}", self.title);
        self.target = SaveTarget::Replace {
            item: saved.item,
            expected: saved.identity,
        };
        self.show(&text, false);
        if std::mem::take(&mut self.close_after_save) {
            EditorOutcome::Close
        } else {
            EditorOutcome::Continue
        }
    }

    /// The save failed or was refused: the text stays, and `message` is shown.
    pub fn save_failed(&mut self, message: impl Into<String>) {
        self.saving = None;
        self.close_after_save = false;
        let mut message = message.into();
        if matches!(self.target, SaveTarget::Replace { .. }) {
            self.refused = true;
            message.push_str(" (F7 keeps it as a new pending item)");
        }
        self.show(&message, true);
    }

    fn show(&mut self, text: &str, is_error: bool) {
        self.message = Some(Message {
            text: text.to_string(),
            is_error,
        });
    }

    /// Draws the editor into `area`. No I/O.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        let style = &self.style;
        let tui_textarea::DataCursor(row, column) = self.textarea.cursor();
        let marker = if self.is_modified() { " *" } else { "" };
        let title = format!(" Edit: {}{marker} ", self.title);
        let position = format!(" L{}:C{} ", row + 1, column + 1);
        let (note, note_style) = if self.asking_to_close {
            (
                "Save changes? s save  d discard  c cancel".to_string(),
                style.prompt,
            )
        } else if let Some(message) = &self.message {
            let shown = if message.is_error {
                style.error
            } else {
                style.message
            };
            (message.text.clone(), shown)
        } else {
            (String::new(), style.status)
        };
        let block = Block::bordered()
            .border_style(style.border)
            .title(Line::styled(title, style.title))
            .title(Line::styled(position, style.status).right_aligned())
            .title_bottom(Line::styled(" F2 save  Esc close ", style.status).right_aligned());
        let inner = block.inner(area);
        block.render(area, buf);
        // A message or question takes as many rows as it needs (up to 3) under the text.
        let width = usize::from(inner.width.max(1));
        let note_rows = if note.is_empty() {
            0
        } else {
            (note.width().div_ceil(width) as u16).clamp(1, 3)
        };
        let [text_area, note_area] =
            Layout::vertical([Constraint::Fill(1), Constraint::Length(note_rows)]).areas(inner);
        (&self.textarea).render(text_area, buf);
        if note_rows > 0 {
            Paragraph::new(note)
                .style(note_style)
                .wrap(Wrap { trim: false })
                .render(note_area, buf);
        }
    }
}
