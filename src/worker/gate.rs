//! Whether the engine may claim now, and if not, why in words: a pause flag (until when, or the
//! note a host that paused itself left), or the host's schedule (and when its next window opens).
//! The same words go into the heartbeat's `note`, `fsq status` and the commander's header.

use std::time::{Duration, SystemTime};

use super::clock::{local_hhmm, local_week_minute};
use super::ctx::Ctx;
use crate::queue::{Paused, until_time, week_minute};

/// Why claiming is closed, if it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gate {
    /// A pause flag holds: why.
    pub paused: Option<String>,
    /// The schedule's window is closed: when the next one opens.
    pub outside_schedule: Option<String>,
}

impl Gate {
    pub fn closed(&self) -> bool {
        self.paused.is_some() || self.outside_schedule.is_some()
    }

    /// The reason to show, the pause first.
    pub fn why(&self) -> Option<String> {
        self.paused
            .clone()
            .or_else(|| self.outside_schedule.clone())
    }
}

pub fn check(ctx: &Ctx, host: &str) -> Gate {
    Gate {
        paused: ctx.queue.pause_of(host).map(|p| pause_words(&p)),
        outside_schedule: outside_schedule(ctx, SystemTime::now()),
    }
}

/// "paused until 19:00", a self-paused host's note, or "paused".
pub fn pause_words(paused: &Paused) -> String {
    if let Some(note) = &paused.flag.note {
        return note.clone();
    }
    match paused.flag.until {
        Some(until) => format!("paused until {}", local_hhmm(until_time(until))),
        None => "paused".into(),
    }
}

/// "outside schedule (next window Mon 19:00)" when `now` is outside the schedule.
fn outside_schedule(ctx: &Ctx, now: SystemTime) -> Option<String> {
    let schedule = ctx.config.schedule.as_ref()?;
    let (weekday, minute) = local_week_minute(now);
    let at = week_minute(weekday, minute);
    if schedule.contains(at) {
        return None;
    }
    let ahead = schedule.minutes_until_open(at)?;
    let secs_into_minute = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() % 60);
    let opens = now + Duration::from_secs(u64::from(ahead) * 60 - secs_into_minute);
    Some(format!(
        "outside schedule (next window {})",
        local_hhmm(opens)
    ))
}
