//! One pane: the listing of one state, the cursor, the selection and the filter. Items are
//! known by identity (`Key`), not by position, so when the listing changes under the operator
//! the cursor stays on its item (or on the item that took its place) and the selection keeps
//! exactly the items that are still there.

use std::collections::{HashMap, HashSet};
use std::ffi::{OsStr, OsString};
use std::time::SystemTime;

use crate::queue::{Item, State as QState, printable, processing_order};

use super::glob;
use super::merge::merge_names;
use super::sort::{SortMode, sort_shown};

/// What identifies an item within a state across renames of its sort key: its owner (for
/// claimed items) and its display name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    pub owner: Option<OsString>,
    pub name: OsString,
}

impl Key {
    pub fn of(item: &Item) -> Key {
        Key {
            owner: item.owner.clone(),
            name: item.display().to_os_string(),
        }
    }
}

/// What a stat and the item's records say; fetched lazily for the rows on screen.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Details {
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// Why the last attempt failed (failed/ and delayed/ items).
    pub reason: Option<String>,
    /// When a delayed item runs again, Unix milliseconds.
    pub retry_at: Option<u64>,
    /// A pending file some process still has open for writing: not an item yet.
    pub arriving: bool,
}

/// The listing of one state, as shown in one pane.
#[derive(Clone, Debug)]
pub struct Pane {
    pub state: QState,
    /// The full listing in processing order.
    pub items: Vec<Item>,
    /// Indices into `items` that pass the filter, in order.
    pub shown: Vec<usize>,
    /// Position in `shown`.
    pub cursor: usize,
    /// First row on screen, a position in `shown`.
    pub offset: usize,
    pub selected: HashSet<Key>,
    pub filter: Option<String>,
    pub details: HashMap<Key, Details>,
    /// Keys whose details were asked for and have not come back yet.
    pub asked: HashSet<Key>,
    /// Items that arrived recently, highlighted until the time given.
    pub fresh: HashMap<Key, SystemTime>,
    /// Whether a listing has arrived at all.
    pub loaded: bool,
    /// How rows are ordered (never applied to pending, which shows processing order).
    pub sort: SortMode,
    pub reverse: bool,
    /// The quick search's text while one runs.
    pub search: Option<String>,
}

impl Pane {
    pub fn new(state: QState) -> Pane {
        Pane {
            state,
            items: Vec::new(),
            shown: Vec::new(),
            cursor: 0,
            offset: 0,
            selected: HashSet::new(),
            filter: None,
            details: HashMap::new(),
            asked: HashSet::new(),
            fresh: HashMap::new(),
            loaded: false,
            sort: SortMode::default(),
            reverse: false,
            search: None,
        }
    }

    /// Shows another state: everything about the old listing is forgotten but the sort.
    pub fn switch_to(&mut self, state: QState) {
        if self.state != state {
            let (sort, reverse) = (self.sort, self.reverse);
            *self = Pane::new(state);
            (self.sort, self.reverse) = (sort, reverse);
        }
    }

    /// The sort in effect: pending always shows processing order.
    pub fn effective_sort(&self) -> (SortMode, bool) {
        if SortMode::allowed_in(self.state) {
            (self.sort, self.reverse)
        } else {
            (SortMode::Order, false)
        }
    }

    /// The item under the cursor.
    pub fn current(&self) -> Option<&Item> {
        self.shown.get(self.cursor).map(|&i| &self.items[i])
    }

    /// The items an action works on: the selection (in listing order), else the cursor item.
    pub fn targets(&self) -> Vec<Item> {
        if self.selected.is_empty() {
            return self.current().cloned().into_iter().collect();
        }
        let selected: Vec<Item> = self
            .items
            .iter()
            .filter(|item| self.selected.contains(&Key::of(item)))
            .cloned()
            .collect();
        if selected.is_empty() {
            self.current().cloned().into_iter().collect()
        } else {
            selected
        }
    }

    /// Takes a new listing; the cursor follows its item, the selection drops what vanished, and
    /// items that were not there before are marked fresh until `fresh_until`.
    pub fn set_items(&mut self, items: Vec<Item>, fresh_until: SystemTime) {
        let cursor_key = self.current().map(Key::of);
        let old_cursor = self.cursor;
        if !self.loaded {
            // The first listing: nothing to carry over, so skip the identity bookkeeping (a
            // 100,000-item state shows at once).
            self.items = items;
            self.loaded = true;
            self.compute_shown();
            self.cursor = 0;
            return;
        }
        {
            // Sorted borrowed keys rather than hash sets: a relist of 100,000 items costs a
            // few milliseconds and allocates only for what is new.
            let keys = sorted_keys(&items);
            let before = sorted_keys(&self.items);
            for key in &keys {
                if before.binary_search(key).is_err() {
                    self.fresh.insert(
                        Key {
                            owner: key.0.map(OsStr::to_os_string),
                            name: key.1.to_os_string(),
                        },
                        fresh_until,
                    );
                }
            }
            let present = |key: &Key| {
                keys.binary_search(&(key.owner.as_deref(), key.name.as_os_str()))
                    .is_ok()
            };
            self.selected.retain(|key| present(key));
            self.details.retain(|key, _| present(key));
            self.fresh.retain(|key, _| present(key));
            self.asked.retain(|key| present(key));
        }
        self.items = items;
        self.loaded = true;
        self.compute_shown();
        self.restore_cursor(cursor_key, old_cursor);
    }

    /// Takes a fresh look at some file names (`files` sorted, `found` the items among them now,
    /// in processing order): items under those names are replaced by what was found and the
    /// rest of the listing stays. One merge pass, no sort and no identity index to rebuild, so
    /// one rename in a 100,000-item state costs about a millisecond; the cursor, the selection
    /// and the marks of every other item are untouched. Says whether the listing changed (a
    /// file written in place changes nothing on screen).
    pub fn recheck(
        &mut self,
        files: &[OsString],
        found: Vec<Item>,
        fresh_until: SystemTime,
    ) -> bool {
        let cursor_key = self.current().map(Key::of);
        let old_cursor = self.cursor;
        let found_files: Vec<OsString> = found.iter().map(|i| i.file.clone()).collect();
        let arrived: HashSet<Key> = found.iter().map(Key::of).collect();
        let mut gone = merge_names(&mut self.items, files, found, self.state);
        gone.sort_unstable_by(|a, b| processing_order(&a.file, &b.file));
        let left: HashSet<Key> = gone.iter().map(Key::of).collect();
        let left_files: Vec<OsString> = gone.into_iter().map(|item| item.file).collect();
        for key in arrived.difference(&left) {
            self.fresh.insert(key.clone(), fresh_until);
        }
        // Written to, or closed: its size (and whether it is still arriving) is read again.
        for key in &arrived {
            self.details.remove(key);
            self.asked.remove(key);
        }
        for key in left.difference(&arrived) {
            self.selected.remove(key);
            self.details.remove(key);
            self.fresh.remove(key);
            self.asked.remove(key);
        }
        if left_files == found_files {
            return false;
        }
        self.compute_shown();
        self.restore_cursor(cursor_key, old_cursor);
        true
    }

    /// Puts the cursor back on its item, or where it was when its item is gone.
    fn restore_cursor(&mut self, key: Option<Key>, old_cursor: usize) {
        self.cursor = match key.and_then(|key| self.position_of(&key)) {
            Some(at) => at,
            None => old_cursor.min(self.shown.len().saturating_sub(1)),
        };
    }

    /// Recomputes `shown` from the filter, keeping the cursor on its item where it can.
    pub fn refilter(&mut self) {
        let cursor_key = self.current().map(Key::of);
        self.compute_shown();
        self.cursor = cursor_key
            .and_then(|key| self.position_of(&key))
            .unwrap_or(0)
            .min(self.shown.len().saturating_sub(1));
    }

    fn compute_shown(&mut self) {
        self.filter_shown();
        let (mode, reverse) = self.effective_sort();
        sort_shown(&mut self.shown, &self.items, &self.details, mode, reverse);
    }

    fn filter_shown(&mut self) {
        self.shown = match &self.filter {
            None => {
                // Reuses the index's memory: a million rows are renumbered, not reallocated.
                let mut shown = std::mem::take(&mut self.shown);
                shown.clear();
                shown.extend(0..self.items.len());
                shown
            }
            Some(pattern) => {
                let pattern = if pattern.contains(['*', '?']) {
                    pattern.clone()
                } else {
                    format!("*{pattern}*")
                };
                self.items
                    .iter()
                    .enumerate()
                    .filter(|(_, item)| glob::matches(&pattern, &printable(item.display())))
                    .map(|(i, _)| i)
                    .collect()
            }
        };
    }

    /// Where the item with `key` is in `shown`.
    pub fn position_of(&self, key: &Key) -> Option<usize> {
        self.shown.iter().position(|&i| {
            let item = &self.items[i];
            item.owner == key.owner && item.display() == key.name
        })
    }

    /// Moves the cursor by `delta` rows, stopping at the ends.
    pub fn move_cursor(&mut self, delta: isize) {
        let last = self.shown.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
    }

    /// Scrolls so the cursor is on screen in a list `height` rows tall.
    pub fn scroll_into_view(&mut self, height: usize) {
        let height = height.max(1);
        let max_offset = self.shown.len().saturating_sub(height);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + height {
            self.offset = self.cursor + 1 - height;
        }
        self.offset = self.offset.min(max_offset);
    }

    /// The rows on screen: positions in `shown` from `offset`, at most `height`.
    pub fn visible(&self, height: usize) -> impl Iterator<Item = (usize, &Item)> {
        self.shown
            .iter()
            .enumerate()
            .skip(self.offset)
            .take(height)
            .map(|(row, &i)| (row, &self.items[i]))
    }

    pub fn toggle_current(&mut self) {
        if let Some(key) = self.current().map(Key::of)
            && !self.selected.remove(&key)
        {
            self.selected.insert(key);
        }
    }

    /// Selects (or unselects) every shown item whose name matches `pattern`; returns how many.
    pub fn select_matching(&mut self, pattern: &str, select: bool) -> usize {
        let mut count = 0;
        for &i in &self.shown {
            let item = &self.items[i];
            if glob::matches(pattern, &printable(item.display())) {
                count += 1;
                let key = Key::of(item);
                if select {
                    self.selected.insert(key);
                } else {
                    self.selected.remove(&key);
                }
            }
        }
        count
    }

    pub fn invert_selection(&mut self) {
        for &i in &self.shown {
            let key = Key::of(&self.items[i]);
            if !self.selected.remove(&key) {
                self.selected.insert(key);
            }
        }
    }

    /// Items whose details are wanted and not asked for yet, now marked asked: the rows on
    /// screen in a list `height` rows tall, or every item while sorted by size or time.
    pub fn want_details(&mut self, height: usize) -> Vec<Item> {
        let rows: Vec<&Item> = if self.effective_sort().0.needs_stat() {
            self.items.iter().collect()
        } else {
            self.visible(height).map(|(_, item)| item).collect()
        };
        let missing: Vec<Item> = rows
            .into_iter()
            .filter(|item| {
                let key = Key::of(item);
                !self.details.contains_key(&key) && !self.asked.contains(&key)
            })
            .cloned()
            .collect();
        for item in &missing {
            self.asked.insert(Key::of(item));
        }
        missing
    }

    /// Drops fresh marks that ran out by `now`; says whether any did.
    pub fn expire_fresh(&mut self, now: SystemTime) -> bool {
        let before = self.fresh.len();
        self.fresh.retain(|_, until| *until > now);
        before != self.fresh.len()
    }
}

/// Every item's identity, borrowed and sorted for binary search.
fn sorted_keys(items: &[Item]) -> Vec<(Option<&OsStr>, &OsStr)> {
    let mut keys: Vec<(Option<&OsStr>, &OsStr)> = items
        .iter()
        .map(|i| (i.owner.as_deref(), i.display()))
        .collect();
    keys.sort_unstable();
    keys
}
