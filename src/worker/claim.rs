//! Picking the next item. The root is listed once into an in-memory batch in processing order;
//! names the watcher reports afterwards join that order as arrivals, without a new listing, so
//! a trickle of arrivals while a long backlog drains costs an `lstat` each, not a re-read of the
//! backlog. The root is listed whole only when events cannot be trusted: at start, after lost
//! events, on each poll where there are no events, and when upkeep asks (recovery, delayed
//! items promoted). Before a claim, `intake` decides whether a file written in place is
//! complete; one that is not waits aside until an event or its time brings it back. Strays
//! (symlinks, FIFOs, folders) found while listing go to failed/ with the reason.

use std::cmp::Ordering as Order;
use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::ffi::{OsStr, OsString};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::ctx::{Ctx, lock};
use super::intake::{Change, Intake, Verdict};
use super::watch::Signals;
use super::{EngineEvent, Outcome};
use crate::queue::{Item, ItemRecord, State, is_item_name, processing_order};

/// How often a file some process has open for writing is looked at again when no event comes
/// (polling, or a writer that deleted it): a probe a second per such file.
const RECHECK: Duration = Duration::from_secs(1);

/// A name in processing order.
#[derive(PartialEq, Eq)]
struct Arrival(OsString);

impl Ord for Arrival {
    fn cmp(&self, other: &Self) -> Order {
        processing_order(&self.0, &other.0)
    }
}

impl PartialOrd for Arrival {
    fn partial_cmp(&self, other: &Self) -> Option<Order> {
        Some(self.cmp(other))
    }
}

/// A claimed item, and whether it had its id before this claim: an item whose id the claim made
/// has never run, so it has no record to read (a successful first run reads and writes nothing
/// in `_meta/items/`).
pub struct Claim {
    pub item: Item,
    pub ran_before: bool,
}

/// The claim side of the engine.
pub struct Claimer {
    /// The last full listing, in processing order, minus what was taken from it.
    batch: VecDeque<Item>,
    /// Names reported by the watcher since, in processing order.
    arrivals: BTreeSet<Arrival>,
    /// Files not complete yet, and when to look at each again.
    waiting: HashMap<OsString, Instant>,
    intake: Intake,
    /// Events are trusted: every arrival is reported, so nothing needs a listing to be found.
    trusted: bool,
    need_list: bool,
    claimed_since_list: bool,
    /// When the first waiting file is due for another look.
    pub settle_at: Option<Instant>,
    /// Full listings of the root so far.
    pub listings: u64,
}

impl Claimer {
    pub fn new(intake: Intake, trusted: bool) -> Claimer {
        Claimer {
            batch: VecDeque::new(),
            arrivals: BTreeSet::new(),
            waiting: HashMap::new(),
            intake,
            trusted,
            need_list: true,
            claimed_since_list: false,
            settle_at: None,
            listings: 0,
        }
    }

    /// Asks for a fresh listing before the next claim.
    pub fn mark_dirty(&mut self) {
        self.need_list = true;
    }

    /// Whether the root held nothing at all when last looked at, and nothing has arrived since.
    pub fn root_empty(&self, signals: &Signals) -> bool {
        !self.need_list
            && self.batch.is_empty()
            && self.arrivals.is_empty()
            && self.waiting.is_empty()
            && !signals.dirty.load(Ordering::SeqCst)
            && lock(&signals.changes).is_empty()
    }

    /// Claims the next complete item, or `None` when there is nothing to claim now.
    pub fn next(&mut self, ctx: &Ctx, signals: &Signals) -> Option<Claim> {
        if signals.dirty.swap(false, Ordering::SeqCst) {
            self.need_list = true;
            self.intake.forget_events();
        }
        self.take_changes(signals);
        self.wake_due();
        if self.need_list {
            self.list(ctx);
        }
        loop {
            let Some(item) = self.pop(ctx) else {
                if !self.trusted && self.claimed_since_list {
                    // Without events, the end of the batch is the moment to look again.
                    self.list(ctx);
                    if !self.batch.is_empty() {
                        continue;
                    }
                }
                return None;
            };
            match self.intake.judge(&item.file, &ctx.queue.path_of(&item)) {
                Verdict::Ready => {}
                Verdict::Gone => {
                    self.intake.forget(&item.file);
                    continue;
                }
                Verdict::Wait(at) => {
                    self.wait(item.file, at.unwrap_or_else(|| Instant::now() + RECHECK));
                    continue;
                }
            }
            self.intake.forget(&item.file);
            match ctx.queue.claim(&item, ctx.worker.as_os_str()) {
                Ok(Some(claimed)) => {
                    self.claimed_since_list = true;
                    return Some(Claim {
                        item: claimed,
                        ran_before: item.id().is_some(),
                    });
                }
                Ok(None) => {}
                Err(err) => ctx.notice(format!("cannot claim {}: {err}", item.qualified())),
            }
        }
    }

    /// Lists the root now, without claiming.
    pub fn list_now(&mut self, ctx: &Ctx, signals: &Signals) {
        signals.dirty.store(false, Ordering::SeqCst);
        self.take_changes(signals);
        self.list(ctx);
    }

    /// Takes what the watcher saw: new and closed names join the order, and every change
    /// informs the intake rules.
    fn take_changes(&mut self, signals: &Signals) {
        let changes = std::mem::take(&mut *lock(&signals.changes));
        for (name, change, at) in changes {
            if !is_item_name(&name) {
                continue;
            }
            self.intake.note(&name, change, at);
            if change != Change::Written {
                self.waiting.remove(&name);
                self.arrivals.insert(Arrival(name));
            }
        }
    }

    /// Puts the waiting files whose time has come back into the order.
    fn wake_due(&mut self) {
        let now = Instant::now();
        if self.settle_at.is_none_or(|at| at > now) {
            return;
        }
        let due: Vec<OsString> = self
            .waiting
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(name, _)| name.clone())
            .collect();
        for name in due {
            self.waiting.remove(&name);
            self.arrivals.insert(Arrival(name));
        }
        self.settle_at = self.waiting.values().min().copied();
    }

    fn wait(&mut self, name: OsString, at: Instant) {
        self.settle_at = Some(self.settle_at.map_or(at, |other| other.min(at)));
        self.waiting.insert(name, at);
    }

    /// The first item in processing order of the batch and the arrivals together.
    fn pop(&mut self, ctx: &Ctx) -> Option<Item> {
        loop {
            let from_batch = match (self.batch.front(), self.arrivals.first()) {
                (None, None) => return None,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(item), Some(Arrival(name))) => {
                    processing_order(&item.file, name) != Order::Greater
                }
            };
            if from_batch {
                return self.batch.pop_front();
            }
            let Arrival(name) = self.arrivals.pop_first()?;
            let found = ctx
                .queue
                .list_named(State::Pending, std::slice::from_ref(&name));
            if let Some(item) = found.into_iter().next() {
                return Some(item);
            }
            self.intake.forget(&name);
            let path = ctx.queue.root().join(&name);
            if std::fs::symlink_metadata(path).is_ok_and(|meta| !meta.is_file()) {
                // A symlink, FIFO or socket: the listing moves it to failed/.
                self.need_list = true;
            }
        }
    }

    fn list(&mut self, ctx: &Ctx) {
        self.need_list = false;
        self.claimed_since_list = false;
        self.listings += 1;
        move_strays(ctx);
        let items = match ctx.queue.list(State::Pending) {
            Ok(items) => items,
            Err(err) => {
                ctx.notice(format!("cannot list the queue: {err}"));
                Vec::new()
            }
        };
        if self.intake.needs_fs_clock() {
            self.intake.set_fs_clock(ctx.queue.shared_now());
        }
        if self.intake.tracks_any() {
            let names: HashSet<&OsStr> = items.iter().map(|item| item.file.as_os_str()).collect();
            self.intake.retain(|name| names.contains(name));
        }
        // Everything waiting or arrived is in the listing, and is judged again from it.
        self.arrivals.clear();
        self.waiting.clear();
        self.settle_at = None;
        self.batch = items.into();
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

#[cfg(test)]
#[path = "claim_tests.rs"]
mod tests;
