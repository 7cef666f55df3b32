//! What every part of the engine shares: the context of the running engine (`Ctx`), the handle
//! that steers one job (`Control`, in `control`), and a poison-tolerant `lock`. Kept apart from the job code so
//! the worker's files depend on this one instead of on each other.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};

use super::EngineEvent;
use super::mount::MountWatch;
use super::spawn::Launcher;
use crate::queue::{ItemId, ItemRecord, Queue, WorkerConfig, WorkerId};

/// The engine-wide things every job needs.
pub struct Ctx {
    pub queue: Arc<Queue>,
    pub config: WorkerConfig,
    /// What built-ins do when a destination has the name already.
    pub on_conflict: crate::queue::OnConflict,
    pub worker: WorkerId,
    pub out_dir: PathBuf,
    pub events: Box<dyn Fn(EngineEvent) + Send + Sync>,
    /// Attempt records this worker could not write (a full disk): kept here so that retries
    /// still wait and still count, until a write succeeds.
    pub held: Mutex<HashMap<ItemId, ItemRecord>>,
    /// Items this engine has put in delayed/ since the loop last looked.
    pub delayed_added: AtomicUsize,
    /// Whether the queue's mount is still there (see `mount`).
    pub mount: MountWatch,
    /// Starts the commands.
    pub launcher: Launcher,
    /// Counts this host's failures in a row (`host_failure_limit`).
    pub breaker: super::breaker::Breaker,
    /// Hooks still running: the engine waits for them (each within `hook_timeout`) before it
    /// stops, so a hook started by the last job or by `on_drained` is not cut short.
    pub hooks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Ctx {
    pub fn notice(&self, text: String) {
        (self.events)(EngineEvent::Notice(text));
    }
}

pub use super::control::Control;

/// Locks a mutex, carrying on if a panicking thread poisoned it.
pub fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poison| poison.into_inner())
}
