//! Reading progress out of what a command prints: ffmpeg's `-progress pipe:1` key=value stream
//! measured against the `Duration:` it prints on stderr, or a bare `NN%` / `NN.N%` anywhere in
//! stdout or stderr (curl, rsync, wget, HandBrake). Output arrives in arbitrary chunks, with
//! updates separated by `\n` or by `\r`, so each stream keeps its unfinished segment.

/// Which pipe a chunk came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// The progress parsed so far from a command's output.
#[derive(Debug, Default)]
pub struct OutputParser {
    partial: [Vec<u8>; 2],
    duration: Option<f64>,
    media_time: Option<f64>,
    /// ffmpeg's `speed=` (media seconds per second), from its second report on: the first is
    /// measured over next to no time and can read thousands of times real time.
    pub speed: Option<f64>,
    /// The `speed=` of the report being read, taken when its `progress=` line ends it.
    report_speed: Option<f64>,
    /// ffmpeg reports ended so far.
    reports: u32,
    /// The latest fraction any source gave, 0..=1.
    pub fraction: Option<f64>,
    /// Media seconds still to go, when ffmpeg says enough to know.
    pub media_left: Option<f64>,
    changed: bool,
}

/// An unfinished segment longer than this is not progress text; it is dropped.
const MAX_SEGMENT: usize = 4096;

impl OutputParser {
    /// Feeds a chunk of output.
    pub fn feed(&mut self, stream: Stream, chunk: &[u8]) {
        let index = stream as usize;
        let mut rest = chunk;
        while let Some(end) = rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
            let mut segment = std::mem::take(&mut self.partial[index]);
            segment.extend_from_slice(&rest[..end]);
            self.segment(&segment);
            rest = &rest[end + 1..];
        }
        let partial = &mut self.partial[index];
        if partial.len() + rest.len() <= MAX_SEGMENT {
            partial.extend_from_slice(rest);
        } else {
            partial.clear();
        }
    }

    /// Whether anything new was learnt since the last call.
    pub fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    fn segment(&mut self, segment: &[u8]) {
        let Ok(text) = std::str::from_utf8(segment) else {
            return;
        };
        let text = text.trim();
        if let Some((key, value)) = text.split_once('=')
            && !key.contains(' ')
        {
            self.ffmpeg_key(key, value.trim());
            return;
        }
        if let Some(at) = text.find("Duration: ")
            && let Some(seconds) = text[at + 10..].split(',').next().and_then(clock_seconds)
        {
            self.duration = Some(seconds);
            self.update_media();
            return;
        }
        if let Some(percent) = last_percent(text) {
            self.set_fraction(percent / 100.0);
        }
    }

    fn ffmpeg_key(&mut self, key: &str, value: &str) {
        match key {
            // ffmpeg's out_time_ms is in microseconds too (a long-standing quirk).
            "out_time_us" | "out_time_ms" => {
                if let Ok(us) = value.parse::<i64>() {
                    self.media_time = Some(us.max(0) as f64 / 1e6);
                    self.update_media();
                }
            }
            "out_time" if self.media_time.is_none() => {
                self.media_time = clock_seconds(value);
                self.update_media();
            }
            "speed" => {
                self.report_speed = value
                    .trim_end_matches('x')
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|speed| speed.is_finite() && *speed > 0.0);
            }
            "progress" => {
                let speed = self.report_speed.take();
                if self.reports > 0 && speed.is_some() && speed != self.speed {
                    self.speed = speed;
                    self.changed = true;
                }
                self.reports += 1;
                if value == "end" {
                    self.set_fraction(1.0);
                }
            }
            _ => {}
        }
    }

    fn update_media(&mut self) {
        if let (Some(duration), Some(time)) = (self.duration, self.media_time)
            && duration > 0.0
        {
            let time = time.min(duration);
            self.media_time = Some(time);
            self.media_left = Some(duration - time);
            self.set_fraction(time / duration);
        }
    }

    /// Sets the fraction from any source (also the progress file).
    pub fn set_fraction(&mut self, fraction: f64) {
        if !fraction.is_finite() {
            return;
        }
        let fraction = fraction.clamp(0.0, 1.0);
        if self.fraction != Some(fraction) {
            self.fraction = Some(fraction);
            self.changed = true;
        }
    }
}

/// `01:02:03.45` -> 3723.45 seconds.
fn clock_seconds(text: &str) -> Option<f64> {
    let mut total = 0.0;
    let mut parts = 0;
    for part in text.trim().split(':') {
        let value: f64 = part.parse().ok()?;
        total = total * 60.0 + value;
        parts += 1;
    }
    (parts == 3 && total.is_finite()).then_some(total)
}

/// The last `NN%` or `NN.N%` in `text` (0..=100), not part of a longer number.
fn last_percent(text: &str) -> Option<f64> {
    let bytes = text.as_bytes();
    let mut found = None;
    for (at, _) in text.match_indices('%') {
        let start = bytes[..at]
            .iter()
            .rposition(|b| !(b.is_ascii_digit() || *b == b'.'))
            .map_or(0, |i| i + 1);
        let number = &text[start..at];
        if number.is_empty() || number.starts_with('.') || number.ends_with('.') {
            continue;
        }
        if let Ok(value) = number.parse::<f64>()
            && (0.0..=100.0).contains(&value)
        {
            found = Some(value);
        }
    }
    found
}

/// How much of the end of `$FSQ_PROGRESS_FILE` is read: enough for the last line of any
/// sensible writer, little enough that a huge (or sparse) file costs nothing.
pub const PROGRESS_FILE_TAIL: u64 = 256;

/// Reads the fraction a command wrote into `$FSQ_PROGRESS_FILE` (see `read_progress_tail`).
#[cfg(test)]
pub fn read_progress_file(path: &std::path::Path) -> Option<f64> {
    fraction_from_tail(&read_progress_tail(path)?)
}

/// The last `PROGRESS_FILE_TAIL` bytes of `$FSQ_PROGRESS_FILE`: one `pread` at the end,
/// whatever the file's size.
pub fn read_progress_tail(path: &std::path::Path) -> Option<Vec<u8>> {
    use std::os::unix::fs::FileExt;
    let file = std::fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    let start = size.saturating_sub(PROGRESS_FILE_TAIL);
    let mut tail = vec![0; (size - start) as usize];
    let mut filled = 0;
    while filled < tail.len() {
        match file.read_at(&mut tail[filled..], start + filled as u64) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
    tail.truncate(filled);
    Some(tail)
}

/// The fraction in the last non-empty line of a progress file's tail (NUL bytes, as in a file
/// truncated longer, end lines too), so a writer may rewrite the file or append to it.
pub fn fraction_from_tail(tail: &[u8]) -> Option<f64> {
    let line = tail
        .split(|b| matches!(b, b'\n' | b'\r' | 0))
        .rfind(|line| !line.trim_ascii().is_empty())?;
    parse_progress_file(std::str::from_utf8(line).ok()?)
}

/// Parses one line of `$FSQ_PROGRESS_FILE`: a fraction 0..1 (or `NN%`).
pub fn parse_progress_file(text: &str) -> Option<f64> {
    let text = text.trim();
    let value = match text.strip_suffix('%') {
        Some(percent) => percent.trim().parse::<f64>().ok()? / 100.0,
        None => text.parse::<f64>().ok()?,
    };
    value.is_finite().then(|| value.clamp(0.0, 1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_in_carriage_return_updates() {
        let mut p = OutputParser::default();
        p.feed(Stream::Stderr, b"  10.5% 1.2MB/s\r  2");
        assert_eq!(p.fraction, Some(0.105));
        p.feed(Stream::Stderr, b"0%\r");
        assert_eq!(p.fraction, Some(0.2));
        assert!(p.take_changed());
        assert!(!p.take_changed());
        p.feed(Stream::Stdout, b"file 50% done, then 75%\n");
        assert_eq!(p.fraction, Some(0.75));
        p.feed(Stream::Stdout, b"3.14.15% 250% .5% 5.% %\n");
        assert_eq!(p.fraction, Some(0.75));
    }

    #[test]
    fn ffmpeg_transcript_fixture() {
        let transcript = include_str!("../../tests/fixtures/ffmpeg-progress.txt");
        let (stderr, stdout) = transcript
            .split_once("--- stdout ---\n")
            .expect("fixture has a stdout part");
        let mut p = OutputParser::default();
        p.feed(Stream::Stderr, stderr.as_bytes());
        let mut seen = Vec::new();
        for line in stdout.split_inclusive('\n') {
            p.feed(Stream::Stdout, line.as_bytes());
            if p.take_changed() {
                seen.push(p.fraction.unwrap());
            }
        }
        assert!(seen.len() >= 3, "{seen:?}");
        assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
        assert!((seen[0] - 2.0 / 10.0).abs() < 0.01, "{seen:?}");
        assert_eq!(seen.last(), Some(&1.0));
        assert!(p.speed.unwrap() > 1.0);
    }

    #[test]
    fn first_ffmpeg_report_does_not_give_a_bogus_speed() {
        let mut p = OutputParser::default();
        p.feed(
            Stream::Stderr,
            b"  Duration: 00:00:10.00, start: 0.000000\n",
        );
        p.feed(
            Stream::Stdout,
            b"out_time_us=0\nspeed=216000x\nprogress=continue\n",
        );
        assert_eq!(p.speed, None);
        p.feed(
            Stream::Stdout,
            b"out_time_us=2000000\nspeed=2.5x\nprogress=continue\n",
        );
        assert_eq!(p.speed, Some(2.5));
        p.feed(
            Stream::Stdout,
            b"out_time_us=3000000\nspeed=N/A\nprogress=continue\n",
        );
        assert_eq!(
            p.speed,
            Some(2.5),
            "an unknown speed keeps the last one known"
        );
    }

    #[test]
    fn progress_file_values() {
        assert_eq!(parse_progress_file("0.25\n"), Some(0.25));
        assert_eq!(parse_progress_file("40%"), Some(0.4));
        assert_eq!(parse_progress_file("7"), Some(1.0));
        assert_eq!(parse_progress_file("soon"), None);
    }

    #[test]
    fn the_progress_file_is_read_from_its_last_line_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        std::fs::write(&path, "0.1\n0.2\n0.3\n\n").unwrap();
        assert_eq!(read_progress_file(&path), Some(0.3), "appended lines");
        std::fs::write(&path, "45%").unwrap();
        assert_eq!(read_progress_file(&path), Some(0.45), "rewritten");
        let long = format!("{}\n0.5\n", "x".repeat(10_000));
        std::fs::write(&path, long).unwrap();
        assert_eq!(read_progress_file(&path), Some(0.5));
        std::fs::write(&path, b"\0\0\0\x30.75").unwrap();
        assert_eq!(read_progress_file(&path), Some(0.75), "after a hole");
        std::fs::write(&path, "").unwrap();
        assert_eq!(read_progress_file(&path), None);
        assert_eq!(read_progress_file(&dir.path().join("missing")), None);
    }
}
