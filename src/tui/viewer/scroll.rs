//! Moving the view: by rows (screen rows when wrapping), by pages, to either end, between text
//! and hex. Works on the loaded window only; a move that runs out of loaded bytes is remembered
//! (`Pending`) and finished when the next chunk arrives.

use super::*;

impl Viewer {
    pub(super) fn page_size(&self) -> (usize, usize) {
        let (width, height) = self.page.get();
        (usize::from(width).max(1), usize::from(height).max(1))
    }

    pub(super) fn wrap_width(&self) -> Option<usize> {
        self.wrap.then(|| self.page_size().0)
    }

    pub(super) fn rows_at(&self, start: u64) -> usize {
        match (self.wrap_width(), self.window.line_at(start)) {
            (Some(width), Some(line)) => rows_of(line, width),
            _ => 1,
        }
    }

    pub(super) fn user_up(&mut self, rows: usize) {
        self.follow = false;
        self.up(rows);
    }

    pub(super) fn up(&mut self, rows: usize) {
        if self.hex {
            self.top = self.top.saturating_sub(rows as u64 * HEX_ROW);
            return;
        }
        for done in 0..rows {
            if self.top_row > 0 {
                self.top_row -= 1;
                continue;
            }
            match self.window.prev_line_start(self.top) {
                Step::To(start) => {
                    self.top = start;
                    self.top_row = self.rows_at(start) - 1;
                }
                Step::Edge => break,
                Step::NeedData => {
                    self.pending = Some(Pending::Up(rows - done));
                    break;
                }
            }
        }
    }

    pub(super) fn down(&mut self, rows: usize) {
        let (_, height) = self.page_size();
        if self.hex {
            let last_top = self
                .file_len
                .div_ceil(HEX_ROW)
                .saturating_sub(height as u64)
                * HEX_ROW;
            self.top = (self.top + rows as u64 * HEX_ROW)
                .min(last_top)
                .max(self.top);
            return;
        }
        let rows = match self.rows_to_end(rows + height) {
            Some(left) => rows.min(left.saturating_sub(height)),
            None => rows,
        };
        for done in 0..rows {
            if self.top_row + 1 < self.rows_at(self.top) {
                self.top_row += 1;
                continue;
            }
            match self.window.next_line_start(self.top, self.file_len) {
                Step::To(start) => (self.top, self.top_row) = (start, 0),
                Step::Edge => break,
                Step::NeedData => {
                    self.pending = Some(Pending::Down(rows - done));
                    break;
                }
            }
        }
    }

    /// The rows from the top of the view to the end of the file, if fewer than `limit` and
    /// known from what is loaded.
    pub(super) fn rows_to_end(&self, limit: usize) -> Option<usize> {
        let mut at = self.top;
        let mut rows = self.rows_at(at).saturating_sub(self.top_row);
        while rows < limit {
            match self.window.next_line_start(at, self.file_len) {
                Step::To(next) => {
                    at = next;
                    rows += self.rows_at(at);
                }
                Step::Edge => return Some(rows),
                Step::NeedData => return None,
            }
        }
        None
    }

    pub(super) fn bottom(&mut self) {
        self.pending = None;
        let (_, height) = self.page_size();
        if self.window.end() < self.file_len {
            self.pending = Some(Pending::Bottom);
        } else if self.hex {
            self.top = self
                .file_len
                .div_ceil(HEX_ROW)
                .saturating_sub(height as u64)
                * HEX_ROW;
        } else {
            (self.top, self.top_row) = (self.file_len, 0);
            self.up(height);
        }
    }

    pub(super) fn toggle_hex(&mut self) {
        self.hex = !self.hex;
        self.top_row = 0;
        if self.hex {
            self.top -= self.top % HEX_ROW;
        } else if self.top > 0 && self.top < self.file_len {
            // Back to the start of the line holding the hex view's first byte.
            if let Step::To(start) = self.window.prev_line_start(self.top + 1) {
                self.top = start;
            }
        }
    }

    /// Keeps the top line's number current by counting newlines over the distance moved; it
    /// is known from the start of the file on, and lost after a jump across unloaded bytes.
    pub(super) fn settle(&mut self) {
        if self.hex {
            return;
        }
        let newlines = |from: u64, to: u64| {
            self.window
                .slice(from, to)
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64
        };
        self.top_line = match self.top_line {
            Some((at, line)) if self.window.covers(at.min(self.top), at.max(self.top)) => {
                if self.top >= at {
                    Some((self.top, line + newlines(at, self.top)))
                } else {
                    Some((self.top, line - newlines(self.top, at)))
                }
            }
            _ if self.window.start == 0 => Some((self.top, 1 + newlines(0, self.top))),
            _ => None,
        };
    }
}
