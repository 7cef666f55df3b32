//! One pane: a double-line box titled with its state, a column header, one row per item (name,
//! then what matters in that state: size and age; a progress bar with percent, speed and ETA;
//! the failure reason; the retry countdown), and a status line about the cursor item. Names are
//! escaped and cut to their column, so no name can spill into another.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, BorderType, Widget};

use crate::queue::{Item, Progress, State as QState, WorkerHealth, printable};

use super::super::layout::pane_areas;
use super::super::model::Model;
use super::super::pane::{Key, Pane};
use super::super::sort::SortMode;
use super::super::text;
use super::super::theme::Theme;
use super::super::update::seconds_until;
use super::put;

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

/// The columns a state shows, and their widths.
struct Columns {
    state: QState,
    name: u16,
    /// Widths of the columns after the name, in order.
    rest: Vec<u16>,
}

const SIZE: u16 = 9;
const AGE: u16 = 6;
const BAR: u16 = 10;
const PERCENT: u16 = 5;
const SPEED: u16 = 11;
const ETA: u16 = 6;
const COUNTDOWN: u16 = 8;

impl Columns {
    fn for_pane(state: QState, width: u16) -> Columns {
        let wanted: Vec<u16> = match state {
            QState::Process if width >= 52 => vec![BAR + 2, PERCENT, SPEED, ETA],
            QState::Process if width >= 34 => vec![BAR, PERCENT, ETA],
            QState::Process if width >= 16 => vec![PERCENT],
            QState::Failed if width >= 30 => vec![width / 2],
            QState::Delayed if width >= 50 => vec![COUNTDOWN, width / 3],
            QState::Delayed if width >= 20 => vec![COUNTDOWN],
            QState::Failed | QState::Delayed | QState::Process => vec![],
            _ if width >= 30 => vec![SIZE, AGE],
            _ if width >= 20 => vec![SIZE],
            _ => vec![],
        };
        let used: u16 = wanted.iter().map(|w| w + 1).sum();
        Columns {
            state,
            name: width.saturating_sub(used),
            rest: wanted,
        }
    }

    fn titles(&self) -> Vec<&'static str> {
        let all: &[&str] = match self.state {
            QState::Process => &["Progress", "%", "Speed", "ETA"],
            QState::Failed => &["Reason"],
            QState::Delayed => &["Retry in", "Reason"],
            _ => &["Size", "Age"],
        };
        let mut titles = all.to_vec();
        if self.state == QState::Process && self.rest.len() == 3 {
            titles.remove(2);
        }
        if self.state == QState::Process && self.rest.len() == 1 {
            titles = vec!["%"];
        }
        titles.truncate(self.rest.len());
        titles
    }

    fn header(&self, buf: &mut Buffer, area: Rect, theme: &Theme) {
        let mut x = area.x;
        // Pending is always in processing order, the order items run in: it says so.
        let name = match self.state {
            QState::Pending if self.name >= 26 => "Name, in processing order",
            QState::Pending if self.name >= 18 => "Name (run order)",
            _ => "Name",
        };
        put(
            buf,
            x,
            area.y,
            &center(name, self.name),
            self.name,
            theme.column_header,
        );
        x += self.name;
        for (title, width) in self.titles().into_iter().zip(&self.rest) {
            put(buf, x, area.y, "│", 1, theme.border);
            put(
                buf,
                x + 1,
                area.y,
                &center(title, *width),
                *width,
                theme.column_header,
            );
            x += width + 1;
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &self,
        buf: &mut Buffer,
        area: Rect,
        model: &Model,
        pane: &Pane,
        item: &Item,
        style: Style,
        theme: &Theme,
    ) {
        let key = Key::of(item);
        let details = pane.details.get(&key);
        let arriving = details.is_some_and(|d| d.arriving);
        let marker = if pane.selected.contains(&key) {
            "*"
        } else if arriving {
            "+"
        } else {
            " "
        };
        put(
            buf,
            area.x,
            area.y,
            &format!("{marker}{}", printable(item.display())),
            self.name,
            style,
        );
        let mut cells: Vec<(String, Style)> = Vec::new();
        match self.state {
            QState::Process => {
                let progress = model.queue.running.get(&item.identity());
                let fraction = progress.and_then(|p| p.fraction).map(|f| f.clamp(0.0, 1.0));
                let percent = fraction.map_or("  ?".into(), |f| format!("{:>3.0}%", f * 100.0));
                if self.rest.len() >= 3 {
                    cells.push((String::new(), style)); // the bar, drawn below
                }
                cells.push((percent, style));
                if self.rest.len() == 4 {
                    cells.push((speed(progress), style));
                }
                if self.rest.len() >= 3 {
                    cells.push(eta_cell(model, item, progress, style, theme));
                }
            }
            QState::Failed => {
                let reason = details.and_then(|d| d.reason.clone()).unwrap_or_default();
                cells.push((
                    reason,
                    if style == theme.base {
                        theme.alarm
                    } else {
                        style
                    },
                ));
            }
            QState::Delayed => {
                let countdown = details
                    .and_then(|d| d.retry_at)
                    .map(|at| seconds_until(model.now, at))
                    .map_or(String::new(), |s| {
                        if s <= 0 {
                            "due".into()
                        } else {
                            text::duration(Duration::from_secs(s as u64))
                        }
                    });
                cells.push((countdown, style));
                cells.push((
                    details.and_then(|d| d.reason.clone()).unwrap_or_default(),
                    style,
                ));
            }
            _ => {
                let size = details.map_or(String::new(), |d| text::size(d.size));
                let age = details
                    .and_then(|d| d.modified)
                    .and_then(|m| model.now.duration_since(m).ok())
                    .map_or(String::new(), text::duration);
                cells.push((size, style));
                cells.push((age, style));
            }
        }
        let mut x = area.x + self.name;
        for (i, width) in self.rest.iter().enumerate() {
            put(buf, x, area.y, "│", 1, theme.border);
            let (cell, cell_style) = cells.get(i).cloned().unwrap_or_default();
            let bar_here = self.state == QState::Process && self.rest.len() >= 3 && i == 0;
            if bar_here {
                let progress = model.queue.running.get(&item.identity());
                bar(
                    buf,
                    x + 1,
                    area.y,
                    *width,
                    progress.and_then(|p| p.fraction),
                    theme,
                );
            } else if self.state == QState::Process
                || matches!(
                    self.state,
                    QState::Pending | QState::New | QState::Success | QState::Paused
                )
                || (self.state == QState::Delayed && i == 0)
            {
                put(
                    buf,
                    x + 1,
                    area.y,
                    &text::pad_left(&cell, usize::from(*width)),
                    *width,
                    cell_style,
                );
            } else {
                put(buf, x + 1, area.y, &cell, *width, cell_style);
            }
            x += width + 1;
        }
    }
}

/// A bar of `width` cells, the done part in the done colour.
fn bar(buf: &mut Buffer, x: u16, y: u16, width: u16, fraction: Option<f64>, theme: &Theme) {
    let done = fraction.map_or(0, |f| (f.clamp(0.0, 1.0) * f64::from(width)).round() as u16);
    put(
        buf,
        x,
        y,
        &"█".repeat(usize::from(done)),
        done,
        theme.progress_done,
    );
    let todo = width - done.min(width);
    put(
        buf,
        x + done,
        y,
        &"░".repeat(usize::from(todo)),
        todo,
        theme.progress_todo,
    );
}

fn speed(progress: Option<&Progress>) -> String {
    progress
        .and_then(|p| p.speed)
        .map_or(String::new(), text::speed)
}

/// The ETA, or `down` in the alarm colour when the item's worker is known to be down: its
/// progress stopped with it, and recovery will send the item back.
fn eta_cell(
    model: &Model,
    item: &Item,
    progress: Option<&Progress>,
    style: Style,
    theme: &Theme,
) -> (String, Style) {
    let owner_down = item.owner.as_ref().is_some_and(|owner| {
        model.queue.workers.iter().any(|w| {
            w.heartbeat.id.as_str() == owner.as_os_str() && w.health != WorkerHealth::Alive
        })
    });
    if owner_down {
        ("down".into(), theme.alarm)
    } else {
        (eta(progress), style)
    }
}

/// The time left, or `frozen` for a frozen job (its clocks stand still).
fn eta(progress: Option<&Progress>) -> String {
    if progress.is_some_and(|p| p.frozen) {
        return "frozen".into();
    }
    progress
        .and_then(|p| p.eta_secs)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map_or(String::new(), |s| {
            text::duration(Duration::from_secs_f64(s.min(1e9)))
        })
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

fn center(text: &str, width: u16) -> String {
    let w = text::width(text);
    let left = usize::from(width).saturating_sub(w) / 2;
    format!("{}{text}", " ".repeat(left))
}
