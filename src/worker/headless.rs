//! `fsq work DIR`: the engine without a screen. It runs until SIGINT or SIGTERM (then claims
//! nothing new, gives running jobs the grace period and requeues what is left; a second signal
//! requeues at once), or with `--drain` until nothing is pending, delayed or running. Failures
//! and notices go to stderr, one line each; successes are counted, not printed.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::Notify;

use super::{Engine, Event, Outcome, Settings};
use crate::cli::WorkerFlags;
use crate::queue::{Queue, printable};

#[derive(Default)]
struct Counts {
    done: AtomicU64,
    failed: AtomicU64,
    retrying: AtomicU64,
    requeued: AtomicU64,
}

/// `fsq work`.
pub fn run_headless(dir: &Path, drain: bool, flags: &WorkerFlags) -> anyhow::Result<ExitCode> {
    let queue = Arc::new(Queue::open(dir)?);
    let config = queue.trusted_config()?.worker;
    let settings = Settings::resolve(&config, flags)?;
    let grace = settings.config.grace;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let counts = Arc::new(Counts::default());
    let stopped = Arc::new(Notify::new());
    runtime.block_on(async {
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        let report = event_printer(counts.clone(), stopped.clone());
        let engine = if drain {
            Engine::start_draining(queue, settings, report)?
        } else {
            Engine::start(queue, settings, report)?
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
                eprintln!(
                    "fsq: stopping: running jobs get {} to finish, then go back to the queue \
                     (signal again to requeue them now)",
                    seconds(grace)
                );
                engine.request_stop(None);
            } else {
                engine.request_stop(Some(Duration::ZERO));
            }
        }
        engine.wait();
        anyhow::Ok(())
    })?;
    let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
    eprintln!(
        "fsq: {} done, {} failed, {} to retry, {} requeued",
        load(&counts.done),
        load(&counts.failed),
        load(&counts.retrying),
        load(&counts.requeued)
    );
    Ok(ExitCode::SUCCESS)
}

fn event_printer(counts: Arc<Counts>, stopped: Arc<Notify>) -> impl Fn(Event) + Send + Sync {
    move |event| match event {
        Event::Finished { item, outcome } => match outcome {
            Outcome::Success => {
                counts.done.fetch_add(1, Ordering::Relaxed);
            }
            Outcome::Failed { reason, final_ } => {
                let (counter, what) = if final_ {
                    (&counts.failed, "failed")
                } else {
                    (&counts.retrying, "will retry")
                };
                counter.fetch_add(1, Ordering::Relaxed);
                eprintln!("fsq: {} {what}: {reason}", printable(item.display()));
            }
            Outcome::Requeued => {
                counts.requeued.fetch_add(1, Ordering::Relaxed);
            }
        },
        Event::Notice(text) => eprintln!("fsq: {text}"),
        Event::Stopped => stopped.notify_one(),
        Event::Started { .. } | Event::Progress { .. } => {}
    }
}

fn seconds(duration: Duration) -> String {
    format!("{}s", duration.as_secs_f64())
}
