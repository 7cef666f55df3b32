//! The two header lines: where the queue is, the embedded worker, how the view is kept
//! current; then the count of every state, the throughput and the ETA of the whole queue.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::queue::State as QState;

use super::super::model::Model;
use super::super::text;
use super::super::theme::Theme;
use super::put;

pub fn render(buf: &mut Buffer, area: Rect, model: &Model, theme: &Theme) {
    if area.height == 0 {
        return;
    }
    let right = status(model);
    let room = usize::from(area.width).saturating_sub(text::width(&right) + 2);
    let left = text::fit(&format!(" fsq {}", model.root), room);
    put(buf, area.x, area.y, &left, area.width, theme.header);
    let x = area.right().saturating_sub(text::width(&right) as u16 + 1);
    let stale = model
        .queue
        .watch
        .mode
        .is_stale(model.queue.watch.last_scan, model.now);
    let style = if stale {
        theme.header_alarm
    } else {
        theme.header_value
    };
    put(
        buf,
        x.max(area.x),
        area.y,
        &right,
        area.right().saturating_sub(x.max(area.x)),
        style,
    );
    if area.height < 2 {
        return;
    }
    let y = area.y + 1;
    let speed = throughput(model);
    put(buf, area.x, y, "", area.width, theme.header);
    let mut x = area.x + 1;
    let long = counts_width(model, false) + text::width(&speed) + 2 <= usize::from(area.width);
    for state in QState::ALL {
        let count = model
            .queue
            .count(state)
            .map_or("…".to_string(), |n| n.to_string());
        let label = if long { state.as_str() } else { short(state) };
        let style = match state {
            QState::Failed if model.queue.count(state).unwrap_or(0) > 0 => theme.header_alarm,
            _ => theme.header_value,
        };
        for (piece, style) in [
            (format!("{label} "), theme.header),
            (count, style),
            ("  ".into(), theme.header),
        ] {
            let w = text::width(&piece) as u16;
            put(
                buf,
                x,
                y,
                &piece,
                w.min(area.right().saturating_sub(x)),
                style,
            );
            x = x.saturating_add(w);
        }
    }
    let sx = area.right().saturating_sub(text::width(&speed) as u16 + 1);
    if sx > x {
        put(buf, sx, y, &speed, area.right() - sx, theme.header_value);
    }
}

/// `worker running 1/2 · inotify`, or `worker off · 2 workers on other hosts · inotify`.
fn status(model: &Model) -> String {
    let worker = match &model.engine {
        None => "worker off".to_string(),
        Some(e) if model.quit_when_idle => format!("finishing {}/{}", e.busy, e.slots),
        Some(e) if e.paused => match &e.why {
            Some(why) => format!("worker {}/{}: {why}", e.busy, e.slots),
            None => format!("worker paused {}/{}", e.busy, e.slots),
        },
        Some(e) => format!("worker running {}/{}", e.busy, e.slots),
    };
    let mut watch = model.queue.watch.mode.label();
    if let Some(at) = model.queue.watch.last_scan
        && model.queue.watch.mode.is_stale(Some(at), model.now)
    {
        let age = model.now.duration_since(at).unwrap_or_default();
        watch.push_str(&format!(" STALE {}", text::duration(age)));
    }
    let mut others = String::new();
    let workers = Workers::of(model);
    if workers.others > 0 {
        let noun = if workers.others_here == 0 {
            format!("{} on other hosts", text::count(workers.others, "worker"))
        } else {
            text::count(workers.others, "other worker")
        };
        others.push_str(&format!(" · {noun}"));
    }
    if workers.down > 0 {
        others.push_str(&format!(" · {} down", text::count(workers.down, "worker")));
    }
    format!("{worker}{others} · {watch} ")
}

/// What the heartbeats say beyond the embedded worker.
struct Workers {
    /// Alive and claiming, other than the embedded worker.
    others: usize,
    /// Of those, how many run on this host.
    others_here: usize,
    down: usize,
}

impl Workers {
    fn of(model: &Model) -> Workers {
        use crate::queue::WorkerHealth;
        let host = &model.queue.host;
        let alive: Vec<_> = model
            .queue
            .workers
            .iter()
            .filter(|w| w.health == WorkerHealth::Alive)
            .collect();
        let claiming = alive.iter().filter(|w| !w.heartbeat.paused).count();
        let here = alive
            .iter()
            .filter(|w| !w.heartbeat.paused && &w.heartbeat.host == host)
            .count();
        // The embedded worker beats too: one of the claiming ones on this host is ours.
        let ours_claiming = usize::from(model.engine.as_ref().is_some_and(|e| !e.paused));
        Workers {
            others: claiming.saturating_sub(ours_claiming),
            others_here: here.saturating_sub(ours_claiming),
            down: model.queue.workers.len() - alive.len(),
        }
    }
}

/// `12.5/min  ETA 4m10s`, once something has finished and some worker is claiming. The queue's
/// ETA is never shorter than a running job's own.
fn throughput(model: &Model) -> String {
    let working = model.engine.as_ref().is_some_and(|e| !e.paused) || Workers::of(model).others > 0;
    if !working {
        return String::new();
    }
    let longest_job = model
        .queue
        .running
        .values()
        .filter_map(|p| p.eta_secs)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .fold(None, |max: Option<f64>, s| {
            Some(max.map_or(s, |m| m.max(s)))
        });
    let rate = model.queue.throughput.per_sec(model.now);
    let remaining = model.queue.remaining();
    let queue_eta = rate
        .filter(|r| *r > 0.0 && remaining > 0)
        .map(|r| remaining as f64 / r);
    let eta = match (queue_eta, longest_job) {
        (Some(q), Some(j)) => Some(q.max(j)),
        (Some(q), None) => Some(q),
        // Nothing finished yet: only what runs is known, and only if nothing else waits.
        (None, Some(j)) if remaining <= model.queue.running.len() => Some(j),
        _ => None,
    };
    let eta = eta.map_or(String::new(), |secs| {
        format!(
            "  ETA {}",
            text::duration(std::time::Duration::from_secs_f64(secs.min(1e9)))
        )
    });
    match rate {
        Some(rate) => format!("{:.1}/min{eta}", rate * 60.0),
        None => eta.trim_start().to_string(),
    }
}

fn counts_width(model: &Model, short_labels: bool) -> usize {
    QState::ALL
        .iter()
        .map(|s| {
            let label = if short_labels { short(*s) } else { s.as_str() };
            let count = model.queue.count(*s).map_or(1, |n| n.to_string().len());
            label.len() + 1 + count + 2
        })
        .sum::<usize>()
        + 1
}

fn short(state: QState) -> &'static str {
    match state {
        QState::Pending => "pend",
        QState::New => "new",
        QState::Process => "run",
        QState::Success => "ok",
        QState::Failed => "fail",
        QState::Delayed => "dly",
        QState::Paused => "held",
    }
}
