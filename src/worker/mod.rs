//! The worker engine: claims items in processing order, runs their command or a built-in
//! processor, and reports what happens as small events. `fsq work` runs it headless; the TUI
//! embeds the very same engine. (Skeleton: the public API below is the contract the TUI uses.)

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::WorkerFlags;
use crate::queue::{Item, Progress, Queue, WorkerConfig};

/// What the engine tells its owner. Progress is rate-limited (a few per second per item).
#[derive(Clone, Debug)]
pub enum Event {
    /// An item was claimed and its job started.
    Started { item: Item },
    /// A running item made progress.
    Progress { item: Item, progress: Progress },
    /// A job ended; `item` is where the item is now (success/, delayed/, failed/ or pending).
    Finished { item: Item, outcome: Outcome },
    /// Something the operator should read (a broken config, a lost mount, a stray file...).
    Notice(String),
    /// The engine has stopped; nothing more will come.
    Stopped,
}

/// How a job ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Success,
    /// Failed; will be retried from delayed/ (or has failed for good when `final_` is set).
    Failed {
        reason: String,
        final_: bool,
    },
    /// Stopped by a shutdown and put back in the queue.
    Requeued,
}

/// How `Engine::shutdown` treats running jobs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StopMode {
    /// Claim nothing new and let running jobs finish.
    Wait,
    /// Stop running jobs now (their whole process groups) and requeue their items.
    Requeue,
}

/// A cheap snapshot of the engine for headers and status lines.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EngineStatus {
    pub slots: usize,
    pub busy: usize,
    pub paused: bool,
}

/// The settings of one engine: the queue's `[worker]` config with command-line overrides.
#[derive(Clone, Debug)]
pub struct Settings {
    pub config: WorkerConfig,
}

impl Settings {
    /// Applies `fsq work` / `fsq DIR` flags on top of the config.
    pub fn resolve(config: &WorkerConfig, flags: &WorkerFlags) -> anyhow::Result<Settings> {
        let mut config = config.clone();
        if let Some(n) = flags.workers {
            config.workers = n;
        }
        if !flags.command.is_empty() {
            config.command = Some(flags.command.clone());
        }
        Ok(Settings { config })
    }
}

/// A running engine. It runs on its own threads; every method returns at once.
pub struct Engine {
    _queue: Arc<Queue>,
}

impl Engine {
    /// Starts claiming and running items; `events` is called from the engine's threads.
    pub fn start(
        queue: Arc<Queue>,
        _settings: Settings,
        _events: impl Fn(Event) + Send + Sync + 'static,
    ) -> anyhow::Result<Engine> {
        Ok(Engine { _queue: queue })
    }

    /// Stops (or restarts) claiming new items; running jobs go on.
    pub fn set_paused(&self, _paused: bool) {}

    /// Changes the number of parallel jobs; extra running jobs are not killed.
    pub fn set_slots(&self, _slots: usize) {}

    pub fn status(&self) -> EngineStatus {
        EngineStatus::default()
    }

    /// Stops the engine and blocks until it has (at most the grace period with `Wait`... or
    /// until jobs end), requeueing what it held per `mode`.
    pub fn shutdown(self, _mode: StopMode) {}
}

/// `fsq work DIR`.
pub fn run_headless(_dir: &Path, _drain: bool, _flags: &WorkerFlags) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the worker is not built yet")
}
