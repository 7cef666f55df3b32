//! One pane: a double-line box titled with its state, a column header, one row per item (name,
//! then what matters in that state: size and age; a progress bar with percent, speed and ETA;
//! the failure reason; the retry countdown), and a status line about the cursor item. Names are
//! escaped and cut to their column, so no name can spill into another.

mod columns;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::{Block, BorderType, Widget};

use crate::queue::{State as QState, printable};

use super::super::layout::pane_areas;
use super::super::model::Model;
use super::super::pane::{Key, Pane};
use super::super::sort::SortMode;
use super::super::text;
use super::super::theme::Theme;
use super::put;
use columns::Columns;

pub fn render(buf: &mut Buffer, area: Rect, model: &Model, index: usize, theme: &Theme) {
    if area.width < 4 || area.height < 3 {
        return;
    }
    let pane = &model.panes[index];
    let active = index == model.active;
    Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.border)
        .style(theme.base)
        .render(area, buf);
    title(buf, area, pane, active, theme);
    let parts = pane_areas(area);
    let columns = Columns::for_pane(pane.state, parts.list.width);
    if parts.columns.height > 0 {
        columns.header(buf, parts.columns, theme);
    }
    let list = parts.list;
    if !pane.loaded {
        put(buf, list.x, list.y, " listing…", list.width, theme.dim);
    } else if pane.shown.is_empty() {
        let empty = if pane.filter.is_some() {
            " nothing matches the filter"
        } else {
            " (empty)"
        };
        put(buf, list.x, list.y, empty, list.width, theme.dim);
    }
    for (row, (position, item)) in pane.visible(usize::from(list.height)).enumerate() {
        let key = Key::of(item);
        let selected = pane.selected.contains(&key);
        let cursor = active && position == pane.cursor;
        let style = match (cursor, selected) {
            (true, true) => theme.cursor_selected,
            (true, false) => theme.cursor,
            (false, true) => theme.selected,
            (false, false) if pane.fresh.contains_key(&key) => theme.fresh,
            _ => theme.base,
        };
        let y = list.y + row as u16;
        columns.row(
            buf,
            Rect::new(list.x, y, list.width, 1),
            model,
            pane,
            item,
            style,
            theme,
        );
    }
    if pane.state == QState::Pending && pane.loaded && pane.filter.is_none() {
        root_folders(buf, list, model, pane, theme);
    }
    if parts.status.height > 0 {
        status_line(buf, parts.status, model, pane, theme);
    }
}

/// Folders in the root, under the last item when it is on screen: they are there, and they are
/// not items (nothing runs them, nothing moves them).
fn root_folders(buf: &mut Buffer, list: Rect, model: &Model, pane: &Pane, theme: &Theme) {
    let height = usize::from(list.height);
    let items_on_screen = pane.shown.len().saturating_sub(pane.offset).min(height);
    if pane.offset + items_on_screen < pane.shown.len() {
        return;
    }
    let first = items_on_screen.max(usize::from(pane.shown.is_empty()));
    let note = "folder, not an item ";
    let note_width = text::width(note) as u16;
    let room = usize::from(list.width.saturating_sub(note_width + 1));
    for (row, folder) in model.queue.root_folders.iter().enumerate() {
        if first + row >= height {
            break;
        }
        let y = list.y + (first + row) as u16;
        let name = text::fit(&format!(" {}/", printable(folder)), room);
        put(buf, list.x, y, &name, list.width, theme.dim);
        if room > 0 {
            let x = list.right().saturating_sub(note_width);
            put(buf, x, y, note, note_width, theme.dim);
        }
    }
}

fn title(buf: &mut Buffer, area: Rect, pane: &Pane, active: bool, theme: &Theme) {
    let mut title = format!(" {} ", super::super::actions::folder(pane.state));
    if pane.loaded {
        title = format!(
            " {} {} ",
            super::super::actions::folder(pane.state),
            pane.items.len()
        );
    }
    if let Some(filter) = &pane.filter {
        title.push_str(&format!("[/{filter}: {}] ", pane.shown.len()));
    }
    match pane.effective_sort() {
        (SortMode::Order, false) => {}
        (mode, reverse) => {
            let arrow = if reverse { "↓" } else { "↑" };
            title.push_str(&format!("by {} {arrow} ", mode.label()));
        }
    }
    let room = area.width.saturating_sub(4);
    let title = text::fit(&title, usize::from(room));
    let style = if active {
        theme.title_active
    } else {
        theme.title
    };
    let w = text::width(&title) as u16;
    let x = area.x + (area.width.saturating_sub(w)) / 2;
    put(buf, x, area.y, &title, w, style);
}

/// What the status line says about the cursor item (or the selection).
fn status_line(buf: &mut Buffer, area: Rect, model: &Model, pane: &Pane, theme: &Theme) {
    if let Some(text) = &pane.search {
        let line = format!(" Search: {text}▏");
        put(buf, area.x, area.y, &line, area.width, theme.input);
        return;
    }
    let line = if !pane.selected.is_empty() {
        format!(" {} selected of {}", pane.selected.len(), pane.items.len())
    } else if let Some(item) = pane.current() {
        let mut line = match pane.details.get(&Key::of(item)) {
            // Still open for writing: not an item yet, and growing.
            Some(details) if details.arriving => {
                format!(" arriving, {} so far:", text::size(details.size))
            }
            _ => String::new(),
        };
        line.push_str(&format!(" {}", printable(item.display())));
        if let Some(owner) = &item.owner {
            line.push_str(&format!("  [{}]", printable(owner)));
        }
        if let Some(progress) = model.queue.running.get(&item.identity())
            && !progress.worker.is_empty()
            && item.owner.is_none()
        {
            line.push_str(&format!("  [{}]", progress.worker));
        }
        line
    } else {
        String::new()
    };
    put(buf, area.x, area.y, &line, area.width, theme.dim);
}
