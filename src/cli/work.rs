//! `fsq work DIR`: the engine without a screen. It runs until SIGINT or SIGTERM (then claims
//! nothing new, gives running jobs the grace period and requeues what is left; a second signal
//! requeues at once), or with `--drain` until nothing is pending, delayed or running.
//!
//! What it says is made for a journal: one line per finished item on stderr (name, outcome,
//! run time, reason), notices one line each, and a count at the end. `--quiet` leaves out the
//! item lines; `--json` writes one JSON object per event to stdout instead, for log shippers.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

use super::WorkerFlags;
use crate::queue::{Item, Queue, json_name, printable, unix_ms};
use crate::worker::{Engine, EngineEvent, Outcome, Settings};

/// How `fsq work` reports what it does.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Report {
    /// One line per finished item, notices and the final count, on stderr.
    #[default]
    Lines,
    /// Notices and the final count only.
    Quiet,
    /// One JSON object per event (start, finish, notice, stop) on stdout.
    Json,
}

/// `fsq work`: the queue's settings with the flags on top, run headless.
pub fn run(
    dir: &Path,
    drain: bool,
    flags: &WorkerFlags,
    report: Report,
) -> anyhow::Result<ExitCode> {
    let queue = Queue::open(dir)?;
    let settings = flags.apply(&queue.trusted_config()?);
    if !settings.has_something_to_run() {
        anyhow::bail!(
            "nothing to run: set [worker] command or processor in _meta/config.toml, \
             or give a command after --"
        );
    }
    run_headless(queue, settings, drain, report)
}

impl WorkerFlags {
    /// The engine's settings: the queue's config, each flag overriding its key.
    pub fn apply(&self, config: &crate::queue::Config) -> crate::worker::Settings {
        let mut settings = crate::worker::Settings::new(config);
        let worker = &mut settings.config;
        if let Some(n) = self.workers {
            worker.workers = n;
        }
        if let Some(timeout) = self.timeout {
            worker.timeout = timeout;
        }
        if let Some(n) = self.max_attempts {
            worker.max_attempts = n;
        }
        if let Some(delay) = self.retry_delay {
            worker.retry_delay = delay;
        }
        if let Some(poll) = self.poll {
            worker.poll = Some(poll);
        }
        if !self.command.is_empty() {
            worker.command = Some(self.command.clone());
        }
        settings
    }
}

#[derive(Default)]
struct Counts {
    done: AtomicU64,
    failed: AtomicU64,
    retrying: AtomicU64,
    requeued: AtomicU64,
}

/// Runs the engine with `settings` until a signal (or, draining, until nothing is left).
fn run_headless(
    queue: Queue,
    settings: Settings,
    drain: bool,
    report: Report,
) -> anyhow::Result<ExitCode> {
    let queue = Arc::new(queue);
    let grace = settings.config.grace;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let counts = Arc::new(Counts::default());
    let stopped = Arc::new(Notify::new());
    runtime.block_on(async {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let printer = Printer {
            report,
            counts: counts.clone(),
            started: Mutex::default(),
        };
        let stopped_tx = stopped.clone();
        let events = move |event| {
            if matches!(event, EngineEvent::Stopped) {
                stopped_tx.notify_one();
            }
            printer.event(event);
        };
        let engine = if drain {
            Engine::start_draining(queue, settings, events)?
        } else {
            Engine::start(queue, settings, events)?
        };
        let mut signals_seen = 0;
        loop {
            tokio::select! {
                _ = stopped.notified() => break,
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            signals_seen += 1;
            if signals_seen == 1 {
                let text = format!(
                    "stopping: running jobs get {} to finish, then go back to the queue \
                     (signal again to requeue them now)",
                    seconds(grace)
                );
                say(report, &text);
                engine.request_stop(None);
            } else {
                engine.request_stop(Some(Duration::ZERO));
            }
        }
        engine.wait();
        anyhow::Ok(())
    })?;
    let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
    let (done, failed, retrying, requeued) = (
        load(&counts.done),
        load(&counts.failed),
        load(&counts.retrying),
        load(&counts.requeued),
    );
    if report == Report::Json {
        emit(json!({
            "event": "stopped", "time": unix_ms(SystemTime::now()), "done": done,
            "failed": failed, "retrying": retrying, "requeued": requeued,
        }));
    } else {
        say!("fsq: {done} done, {failed} failed, {retrying} to retry, {requeued} requeued");
    }
    Ok(ExitCode::SUCCESS)
}

/// Turns engine events into report lines and counts.
struct Printer {
    report: Report,
    counts: Arc<Counts>,
    /// When each running item started, by identity (its id from the claim on), for the run
    /// time of its finish line.
    started: Mutex<HashMap<OsString, Instant>>,
}

impl Printer {
    fn event(&self, event: EngineEvent) {
        match event {
            EngineEvent::Started { item } => {
                self.started_map().insert(item.identity(), Instant::now());
                if self.report == Report::Json {
                    emit(item_event("started", &item));
                }
            }
            EngineEvent::Finished { item, outcome } => self.finished(&item, &outcome),
            EngineEvent::Notice(text) => say(self.report, &text),
            EngineEvent::Stopped | EngineEvent::Progress { .. } => {}
        }
    }

    fn finished(&self, item: &Item, outcome: &Outcome) {
        let (counter, word, reason) = match outcome {
            Outcome::Success => (&self.counts.done, "success", None),
            Outcome::Failed {
                reason,
                final_: true,
            } => (&self.counts.failed, "failed", Some(reason)),
            Outcome::Failed { reason, .. } => (&self.counts.retrying, "retry", Some(reason)),
            Outcome::Requeued => (&self.counts.requeued, "requeued", None),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        let started = self.started_map().remove(&item.identity());
        let secs = started.map(|at| at.elapsed().as_secs_f64());
        match self.report {
            Report::Quiet => {}
            Report::Json => {
                let mut object = item_event("finished", item);
                object["outcome"] = json!(word);
                object["duration_secs"] = json!(secs);
                object["reason"] = json!(reason);
                emit(object);
            }
            Report::Lines => {
                let ran = secs.map_or(String::new(), |s| format!(" after {s:.2}s"));
                let because = reason.map_or(String::new(), |r| format!(": {r}"));
                let word = if word == "retry" { "will retry" } else { word };
                let name = printable(item.display());
                say!("fsq: {name}: {word}{ran}{because}");
            }
        }
    }

    fn started_map(&self) -> std::sync::MutexGuard<'_, HashMap<OsString, Instant>> {
        self.started
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// `{"event": EVENT, "time": ms, "name": NAME, "state": STATE}` for an item event.
fn item_event(event: &str, item: &Item) -> Value {
    let (name, escaped) = json_name(item.display());
    let mut object = json!({
        "event": event, "time": unix_ms(SystemTime::now()), "name": name, "state": item.state,
    });
    if escaped {
        object["name_escaped"] = json!(true);
    }
    object
}

/// A notice: a line on stderr, or a `notice` event.
fn say(report: Report, text: &str) {
    if report == Report::Json {
        emit(json!({"event": "notice", "time": unix_ms(SystemTime::now()), "message": text}));
    } else {
        say!("fsq: {text}");
    }
}

/// Writes one JSON object as a line on stdout; a closed stdout is not an error of the worker.
fn emit(object: Value) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{object}").and_then(|()| out.flush());
}

fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}
