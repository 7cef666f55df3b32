//! Built-in processors that need nothing installed: `copy` (into every configured destination,
//! each written under a temp name and renamed, so a destination never holds half a file) and
//! `gzip` (into the output folder). They read the validated open file, never the name, report
//! bytes as they go, honour `throttle` (bytes per second; handy to watch progress in a demo) and
//! stop promptly when cancelled (timeout or shutdown).

use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::queue::Processor;

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
                for dir in &self.targets {
                    write_atomically(dir, &self.name, |out| pump(&self.input, out, &mut pacer))?;
                }
            }
            Processor::Gzip => {
                let dir = self.targets.first().ok_or("gzip has no output folder")?;
                let mut gz_name = self.name.clone();
                gz_name.push(".gz");
                write_atomically(dir, &gz_name, |out| {
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

/// Writes `dir/name` through a temp file in `dir`, renamed into place when complete.
fn write_atomically(
    dir: &Path,
    name: &OsStr,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), String> {
    let fail = |what: &str, err: io::Error| format!("{what} {}: {err}", dir.display());
    fs::create_dir_all(dir).map_err(|e| fail("cannot create", e))?;
    // A fresh id per write: unique per item, per attempt and per host sharing the folder.
    let tmp = dir.join(format!(".fsq-{}.part", crate::queue::ItemId::new()));
    let result = File::create_new(&tmp)
        .and_then(|mut out| write(&mut out))
        .and_then(|()| fs::rename(&tmp, dir.join(name)));
    if let Err(err) = result {
        let _ = fs::remove_file(&tmp);
        if err.kind() == io::ErrorKind::Interrupted {
            return Err("cancelled".into());
        }
        return Err(fail("cannot write into", err));
    }
    Ok(())
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
