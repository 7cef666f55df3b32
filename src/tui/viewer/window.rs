//! The part of a viewed file that is in memory, and how to walk its lines.
//!
//! The viewer never loads a file whole: it keeps one window of at most `WINDOW` bytes around the
//! viewport and asks for another (a `ReadRequest`, one bounded `pread`) when the view nears an
//! edge. Line walking works on the window alone and says `NeedData` when it cannot decide.
//!
//! A line is everything up to a newline, but never more than `LONG_LINE` bytes: longer lines are
//! shown as pieces that start at fixed distances from the line's start, so walking down and
//! walking up meet the same pieces. Only a line longer than the loaded window before it (hundreds
//! of KiB without a newline) gets approximate piece boundaries when walked upward.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::Arc;

/// The most bytes held in memory for one viewer.
pub const WINDOW: usize = 1 << 20;
/// How close the view may come to the window's edge before another window is read.
pub const MARGIN: u64 = 128 << 10;
/// The longest piece of a line shown as one line.
pub const LONG_LINE: u64 = 64 << 10;

/// The outcome of walking one line from a position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// The start of the next (or previous) line.
    To(u64),
    /// There is no line in that direction.
    Edge,
    /// The window does not hold enough of the file to tell.
    NeedData,
}

/// Bytes `start..start + bytes.len()` of the file.
#[derive(Debug, Default)]
pub struct Window {
    pub start: u64,
    pub bytes: Vec<u8>,
}

impl Window {
    pub fn end(&self) -> u64 {
        self.start + self.bytes.len() as u64
    }

    /// Whether `from..to` is loaded.
    pub fn covers(&self, from: u64, to: u64) -> bool {
        self.start <= from && to <= self.end()
    }

    /// The loaded bytes of `from..to`, clipped to the window.
    pub fn slice(&self, from: u64, to: u64) -> &[u8] {
        let lo = from.clamp(self.start, self.end()) - self.start;
        let hi = to.clamp(self.start, self.end()) - self.start;
        &self.bytes[lo as usize..hi.max(lo) as usize]
    }

    /// The line (or long-line piece) starting at `start`, without its newline and without a
    /// carriage return before it; `None` if `start` is not loaded. A line cut by the window's end
    /// is returned as far as it is loaded.
    pub fn line_at(&self, start: u64) -> Option<&[u8]> {
        if start < self.start || start >= self.end() {
            return None;
        }
        let piece = self.slice(start, start.saturating_add(LONG_LINE));
        let line = match memchr(b'\n', piece) {
            Some(newline) => &piece[..newline],
            None => piece,
        };
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }

    /// The start of the line after the one starting at `start`.
    pub fn next_line_start(&self, start: u64, file_len: u64) -> Step {
        if start < self.start || start > self.end() {
            return Step::NeedData;
        }
        let piece = self.slice(start, start.saturating_add(LONG_LINE));
        let next = match memchr(b'\n', piece) {
            Some(newline) => start + newline as u64 + 1,
            None if piece.len() as u64 == LONG_LINE => start + LONG_LINE,
            None if self.end() >= file_len => return Step::Edge,
            None => return Step::NeedData,
        };
        if next >= file_len {
            Step::Edge
        } else {
            Step::To(next)
        }
    }

    /// The start of the line before the one starting at `start`.
    pub fn prev_line_start(&self, start: u64) -> Step {
        if start == 0 {
            return Step::Edge;
        }
        if start <= self.start || start > self.end() {
            return Step::NeedData;
        }
        // The byte before `start` ends the previous line; search before it.
        let before = self.slice(self.start, start - 1);
        let line_start = match memrchr(b'\n', before) {
            Some(newline) => self.start + newline as u64 + 1,
            None if self.start == 0 => 0,
            // Not enough loaded to find where this line begins: ask for more, unless plenty is
            // loaded already (then the line is huge and an approximate piece start will do).
            None if start - self.start < WINDOW as u64 / 4 => return Step::NeedData,
            None => return Step::To(start.saturating_sub(LONG_LINE)),
        };
        let pieces = (start - 1 - line_start) / LONG_LINE;
        Step::To(line_start + pieces * LONG_LINE)
    }
}

/// One bounded read the viewer needs. It owns a handle to the file, so the app may run it on any
/// thread and hand the `Chunk` back with `Viewer::apply`.
#[derive(Clone, Debug)]
pub struct ReadRequest {
    pub(super) file: Arc<File>,
    pub(super) offset: u64,
    pub(super) len: usize,
}

/// The answer to a `ReadRequest`.
#[derive(Debug)]
pub struct Chunk {
    pub(super) offset: u64,
    pub(super) bytes: Vec<u8>,
    pub(super) file_len: u64,
}

impl ReadRequest {
    /// Reads at most `len` bytes at `offset` (one `pread` loop; never more than `WINDOW`).
    pub fn read(&self) -> io::Result<Chunk> {
        let stat_len = self.file.metadata()?.len();
        let mut bytes = vec![0; self.len];
        let mut filled = 0;
        while filled < bytes.len() {
            match self
                .file
                .read_at(&mut bytes[filled..], self.offset + filled as u64)
            {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
                Err(err) => return Err(err),
            }
        }
        bytes.truncate(filled);
        // A short read met the end of the file: that end is more recent than the stat.
        let end = self.offset + filled as u64;
        let file_len = if filled < self.len {
            end
        } else {
            stat_len.max(end)
        };
        Ok(Chunk {
            offset: self.offset,
            bytes,
            file_len,
        })
    }
}

/// Whether the first bytes of a file look binary: a NUL byte, or many bytes that are neither
/// valid UTF-8 nor ordinary whitespace (more than a quarter of them).
pub fn looks_binary(head: &[u8]) -> bool {
    if head.is_empty() {
        return false;
    }
    if head.contains(&0) {
        return true;
    }
    let mut odd = 0usize;
    let mut chunks = head.utf8_chunks().peekable();
    while let Some(chunk) = chunks.next() {
        odd += chunk
            .valid()
            .chars()
            .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t' | '\x0c' | '\x1b'))
            .count();
        // An incomplete character at the very end is a cut, not a sign of binary.
        if chunks.peek().is_some() || chunk.invalid().len() > 3 {
            odd += chunk.invalid().len();
        }
    }
    odd * 4 > head.len()
}

pub fn memchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().position(|b| *b == needle)
}

fn memrchr(needle: u8, haystack: &[u8]) -> Option<usize> {
    haystack.iter().rposition(|b| *b == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(text: &[u8]) -> Window {
        Window {
            start: 0,
            bytes: text.to_vec(),
        }
    }

    #[test]
    fn walks_lines_both_ways() {
        let w = window(b"one\ntwo\r\nthree");
        let len = w.end();
        assert_eq!(w.next_line_start(0, len), Step::To(4));
        assert_eq!(w.line_at(4), Some(&b"two"[..]));
        assert_eq!(w.next_line_start(4, len), Step::To(9));
        assert_eq!(w.next_line_start(9, len), Step::Edge);
        assert_eq!(w.prev_line_start(len), Step::To(9));
        assert_eq!(w.prev_line_start(9), Step::To(4));
        assert_eq!(w.prev_line_start(4), Step::To(0));
        assert_eq!(w.prev_line_start(0), Step::Edge);
    }

    #[test]
    fn long_lines_are_the_same_pieces_walked_down_and_up() {
        let mut text = b"short\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', LONG_LINE as usize * 2 + 10));
        text.extend(b"\nend\n");
        let w = window(&text);
        let len = w.end();
        let mut down = vec![0];
        while let Step::To(next) = w.next_line_start(*down.last().unwrap(), len) {
            down.push(next);
        }
        let mut up = vec![];
        let mut at = len;
        while let Step::To(prev) = w.prev_line_start(at) {
            up.push(prev);
            at = prev;
        }
        up.reverse();
        assert_eq!(down, up);
        assert_eq!(down.len(), 5);
    }

    #[test]
    fn says_when_it_needs_more_of_the_file() {
        let w = Window {
            start: 100,
            bytes: b"abc".to_vec(),
        };
        assert_eq!(w.next_line_start(100, 1000), Step::NeedData);
        assert_eq!(w.prev_line_start(102), Step::NeedData);
    }

    #[test]
    fn binary_detection() {
        assert!(!looks_binary(b"plain text\n\tindented\n"));
        assert!(!looks_binary("unicode: ü € 日本\n".as_bytes()));
        assert!(!looks_binary(&"é".as_bytes()[..1]));
        assert!(looks_binary(b"ELF\x00\x01"));
        assert!(looks_binary(&[
            0xff, 0xfe, 0x80, 0x81, b'a', 0x90, 0x91, 0x92
        ]));
    }
}
