//! The worker engine: claims items in processing order, runs their command or a built-in
//! processor, and reports what happens as small events. `fsq work` (in the command line's
//! `work`) runs it headless; the TUI embeds the very same engine.
//!
//! The engine runs on a thread of its own with a single-threaded tokio runtime: one loop claims
//! and schedules (`engine`), each job is a task (`job`, `process`, `builtin`), and timers do the
//! upkeep (`upkeep`). Every call on `Engine` returns at once except `shutdown` and `wait`.

mod breaker;
mod builtin;
mod claim;
pub mod clock;
mod command;
mod control;
mod ctx;
mod engine;
mod gate;
mod handoff;
mod hooks;
mod intake;
mod job;
mod log;
mod mount;
mod orphans;
mod process;
mod progress;
mod reaper;
mod requests;
mod spawn;
mod tracker;
mod upkeep;
mod watch;

use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Context, bail};

pub use intake::being_written;
pub use orphans::stop_jobs_of_dead_workers;
pub use process::find_program;

use crate::queue::{
    Config, Item, OnConflict, Processor, Progress, Queue, WorkerConfig, WorkerId, check_duration,
};

/// What the engine tells its owner. Progress is rate-limited (a few per second per item).
#[derive(Clone, Debug)]
pub enum EngineEvent {
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EngineStatus {
    pub slots: usize,
    pub busy: usize,
    pub paused: bool,
    /// Why nothing is claimed, when a flag, the schedule or a lost mount says so.
    pub why: Option<String>,
}

/// The settings of one engine: the queue's `[worker]` and `[processor]` config, with whatever a
/// caller (the command line) put on top.
#[derive(Clone, Debug)]
pub struct Settings {
    pub config: WorkerConfig,
    pub on_conflict: OnConflict,
}

impl Settings {
    /// The settings a queue's config gives.
    pub fn new(config: &Config) -> Settings {
        Settings {
            config: config.worker_for(&crate::queue::this_host()),
            on_conflict: config.processor.on_conflict,
        }
    }

    /// Whether a command or a built-in processor is set: without one there is nothing to run,
    /// which is not an error for the commander (it opens with the worker off).
    pub fn has_something_to_run(&self) -> bool {
        self.config.command.is_some() || self.config.processor.is_some()
    }

    /// Refuses settings the engine cannot work with.
    fn check(&self) -> anyhow::Result<()> {
        let config = &self.config;
        match (&config.command, config.processor) {
            (Some(command), _) if command.is_empty() => bail!("[worker] command is empty"),
            (Some(_), _) => {}
            (None, None) => {
                bail!("nothing to run: set [worker] command or processor in _meta/config.toml")
            }
            (None, Some(Processor::Copy)) if config.destinations.is_empty() => {
                bail!("processor \"copy\" needs [worker] destinations")
            }
            (None, Some(_)) => {}
        }
        if config.max_attempts == 0 {
            bail!("max_attempts must be at least 1");
        }
        use crate::queue::config::{POLL, RETRY_DELAY, TIMEOUT};
        // The flags bypass the config's parse-time checks.
        let ranges = [
            ("timeout", TIMEOUT, Some(config.timeout)),
            ("retry_delay", RETRY_DELAY, Some(config.retry_delay)),
            ("poll", POLL, config.poll),
        ];
        for (name, which, value) in ranges {
            if let Some(value) = value {
                check_duration(which, value).map_err(|err| anyhow::anyhow!("{name}: {err}"))?;
            }
        }
        if config.heartbeat_timeout <= config.heartbeat {
            bail!("heartbeat_timeout must be longer than heartbeat");
        }
        // Programs another user could have changed would run as us: refused like the config.
        let commands = [&config.command, &config.on_success, &config.on_failure];
        for program in commands
            .into_iter()
            .flatten()
            .filter_map(|argv| argv.first())
        {
            let path = match process::resolve_program(program.as_ref()) {
                Some(path) => path,
                None if program.contains('/') => std::path::PathBuf::from(program),
                None => continue, // not found: the run itself says so
            };
            if let Some(problem) = crate::queue::unsafe_permissions(&path) {
                bail!("{}: {problem}", path.display());
            }
        }
        Ok(())
    }
}

/// A running engine. It runs on its own threads; every method returns at once.
pub struct Engine {
    shared: Arc<engine::Shared>,
    thread: Option<JoinHandle<()>>,
    grace: Duration,
}

impl Engine {
    /// Starts claiming and running items; `events` is called from the engine's threads.
    pub fn start(
        queue: Arc<Queue>,
        settings: Settings,
        events: impl Fn(EngineEvent) + Send + Sync + 'static,
    ) -> anyhow::Result<Engine> {
        Engine::launch(queue, settings, false, events)
    }

    /// Like `start`, but the engine stops by itself (sending `Stopped`) once nothing is
    /// pending, delayed or running.
    pub fn start_draining(
        queue: Arc<Queue>,
        settings: Settings,
        events: impl Fn(EngineEvent) + Send + Sync + 'static,
    ) -> anyhow::Result<Engine> {
        Engine::launch(queue, settings, true, events)
    }

    fn launch(
        queue: Arc<Queue>,
        settings: Settings,
        drain: bool,
        events: impl Fn(EngineEvent) + Send + Sync + 'static,
    ) -> anyhow::Result<Engine> {
        settings.check()?;
        reaper::become_subreaper();
        let config = settings.config;
        let shared = Arc::new(engine::Shared::default());
        shared.slots.store(config.workers.max(1), Ordering::Relaxed);
        let grace = config.grace;
        let ctx = Arc::new(ctx::Ctx {
            out_dir: queue.root().join(&config.output),
            worker: WorkerId::for_this_process(),
            mount: mount::MountWatch::new(queue.root()),
            launcher: spawn::Launcher::new().context("cannot open /dev/null for the commands")?,
            queue,
            config,
            on_conflict: settings.on_conflict,
            events: Box::new(events),
            held: Mutex::new(Default::default()),
            delayed_added: Default::default(),
            breaker: Default::default(),
            hooks: Default::default(),
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let loop_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("fsq-engine".into())
            .spawn(move || runtime.block_on(engine::run(ctx, loop_shared, drain)))?;
        Ok(Engine {
            shared,
            thread: Some(thread),
            grace,
        })
    }

    /// Stops (or restarts) claiming new items; running jobs go on.
    pub fn set_paused(&self, paused: bool) {
        self.shared.paused.store(paused, Ordering::Relaxed);
        self.shared.signals.wake.notify_one();
    }

    /// Changes the number of parallel jobs; extra running jobs are not killed.
    pub fn set_slots(&self, slots: usize) {
        self.shared.slots.store(slots.max(1), Ordering::Relaxed);
        self.shared.signals.wake.notify_one();
    }

    pub fn status(&self) -> EngineStatus {
        EngineStatus {
            slots: self.shared.slots.load(Ordering::Relaxed),
            busy: self.shared.busy.load(Ordering::Relaxed),
            paused: self.shared.paused.load(Ordering::Relaxed)
                || self.shared.flag_paused.load(Ordering::Relaxed),
            why: ctx::lock(&self.shared.why).clone(),
        }
    }

    /// Whether the engine has stopped (drained, or after a shutdown request).
    pub fn is_stopped(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }

    /// Stops the engine and blocks until it has: `Wait` lets running jobs finish, `Requeue`
    /// kills them (whole process groups) and puts their items back in the queue.
    pub fn shutdown(self, mode: StopMode) {
        match mode {
            StopMode::Wait => self.shared.request_stop(None),
            StopMode::Requeue => self.shared.request_stop(Some(tokio::time::Instant::now())),
        }
        self.wait();
    }

    /// Asks the engine to stop without blocking: claim nothing new, give running jobs `grace`
    /// (the config's `grace` when `None`), then kill and requeue what is left.
    pub fn request_stop(&self, grace: Option<Duration>) {
        let deadline = tokio::time::Instant::now() + grace.unwrap_or(self.grace);
        self.shared.request_stop(Some(deadline));
    }

    /// Blocks until the engine has stopped.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            self.shared.request_stop(Some(tokio::time::Instant::now()));
            let _ = thread.join();
        }
    }
}
