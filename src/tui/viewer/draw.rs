//! Drawing the viewer from what is loaded: a frame with the title and position, then text rows
//! or hex rows. Reads only memory; records only the size it drew at (for paging).

use super::*;

/// Key hints in the bottom border, longest first; the first that fits is shown.
const HINTS: [&str; 2] = [
    " w wrap  h hex  f follow  \u{2191}\u{2193} PgUp PgDn Home End  q close ",
    " w h f q ",
];

impl Viewer {
    /// Draws the viewer into `area`. No I/O: shows what `load`/`refresh` brought in.
    pub fn render(&self, area: Rect, buf: &mut Buffer, style: &ViewStyle) {
        if area.width < 3 || area.height < 3 {
            return;
        }
        let inner = Block::bordered().inner(area);
        self.page.set((inner.width, inner.height));
        buf.set_style(inner, style.text);
        let end_visible = if self.hex {
            self.draw_hex(inner, buf, style)
        } else {
            self.draw_text(inner, buf, style)
        };
        let status = self.status(end_visible);
        let room = usize::from(area.width).saturating_sub(status.width() + 6);
        let title = format!(" {} ", fit(&self.title, room.saturating_sub(2)));
        let hint = HINTS
            .iter()
            .find(|hint| hint.width() + 4 <= usize::from(area.width))
            .copied()
            .unwrap_or("");
        Block::bordered()
            .border_style(style.border)
            .title(Line::styled(title, style.title))
            .title(Line::styled(status, style.status).right_aligned())
            .title_bottom(Line::styled(hint, style.status).right_aligned())
            .render(area, buf);
    }

    fn status(&self, end_visible: bool) -> String {
        let percent = if end_visible || self.file_len == 0 {
            100
        } else {
            self.top * 100 / self.file_len
        };
        let mut status = String::from(" ");
        match self.top_line {
            Some((at, line)) if at == self.top && !self.hex => {
                status.push_str(&format!("L{line} "));
            }
            _ => {}
        }
        if self.hex {
            status.push_str(&format!("{:08x} ", self.top));
        }
        let size = humansize::format_size(self.file_len, humansize::BINARY);
        status.push_str(&format!("{percent}% of {size} "));
        for (on, flag) in [
            (self.wrap, "wrap"),
            (self.hex, "hex"),
            (self.follow, "follow"),
        ] {
            if on {
                status.push_str(&format!("[{flag}] "));
            }
        }
        status
    }

    /// Draws text rows; says whether the end of the file is on screen.
    fn draw_text(&self, area: Rect, buf: &mut Buffer, style: &ViewStyle) -> bool {
        let height = usize::from(area.height);
        let wrap_width = self.wrap.then_some(usize::from(area.width));
        let skip_columns = if self.wrap { 0 } else { self.column };
        let mut painter = RowPainter {
            buf,
            area,
            text: style.text,
            escape: style.escape,
        };
        let mut y = 0;
        let mut at = self.top;
        let mut hidden_rows = self.top_row;
        if at >= self.file_len {
            return true;
        }
        while y < height {
            let Some(line) = self.window.line_at(at) else {
                return false;
            };
            let rows = place(line, wrap_width, |row, column, glyph| {
                if row >= hidden_rows {
                    let screen_row = y + row - hidden_rows;
                    if screen_row < height {
                        painter.put(screen_row as u16, column, skip_columns, glyph);
                    }
                }
            });
            y += rows.saturating_sub(hidden_rows);
            hidden_rows = 0;
            match self.window.next_line_start(at, self.file_len) {
                Step::To(next) => at = next,
                Step::Edge => return y <= height,
                Step::NeedData => return false,
            }
        }
        false
    }

    /// Draws hex rows; says whether the end of the file is on screen.
    fn draw_hex(&self, area: Rect, buf: &mut Buffer, style: &ViewStyle) -> bool {
        let styles = HexStyles {
            offset: style.hex_offset,
            bytes: style.hex_bytes,
            text: style.text,
            escape: style.escape,
        };
        for y in 0..area.height {
            let offset = self.top + u64::from(y) * HEX_ROW;
            if offset >= self.file_len {
                return true;
            }
            let bytes = self.window.slice(offset, offset + HEX_ROW);
            if bytes.is_empty() {
                return false;
            }
            hex_row(buf, area, y, offset, bytes, &styles);
        }
        self.top + u64::from(area.height) * HEX_ROW >= self.file_len
    }
}

/// `text` cut to `width` columns with an ellipsis.
pub(super) fn fit(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for ch in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(ch).unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        used += w;
        out.push(ch);
    }
    out.push('\u{2026}');
    out
}
