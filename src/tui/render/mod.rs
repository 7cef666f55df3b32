//! Drawing the model. Render reads the model, the theme and the key map and writes cells: no
//! I/O, no clock, no mutation, so the same model always gives the same screen (which is what the
//! snapshot tests rely on). Each part of the screen has its own module.

pub mod dialog;
mod header;
mod help;
pub mod keybar;
mod pane;
mod workers;

pub use help::{clamp_scroll, lines as help_lines, page_rows};

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use super::keymap::Keymap;
use super::layout;
use super::model::Model;
use super::text;
use super::theme::Theme;
use super::update::workers_rows;

pub fn draw(frame: &mut Frame, model: &Model, theme: &Theme, keys: &Keymap) {
    let area = frame.area();
    paint(frame.buffer_mut(), area, model, theme, keys);
}

/// Paints the whole screen into `buf`.
pub fn paint(buf: &mut Buffer, area: Rect, model: &Model, theme: &Theme, keys: &Keymap) {
    buf.set_style(area, theme.base);
    let areas = layout::areas(area.width, area.height, model.active, workers_rows(model));
    header::render(buf, areas.header, model, theme);
    for (index, pane_area) in areas.panes.iter().enumerate() {
        pane::render(buf, *pane_area, model, index, theme);
    }
    workers::render(buf, areas.workers, model, theme);
    message(buf, areas.message, model, theme);
    keybar::render(buf, areas.keybar, model, keys, theme);
    if let Some(overlay) = &model.overlay {
        dialog::render(buf, area, overlay, model, keys, theme);
    }
}

fn message(buf: &mut Buffer, area: Rect, model: &Model, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let (text, style) = match &model.message {
        Some(m) if m.error => (m.text.as_str(), theme.message_error),
        Some(m) => (m.text.as_str(), theme.message),
        None => ("", theme.message),
    };
    put(buf, area.x, area.y, &format!(" {text}"), area.width, style);
}

/// Writes `text` at (x, y), cut or padded to exactly `width` cells.
pub fn put(buf: &mut Buffer, x: u16, y: u16, text: &str, width: u16, style: Style) {
    if width == 0 || y >= buf.area.bottom() || x >= buf.area.right() {
        return;
    }
    let width = width.min(buf.area.right() - x);
    buf.set_stringn(
        x,
        y,
        text::pad(text, usize::from(width)),
        usize::from(width),
        style,
    );
}
