//! What the queue keeps about items in `_meta/`: attempt records, progress and logs. All are
//! keyed by the item's display name, so they survive reordering, and written by whole-file
//! replacement, so a reader on any host sees an old or a new version, never half of one.

use std::ffi::OsStr;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::Queue;
use super::error::{IoContext, Result};

/// Milliseconds since the Unix epoch on this host's clock.
pub fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `_meta/items/<name>`: attempts so far and why the last one failed. Only items that failed or
/// were recovered have one, so the hot path of a successful item writes nothing here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemRecord {
    pub attempts: u32,
    pub reason: Option<String>,
    /// When a delayed item may run again, in Unix milliseconds.
    pub retry_at: Option<u64>,
}

/// `_meta/progress/<name>`: the latest progress of a running item, a few updates a second.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Progress {
    /// Done so far, 0..=1, when known.
    pub fraction: Option<f64>,
    pub bytes_done: Option<u64>,
    pub bytes_total: Option<u64>,
    /// With its unit; `speed` and `speed_unit` in the record.
    #[serde(flatten)]
    pub speed: Option<super::Speed>,
    pub eta_secs: Option<f64>,
    pub elapsed_secs: f64,
    /// The worker running the item.
    pub worker: String,
    /// When this was written, in Unix milliseconds of the writer's clock.
    pub updated: u64,
}

const RECORDS: &str = "items";
const PROGRESS: &str = "progress";
const LOGS: &str = "logs";

impl Queue {
    fn keyed(&self, kind: &str, display: &OsStr) -> PathBuf {
        self.meta_path(kind).join(display)
    }

    /// The log of the item called `display` (stdout and stderr of its runs).
    pub fn log_path(&self, display: &OsStr) -> PathBuf {
        self.keyed(LOGS, display)
    }

    /// The progress file of the item called `display`.
    pub fn progress_path(&self, display: &OsStr) -> PathBuf {
        self.keyed(PROGRESS, display)
    }

    /// The attempt record of `display`; none, or an unreadable one, is a fresh record.
    pub fn record(&self, display: &OsStr) -> ItemRecord {
        read_json(&self.keyed(RECORDS, display)).unwrap_or_default()
    }

    /// Replaces the attempt record of `display`.
    pub fn write_record(&self, display: &OsStr, record: &ItemRecord) -> Result<()> {
        write_json(&self.keyed(RECORDS, display), record)
    }

    /// The names that have attempt records: one folder read, for listing many items cheaply.
    pub fn recorded_names(&self) -> Vec<std::ffi::OsString> {
        fs::read_dir(self.meta_path(RECORDS))
            .map(|dir| dir.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default()
    }

    /// The progress of a running item, if its worker reported any.
    pub fn progress(&self, display: &OsStr) -> Option<Progress> {
        read_json(&self.keyed(PROGRESS, display))
    }

    /// Replaces the progress of a running item.
    pub fn write_progress(&self, display: &OsStr, progress: &Progress) -> Result<()> {
        write_json(&self.keyed(PROGRESS, display), progress)
    }

    /// Forgets the progress of an item that stopped running.
    pub fn clear_progress(&self, display: &OsStr) {
        let _ = fs::remove_file(self.keyed(PROGRESS, display));
    }

    /// Forgets the attempt record of an item (on success, retry or enqueue).
    pub fn clear_record(&self, display: &OsStr) {
        let _ = fs::remove_file(self.keyed(RECORDS, display));
    }

    pub(super) fn remove_records(&self, display: &OsStr) {
        for kind in [RECORDS, PROGRESS, LOGS] {
            let _ = fs::remove_file(self.keyed(kind, display));
        }
    }

    /// Carries an item's records along when a move had to give it a new name. Best effort: the
    /// item itself has moved already, and a lost record only resets a counter.
    pub(super) fn rename_records(&self, from: &OsStr, to: &OsStr) {
        for kind in [RECORDS, PROGRESS, LOGS] {
            let _ = fs::rename(self.keyed(kind, from), self.keyed(kind, to));
        }
    }
}

/// Reads a JSON file; missing or malformed reads as `None`.
pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let bytes = fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Writes a JSON file by writing a temp file beside it and renaming it over the old one.
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value)
        .map_err(io::Error::other)
        .at(path)?;
    replace_file(path, &bytes)
}

/// Replaces `path` with `bytes` atomically; recreates its folder if someone removed just that.
pub(crate) fn replace_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(".tmp.{}.{}", std::process::id(), unique()));
    let write = |tmp: &Path| -> io::Result<()> {
        let mut file = fs::File::create(tmp)?;
        file.write_all(bytes)?;
        fs::rename(tmp, path)
    };
    let result = match write(&tmp) {
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            // One level only: a `_meta/` that is gone (a dead mount, a deleted queue) stays gone.
            fs::create_dir(dir).at(dir)?;
            write(&tmp)
        }
        other => other,
    };
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.at(path)
}

/// A number unique within this process, for temp names.
pub(crate) fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The `_meta/` folders whose changes a view of the queue follows, and what each holds, so
/// that no caller needs to know the layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MetaKind {
    /// Attempt records: failure reasons and retry times.
    Records,
    Progress,
    /// Heartbeats.
    Workers,
}

impl MetaKind {
    const ALL: [MetaKind; 3] = [MetaKind::Records, MetaKind::Progress, MetaKind::Workers];

    fn folder(self) -> &'static str {
        match self {
            MetaKind::Records => RECORDS,
            MetaKind::Progress => PROGRESS,
            MetaKind::Workers => "workers",
        }
    }

    /// What the folder `name` directly under `_meta/` holds, if a view cares.
    pub fn of(name: &OsStr) -> Option<MetaKind> {
        MetaKind::ALL.into_iter().find(|kind| name == kind.folder())
    }
}

/// The `_meta/` folders of the queue at `root` a view watches, with what each holds.
pub fn watched_meta(root: &Path) -> Vec<(PathBuf, MetaKind)> {
    MetaKind::ALL
        .into_iter()
        .map(|kind| (root.join(super::META).join(kind.folder()), kind))
        .collect()
}

impl Queue {
    /// The progress of every running item that has reported any, by display name: one folder
    /// read and a small file per running item.
    pub fn progress_records(&self) -> Vec<(std::ffi::OsString, Progress)> {
        let Ok(dir) = fs::read_dir(self.meta_path(PROGRESS)) else {
            return Vec::new();
        };
        dir.flatten()
            .map(|entry| entry.file_name())
            .filter(|name| !name.as_encoded_bytes().starts_with(b"."))
            .filter_map(|name| self.progress(&name).map(|p| (name, p)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::queue_with;
    use super::*;

    #[test]
    fn records_round_trip_and_follow_renames() {
        let (_dir, q) = queue_with(&[]);
        let name = OsStr::new("a b.mp4");
        assert_eq!(q.record(name), ItemRecord::default());
        let record = ItemRecord {
            attempts: 2,
            reason: Some("exit 1".into()),
            retry_at: Some(5),
        };
        q.write_record(name, &record).unwrap();
        assert_eq!(q.record(name), record);
        q.rename_records(name, OsStr::new("a b (2).mp4"));
        assert_eq!(q.record(OsStr::new("a b (2).mp4")), record);
        assert_eq!(q.recorded_names(), ["a b (2).mp4"]);
    }

    #[test]
    fn a_corrupt_record_reads_as_fresh() {
        let (_dir, q) = queue_with(&[]);
        fs::write(q.meta_path("items").join("x"), "{not json").unwrap();
        assert_eq!(q.record(OsStr::new("x")), ItemRecord::default());
    }
}
