//! The fsqueue format and every change to a queue. Plain synchronous filesystem code, no async
//! runtime and no UI: the worker and the TUI both call it, from background threads.
//!
//! A queue is a folder; an item is a regular file; its state is the folder it sits in. Every
//! state change is one no-clobber rename (see `rename`), so any other tool that can `mv` may
//! manage the queue at the same time. `docs/FORMAT.md` is the specification.

pub mod config;
mod edit;
mod enqueue;
mod error;
mod events;
mod health;
mod hidden;
mod identity;
mod inotify_limits;
mod items;
mod listing;
mod meta;
mod mount;
mod mount_cache;
mod name;
mod operations;
mod order_key;
mod pause;
mod rename;
mod requests;
mod retention;
mod schedule;
mod speed;
mod state;
mod tui_config;
mod watch_mode;
mod workers;

pub use config::{
    Config, HostConfig, OnConflict, OutsideSchedule, Processor, ProcessorConfig, WorkerConfig,
    check_duration, format_duration, parse_duration, parse_size, parse_toml, read_utf8,
};
pub use edit::FileIdentity;
pub use enqueue::{AddMode, Source};
pub use error::{Error, IoContext, Result};
pub use health::{Space, clock_problem, unsafe_permissions};
pub use hidden::is_hidden_char;
pub use inotify_limits::InotifyUse;
pub use items::{Item, Position};
pub use listing::{Snapshot, Stray};
pub use meta::{ItemRecord, MetaKind, Progress, unix_ms, watched_meta};
pub use mount::{MountEntry, MountGuard, MountLost, mount_of};
pub use mount_cache::{CacheReport, mount_cache};
pub use name::{
    ItemId, display_name, is_item_name, json_name, numbered, parse as parse_name, printable,
};
pub use operations::{EditHold, Operation};
pub use order_key::{name_between, processing_order};
pub use pause::{PauseFlag, Paused, until_time};
pub use rename::RenameMode;
pub use requests::{Pending as PendingRequest, Request};
pub use schedule::{Schedule, ScheduleError, week_minute};
pub use speed::Speed;
pub use state::{State, UnknownState};
pub use tui_config::{
    KeyOverride, Located, TuiConfig, UserConfig, line_and_column, user_config_dir,
};
pub use watch_mode::{DEFAULT_POLL, WatchMode, remote_filesystem, watch_mode};
pub use workers::{Heartbeat, PidSpace, Recovery, WorkerHealth, WorkerId, WorkerStatus, this_host};

use std::fs;
use std::path::{Path, PathBuf};

/// The queue's own folder in the root.
pub const META: &str = "_meta";

/// The text `fsq init` writes as `_meta/config.toml`.
pub const DEFAULT_CONFIG: &str = include_str!("default_config.toml");

/// An open queue: its root folder and what we learnt about its filesystem.
#[derive(Debug)]
pub struct Queue {
    root: PathBuf,
    rename: RenameMode,
}

impl Queue {
    /// Creates the layout under `root` (idempotent) and a commented config if there is none.
    pub fn init(root: impl AsRef<Path>) -> Result<Queue> {
        let root = root.as_ref();
        fs::create_dir_all(root).at(root)?;
        for sub in Self::layout() {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).at(&dir)?;
        }
        let config = root.join(META).join("config.toml");
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&config)
        {
            Ok(mut file) => {
                std::io::Write::write_all(&mut file, DEFAULT_CONFIG.as_bytes()).at(&config)?
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(Error::io(&config, err)),
        }
        Self::open(root)
    }

    /// Opens an existing queue. A folder without `_meta/` is not a queue.
    pub fn open(root: impl AsRef<Path>) -> Result<Queue> {
        let root = root.as_ref();
        let meta = fs::metadata(root).at(root)?;
        if !meta.is_dir() {
            return Err(Error::NotAQueue(root.to_path_buf()));
        }
        if !root.join(META).is_dir() {
            return Err(Error::NotAQueue(root.to_path_buf()));
        }
        let root = std::path::absolute(root).at(root)?;
        Ok(Queue {
            rename: RenameMode::for_root(&root),
            root,
        })
    }

    fn layout() -> impl Iterator<Item = PathBuf> {
        let states = State::ALL
            .into_iter()
            .filter_map(State::folder)
            .map(PathBuf::from);
        let meta = ["items", "logs", "progress", "workers"]
            .into_iter()
            .map(|sub| Path::new(META).join(sub));
        states.chain(meta)
    }

    /// The queue's root folder, absolute.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The folder holding items of `state`.
    pub fn state_dir(&self, state: State) -> PathBuf {
        match state.folder() {
            Some(folder) => self.root.join(folder),
            None => self.root.clone(),
        }
    }

    /// A path under `_meta/`.
    pub fn meta_path(&self, sub: impl AsRef<Path>) -> PathBuf {
        self.root.join(META).join(sub)
    }

    /// The path of `_meta/config.toml`.
    pub fn config_path(&self) -> PathBuf {
        self.meta_path("config.toml")
    }

    /// Reads `_meta/config.toml`; a missing file gives the defaults.
    pub fn config(&self) -> Result<Config> {
        Config::load(&self.config_path())
    }

    /// Creates a missing folder inside the queue, but never the queue itself: when `_meta/` is
    /// gone (a dead mount leaves an empty folder behind; a queue deleted meanwhile), nothing is
    /// written there.
    pub(crate) fn create_inside(&self, dir: &Path) -> Result<()> {
        if !self.root.join(META).is_dir() {
            return Err(Error::NotAQueue(self.root.clone()));
        }
        fs::create_dir_all(dir).at(dir)
    }

    /// Creates a worker's claim folder `process/<id>/` with mode 0700: nobody but its worker
    /// (and root) can swap a claimed file for something else while it runs.
    pub(crate) fn create_claim_folder(&self, dir: &Path) -> Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        if let Some(parent) = dir.parent() {
            self.create_inside(parent)?;
        }
        match fs::DirBuilder::new().mode(0o700).create(dir) {
            Err(err) if err.kind() != std::io::ErrorKind::AlreadyExists => Err(Error::io(dir, err)),
            _ => Ok(()),
        }
    }

    /// Whether no-clobber moves fall back to link + unlink here (learnt on the first move).
    pub fn uses_link_fallback(&self) -> bool {
        self.rename.uses_link_fallback()
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    use super::*;

    /// A fresh queue in a temp folder, with `names` pending.
    pub fn queue_with(names: &[&str]) -> (tempfile::TempDir, Queue) {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::init(dir.path().join("q")).unwrap();
        for name in names {
            fs::write(queue.root().join(name), format!("content of {name}")).unwrap();
        }
        (dir, queue)
    }

    /// The first pending item of `q`, claimed by the worker `owner`.
    pub fn claim_first(q: &Queue, owner: &str) -> Item {
        let item = q.list(State::Pending).unwrap().remove(0);
        q.claim(&item, std::ffi::OsStr::new(owner))
            .unwrap()
            .unwrap()
    }

    /// The file names of `items`, as strings.
    pub fn names(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| i.file.to_str().unwrap().to_string())
            .collect()
    }

    /// The sorted file names in a folder, as strings.
    pub fn ls(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }
}
