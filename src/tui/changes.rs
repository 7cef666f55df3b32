//! What a batch of file events adds up to, reduced to what the commander must read again.
//!
//! A state folder either needs a full re-list (`states`) or only a look at the names that
//! changed in it (`names`): re-listing and sorting a 1,000,000-item folder costs over a second
//! and a copy of the folder in memory, while an `lstat` per changed name costs what the burst
//! costs. A state is never in both. Past `NAME_CAP` names in one state (where a listing is
//! cheaper than that many `lstat`s in any folder that size), or where names cannot be trusted
//! (claim folders in `process/`, a state folder itself, the poller, a kernel overflow), the
//! state falls back to a full re-list.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::path::{Component, Path};
use std::time::SystemTime;

use crate::queue::{META, MetaKind, State as QState};

/// Names kept per state before a full re-list is cheaper than looking at each: an `lstat` costs
/// about as much as listing and sorting 20 entries, so a folder smaller than this many times 20
/// is listed sooner; one larger is looked at name by name.
pub const NAME_CAP: usize = 50_000;

/// What changed, reduced to what the commander re-reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Changes {
    /// States to re-list whole.
    pub states: BTreeSet<QState>,
    /// States where only these file names (sort key and id included) changed.
    pub names: BTreeMap<QState, BTreeSet<OsString>>,
    pub progress: bool,
    pub workers: bool,
    /// Set by the poller: when it looked.
    pub scanned: Option<SystemTime>,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        self.states.is_empty() && self.names.is_empty() && !self.progress && !self.workers
    }

    /// Every state needs a full re-list: the kernel dropped events.
    pub fn everything(&mut self) {
        self.states.extend(QState::ALL);
        self.names.clear();
    }

    /// Turns every named state into a full re-list (for the poller, which sees folders only).
    pub fn widen(&mut self) {
        let named = std::mem::take(&mut self.names);
        self.states.extend(named.into_keys());
    }

    fn relist(&mut self, state: QState) {
        self.names.remove(&state);
        self.states.insert(state);
    }

    fn name(&mut self, state: QState, file: &std::ffi::OsStr) {
        if self.states.contains(&state) {
            return;
        }
        let names = self.names.entry(state).or_default();
        names.insert(file.to_os_string());
        if names.len() > NAME_CAP {
            self.relist(state);
        }
    }

    /// Files the commander cares about, by where they are under the queue root.
    pub fn note(&mut self, root: &Path, path: &Path) {
        let Ok(rel) = path.strip_prefix(root) else {
            return;
        };
        let parts: Vec<&std::ffi::OsStr> = rel
            .components()
            .filter_map(|c| match c {
                Component::Normal(part) => Some(part),
                _ => None,
            })
            .collect();
        // Temp files (ours and other tools') are never items and never the final record.
        if parts
            .last()
            .is_some_and(|p| p.as_encoded_bytes().starts_with(b"."))
        {
            return;
        }
        let state_of =
            |part: &std::ffi::OsStr| part.to_str().and_then(|p| p.parse::<QState>().ok());
        match parts.as_slice() {
            // The root itself.
            [] => self.relist(QState::Pending),
            [meta] if *meta == META => {}
            [one] => match state_of(one) {
                // A state folder itself was created or removed.
                Some(state) => self.relist(state),
                None => self.name(QState::Pending, one),
            },
            [meta, kind, ..] if *meta == META => match MetaKind::of(kind) {
                Some(MetaKind::Progress) => self.progress = true,
                Some(MetaKind::Workers) => self.workers = true,
                Some(MetaKind::Records) => {
                    // A failure reason or retry time changed.
                    self.relist(QState::Failed);
                    self.relist(QState::Delayed);
                }
                None => {}
            },
            [first, file] => match state_of(first) {
                // Claim folders: items there have owners; process/ holds only running items.
                Some(QState::Process) => self.relist(QState::Process),
                Some(state) => self.name(state, file),
                None => {}
            },
            [first, ..] => {
                if let Some(state) = state_of(first) {
                    self.relist(state);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noted(paths: &[&str]) -> Changes {
        let mut changes = Changes::default();
        for path in paths {
            changes.note(Path::new("/q"), &Path::new("/q").join(path));
        }
        changes
    }

    fn names(list: &[&str]) -> BTreeSet<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn paths_map_to_what_changed() {
        let c = noted(&["a.mp4", "failed/b", "process/w1/c", "_meta/progress/c"]);
        assert_eq!(c.states, BTreeSet::from([QState::Process]));
        assert_eq!(
            c.names,
            BTreeMap::from([
                (QState::Pending, names(&["a.mp4"])),
                (QState::Failed, names(&["b"])),
            ])
        );
        assert!(c.progress && !c.workers);
        let c = noted(&[
            ".tmp.1",
            "_meta/workers/.clock.h",
            "new/.fsq-add.1.part",
            "_meta/config.toml",
        ]);
        assert!(c.is_empty(), "{c:?}");
        assert_eq!(noted(&["paused"]).states, BTreeSet::from([QState::Paused]));
    }

    #[test]
    fn a_state_is_relisted_or_named_never_both() {
        let c = noted(&["failed/a", "_meta/items/a.json", "failed/b", "process/w1"]);
        assert_eq!(
            c.states,
            BTreeSet::from([QState::Process, QState::Failed, QState::Delayed])
        );
        assert!(c.names.is_empty(), "{c:?}");
        let c = noted(&["a", "paused/b", "paused"]);
        assert_eq!(c.states, BTreeSet::from([QState::Paused]));
        assert_eq!(c.names, BTreeMap::from([(QState::Pending, names(&["a"]))]));
    }

    #[test]
    fn past_the_cap_a_state_is_relisted_whole() {
        let many: Vec<String> = (0..=NAME_CAP).map(|i| format!("paused/f{i}")).collect();
        let refs: Vec<&str> = many.iter().map(String::as_str).collect();
        let c = noted(&refs[..NAME_CAP]);
        assert_eq!(c.names[&QState::Paused].len(), NAME_CAP);
        let mut c = noted(&refs);
        assert_eq!(c.states, BTreeSet::from([QState::Paused]));
        assert!(c.names.is_empty());
        c.note(Path::new("/q"), Path::new("/q/paused/late"));
        assert!(c.names.is_empty(), "a relisted state takes no more names");
    }

    #[test]
    fn widening_relists_what_was_named() {
        let mut c = noted(&["a", "failed/b"]);
        c.widen();
        assert_eq!(c.states, BTreeSet::from([QState::Pending, QState::Failed]));
        assert!(c.names.is_empty());
    }
}
