//! Turns what a running job reveals (parsed output, a progress file, bytes copied) into the
//! `_meta/progress/<name>` file and `Progress` events, at most a few times a second. A job that
//! reveals nothing and ends within a second never touches the disk here.

use std::time::{Duration, Instant, SystemTime};

use super::EngineEvent;
use super::ctx::Ctx;
use super::progress::OutputParser;
use crate::queue::{Item, Progress, Speed, unix_ms};

/// The fastest a changing progress is written.
const MIN_INTERVAL: Duration = Duration::from_millis(250);
/// How often the elapsed time alone is refreshed for a job that says nothing.
const ELAPSED_INTERVAL: Duration = Duration::from_secs(1);

/// The progress of one running item.
pub struct Tracker {
    item: Item,
    start: Instant,
    last_write: Option<Instant>,
    unwritten: bool,
    /// Bytes done and total, for built-in processors.
    bytes: Option<(u64, u64)>,
    frozen: bool,
    /// What was written last, rewritten as it is when the job is frozen or thawed.
    last: Option<Progress>,
}

impl Tracker {
    pub fn new(item: Item) -> Tracker {
        Tracker {
            item,
            start: Instant::now(),
            last_write: None,
            unwritten: false,
            bytes: None,
            frozen: false,
            last: None,
        }
    }

    /// Records byte progress of a built-in.
    pub fn set_bytes(&mut self, done: u64, total: u64) {
        if self.bytes != Some((done, total)) {
            self.bytes = Some((done, total));
            self.unwritten = true;
        }
    }

    /// Records that the job was frozen or thawed, and says so at once.
    pub fn set_frozen(&mut self, ctx: &Ctx, frozen: bool) {
        self.frozen = frozen;
        self.last_write = Some(Instant::now());
        let mut progress = match self.last.take() {
            Some(last) => last,
            None => self.snapshot(ctx, &OutputParser::default()),
        };
        progress.frozen = frozen;
        progress.updated = unix_ms(SystemTime::now());
        self.publish(ctx, progress);
    }

    /// Writes and reports the progress if it changed (or time passed) and the rate allows.
    pub fn update(&mut self, ctx: &Ctx, parser: &mut OutputParser) {
        self.unwritten |= parser.take_changed();
        let now = Instant::now();
        let since = self.last_write.map_or(now - self.start, |last| now - last);
        let due = (self.unwritten && since >= MIN_INTERVAL)
            || (since >= ELAPSED_INTERVAL && now - self.start >= ELAPSED_INTERVAL);
        if !due {
            return;
        }
        self.write(ctx, parser, now);
    }

    fn write(&mut self, ctx: &Ctx, parser: &OutputParser, now: Instant) {
        self.unwritten = false;
        self.last_write = Some(now);
        let progress = self.snapshot(ctx, parser);
        self.publish(ctx, progress);
    }

    fn publish(&mut self, ctx: &Ctx, progress: Progress) {
        let _ = ctx.queue.write_progress(&self.item, &progress);
        self.last = Some(progress.clone());
        (ctx.events)(EngineEvent::Progress {
            item: self.item.clone(),
            progress,
        });
    }

    fn snapshot(&self, ctx: &Ctx, parser: &OutputParser) -> Progress {
        let elapsed = self.start.elapsed().as_secs_f64();
        let mut progress = Progress {
            fraction: parser.fraction,
            elapsed_secs: elapsed,
            worker: ctx.worker.0.clone(),
            updated: unix_ms(SystemTime::now()),
            frozen: self.frozen,
            ..Progress::default()
        };
        if let Some((done, total)) = self.bytes {
            progress.bytes_done = Some(done);
            progress.bytes_total = Some(total);
            if total > 0 {
                progress.fraction = Some((done as f64 / total as f64).min(1.0));
            }
            if elapsed > 0.0 {
                let speed = done as f64 / elapsed;
                progress.speed = Some(Speed::BytesPerSec(speed));
                if speed > 0.0 {
                    progress.eta_secs = Some(total.saturating_sub(done) as f64 / speed);
                }
            }
        } else if let (Some(speed), Some(left)) = (parser.speed, parser.media_left) {
            progress.speed = Some(Speed::Realtime(speed));
            progress.eta_secs = Some(left / speed);
        } else if let Some(fraction) = progress.fraction.filter(|f| *f > 0.0) {
            progress.eta_secs = Some(elapsed * (1.0 - fraction) / fraction);
        }
        progress
    }

    /// Forgets the progress when the job ends (only if anything was ever written).
    pub fn clear(&self, ctx: &Ctx) {
        if self.last_write.is_some() {
            ctx.queue.clear_progress(&self.item);
        }
    }
}
