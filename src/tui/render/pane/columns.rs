//! The columns of a pane's list: which a state shows at a given width, their header, and each
//! item's row. A row is the name with its marker, then the cells the state shows (progress bar,
//! percent, speed and ETA; the failure reason; the retry countdown and reason; size and age).
//! Each state says what its cells are and how they align, so drawing them is one plain loop.

use std::time::{Duration, SystemTime};

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;

use crate::queue::{Item, Progress, State as QState, WorkerHealth, printable};
use crate::tui::model::Model;
use crate::tui::pane::{Details, Key, Pane};
use crate::tui::text;
use crate::tui::theme::Theme;
use crate::tui::update::seconds_until;

use super::super::put;

/// The columns a state shows, and their widths.
pub(super) struct Columns {
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

/// One cell after the name, with how it is drawn in its column.
enum Cell {
    /// Against the right edge: numbers, sizes and times line up.
    Right(String, Style),
    /// From the left edge, cut at the right: reasons.
    Left(String, Style),
    /// A progress bar filling the column.
    Bar(Option<f64>),
}

impl Columns {
    pub(super) fn for_pane(state: QState, width: u16) -> Columns {
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

    pub(super) fn header(&self, buf: &mut Buffer, area: Rect, theme: &Theme) {
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
    pub(super) fn row(
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
        let name = format!("{}{}", marker(pane, &key), printable(item.display()));
        put(buf, area.x, area.y, &name, self.name, style);
        let details = pane.details.get(&key);
        let cells = match self.state {
            QState::Process => self.process_cells(model, item, style, theme),
            QState::Failed => vec![failed_cell(details, style, theme)],
            QState::Delayed => delayed_cells(model.now, details, style),
            _ => size_and_age_cells(model.now, details, style),
        };
        self.draw_cells(buf, area, cells, theme);
    }

    /// Progress bar, percent, speed and ETA, as many as the pane is wide enough for.
    fn process_cells(&self, model: &Model, item: &Item, style: Style, theme: &Theme) -> Vec<Cell> {
        let progress = model.queue.running.get(&item.identity());
        let fraction = progress.and_then(|p| p.fraction);
        let percent = fraction
            .map(|f| f.clamp(0.0, 1.0))
            .map_or("  ?".into(), |f| format!("{:>3.0}%", f * 100.0));
        let with_bar = self.rest.len() >= 3;
        let mut cells = Vec::new();
        if with_bar {
            cells.push(Cell::Bar(fraction));
        }
        cells.push(Cell::Right(percent, style));
        if self.rest.len() == 4 {
            cells.push(Cell::Right(speed(progress), style));
        }
        if with_bar {
            cells.push(eta_cell(model, item, progress, style, theme));
        }
        cells
    }

    /// A border before each column, then its cell.
    fn draw_cells(&self, buf: &mut Buffer, area: Rect, cells: Vec<Cell>, theme: &Theme) {
        let mut cells = cells.into_iter();
        let mut x = area.x + self.name;
        for width in &self.rest {
            put(buf, x, area.y, "│", 1, theme.border);
            if let Some(cell) = cells.next() {
                cell.draw(buf, x + 1, area.y, *width, theme);
            }
            x += width + 1;
        }
    }
}

impl Cell {
    fn draw(self, buf: &mut Buffer, x: u16, y: u16, width: u16, theme: &Theme) {
        match self {
            Cell::Right(shown, style) => {
                let shown = text::pad_left(&shown, usize::from(width));
                put(buf, x, y, &shown, width, style);
            }
            Cell::Left(shown, style) => put(buf, x, y, &shown, width, style),
            Cell::Bar(fraction) => bar(buf, x, y, width, fraction, theme),
        }
    }
}

/// `*` before a selected item, `+` before one still being written, else a space.
fn marker(pane: &Pane, key: &Key) -> &'static str {
    if pane.selected.contains(key) {
        "*"
    } else if pane.details.get(key).is_some_and(|d| d.arriving) {
        "+"
    } else {
        " "
    }
}

/// The failure reason, in the alarm colour unless the row is highlighted.
fn failed_cell(details: Option<&Details>, style: Style, theme: &Theme) -> Cell {
    let reason = details.and_then(|d| d.reason.clone()).unwrap_or_default();
    let style = if style == theme.base {
        theme.alarm
    } else {
        style
    };
    Cell::Left(reason, style)
}

/// Time until the retry (`due` once past), then the reason it failed.
fn delayed_cells(now: SystemTime, details: Option<&Details>, style: Style) -> Vec<Cell> {
    let countdown = details
        .and_then(|d| d.retry_at)
        .map(|at| seconds_until(now, at))
        .map_or(String::new(), |s| {
            if s <= 0 {
                "due".into()
            } else {
                text::duration(Duration::from_secs(s as u64))
            }
        });
    let reason = details.and_then(|d| d.reason.clone()).unwrap_or_default();
    vec![Cell::Right(countdown, style), Cell::Left(reason, style)]
}

/// Size and age, blank until the item has been looked at.
fn size_and_age_cells(now: SystemTime, details: Option<&Details>, style: Style) -> Vec<Cell> {
    let size = details.map_or(String::new(), |d| text::size(d.size));
    let age = details
        .and_then(|d| d.modified)
        .and_then(|m| now.duration_since(m).ok())
        .map_or(String::new(), text::duration);
    vec![Cell::Right(size, style), Cell::Right(age, style)]
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
) -> Cell {
    let owner_down = item.owner.as_ref().is_some_and(|owner| {
        model.queue.workers.iter().any(|w| {
            w.heartbeat.id.as_str() == owner.as_os_str() && w.health != WorkerHealth::Alive
        })
    });
    if owner_down {
        Cell::Right("down".into(), theme.alarm)
    } else {
        Cell::Right(eta(progress), style)
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

fn center(text: &str, width: u16) -> String {
    let w = text::width(text);
    let left = usize::from(width).saturating_sub(w) / 2;
    format!("{}{text}", " ".repeat(left))
}
