//! `[worker] schedule`: when workers may claim. A schedule is a list of windows; a worker claims
//! only inside one of them. Grammar of one window (case does not matter):
//!
//! ```text
//! window := days | days " " span | span
//! days   := day-set ("," day-set)*        day-set := day | day "-" day   (a range may wrap: fri-mon)
//! day    := mon | tue | wed | thu | fri | sat | sun
//! span   := HH:MM "-" HH:MM               (end 24:00 allowed; an end at or before the start
//!                                           runs past midnight, into the next day)
//! ```
//!
//! A window without days is every day; without a span, the whole of each day. A span that runs
//! past midnight belongs to the day it starts on: `mon-fri 19:00-07:00` includes Saturday 06:00
//! and not Monday 06:00. Times are the worker host's local time.

use std::fmt;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const WEEK: u32 = 7 * 24 * 60;

/// The windows of a schedule, as minutes of the week (0 = Monday 00:00).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Schedule {
    /// Start and end minute of the week of each open stretch; an end may pass `WEEK` (wraps).
    stretches: Vec<(u32, u32)>,
}

/// A window that does not parse: where in the text, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleError {
    /// Byte offset in the window's text.
    pub at: usize,
    pub message: String,
}

impl fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

impl Schedule {
    /// Parses the windows; the error names the window (0-based) and the place in it.
    pub fn parse(windows: &[String]) -> Result<Schedule, (usize, ScheduleError)> {
        let mut stretches = Vec::new();
        for (n, window) in windows.iter().enumerate() {
            stretches.extend(parse_window(window).map_err(|e| (n, e))?);
        }
        Ok(Schedule { stretches })
    }

    pub fn is_empty(&self) -> bool {
        self.stretches.is_empty()
    }

    /// Whether `minute` of the week (0 = Monday 00:00) is inside a window.
    pub fn contains(&self, minute: u32) -> bool {
        self.stretches.iter().any(|&(start, end)| {
            (start..end).contains(&minute) || (end > WEEK && minute < end - WEEK)
        })
    }

    /// Minutes from `minute` of the week until the next window opens (0 if inside one);
    /// `None` for an empty schedule.
    pub fn minutes_until_open(&self, minute: u32) -> Option<u32> {
        (0..WEEK).find(|ahead| self.contains((minute + ahead) % WEEK))
    }
}

/// The minute of the week `weekday` (0 = Monday) and `minute` of the day stand for.
pub fn week_minute(weekday: u32, minute: u32) -> u32 {
    (weekday % 7) * 24 * 60 + minute
}

fn parse_window(text: &str) -> Result<Vec<(u32, u32)>, ScheduleError> {
    let lower = text.to_ascii_lowercase();
    let trimmed = lower.trim_start();
    let lead = lower.len() - trimmed.len();
    let trimmed = trimmed.trim_end();
    if trimmed.is_empty() {
        return Err(err(0, "an empty window: give days, a time span, or both"));
    }
    let (days_text, span_text, span_at) = if trimmed.starts_with(|c: char| c.is_ascii_digit()) {
        (None, Some(trimmed), lead)
    } else {
        match trimmed.split_once(' ') {
            Some((days, span)) => {
                let span_lead = span.len() - span.trim_start().len();
                (
                    Some(days),
                    Some(span.trim()),
                    lead + days.len() + 1 + span_lead,
                )
            }
            None => (Some(trimmed), None, lead),
        }
    };
    let days = match days_text {
        Some(text) => parse_days(text, lead)?,
        None => vec![true; 7],
    };
    let (start, end) = match span_text {
        Some(span) => parse_span(span, span_at)?,
        None => (0, 24 * 60),
    };
    Ok((0..7)
        .filter(|d| days[*d as usize])
        .map(|d| (d * 24 * 60 + start, d * 24 * 60 + end))
        .collect())
}

fn parse_days(text: &str, at: usize) -> Result<Vec<bool>, ScheduleError> {
    let mut days = vec![false; 7];
    let mut offset = at;
    for set in text.split(',') {
        let day = |name: &str, at: usize| {
            DAYS.iter().position(|d| *d == name).ok_or_else(|| {
                err(
                    at,
                    &format!("{name:?} is not a day (mon, tue, wed, thu, fri, sat, sun)"),
                )
            })
        };
        match set.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (day(from, offset)?, day(to, offset + from.len() + 1)?);
                let mut d = from;
                loop {
                    days[d] = true;
                    if d == to {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => days[day(set, offset)?] = true,
        }
        offset += set.len() + 1;
    }
    Ok(days)
}

fn parse_span(text: &str, at: usize) -> Result<(u32, u32), ScheduleError> {
    let (from, to) = text
        .split_once('-')
        .ok_or_else(|| err(at, "a time span is HH:MM-HH:MM"))?;
    let start = parse_clock(from.trim(), at)?;
    let to_at = at + from.len() + 1;
    let mut end = parse_clock(to.trim(), to_at + (to.len() - to.trim_start().len()))?;
    if start == 24 * 60 {
        return Err(err(at, "a window cannot start at 24:00"));
    }
    if end == start {
        return Err(err(
            at,
            &format!("an empty window: {text} opens and closes at once"),
        ));
    }
    if end < start {
        end += 24 * 60;
    }
    Ok((start, end))
}

fn parse_clock(text: &str, at: usize) -> Result<u32, ScheduleError> {
    let bad = || err(at, &format!("{text:?} is not a time (HH:MM)"));
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (u32, u32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m > 0) {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

fn err(at: usize, message: &str) -> ScheduleError {
    ScheduleError {
        at,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule(windows: &[&str]) -> Schedule {
        let windows: Vec<String> = windows.iter().map(|w| w.to_string()).collect();
        Schedule::parse(&windows).unwrap()
    }

    const MON: u32 = 0;
    const FRI: u32 = 4;
    const SAT: u32 = 5;
    const SUN: u32 = 6;

    #[test]
    fn nights_on_weekdays_and_whole_weekends() {
        let s = schedule(&["mon-fri 19:00-07:00", "sat,sun"]);
        assert!(s.contains(week_minute(MON, 19 * 60)));
        assert!(!s.contains(week_minute(MON, 18 * 60 + 59)));
        assert!(
            !s.contains(week_minute(MON, 6 * 60)),
            "Sunday night is not Monday's"
        );
        assert!(
            s.contains(week_minute(SAT, 6 * 60)),
            "Friday night runs into Saturday"
        );
        assert!(s.contains(week_minute(SUN, 23 * 60 + 59)));
        assert!(!s.contains(week_minute(FRI, 12 * 60)));
        assert_eq!(
            s.minutes_until_open(week_minute(FRI, 12 * 60)),
            Some(7 * 60)
        );
    }

    #[test]
    fn a_bare_span_is_every_day_and_a_range_may_wrap() {
        let s = schedule(&["22:00-06:00"]);
        assert!(
            s.contains(week_minute(MON, 3 * 60)),
            "Sunday's night wraps the week"
        );
        assert!(s.contains(week_minute(3, 23 * 60)));
        let s = schedule(&["fri-mon"]);
        assert!(s.contains(week_minute(SUN, 0)) && s.contains(week_minute(MON, 0)));
        assert!(!s.contains(week_minute(2, 0)));
    }

    #[test]
    fn bad_windows_say_where() {
        let bad = |w: &str| Schedule::parse(&[w.to_string()]).unwrap_err().1;
        assert_eq!(bad("mon-fry 19:00-07:00").at, 4);
        assert!(bad("mon-fry 19:00-07:00").message.contains("\"fry\""));
        assert_eq!(bad("mon 19:00-7").at, 10);
        assert!(bad("09:00-09:00").message.contains("empty window"));
        assert!(bad("  ").message.contains("empty window"));
        assert!(bad("25:00-26:00").message.contains("not a time"));
    }
}
