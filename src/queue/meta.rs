//! What the queue keeps about items in `_meta/`: attempt records, progress and logs. All are
//! keyed by the item's id (carried in its file name, see `name`), so they follow the item through
//! every state and reorder and belong to no other item, and all are written by whole-file
//! replacement, so a reader on any host sees an old or a new version, never half of one.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::error::{Error, IoContext, Result};
use super::name::{ItemId, json_name, unescape_json_name};
use super::{Item, Queue};

/// Milliseconds since the Unix epoch on this host's clock.
pub fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `_meta/items/<id>`: attempts so far and why the last one failed. Only items that failed, were
/// recovered, or whose file name had to be shortened have one, so the hot path of a successful
/// item writes nothing here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ItemRecord {
    pub attempts: u32,
    pub reason: Option<String>,
    /// When a delayed item may run again, in Unix milliseconds.
    pub retry_at: Option<u64>,
    /// The item's whole name, for an item whose file name carries a shortened form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub name_escaped: bool,
}

impl ItemRecord {
    /// Keeps `name` as the item's whole name.
    pub fn set_name(&mut self, name: &OsStr) {
        let (text, escaped) = json_name(name);
        self.name = Some(text);
        self.name_escaped = escaped;
    }

    /// The whole name kept here, if any.
    pub fn name(&self) -> Option<OsString> {
        let text = self.name.as_deref()?;
        Some(unescape_json_name(text, self.name_escaped))
    }
}

/// `_meta/progress/<id>`: the latest progress of a running item, a few updates a second.
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
    /// The job is frozen (its process group stopped by `fsq freeze`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub frozen: bool,
}

const RECORDS: &str = "items";
const PROGRESS: &str = "progress";
const LOGS: &str = "logs";

impl Queue {
    fn keyed(&self, kind: &str, id: ItemId) -> PathBuf {
        self.meta_path(kind).join(id.as_os_str())
    }

    /// The log of `item` (stdout and stderr of its runs); `None` for an item never run.
    pub fn log_path(&self, item: &Item) -> Option<PathBuf> {
        Some(self.keyed(LOGS, item.id()?))
    }

    /// The progress file of `item`; `None` for an item never run.
    pub fn progress_path(&self, item: &Item) -> Option<PathBuf> {
        Some(self.keyed(PROGRESS, item.id()?))
    }

    /// The attempt record of `item`; none, or an unreadable one, is a fresh record.
    pub fn record(&self, item: &Item) -> ItemRecord {
        item.id()
            .and_then(|id| read_json(&self.keyed(RECORDS, id)))
            .unwrap_or_default()
    }

    /// Replaces the attempt record of `item`. Only an item with an id (one fsq claimed or
    /// reordered) can have a record.
    pub fn write_record(&self, item: &Item, record: &ItemRecord) -> Result<()> {
        let id = item.id().ok_or_else(|| Error::NoId(item.qualified()))?;
        write_json(&self.keyed(RECORDS, id), record)
    }

    /// The ids that have attempt records: one folder read, for listing many items cheaply.
    pub fn recorded_ids(&self) -> HashSet<ItemId> {
        fs::read_dir(self.meta_path(RECORDS))
            .map(|dir| {
                dir.flatten()
                    .filter_map(|e| ItemId::parse(e.file_name().as_encoded_bytes()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The progress of a running item, if its worker reported any.
    pub fn progress(&self, item: &Item) -> Option<Progress> {
        read_json(&self.keyed(PROGRESS, item.id()?))
    }

    /// Every progress record there is, by item id: one folder read and a file per running item.
    pub fn all_progress(&self) -> Vec<(ItemId, Progress)> {
        let Ok(dir) = fs::read_dir(self.meta_path(PROGRESS)) else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| ItemId::parse(e.file_name().as_encoded_bytes()))
            .filter_map(|id| Some((id, read_json(&self.keyed(PROGRESS, id))?)))
            .collect()
    }

    /// Replaces the progress of a running item.
    pub fn write_progress(&self, item: &Item, progress: &Progress) -> Result<()> {
        let id = item.id().ok_or_else(|| Error::NoId(item.qualified()))?;
        write_json(&self.keyed(PROGRESS, id), progress)
    }

    /// Forgets the progress of an item that stopped running.
    pub fn clear_progress(&self, item: &Item) {
        if let Some(id) = item.id() {
            let _ = fs::remove_file(self.keyed(PROGRESS, id));
        }
    }

    /// Forgets the attempts of an item (on success or retry). The whole name of an item whose
    /// file name is shortened is kept.
    pub fn clear_record(&self, item: &Item) {
        let Some(id) = item.id() else { return };
        let path = self.keyed(RECORDS, id);
        match read_json::<ItemRecord>(&path).and_then(|r| r.name().map(|n| (r, n))) {
            Some((old, name)) if old.attempts > 0 || old.reason.is_some() => {
                let mut kept = ItemRecord::default();
                kept.set_name(&name);
                let _ = write_json(&path, &kept);
            }
            Some(_) => {}
            None => {
                let _ = fs::remove_file(path);
            }
        }
    }

    /// Removes every record of an item that leaves the queue.
    pub(super) fn remove_records(&self, item: &Item) {
        if let Some(id) = item.id() {
            for kind in [RECORDS, PROGRESS, LOGS] {
                let _ = fs::remove_file(self.keyed(kind, id));
            }
        }
    }

    /// The item's whole name: what its file name shows, or for a shortened one, its record's.
    pub fn full_name(&self, item: &Item) -> OsString {
        if item.name_is_shortened()
            && let Some(name) = self.record(item).name()
        {
            return name;
        }
        item.display().to_os_string()
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

#[cfg(test)]
mod tests {
    use super::super::State;
    use super::super::testutil::queue_with;
    use super::*;

    fn tagged_item(display: &str) -> Item {
        Item {
            state: State::Failed,
            owner: None,
            file: super::super::name::tagged(b"", ItemId::new(), OsStr::new(display), false)
                .unwrap(),
        }
    }

    #[test]
    fn records_belong_to_one_item_not_to_a_name() {
        let (_dir, q) = queue_with(&[]);
        let (old, new) = (tagged_item("scan.pdf"), tagged_item("scan.pdf"));
        assert_eq!(q.record(&old), ItemRecord::default());
        let record = ItemRecord {
            attempts: 3,
            reason: Some("exit 1".into()),
            retry_at: Some(5),
            ..Default::default()
        };
        q.write_record(&old, &record).unwrap();
        assert_eq!(q.record(&old), record);
        assert_eq!(
            q.record(&new),
            ItemRecord::default(),
            "same name, other item"
        );
        let moved = Item {
            state: State::Pending,
            ..old.clone()
        };
        assert_eq!(q.record(&moved), record, "the record follows the item");
        assert_eq!(q.recorded_ids(), [old.id().unwrap()].into());
    }

    #[test]
    fn a_plain_item_has_no_record_and_cannot_get_one() {
        let (_dir, q) = queue_with(&["a"]);
        let item = q.list(State::Pending).unwrap().remove(0);
        assert_eq!(q.record(&item), ItemRecord::default());
        assert!(matches!(
            q.write_record(&item, &ItemRecord::default()),
            Err(Error::NoId(_))
        ));
    }

    #[test]
    fn a_corrupt_record_reads_as_fresh() {
        let (_dir, q) = queue_with(&[]);
        let item = tagged_item("x");
        fs::write(
            q.meta_path("items").join(item.id().unwrap().as_os_str()),
            "{not json",
        )
        .unwrap();
        assert_eq!(q.record(&item), ItemRecord::default());
    }

    #[test]
    fn a_whole_name_survives_clearing_attempts() {
        let (_dir, q) = queue_with(&[]);
        let item = tagged_item("x");
        let mut record = ItemRecord {
            attempts: 2,
            ..Default::default()
        };
        record.set_name(std::os::unix::ffi::OsStrExt::from_bytes(b"long \\xff\xff"));
        q.write_record(&item, &record).unwrap();
        q.clear_record(&item);
        let kept = q.record(&item);
        assert_eq!(kept.attempts, 0);
        assert_eq!(kept.name(), record.name());
    }
}
