//! Per-item logs in `_meta/logs/<name>`: the stdout and stderr of each run, appended, within a
//! size cap. The head is written as it comes (so a viewer can follow a running job); the tail is
//! kept in memory and written when the run ends, after a marker saying how much was dropped. The
//! file is created only when a run prints something, so a quiet job costs no log I/O at all.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;

/// The log of one run.
pub struct CappedLog {
    path: PathBuf,
    header: Vec<u8>,
    file: Option<File>,
    broken: bool,
    head_left: u64,
    tail: VecDeque<u8>,
    tail_cap: usize,
    total: u64,
    dropped: u64,
}

/// How much a run printed, once it is over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LogSummary {
    pub total: u64,
    /// Bytes left out of the middle because of the cap.
    pub dropped: u64,
}

impl CappedLog {
    /// A log that writes `header` before the run's first output; `cap` bounds each run.
    pub fn new(path: PathBuf, header: String, cap: u64) -> CappedLog {
        let head = cap / 2;
        CappedLog {
            path,
            header: header.into_bytes(),
            file: None,
            broken: false,
            head_left: head,
            tail: VecDeque::new(),
            tail_cap: usize::try_from(cap - head).unwrap_or(usize::MAX),
            total: 0,
            dropped: 0,
        }
    }

    /// Records output.
    pub fn write(&mut self, mut bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        self.total += bytes.len() as u64;
        if self.head_left > 0 {
            let take = bytes
                .len()
                .min(usize::try_from(self.head_left).unwrap_or(usize::MAX));
            self.append(&bytes[..take]);
            self.head_left -= take as u64;
            bytes = &bytes[take..];
        }
        if bytes.len() >= self.tail_cap {
            self.dropped += (self.tail.len() + bytes.len() - self.tail_cap) as u64;
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - self.tail_cap..]);
            return;
        }
        self.tail.extend(bytes);
        let excess = self.tail.len().saturating_sub(self.tail_cap);
        if excess > 0 {
            self.tail.drain(..excess);
            self.dropped += excess as u64;
        }
    }

    /// Writes the kept tail and says how much the run printed.
    pub fn finish(&mut self) -> LogSummary {
        let tail = std::mem::take(&mut self.tail);
        if !tail.is_empty() {
            if self.dropped > 0 {
                let marker = format!(
                    "\n[fsq: {} bytes of output left out here: the log keeps its head and tail]\n",
                    self.dropped
                );
                self.append(marker.as_bytes());
            }
            let (a, b) = tail.as_slices();
            self.append(&[a, b].concat());
        }
        LogSummary {
            total: self.total,
            dropped: self.dropped,
        }
    }

    /// Adds a line of the worker's own (a failure reason, say) to a log that exists or must.
    pub fn note(&mut self, line: &str) {
        self.append(format!("[fsq: {line}]\n").as_bytes());
    }

    fn append(&mut self, bytes: &[u8]) {
        if self.broken {
            return;
        }
        if self.file.is_none() {
            let open = || {
                OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&self.path)
            };
            let file = open().or_else(|_| {
                // One level only, so a log never recreates a vanished queue under a dead mount.
                if let Some(dir) = self.path.parent() {
                    fs::create_dir(dir)?;
                }
                open()
            });
            match file {
                Ok(mut file) => {
                    if file.write_all(&self.header).is_err() {
                        self.broken = true;
                        return;
                    }
                    self.file = Some(file);
                }
                Err(_) => {
                    self.broken = true;
                    return;
                }
            }
        }
        if let Some(file) = &mut self.file
            && file.write_all(bytes).is_err()
        {
            self.broken = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_quiet_run_creates_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = CappedLog::new(path.clone(), "hdr\n".into(), 100);
        assert_eq!(log.finish(), LogSummary::default());
        assert!(!path.exists());
    }

    #[test]
    fn keeps_head_and_tail_within_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("log");
        let mut log = CappedLog::new(path.clone(), "hdr\n".into(), 20);
        for i in 0..1000u32 {
            log.write(format!("{i:04}").as_bytes());
        }
        let summary = log.finish();
        assert_eq!(summary.total, 4000);
        assert_eq!(summary.dropped, 3980);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("hdr\n0000000100"), "{text}");
        let full: String = (0..1000u32).map(|i| format!("{i:04}")).collect();
        assert!(text.ends_with(&full[full.len() - 10..]), "{text}");
        assert!(text.contains("3980 bytes of output left out"));
        assert!(text.len() < 20 + 100 + 4);
    }

    #[test]
    fn a_huge_chunk_keeps_only_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let mut log = CappedLog::new(path.clone(), String::new(), 10);
        log.write(&[b'a'; 1000]);
        log.write(b"xyz");
        let summary = log.finish();
        assert_eq!(summary.dropped, 1003 - 10);
        let text = fs::read_to_string(&path).unwrap();
        assert!(
            text.starts_with("aaaaa\n[fsq:") && text.ends_with("aaxyz"),
            "{text}"
        );
    }
}
