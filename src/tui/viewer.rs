//! The F3 viewer: a read-only view of an item or its log that stays fast on any file.
//!
//! It promises three things. Memory stays bounded: only a window of about 1 MiB around the view
//! is loaded (`window`), however large the file. Render never touches the disk: it draws what is
//! loaded; reads happen in `load`, `refresh` or a `ReadRequest` the app runs on a thread of its
//! choosing. Nothing in a file can hurt the terminal: control characters and invalid UTF-8 are
//! drawn escaped (`layout`), binary files open as a hex dump.
//!
//! Keys go through the key map's `[viewer]` section into a `ViewerAction`, so every binding can
//! be changed from `[tui.keys]`. A log shown in follow mode sticks to its end as the app calls
//! `refresh` when the file changes.

mod draw;
mod layout;
mod look;
mod scroll;
mod window;

#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::ffi::OsStr;
use std::fs::{self, File};
use std::io;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use crossterm::event::{KeyEvent, KeyEventKind};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Widget};
use unicode_width::UnicodeWidthStr;

use super::keymap::{Action, Context, Keymap};
pub use look::{LookRequest, Looked};
pub use window::{Chunk, ReadRequest};

use layout::{HEX_ROW, HexStyles, RowPainter, hex_row, place, rows_of};
use window::{MARGIN, Step, WINDOW, Window, looks_binary};

/// The viewer's colours; the app maps its theme onto these.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ViewStyle {
    pub text: Style,
    pub border: Style,
    pub title: Style,
    /// The position and mode flags in the top border, and the key hints in the bottom one.
    pub status: Style,
    /// Escaped characters: `^[`, `\xFF`, `<U+202E>`, and the dots of a hex dump.
    pub escape: Style,
    pub hex_offset: Style,
    pub hex_bytes: Style,
}

impl Default for ViewStyle {
    fn default() -> Self {
        ViewStyle {
            text: Style::new(),
            border: Style::new(),
            title: Style::new().add_modifier(Modifier::BOLD),
            status: Style::new(),
            escape: Style::new().fg(Color::Yellow),
            hex_offset: Style::new().fg(Color::Cyan),
            hex_bytes: Style::new(),
        }
    }
}

/// What the app should do after a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewerOutcome {
    Continue,
    Close,
}

/// Everything the viewer can do, for binding in the app's key map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ViewerAction {
    Close,
    LineUp,
    LineDown,
    PageUp,
    PageDown,
    Top,
    Bottom,
    Left,
    Right,
    ToggleWrap,
    ToggleHex,
    ToggleFollow,
}

impl ViewerAction {
    /// What `key` does in the viewer, by the key map (`[viewer]` in keymap.toml: arrows,
    /// PgUp/PgDn, Home/End, `w` wrap, `h` hex, `f` follow, Esc/`q`/F3/F10 close, and `j`/`k`,
    /// space, `b`, `g`/`G` as in less).
    pub fn for_key(keys: &Keymap, key: &KeyEvent) -> Option<ViewerAction> {
        if key.kind == KeyEventKind::Release {
            return None;
        }
        Some(match keys.action(Context::Viewer, key)? {
            Action::CloseViewer => Self::Close,
            Action::LineUp => Self::LineUp,
            Action::LineDown => Self::LineDown,
            Action::ViewerPageUp => Self::PageUp,
            Action::ViewerPageDown => Self::PageDown,
            Action::ViewerTop => Self::Top,
            Action::ViewerBottom => Self::Bottom,
            Action::ScrollLeft => Self::Left,
            Action::ScrollRight => Self::Right,
            Action::ToggleWrap => Self::ToggleWrap,
            Action::ToggleHex => Self::ToggleHex,
            Action::ToggleFollow => Self::ToggleFollow,
            _ => return None,
        })
    }
}

/// A scroll that needs bytes not yet loaded; it finishes when they arrive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pending {
    Bottom,
    Down(usize),
    Up(usize),
}

/// The state of one open viewer.
#[derive(Debug)]
pub struct Viewer {
    path: PathBuf,
    title: String,
    file: Arc<File>,
    inode: (u64, u64),
    file_len: u64,
    modified: Option<SystemTime>,
    window: Window,
    hex: bool,
    wrap: bool,
    follow: bool,
    /// The first shown line's start (text) or row's offset (hex).
    top: u64,
    /// Rows of the top line hidden above the view, when wrapping.
    top_row: usize,
    /// Columns scrolled off to the left, when not wrapping.
    column: usize,
    /// A line start and its line number, for showing the top line's number.
    top_line: Option<(u64, u64)>,
    pending: Option<Pending>,
    /// The text area's size as last drawn, so paging moves by what the user sees.
    page: Cell<(u16, u16)>,
}

const HORIZONTAL_STEP: usize = 8;

impl Viewer {
    /// Opens `path` and reads its first window (one bounded read). `title` is shown escaped.
    /// Binary files (by their first bytes) open in hex. Refuses anything but a regular file, and
    /// never blocks on a FIFO that took an item's place.
    pub fn open(path: impl Into<PathBuf>, title: impl AsRef<OsStr>) -> io::Result<Viewer> {
        let path = path.into();
        let (file, meta) = open_regular(&path)?;
        let mut viewer = Viewer {
            title: crate::queue::printable(title.as_ref()),
            file: Arc::new(file),
            inode: (meta.dev(), meta.ino()),
            file_len: meta.len(),
            modified: meta.modified().ok(),
            window: Window::default(),
            hex: false,
            wrap: false,
            follow: false,
            top: 0,
            top_row: 0,
            column: 0,
            top_line: Some((0, 1)),
            pending: None,
            page: Cell::new((78, 20)),
            path,
        };
        viewer.load()?;
        viewer.hex = looks_binary(viewer.window.slice(0, 8192));
        viewer.settle();
        Ok(viewer)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file's length as last seen.
    pub fn file_len(&self) -> u64 {
        self.file_len
    }

    /// How many bytes of the file are in memory (at most about 1 MiB).
    pub fn loaded_bytes(&self) -> usize {
        self.window.bytes.len()
    }

    pub fn is_hex(&self) -> bool {
        self.hex
    }

    pub fn is_following(&self) -> bool {
        self.follow
    }

    /// Turns follow mode on (the view jumps to the end and stays there) or off.
    pub fn set_follow(&mut self, follow: bool) {
        self.follow = follow;
        if follow {
            self.bottom();
        }
    }

    /// Handles a key with the default bindings; unbound keys are ignored. No disk I/O: call
    /// `load` (or run `read_request`) afterwards when `read_request` is `Some`.
    pub fn handle_key(&mut self, keys: &Keymap, key: KeyEvent) -> ViewerOutcome {
        match ViewerAction::for_key(keys, &key) {
            Some(action) => self.apply_action(action),
            None => ViewerOutcome::Continue,
        }
    }

    /// Performs one action. No disk I/O.
    pub fn apply_action(&mut self, action: ViewerAction) -> ViewerOutcome {
        let (_, height) = self.page_size();
        match action {
            ViewerAction::Close => return ViewerOutcome::Close,
            ViewerAction::LineUp => self.user_up(1),
            ViewerAction::LineDown => self.down(1),
            ViewerAction::PageUp => self.user_up(height),
            ViewerAction::PageDown => self.down(height),
            ViewerAction::Top => {
                self.follow = false;
                self.pending = None;
                (self.top, self.top_row) = (0, 0);
            }
            ViewerAction::Bottom => self.bottom(),
            ViewerAction::Left => self.column = self.column.saturating_sub(HORIZONTAL_STEP),
            ViewerAction::Right if !self.wrap && !self.hex => self.column += HORIZONTAL_STEP,
            ViewerAction::Right => {}
            ViewerAction::ToggleWrap => {
                self.wrap = !self.wrap;
                (self.top_row, self.column) = (0, 0);
            }
            ViewerAction::ToggleHex => self.toggle_hex(),
            ViewerAction::ToggleFollow => self.set_follow(!self.follow),
        }
        self.settle();
        ViewerOutcome::Continue
    }

    /// The read the view needs next, if any: at most 1 MiB at one offset.
    pub fn read_request(&self) -> Option<ReadRequest> {
        let anchor = match self.pending {
            Some(Pending::Bottom) => self.file_len,
            Some(Pending::Down(_)) => self.top.max(self.window.end().saturating_sub(MARGIN)),
            Some(Pending::Up(_)) => self.top.min(self.window.start + MARGIN),
            None => {
                let from = self.top.saturating_sub(MARGIN);
                let to = (self.top + MARGIN).min(self.file_len);
                if self.window.covers(from, to) {
                    return None;
                }
                self.top
            }
        };
        let start = anchor
            .saturating_sub(WINDOW as u64 / 4)
            .min(self.file_len.saturating_sub(WINDOW as u64));
        let len = (self.file_len - start).min(WINDOW as u64) as usize;
        Some(ReadRequest {
            file: Arc::clone(&self.file),
            offset: start,
            len: len.max(4096),
        })
    }

    /// Takes in a chunk read for `read_request` and finishes any scroll that waited for it.
    pub fn apply(&mut self, chunk: Chunk) {
        self.file_len = chunk.file_len;
        if chunk.offset == self.window.end() && !self.window.bytes.is_empty() {
            self.window.bytes.extend_from_slice(&chunk.bytes);
            let excess = self.window.bytes.len().saturating_sub(WINDOW);
            let keep_from = self
                .top
                .saturating_sub(MARGIN)
                .saturating_sub(self.window.start);
            let drop = excess.min(keep_from as usize);
            self.window.bytes.drain(..drop);
            self.window.start += drop as u64;
        } else {
            self.window = Window {
                start: chunk.offset,
                bytes: chunk.bytes,
            };
        }
        self.top = self.top.min(self.file_len);
        match self.pending.take() {
            Some(Pending::Bottom) => self.bottom(),
            Some(Pending::Down(rows)) => self.down(rows),
            Some(Pending::Up(rows)) => self.up(rows),
            None => {}
        }
        self.settle();
    }

    /// Performs the reads the view needs now (at most three bounded reads). Call it off the
    /// render path after a key or a resize; on a slow filesystem, run `read_request` on a
    /// background thread instead and `apply` the chunk.
    pub fn load(&mut self) -> io::Result<()> {
        for _ in 0..3 {
            match self.read_request() {
                Some(request) => self.apply(request.read()?),
                None => break,
            }
        }
        Ok(())
    }

    /// What to look at again when the file may have changed (a followed log grows): run it
    /// off the event loop, then hand the answer to `take_look`.
    pub fn look_request(&self) -> LookRequest {
        LookRequest {
            path: self.path.clone(),
            file: Arc::clone(&self.file),
            inode: self.inode,
        }
    }

    /// Takes what a look found and says whether the view changed. No I/O: the bytes it now
    /// needs come from `read_request`. A file replaced under its path (a new log) is the new
    /// one; in follow mode the view moves to the new end.
    pub fn take_look(&mut self, looked: Looked) -> bool {
        let replaced = looked.reopened.is_some();
        if let Some((file, inode)) = looked.reopened {
            self.file = file;
            self.inode = inode;
            self.window = Window::default();
            (self.top, self.top_row) = (0, 0);
            self.top_line = Some((0, 1));
        }
        if !replaced && looked.len == self.file_len && looked.modified == self.modified {
            return false;
        }
        let appended = looked.len > self.file_len && self.window.end() == self.file_len;
        self.modified = looked.modified;
        self.file_len = looked.len;
        if !appended || self.window.bytes.is_empty() {
            // Rewritten or truncated: read the window again.
            self.window = Window::default();
            self.top_line = None;
            self.top = self.top.min(self.file_len);
        }
        if self.follow {
            self.bottom();
        }
        true
    }

    /// A look and the reads it calls for, at once (tests).
    #[cfg(test)]
    pub fn refresh(&mut self) -> io::Result<bool> {
        let looked = self.look_request().run()?;
        let changed = self.take_look(looked);
        self.load()?;
        Ok(changed)
    }
}

fn open_regular(path: &Path) -> io::Result<(File, fs::Metadata)> {
    let file = fs::OpenOptions::new()
        .read(true)
        .custom_flags(rustix::fs::OFlags::NONBLOCK.bits() as i32)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: not a regular file", path.display()),
        ));
    }
    Ok((file, meta))
}
