//! Built-in processors that need nothing installed: `copy` (into every configured destination,
//! each written under a temp name and renamed, so a destination never holds half a file, with
//! the item's mtime and mode) and `gzip` (into the output folder). Neither ever replaces a file
//! that is already there: the rename into place is a no-clobber one, and `[processor]
//! on_conflict` says whether to take the next free name, skip, or fail. They read the validated open file, never the name, report
//! bytes as they go, honour `throttle` (bytes per second; handy to watch progress in a demo) and
//! stop promptly when cancelled (timeout or shutdown).

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, FileTimes, Metadata};
use std::io::{self, Write};
use std::os::unix::fs::{FileExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::queue::{OnConflict, Processor, RenameMode, numbered};

/// Shared between a running built-in and the job that watches it.
#[derive(Debug, Default)]
pub struct Shared {
    pub done: AtomicU64,
    pub cancel: AtomicBool,
}

/// One built-in run.
pub struct Task {
    pub processor: Processor,
    pub input: File,
    pub size: u64,
    /// The item's display name: the name of what it writes.
    pub name: OsString,
    /// Destination folders (`copy`) or the output folder (`gzip`).
    pub targets: Vec<PathBuf>,
    pub throttle: u64,
    pub on_conflict: OnConflict,
    pub shared: Arc<Shared>,
}

impl Task {
    /// Bytes the task will read in all.
    pub fn total(&self) -> u64 {
        match self.processor {
            Processor::Copy => self.size * self.targets.len() as u64,
            Processor::Gzip => self.size,
        }
    }

    /// Runs to the end (blocking); the error is the failure reason.
    pub fn run(self) -> Result<(), String> {
        let mut pacer = Pacer::new(self.throttle, &self.shared);
        match self.processor {
            Processor::Copy => {
                if self.targets.is_empty() {
                    return Err("copy has no destinations ([worker] destinations)".into());
                }
                let kept = self.input.metadata().ok();
                for dir in &self.targets {
                    let place = Place {
                        dir,
                        name: &self.name,
                        on_conflict: self.on_conflict,
                        keep: kept.as_ref(),
                    };
                    place.write(|out| pump(&self.input, out, &mut pacer))?;
                }
            }
            Processor::Gzip => {
                let dir = self.targets.first().ok_or("gzip has no output folder")?;
                let mut gz_name = self.name.clone();
                gz_name.push(".gz");
                let place = Place {
                    dir,
                    name: &gz_name,
                    on_conflict: self.on_conflict,
                    keep: None,
                };
                place.write(|out| {
                    let mut encoder = GzEncoder::new(out, Compression::default());
                    pump(&self.input, &mut encoder, &mut pacer)?;
                    encoder.finish()?;
                    Ok(())
                })?;
            }
        }
        Ok(())
    }
}

/// Where one output goes and how it lands there.
struct Place<'a> {
    dir: &'a Path,
    name: &'a OsStr,
    on_conflict: OnConflict,
    /// The input's metadata, whose mtime and mode the output keeps (a copy).
    keep: Option<&'a Metadata>,
}

/// Alternative names tried before giving up on `Rename`.
const MAX_NUMBERED: u32 = 10_000;

impl Place<'_> {
    /// Writes `dir/name` through a temp file in `dir`, moved into place when complete without
    /// ever replacing a file there (a racing writer cannot be clobbered either).
    fn write(&self, write: impl FnOnce(&mut File) -> io::Result<()>) -> Result<(), String> {
        let dir = self.dir;
        let fail = |what: &str, err: io::Error| format!("{what} {}: {err}", dir.display());
        fs::create_dir_all(dir).map_err(|e| fail("cannot create", e))?;
        if self.on_conflict != OnConflict::Rename && fs::symlink_metadata(self.target(1)).is_ok() {
            return self.taken();
        }
        // A fresh id per write: unique per item, per attempt and per host sharing the folder.
        let tmp = dir.join(format!(".fsq-{}.part", crate::queue::ItemId::new()));
        let result = File::create_new(&tmp)
            .and_then(|mut out| {
                write(&mut out)?;
                self.keep_attributes(&out)
            })
            .and_then(|()| self.place(&tmp));
        match result {
            Ok(true) => Ok(()),
            Ok(false) => {
                let _ = fs::remove_file(&tmp);
                self.taken()
            }
            Err(err) => {
                let _ = fs::remove_file(&tmp);
                if err.kind() == io::ErrorKind::Interrupted {
                    return Err("cancelled".into());
                }
                Err(fail("cannot write into", err))
            }
        }
    }

    fn target(&self, n: u32) -> PathBuf {
        match n {
            1 => self.dir.join(self.name),
            n => self.dir.join(numbered(self.name, n)),
        }
    }

    /// The name is taken: skipping is a success, anything else the failure reason.
    fn taken(&self) -> Result<(), String> {
        match self.on_conflict {
            OnConflict::Skip => Ok(()),
            _ => Err(format!(
                "{} already exists; not replaced ([processor] on_conflict = \"{}\")",
                self.target(1).display(),
                match self.on_conflict {
                    OnConflict::Fail => "fail",
                    _ => "rename",
                }
            )),
        }
    }

    /// Moves the finished temp file to its name, or the first free `STEM (N).EXT` when renaming
    /// is allowed; `false` when the name is taken and it is not.
    fn place(&self, tmp: &Path) -> io::Result<bool> {
        let mover = RenameMode::default();
        let last = match self.on_conflict {
            OnConflict::Rename => MAX_NUMBERED,
            _ => 1,
        };
        for n in 1..=last {
            match mover.rename_noreplace(tmp, &self.target(n)) {
                Ok(()) => return Ok(true),
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(err) => return Err(err),
            }
        }
        Ok(false)
    }

    fn keep_attributes(&self, out: &File) -> io::Result<()> {
        let Some(meta) = self.keep else {
            return Ok(());
        };
        out.set_permissions(fs::Permissions::from_mode(
            meta.permissions().mode() & 0o7777,
        ))?;
        let mut times = FileTimes::new();
        if let Ok(modified) = meta.modified() {
            times = times.set_modified(modified);
        }
        if let Ok(accessed) = meta.accessed() {
            times = times.set_accessed(accessed);
        }
        out.set_times(times)
    }
}

/// Copies the whole input into `out`, reading by offset so several passes share one file.
fn pump(input: &File, out: &mut impl Write, pacer: &mut Pacer<'_>) -> io::Result<()> {
    let mut buf = vec![0u8; pacer.chunk()];
    let mut offset = 0u64;
    loop {
        if pacer.shared.cancel.load(Ordering::Relaxed) {
            return Err(io::Error::from(io::ErrorKind::Interrupted));
        }
        let n = input.read_at(&mut buf, offset)?;
        if n == 0 {
            return Ok(());
        }
        out.write_all(&buf[..n])?;
        offset += n as u64;
        pacer.advance(n as u64);
    }
}

/// Counts bytes and keeps to the throttle.
struct Pacer<'a> {
    throttle: u64,
    shared: &'a Shared,
    start: Instant,
    done: u64,
}

impl<'a> Pacer<'a> {
    fn new(throttle: u64, shared: &'a Shared) -> Pacer<'a> {
        Pacer {
            throttle,
            shared,
            start: Instant::now(),
            done: 0,
        }
    }

    fn chunk(&self) -> usize {
        match self.throttle {
            0 => 1 << 16,
            rate => (rate / 8).clamp(512, 1 << 16) as usize,
        }
    }

    fn advance(&mut self, n: u64) {
        self.done += n;
        self.shared.done.fetch_add(n, Ordering::Relaxed);
        if self.throttle > 0 {
            let due = Duration::from_secs_f64(self.done as f64 / self.throttle as f64);
            let elapsed = self.start.elapsed();
            if due > elapsed {
                std::thread::sleep(due - elapsed);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn make_task(
        processor: Processor,
        targets: Vec<PathBuf>,
        content: &[u8],
    ) -> (Task, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("in");
        fs::write(&input, content).unwrap();
        let task = Task {
            processor,
            input: File::open(&input).unwrap(),
            size: content.len() as u64,
            name: "a b.txt".into(),
            targets,
            throttle: 0,
            on_conflict: OnConflict::Rename,
            shared: Arc::default(),
        };
        (task, dir)
    }

    #[test]
    fn copy_writes_every_destination_and_counts_bytes() {
        let out = tempfile::tempdir().unwrap();
        let targets = vec![out.path().join("one"), out.path().join("two/deep")];
        let (task, _dir) = make_task(Processor::Copy, targets.clone(), b"hello");
        let shared = task.shared.clone();
        assert_eq!(task.total(), 10);
        task.run().unwrap();
        for dir in targets {
            assert_eq!(fs::read(dir.join("a b.txt")).unwrap(), b"hello");
            assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
        }
        assert_eq!(shared.done.load(Ordering::Relaxed), 10);
    }

    #[test]
    fn copy_never_overwrites_a_destination_file_and_keeps_mtime_and_mode() {
        let out = tempfile::tempdir().unwrap();
        let dest = out.path().join("backup");
        fs::create_dir(&dest).unwrap();
        fs::write(dest.join("a b.txt"), "first").unwrap();
        let (task, dir) = make_task(Processor::Copy, vec![dest.clone()], b"second");
        let input = dir.path().join("in");
        let old = std::time::SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
        File::options()
            .write(true)
            .open(&input)
            .unwrap()
            .set_modified(old)
            .unwrap();
        fs::set_permissions(&input, fs::Permissions::from_mode(0o640)).unwrap();
        let task = Task {
            input: File::open(&input).unwrap(),
            ..task
        };
        task.run().unwrap();
        assert_eq!(fs::read(dest.join("a b.txt")).unwrap(), b"first");
        let copy = dest.join("a b (2).txt");
        assert_eq!(fs::read(&copy).unwrap(), b"second");
        let meta = fs::metadata(&copy).unwrap();
        assert_eq!(meta.modified().unwrap(), old);
        assert_eq!(meta.permissions().mode() & 0o7777, 0o640);
        assert_eq!(fs::read_dir(&dest).unwrap().count(), 2, "no temp left");
    }

    #[test]
    fn copy_on_conflict_skip_and_fail_leave_the_existing_file() {
        for (on_conflict, ok) in [(OnConflict::Skip, true), (OnConflict::Fail, false)] {
            let out = tempfile::tempdir().unwrap();
            fs::write(out.path().join("a b.txt"), "first").unwrap();
            let (task, _dir) = make_task(Processor::Copy, vec![out.path().into()], b"second");
            let task = Task {
                on_conflict,
                ..task
            };
            let result = task.run();
            assert_eq!(result.is_ok(), ok, "{on_conflict:?}: {result:?}");
            if let Err(reason) = result {
                assert!(reason.contains("already exists"), "{reason}");
            }
            assert_eq!(fs::read(out.path().join("a b.txt")).unwrap(), b"first");
            assert_eq!(fs::read_dir(out.path()).unwrap().count(), 1);
        }
    }

    #[test]
    fn gzip_round_trips_and_cancel_leaves_no_temp() {
        let out = tempfile::tempdir().unwrap();
        let content = vec![7u8; 300_000];
        let (task, _dir) = make_task(Processor::Gzip, vec![out.path().to_path_buf()], &content);
        task.run().unwrap();
        let gz = File::open(out.path().join("a b.txt.gz")).unwrap();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(gz)
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, content);

        let out = tempfile::tempdir().unwrap();
        let (task, _dir) = make_task(Processor::Copy, vec![out.path().to_path_buf()], &content);
        task.shared.cancel.store(true, Ordering::Relaxed);
        assert_eq!(task.run().unwrap_err(), "cancelled");
        assert_eq!(fs::read_dir(out.path()).unwrap().count(), 0);
    }
}
