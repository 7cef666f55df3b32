//! Turning file bytes into terminal cells that cannot hurt the terminal.
//!
//! Every byte becomes something visible and harmless: tabs expand to spaces, control characters
//! are written in caret notation (`^[`), C1 and bidirectional controls as `<U+202E>`, bytes that
//! are not UTF-8 as `\xFF`, all in the escape style. Widths come from unicode-width, so wide and
//! combining characters keep columns aligned.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use unicode_width::UnicodeWidthChar;

const TAB_STOP: usize = 8;

/// One visible character: what to draw, its width in cells, and whether it stands for something
/// the file holds in another form.
#[derive(Clone, Copy, Debug)]
pub struct Glyph {
    pub ch: char,
    pub width: usize,
    pub escaped: bool,
}

/// Calls `emit` with the glyphs of one line, in order.
pub fn glyphs(line: &[u8], mut emit: impl FnMut(Glyph)) {
    let mut column = 0;
    let mut push = |ch: char, width: usize, escaped: bool| {
        column += width;
        emit(Glyph { ch, width, escaped });
        column
    };
    let mut at_column = 0;
    for chunk in line.utf8_chunks() {
        for ch in chunk.valid().chars() {
            match ch {
                '\t' => {
                    for _ in 0..TAB_STOP - at_column % TAB_STOP {
                        at_column = push(' ', 1, false);
                    }
                }
                '\x7f' => {
                    push('^', 1, true);
                    at_column = push('?', 1, true);
                }
                c if (c as u32) < 0x20 => {
                    push('^', 1, true);
                    at_column = push(char::from(c as u8 + 0x40), 1, true);
                }
                c if is_hidden_control(c) => {
                    for e in format!("<U+{:04X}>", c as u32).chars() {
                        at_column = push(e, 1, true);
                    }
                }
                c => at_column = push(c, c.width().unwrap_or(0), false),
            }
        }
        for byte in chunk.invalid() {
            for e in format!("\\x{byte:02X}").chars() {
                at_column = push(e, 1, true);
            }
        }
    }
}

/// Characters a terminal would act on or that reorder text invisibly: the queue layer's one
/// rule, also used for names.
fn is_hidden_control(c: char) -> bool {
    crate::queue::is_hidden_char(c)
}

/// Where each glyph of a line goes: `(row, column)` within the line, when lines wrap at
/// `wrap_width`; on one row otherwise. Returns the number of rows (at least one).
pub fn place(
    line: &[u8],
    wrap_width: Option<usize>,
    mut emit: impl FnMut(usize, usize, Glyph),
) -> usize {
    let mut row = 0;
    let mut column = 0;
    glyphs(line, |glyph| {
        if let Some(width) = wrap_width
            && column + glyph.width > width
            && column > 0
        {
            row += 1;
            column = 0;
        }
        emit(row, column, glyph);
        column += glyph.width;
    });
    row + 1
}

/// How many rows a line takes when wrapped at `width`.
pub fn rows_of(line: &[u8], width: usize) -> usize {
    place(line, Some(width.max(1)), |_, _, _| {})
}

/// Draws the glyphs of one row into `buf` at `area.y + y`, skipping the first `skip` columns.
/// Glyphs beyond the area's width are dropped; a wide glyph cut by an edge becomes a space.
pub struct RowPainter<'a> {
    pub buf: &'a mut Buffer,
    pub area: Rect,
    pub text: Style,
    pub escape: Style,
}

impl RowPainter<'_> {
    pub fn put(&mut self, y: u16, column: usize, skip: usize, glyph: Glyph) {
        if y >= self.area.height {
            return;
        }
        let style = if glyph.escaped {
            self.escape
        } else {
            self.text
        };
        let width = self.area.width as usize;
        if glyph.width == 0 {
            // A combining mark joins the cell before it.
            if column > skip && column - skip <= width {
                let x = self.area.x + (column - skip - 1) as u16;
                let cell = &mut self.buf[(x, self.area.y + y)];
                let joined = format!("{}{}", cell.symbol(), glyph.ch);
                cell.set_symbol(&joined);
            }
            return;
        }
        let end = column + glyph.width;
        if end <= skip || column >= skip + width {
            return;
        }
        let x = self.area.x + column.saturating_sub(skip) as u16;
        if column < skip || end > skip + width {
            for cx in column.max(skip)..end.min(skip + width) {
                self.buf[(self.area.x + (cx - skip) as u16, self.area.y + y)]
                    .set_symbol(" ")
                    .set_style(style);
            }
            return;
        }
        let mut utf8 = [0; 4];
        self.buf.set_stringn(
            x,
            self.area.y + y,
            glyph.ch.encode_utf8(&mut utf8),
            glyph.width,
            style,
        );
    }
}

/// The styles of a hex dump row.
pub struct HexStyles {
    pub offset: Style,
    pub bytes: Style,
    pub text: Style,
    pub escape: Style,
}

/// Bytes shown per hex row.
pub const HEX_ROW: u64 = 16;

/// Draws one hex row: `00000010  48 65 6c 6c 6f 0a 00 01  ...  |Hello...|`.
pub fn hex_row(
    buf: &mut Buffer,
    area: Rect,
    y: u16,
    offset: u64,
    bytes: &[u8],
    styles: &HexStyles,
) {
    let row_y = area.y + y;
    let right = area.x + area.width;
    let mut x = area.x;
    let write = |buf: &mut Buffer, x: &mut u16, text: &str, style: Style| {
        if *x < right {
            let (next, _) = buf.set_stringn(*x, row_y, text, (right - *x) as usize, style);
            *x = next;
        }
    };
    write(buf, &mut x, &format!("{offset:08x}  "), styles.offset);
    for i in 0..HEX_ROW as usize {
        let cell = match bytes.get(i) {
            Some(byte) => format!("{byte:02x} "),
            None => "   ".to_string(),
        };
        write(buf, &mut x, &cell, styles.bytes);
        if i == 7 {
            write(buf, &mut x, " ", styles.bytes);
        }
    }
    write(buf, &mut x, " |", styles.offset);
    for byte in bytes {
        let (text, style) = if (0x20..0x7f).contains(byte) {
            (char::from(*byte), styles.text)
        } else {
            ('.', styles.escape)
        };
        let mut utf8 = [0; 4];
        write(buf, &mut x, text.encode_utf8(&mut utf8), style);
    }
    write(buf, &mut x, "|", styles.offset);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(line: &[u8]) -> String {
        let mut out = String::new();
        glyphs(line, |g| out.push(g.ch));
        out
    }

    #[test]
    fn control_characters_and_bad_bytes_are_escaped() {
        assert_eq!(shown(b"a\x1b[31mb"), "a^[[31mb");
        assert_eq!(shown(b"x\x7f\x00"), "x^?^@");
        assert_eq!(shown(b"\xff\xfeok"), "\\xFF\\xFEok");
        assert_eq!(shown("evil\u{202e}txt".as_bytes()), "evil<U+202E>txt");
        assert_eq!(shown("c1\u{9b}".as_bytes()), "c1<U+009B>");
    }

    #[test]
    fn tabs_expand_to_the_next_stop() {
        assert_eq!(shown(b"ab\tc"), "ab      c");
        assert_eq!(shown(b"\t"), "        ");
    }

    #[test]
    fn wide_characters_wrap_whole() {
        assert_eq!(rows_of("日本語".as_bytes(), 5), 2);
        assert_eq!(rows_of(b"", 5), 1);
        assert_eq!(rows_of(b"abcdefghij", 5), 2);
        assert_eq!(rows_of(b"abcdefghijk", 5), 3);
    }
}
