//! The info page of one item (`i`, as mc's info panel): what it is, where, how big, since when,
//! how its runs went and who owns it, and its history: the run headers and fsq's own notes from
//! its log. Read off the render path; the page is plain lines shown in a scrolling box.

use std::fs;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::time::SystemTime;

use crate::queue::{Item, Queue, State as QState, printable, unix_ms};

use super::text;

/// What the info box shows.
#[derive(Clone, Debug, PartialEq)]
pub struct InfoPage {
    pub title: String,
    pub lines: Vec<String>,
}

/// The log is read up to this much for the history (its head holds the first runs' headers).
const LOG_READ: u64 = 4 << 20;

/// Reads everything the page shows about `item`, now.
pub fn read(queue: &Queue, item: &Item) -> InfoPage {
    let now = SystemTime::now();
    let mut lines = vec![
        format!("Name:      {}", printable(item.display())),
        format!("File:      {}", printable(&item.file)),
        format!("State:     {}", super::actions::folder(item.state)),
    ];
    if let Some(id) = item.id() {
        lines.push(format!("Id:        {}", id.as_os_str().to_string_lossy()));
    }
    if let Some(owner) = &item.owner {
        lines.push(format!("Worker:    {}", printable(owner)));
    }
    match fs::symlink_metadata(queue.path_of(item)) {
        Ok(meta) => {
            lines.push(format!(
                "Size:      {} ({} bytes)",
                text::size(meta.len()),
                meta.len()
            ));
            if let Ok(modified) = meta.modified() {
                lines.push(format!("Modified:  {}", when(modified, now)));
            }
            // A rename changes ctime: it is when the item came into this state.
            let changed = SystemTime::UNIX_EPOCH
                + std::time::Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec() as u32);
            lines.push(format!("In state:  since {}", when(changed, now)));
            lines.push(format!("Owner:     {}", user_name(meta.uid())));
        }
        Err(err) => lines.push(format!("Gone:      {err}")),
    }
    let record = queue.record(item);
    lines.push(format!("Attempts:  {}", record.attempts));
    if let Some(reason) = &record.reason {
        lines.push(format!("Reason:    {reason}"));
    }
    if let Some(at) = record.retry_at.filter(|_| item.state == QState::Delayed) {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(at);
        lines.push(format!("Retry at:  {}", when(at, now)));
    }
    let history = history(queue, item);
    lines.push(String::new());
    if history.is_empty() {
        lines.push("History:   no log (no run printed anything or failed)".into());
    } else {
        lines.push("History (from its log):".into());
        lines.extend(history.into_iter().map(|l| format!("  {l}")));
    }
    InfoPage {
        title: format!("Info: {}", printable(item.display())),
        lines,
    }
}

/// The run headers and fsq's notes in the item's log, in order.
fn history(queue: &Queue, item: &Item) -> Vec<String> {
    let Some(Ok(file)) = queue.log_path(item).map(fs::File::open) else {
        return Vec::new();
    };
    let mut bytes = Vec::new();
    if file.take(LOG_READ).read_to_end(&mut bytes).is_err() {
        return Vec::new();
    }
    String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| l.starts_with("=== fsq: ") || l.starts_with("[fsq: "))
        .map(|l| {
            l.trim_start_matches("=== fsq: ")
                .trim_end_matches(" ===")
                .to_string()
        })
        .collect()
}

/// `2026-11-30 13:45:02 UTC (3m05s ago)`.
fn when(at: SystemTime, now: SystemTime) -> String {
    let relative = match now.duration_since(at) {
        Ok(ago) => format!("{} ago", text::duration(ago)),
        Err(ahead) => format!("in {}", text::duration(ahead.duration())),
    };
    format!("{} UTC ({relative})", utc(unix_ms(at) / 1000))
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS` in UTC (days to civil date after H. Hinnant).
fn utc(secs: u64) -> String {
    let (days, rest) = (secs / 86400, secs % 86400);
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// The user name of `uid` from /etc/passwd, else the number.
fn user_name(uid: u32) -> String {
    let name = fs::read_to_string("/etc/passwd").ok().and_then(|text| {
        text.lines().find_map(|line| {
            let mut fields = line.split(':');
            let name = fields.next()?;
            (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
        })
    });
    match name {
        Some(name) => format!("{name} (uid {uid})"),
        None => format!("uid {uid}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_are_civil_dates() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(utc(1_796_046_407), "2026-11-30 13:46:47");
    }

    #[test]
    fn the_page_shows_attempts_reason_and_the_history_from_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::init(dir.path().join("q")).unwrap();
        let id = crate::queue::ItemId::new();
        let file = format!("+{}+a.txt", id.as_os_str().to_string_lossy());
        fs::write(queue.state_dir(QState::Failed).join(file), "hello").unwrap();
        let item = queue.list(QState::Failed).unwrap().remove(0);
        let record = crate::queue::ItemRecord {
            attempts: 2,
            reason: Some("exit code 1".into()),
            retry_at: None,
            ..Default::default()
        };
        queue.write_record(&item, &record).unwrap();
        fs::write(
            queue.log_path(&item).unwrap(),
            "=== fsq: a.txt, attempt 1, worker h-1-2 ===\nboom\n[fsq: exit code 1]\n\
             === fsq: a.txt, attempt 2, worker h-1-2 ===\n[fsq: exit code 1]\n",
        )
        .unwrap();
        let page = read(&queue, &item);
        let text = page.lines.join("\n");
        assert!(text.contains("Size:      5 B (5 bytes)"), "{text}");
        assert_eq!(text.matches("Id:").count(), 1, "the id once: {text}");
        assert!(
            text.contains("Attempts:  2\nReason:    exit code 1"),
            "{text}"
        );
        assert!(text.ends_with(
            "History (from its log):\n  a.txt, attempt 1, worker h-1-2\n  [fsq: exit code 1]\n  \
             a.txt, attempt 2, worker h-1-2\n  [fsq: exit code 1]"
        ), "{text}");
    }
}
