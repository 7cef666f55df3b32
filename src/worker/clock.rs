//! Wall-clock times in the host's time zone, for what people write and read: `--until 19:00`,
//! "paused until 19:00", schedules. Timestamps on disk stay Unix milliseconds; only this module
//! knows about local time (through the C library's time zone database).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The local calendar fields of `time`.
fn local_tm(time: SystemTime) -> libc::tm {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as libc::time_t);
    // SAFETY: `tm` is plain data; localtime_r writes it and keeps no pointer to it.
    unsafe {
        let mut tm: libc::tm = std::mem::zeroed();
        libc::localtime_r(&secs, &mut tm);
        tm
    }
}

/// The time the local calendar fields in `tm` name (normalising overflowing fields).
fn from_tm(mut tm: libc::tm) -> Option<SystemTime> {
    tm.tm_isdst = -1;
    // SAFETY: mktime reads and normalises the `tm` we own.
    let secs = unsafe { libc::mktime(&mut tm) };
    (secs >= 0).then(|| UNIX_EPOCH + Duration::from_secs(secs as u64))
}

/// `19:00`, or `Tue 19:00` when `time` is not within the next day.
pub fn local_hhmm(time: SystemTime) -> String {
    let tm = local_tm(time);
    let hhmm = format!("{:02}:{:02}", tm.tm_hour, tm.tm_min);
    let far = time
        .duration_since(SystemTime::now())
        .is_ok_and(|d| d > Duration::from_secs(20 * 3600));
    if far {
        let day =
            ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][tm.tm_wday.rem_euclid(7) as usize];
        format!("{day} {hhmm}")
    } else {
        hhmm
    }
}

/// The local weekday (0 = Monday) and minute of the day of `time`.
pub fn local_week_minute(time: SystemTime) -> (u32, u32) {
    let tm = local_tm(time);
    let monday_first = (tm.tm_wday + 6).rem_euclid(7) as u32;
    (monday_first, (tm.tm_hour * 60 + tm.tm_min) as u32)
}

/// Parses `HH:MM` (the next such time, today or tomorrow) or `YYYY-MM-DD HH:MM` (also with a
/// `T`), in local time.
pub fn parse_local_time(text: &str, now: SystemTime) -> Result<SystemTime, String> {
    let bad = || format!("{text:?} is not a time (try 19:00 or 2026-12-24 19:00)");
    let text = text.trim();
    let (date, clock) = match text.rsplit_once([' ', 'T']) {
        Some((date, clock)) => (Some(date.trim()), clock),
        None => (None, text),
    };
    let (hour, minute) = clock.split_once(':').ok_or_else(bad)?;
    let hour: i32 = hour.parse().map_err(|_| bad())?;
    let minute: i32 = minute.parse().map_err(|_| bad())?;
    if !(0..24).contains(&hour) || !(0..60).contains(&minute) {
        return Err(bad());
    }
    let mut tm = local_tm(now);
    if let Some(date) = date {
        let parts: Vec<i32> = date
            .split('-')
            .map(|p| p.parse().map_err(|_| bad()))
            .collect::<Result<_, _>>()?;
        let [year, month, day] = parts[..] else {
            return Err(bad());
        };
        (tm.tm_year, tm.tm_mon, tm.tm_mday) = (year - 1900, month - 1, day);
    }
    (tm.tm_hour, tm.tm_min, tm.tm_sec) = (hour, minute, 0);
    let mut at = from_tm(tm).ok_or_else(bad)?;
    if date.is_none() && at <= now {
        tm.tm_mday += 1;
        at = from_tm(tm).ok_or_else(bad)?;
    }
    if at <= now {
        return Err(format!("{text:?} has already passed"));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_time_is_the_next_one_and_reads_back_the_same() {
        let now = SystemTime::now();
        let at = parse_local_time("19:00", now).unwrap();
        assert!(at > now && at <= now + Duration::from_secs(25 * 3600));
        assert!(local_hhmm(at).ends_with("19:00"));
        assert!(parse_local_time("25:00", now).is_err());
        assert!(parse_local_time("soon", now).is_err());
        assert!(parse_local_time("2001-01-01 10:00", now).is_err());
        let later = parse_local_time("2099-12-24 07:05", now).unwrap();
        assert!(local_hhmm(later).ends_with("07:05"));
    }
}
