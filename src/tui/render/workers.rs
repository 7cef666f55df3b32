//! The workers panel: every worker that has a heartbeat in the queue, from any host, with its
//! slots and load and how long since it last beat; a dead one stands out in the alarm colour
//! and says since when it has been down.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, BorderType, Widget};

use crate::queue::{Heartbeat, WorkerHealth};

use super::super::model::Model;
use super::super::text;
use super::super::theme::Theme;
use super::put;

pub fn render(buf: &mut Buffer, area: Rect, model: &Model, theme: &Theme) {
    if area.height < 3 || area.width < 10 {
        return;
    }
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .border_style(theme.border)
        .style(theme.base)
        .title(" workers ");
    let inner = block.inner(area);
    block.render(area, buf);
    put(
        buf,
        inner.x,
        inner.y,
        &format!(
            " {:<16} {:>8} {:>5} {:>4}  {:<9} state",
            "host", "pid", "slots", "busy", "last beat"
        ),
        inner.width,
        theme.column_header,
    );
    if model.queue.workers.is_empty() {
        put(
            buf,
            inner.x,
            inner.y + 1,
            " no worker has a heartbeat in this queue",
            inner.width,
            theme.dim,
        );
        return;
    }
    for (i, worker) in model.queue.workers.iter().enumerate() {
        let y = inner.y + 1 + i as u16;
        if y >= inner.bottom() {
            break;
        }
        let beat = &worker.heartbeat;
        let (state, style) = state_words(&worker.health, beat, theme);
        let line = format!(
            " {:<16} {:>8} {:>5} {:>4}  {:<9} {state}",
            text::fit(&beat.host, 16),
            beat.pid,
            beat.slots,
            beat.busy,
            format!(
                "{} ago",
                text::duration(Duration::from_secs_f64(worker.last_beat_secs.max(0.0)))
            ),
        );
        put(buf, inner.x, y, &line, inner.width, style);
    }
}

/// What the state column says of a worker, and in which style: a dead one in the alarm colour.
fn state_words(health: &WorkerHealth, beat: &Heartbeat, theme: &Theme) -> (String, Style) {
    let note = beat
        .note
        .as_ref()
        .map_or(String::new(), |n| format!(": {n}"));
    match health {
        WorkerHealth::Alive if beat.paused => (format!("paused{note}"), theme.base),
        WorkerHealth::Alive => {
            let on = beat
                .fs
                .as_ref()
                .map_or(String::new(), |fs| format!(" on {fs}"));
            (format!("alive{on}{note}"), theme.base)
        }
        WorkerHealth::Down { since_secs, why } => (
            format!(
                "DOWN since {} ({why})",
                text::duration(Duration::from_secs_f64(since_secs.max(0.0)))
            ),
            theme.alarm,
        ),
    }
}
