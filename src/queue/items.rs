//! Items and their moves: between states, within the order, into a worker's claim, or out of the
//! queue. Every move is one no-clobber rename.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::PathBuf;

use super::error::{Error, Result};
use super::name::{display_name, numbered, printable};
use super::order_key::plan_move;
use super::{Queue, State};

/// One item: where it is and what its file is called.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Item {
    pub state: State,
    /// For claimed items, the worker whose claim folder holds it.
    pub owner: Option<OsString>,
    /// The file name, sort prefix included.
    pub file: OsString,
}

impl Item {
    /// The name users and commands see, without the sort prefix.
    pub fn display(&self) -> &OsStr {
        display_name(&self.file)
    }

    /// `STATE/NAME`, the unambiguous way to name an item.
    pub fn qualified(&self) -> String {
        format!("{}/{}", self.state, printable(self.display()))
    }
}

/// Where `Queue::reorder` puts an item.
#[derive(Clone, Debug)]
pub enum Position {
    First,
    Last,
    Before(Item),
    After(Item),
}

impl Queue {
    /// The path of an item's file.
    pub fn path_of(&self, item: &Item) -> PathBuf {
        let mut path = self.state_dir(item.state);
        if let Some(owner) = &item.owner {
            path.push(owner);
        }
        path.push(&item.file);
        path
    }

    /// Moves `item` to `to`. A name taken there gets a numbered variant, never a clobber; the
    /// item's records follow it. Returns the item as it now is.
    pub fn move_to(&self, item: &Item, to: State) -> Result<Item> {
        self.move_into(item, to, None)
    }

    /// Claims a pending item for `worker`: one rename into `process/<worker>/`. `Ok(None)` when
    /// someone else got there first or the item was moved away.
    pub fn claim(&self, item: &Item, worker: &OsStr) -> Result<Option<Item>> {
        match self.move_into(item, State::Process, Some(worker)) {
            Ok(claimed) => Ok(Some(claimed)),
            Err(Error::Vanished(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    fn move_into(&self, item: &Item, to: State, owner: Option<&OsStr>) -> Result<Item> {
        let target = Item {
            state: to,
            owner: owner.map(OsStr::to_os_string),
            file: item.file.clone(),
        };
        let moved = self.rename_in(&self.path_of(item), &target, &item.qualified())?;
        if moved.display() != item.display() {
            self.rename_records(item.display(), moved.display());
        }
        Ok(moved)
    }

    /// Renames the staged file `from` to where `target` says, numbering the name if taken.
    pub(super) fn move_staged(&self, from: &std::path::Path, target: &Item) -> Result<Item> {
        self.rename_in(from, target, &target.qualified())
    }

    /// Renames `from` into `wanted`'s folder under `wanted`'s name or its first free numbered
    /// variant, recreating a state folder someone deleted. `what` names the item in errors.
    fn rename_in(&self, from: &std::path::Path, wanted: &Item, what: &str) -> Result<Item> {
        let mut dir = self.state_dir(wanted.state);
        if let Some(owner) = &wanted.owner {
            dir.push(owner);
        }
        let mut file = wanted.file.clone();
        let mut attempt = 1;
        loop {
            let target = dir.join(&file);
            // Only we create names in our claim folder: see `RenameMode::rename_into_own`.
            let moved = match wanted.owner {
                Some(_) => self.rename.rename_into_own(from, &target),
                None => self.rename.rename_noreplace(from, &target),
            };
            match moved {
                Ok(()) => break,
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                    attempt += 1;
                    file = numbered(&wanted.file, attempt);
                }
                Err(err) if err.kind() == io::ErrorKind::NotFound => {
                    if fs::symlink_metadata(from).is_err() {
                        // Only we write into our claim folder: the item there with the source
                        // gone is our own claim, done by a request the server saw twice (NFS).
                        if wanted.owner.is_some() && fs::symlink_metadata(&target).is_ok() {
                            break;
                        }
                        return Err(Error::Vanished(what.to_string()));
                    }
                    // The target folder is missing (deleted by hand): recreate it once.
                    if dir.is_dir() {
                        return Err(Error::io(&target, err));
                    }
                    self.create_inside(&dir)?;
                }
                Err(err) => return Err(Error::io(from, err)),
            }
        }
        Ok(Item {
            file,
            ..wanted.clone()
        })
    }

    /// Moves `item` within its folder to `position` by renaming it alone: it gets a sort prefix
    /// between its new neighbours. Only a neighbour whose name no prefix can pass (see
    /// `order_key::plan_move`) is renamed too.
    pub fn reorder(&self, item: &Item, position: &Position) -> Result<Item> {
        if item.state == State::Process {
            // Renaming a claimed file would pull it from under the worker running it.
            return Err(Error::WrongState {
                name: item.qualified(),
                state: item.state,
                what: "be reordered outside process/ (a worker is running it)",
            });
        }
        let others: Vec<Item> = self
            .list(item.state)?
            .into_iter()
            .filter(|other| other.file != item.file || other.owner != item.owner)
            .collect();
        let index_of = |anchor: &Item| {
            others
                .iter()
                .position(|other| other.file == anchor.file)
                .ok_or_else(|| Error::NoSuchItem(anchor.qualified()))
        };
        let insert_at = match position {
            Position::First => 0,
            Position::Last => others.len(),
            Position::Before(anchor) => index_of(anchor)?,
            Position::After(anchor) => index_of(anchor)? + 1,
        };
        let names: Vec<&OsStr> = others.iter().map(|other| other.file.as_os_str()).collect();
        let plan = plan_move(&names, insert_at, &item.file).ok_or_else(|| Error::NoRoom {
            name: item.qualified(),
            neighbour: printable(
                names
                    .get(insert_at)
                    .or(names.last())
                    .copied()
                    .unwrap_or_default(),
            ),
        })?;
        let mut moved = item.clone();
        for rename in plan {
            let from = Item {
                file: rename.from,
                ..item.clone()
            };
            let to = Item {
                file: rename.to,
                ..item.clone()
            };
            let source = self.path_of(&from);
            self.rename
                .rename_noreplace(&source, &self.path_of(&to))
                .map_err(|err| match err.kind() {
                    io::ErrorKind::NotFound => Error::Vanished(from.qualified()),
                    _ => Error::io(&source, err),
                })?;
            if from.file == item.file {
                moved = to;
            }
        }
        Ok(moved)
    }

    /// Deletes an item and its records (its log stays only while another item shares the name).
    pub fn delete(&self, item: &Item) -> Result<()> {
        let path = self.path_of(item);
        fs::remove_file(&path).map_err(|err| match err.kind() {
            io::ErrorKind::NotFound => Error::Vanished(item.qualified()),
            _ => Error::io(&path, err),
        })?;
        self.remove_records(item.display());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::META;
    use super::super::testutil::{ls, names, queue_with};
    use super::*;

    #[test]
    fn move_never_clobbers() {
        let (_dir, q) = queue_with(&["a.txt"]);
        fs::write(q.state_dir(State::Failed).join("a.txt"), "old").unwrap();
        let item = &q.list(State::Pending).unwrap()[0];
        let moved = q.move_to(item, State::Failed).unwrap();
        assert_eq!(moved.file, "a (2).txt");
        assert_eq!(ls(&q.state_dir(State::Failed)), ["a (2).txt", "a.txt"]);
        assert_eq!(
            fs::read_to_string(q.state_dir(State::Failed).join("a.txt")).unwrap(),
            "old"
        );
    }

    #[test]
    fn move_of_a_vanished_item_says_so() {
        let (_dir, q) = queue_with(&["a"]);
        let item = q.list(State::Pending).unwrap().remove(0);
        fs::remove_file(q.path_of(&item)).unwrap();
        assert!(matches!(
            q.move_to(&item, State::Paused),
            Err(Error::Vanished(_))
        ));
    }

    #[test]
    fn move_recreates_a_deleted_state_folder() {
        let (_dir, q) = queue_with(&["a"]);
        fs::remove_dir(q.state_dir(State::Paused)).unwrap();
        let item = q.list(State::Pending).unwrap().remove(0);
        q.move_to(&item, State::Paused).unwrap();
        assert_eq!(ls(&q.state_dir(State::Paused)), ["a"]);
    }

    #[test]
    fn a_queue_whose_meta_vanished_is_never_recreated() {
        // What a dead mount looks like: the folder is there, empty of the queue's own data.
        let (_dir, q) = queue_with(&["a"]);
        let item = q.list(State::Pending).unwrap().remove(0);
        fs::remove_dir_all(q.root().join(META)).unwrap();
        fs::remove_dir(q.state_dir(State::Paused)).unwrap();
        assert!(matches!(
            q.move_to(&item, State::Paused),
            Err(Error::NotAQueue(_))
        ));
        assert!(!q.state_dir(State::Paused).exists());
        assert!(q.write_record(item.display(), &Default::default()).is_err());
        assert!(!q.root().join(META).exists());
    }

    #[test]
    fn claim_is_won_once() {
        let (_dir, q) = queue_with(&["a"]);
        let item = q.list(State::Pending).unwrap().remove(0);
        let claimed = q.claim(&item, OsStr::new("w1")).unwrap().unwrap();
        assert_eq!(claimed.owner.as_deref(), Some(OsStr::new("w1")));
        assert_eq!(q.claim(&item, OsStr::new("w2")).unwrap(), None);
        assert_eq!(q.list(State::Process).unwrap(), [claimed]);
    }

    #[test]
    fn a_claim_that_happened_but_reported_enoent_is_ours() {
        let (_dir, q) = queue_with(&["a"]);
        let item = q.list(State::Pending).unwrap().remove(0);
        // The first copy of the rename reached the server; its repeat answered ENOENT.
        fs::create_dir_all(q.state_dir(State::Process).join("w1")).unwrap();
        fs::rename(q.path_of(&item), q.state_dir(State::Process).join("w1/a")).unwrap();
        let claimed = q.claim(&item, OsStr::new("w1")).unwrap();
        assert_eq!(claimed.unwrap().owner.as_deref(), Some(OsStr::new("w1")));
        assert_eq!(q.claim(&item, OsStr::new("w2")).unwrap(), None);
    }

    #[test]
    fn reorder_renames_only_the_moved_item() {
        let (_dir, q) = queue_with(&["a", "b", "c", "d"]);
        let snap = q.snapshot().unwrap();
        let c = snap.resolve(OsStr::new("c")).unwrap();
        q.reorder(&c, &Position::First).unwrap();
        let after = names(&q.list(State::Pending).unwrap());
        assert_eq!(after.len(), 4);
        assert!(after[0].ends_with("!c"), "{after:?}");
        assert_eq!(&after[1..], ["a", "b", "d"]);

        let snap = q.snapshot().unwrap();
        let (a, d) = (
            snap.resolve("a".as_ref()).unwrap(),
            snap.resolve("d".as_ref()).unwrap(),
        );
        q.reorder(&d, &Position::Before(a)).unwrap();
        let displays: Vec<_> = q
            .list(State::Pending)
            .unwrap()
            .iter()
            .map(|i| i.display().to_owned())
            .collect();
        assert_eq!(displays, ["c", "d", "a", "b"]);
        // Already in place: nothing happens.
        let first = q.list(State::Pending).unwrap().remove(0);
        assert_eq!(q.reorder(&first, &Position::First).unwrap(), first);
    }

    #[test]
    fn claimed_items_are_never_reordered() {
        let (_dir, q) = queue_with(&["a", "b"]);
        let item = q.list(State::Pending).unwrap().remove(1);
        let claimed = q.claim(&item, OsStr::new("w")).unwrap().unwrap();
        let err = q.reorder(&claimed, &Position::First).unwrap_err();
        assert!(matches!(err, Error::WrongState { .. }), "{err}");
        assert_eq!(q.list(State::Process).unwrap(), [claimed]);
    }
}
