//! Picking the next item: the root is listed once into an in-memory batch, which is claimed in
//! processing order; it is listed again only when the batch runs out or the watcher says
//! something arrived. Before a claim, a file dropped straight into the root must be stable:
//! renamed in or closed after writing (the watcher knows), older than the quiet period, or
//! unchanged in size and mtime for that long. Strays (symlinks, FIFOs, folders) found while
//! listing go to failed/ with the reason.

use std::collections::{HashMap, HashSet, VecDeque};
use std::ffi::OsString;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant, SystemTime};

use super::ctx::{Ctx, lock};
use super::watch::Signals;
use super::{EngineEvent, Outcome};
use crate::queue::{Item, ItemRecord, State};

/// A file seen changing recently, and since when it has looked like this.
struct Settling {
    size: u64,
    mtime: Option<SystemTime>,
    since: Instant,
}

/// The claim side of the engine.
pub struct Claimer {
    batch: VecDeque<Item>,
    need_list: bool,
    claimed_since_list: bool,
    /// Items in the root at the last listing, stable or not.
    listed: usize,
    settling: HashMap<OsString, Settling>,
    /// When a settling file may next be stable.
    pub settle_at: Option<Instant>,
    quiet: Duration,
}

impl Claimer {
    pub fn new(quiet: Duration) -> Claimer {
        Claimer {
            batch: VecDeque::new(),
            need_list: true,
            claimed_since_list: false,
            listed: 0,
            settling: HashMap::new(),
            settle_at: None,
            quiet,
        }
    }

    /// Asks for a fresh listing before the next claim.
    pub fn mark_dirty(&mut self) {
        self.need_list = true;
    }

    /// Whether the root held nothing at all when last listed, and nothing has arrived since.
    pub fn root_empty(&self, signals: &Signals) -> bool {
        !self.need_list && self.listed == 0 && !signals.dirty.load(Ordering::SeqCst)
    }

    /// Claims the next stable item, or `None` when there is nothing to claim now.
    pub fn next(&mut self, ctx: &Ctx, signals: &Signals) -> Option<Item> {
        if signals.dirty.swap(false, Ordering::SeqCst) {
            self.need_list = true;
        }
        if self.settle_at.is_some_and(|at| at <= Instant::now()) {
            self.settle_at = None;
            self.need_list = true;
        }
        if self.need_list {
            self.list(ctx, signals);
        }
        loop {
            let Some(item) = self.batch.pop_front() else {
                if self.claimed_since_list {
                    self.need_list = true;
                    self.list(ctx, signals);
                    if !self.batch.is_empty() {
                        continue;
                    }
                }
                return None;
            };
            if !self.is_stable(&item, ctx, signals) {
                continue;
            }
            match ctx.queue.claim(&item, ctx.worker.as_os_str()) {
                Ok(Some(claimed)) => {
                    self.claimed_since_list = true;
                    self.listed = self.listed.saturating_sub(1);
                    return Some(claimed);
                }
                Ok(None) => self.listed = self.listed.saturating_sub(1),
                Err(err) => ctx.notice(format!("cannot claim {}: {err}", item.qualified())),
            }
        }
    }

    /// Lists the root now, without claiming.
    pub fn list_now(&mut self, ctx: &Ctx, signals: &Signals) {
        signals.dirty.store(false, Ordering::SeqCst);
        self.list(ctx, signals);
    }

    fn list(&mut self, ctx: &Ctx, signals: &Signals) {
        self.need_list = false;
        self.claimed_since_list = false;
        move_strays(ctx);
        let items = match ctx.queue.list(State::Pending) {
            Ok(items) => items,
            Err(err) => {
                ctx.notice(format!("cannot list the queue: {err}"));
                Vec::new()
            }
        };
        *lock(&ctx.recorded) = ctx.queue.recorded_ids();
        let names: HashSet<&OsString> = items.iter().map(|item| &item.file).collect();
        {
            let mut ready = lock(&signals.ready);
            if !ready.is_empty() {
                ready.retain(|name| names.contains(name));
            }
        }
        self.settling.retain(|name, _| names.contains(name));
        self.listed = items.len();
        self.batch = items.into();
    }

    fn is_stable(&mut self, item: &Item, ctx: &Ctx, signals: &Signals) -> bool {
        if self.quiet.is_zero() {
            return true;
        }
        {
            let mut ready = lock(&signals.ready);
            if !ready.is_empty() && ready.remove(&item.file) {
                self.settling.remove(&item.file);
                return true;
            }
        }
        let Ok(meta) = std::fs::symlink_metadata(ctx.queue.path_of(item)) else {
            return false;
        };
        let mtime = meta.modified().ok();
        let now = SystemTime::now();
        if mtime.is_some_and(|m| m + self.quiet <= now) {
            self.settling.remove(&item.file);
            return true;
        }
        let seen = Instant::now();
        let entry = self.settling.entry(item.file.clone()).or_insert(Settling {
            size: meta.len(),
            mtime,
            since: seen,
        });
        if entry.size != meta.len() || entry.mtime != mtime {
            *entry = Settling {
                size: meta.len(),
                mtime,
                since: seen,
            };
        }
        if entry.since.elapsed() >= self.quiet {
            self.settling.remove(&item.file);
            return true;
        }
        let at = entry.since + self.quiet;
        self.settle_at = Some(self.settle_at.map_or(at, |other| other.min(at)));
        false
    }
}

/// Moves whatever in the root can never be an item to failed/, with the reason recorded.
fn move_strays(ctx: &Ctx) {
    let Ok(strays) = ctx.queue.strays() else {
        return;
    };
    for stray in strays {
        let item = Item {
            state: State::Pending,
            owner: None,
            file: stray.file,
        };
        // Tagged, so that the reason has an item to belong to.
        if let Ok(moved) = ctx.queue.move_tagged(&item, State::Failed, None) {
            let record = ItemRecord {
                reason: Some(stray.reason.to_string()),
                ..ItemRecord::default()
            };
            let _ = ctx.queue.write_record(&moved, &record);
            (ctx.events)(EngineEvent::Finished {
                item: moved,
                outcome: Outcome::Failed {
                    reason: stray.reason.to_string(),
                    final_: true,
                },
            });
        }
    }
}
