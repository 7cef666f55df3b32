//! Items and their moves: between states, within the order, into a worker's claim, or out of the
//! queue. Every move is one no-clobber rename. A claim gives the item an id (see `name`) if it
//! has none, so that its records belong to it from its first run on.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use super::error::{Error, Result};
use super::meta::ItemRecord;
use super::name::{ItemId, numbered, parse, printable, tagged};
use super::order_key::name_between;
use super::{Queue, State};

/// One item: where it is and what its file is called.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Item {
    pub state: State,
    /// For claimed items, the worker whose claim folder holds it.
    pub owner: Option<OsString>,
    /// The file name, sort key and id included.
    pub file: OsString,
}

impl Item {
    /// The name users and commands see, without sort key and id.
    pub fn display(&self) -> &OsStr {
        parse(&self.file).display
    }

    /// The item's id, once fsq claimed or reordered it.
    pub fn id(&self) -> Option<ItemId> {
        parse(&self.file).id
    }

    /// What tells the item apart from every other: its id, or for an item that has none yet, its
    /// file name (unique within its folder).
    pub fn identity(&self) -> OsString {
        match self.id() {
            Some(id) => id.as_os_str().to_os_string(),
            None => self.file.clone(),
        }
    }

    /// Whether the file name carries a shortened form of the name (see `Queue::full_name`).
    pub fn name_is_shortened(&self) -> bool {
        parse(&self.file).shortened
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

    /// Moves `item` to `to` under the same file name. A plain name taken there gets a numbered
    /// variant, a tagged one a new id; never a clobber. Returns the item as it now is.
    pub fn move_to(&self, item: &Item, to: State) -> Result<Item> {
        let target = Item {
            state: to,
            owner: None,
            file: item.file.clone(),
        };
        self.rename_in(&self.path_of(item), &target, &item.qualified())
    }

    /// Claims a pending item for `worker`: one rename into `process/<worker>/`, which also gives
    /// the item an id if it has none and drops its sort key (it has left the order). `Ok(None)`
    /// when someone else got there first or the item was moved away.
    pub fn claim(&self, item: &Item, worker: &OsStr) -> Result<Option<Item>> {
        match self.move_tagged(item, State::Process, Some(worker)) {
            Ok(claimed) => Ok(Some(claimed)),
            Err(Error::Vanished(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }

    /// Moves `item` to `to` with an id in its name (a new one if it has none) and no sort key:
    /// for claims, and for things that need a record where they go (strays into failed/).
    pub fn move_tagged(&self, item: &Item, to: State, owner: Option<&OsStr>) -> Result<Item> {
        let parsed = parse(&item.file);
        let id = parsed.id.unwrap_or_default();
        let file = tagged(b"", id, parsed.display, parsed.shortened)
            .ok_or_else(|| Error::Invalid(format!("{}: cannot be tagged", item.qualified())))?;
        let target = Item {
            state: to,
            owner: owner.map(OsStr::to_os_string),
            file,
        };
        self.keep_whole_name(item, &target)?;
        self.rename_in(&self.path_of(item), &target, &item.qualified())
    }

    /// Before a rename that shortens the name in the file name, keeps the whole name in the
    /// item's record (the id is new or the item's own, so nobody else writes it).
    fn keep_whole_name(&self, from: &Item, to: &Item) -> Result<()> {
        if to.name_is_shortened() && !from.name_is_shortened() {
            let mut record = self.record(to);
            record.set_name(from.display());
            self.write_record(to, &record)?;
        }
        Ok(())
    }

    /// Renames the staged file `from` to where `target` says, numbering the name if taken.
    pub(super) fn move_staged(&self, from: &Path, target: &Item) -> Result<Item> {
        self.rename_in(from, target, &target.qualified())
    }

    /// Renames `from` into `wanted`'s folder under `wanted`'s name, or when that is taken, its
    /// first free numbered variant (plain names) or the same name with a new id (tagged names,
    /// taken only by a copy of the item); recreates a state folder someone deleted. `what` names
    /// the item in errors.
    fn rename_in(&self, from: &Path, wanted: &Item, what: &str) -> Result<Item> {
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
                    file = alternative(&wanted.file, attempt)
                        .ok_or_else(|| Error::io(&target, err))?;
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
                    match wanted.owner {
                        Some(_) => self.create_claim_folder(&dir)?,
                        None => self.create_inside(&dir)?,
                    }
                }
                Err(err) => return Err(Error::io(from, err)),
            }
        }
        Ok(Item {
            file,
            ..wanted.clone()
        })
    }

    /// Moves `item` within its folder to `position` by renaming it alone: it gets a sort key
    /// between its new neighbours (see `order_key`). Lists the folder to find them.
    pub fn reorder(&self, item: &Item, position: &Position) -> Result<Item> {
        let listing = self.list(item.state)?;
        self.reorder_among(item, position, &listing)
    }

    /// Like `reorder`, with the folder's items (in processing order) already listed.
    pub fn reorder_among(
        &self,
        item: &Item,
        position: &Position,
        listing: &[Item],
    ) -> Result<Item> {
        let others: Vec<&Item> = listing
            .iter()
            .filter(|other| other.state == item.state)
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
        let after = insert_at.checked_sub(1).map(|i| others[i].file.as_os_str());
        let before = others.get(insert_at).map(|o| o.file.as_os_str());
        self.reorder_between(item, after, before)
    }

    /// Moves `item` to sort strictly between the file names `after` and `before` (either open)
    /// of its folder, by renaming it alone. For callers that already know the neighbours: no
    /// listing, microseconds of work whatever the folder's size.
    pub fn reorder_between(
        &self,
        item: &Item,
        after: Option<&OsStr>,
        before: Option<&OsStr>,
    ) -> Result<Item> {
        if item.state == State::Process {
            // Renaming a claimed file would pull it from under the worker running it.
            return Err(Error::WrongState {
                name: item.qualified(),
                state: item.state,
                what: "be reordered outside process/ (a worker is running it)",
            });
        }
        let file = item.file.as_os_str();
        if after.is_none_or(|a| a < file) && before.is_none_or(|b| file < b) {
            return Ok(item.clone());
        }
        let renamed =
            name_between(file, after, before, ItemId::new()).ok_or_else(|| Error::NoRoom {
                name: item.qualified(),
                after: printable(after.unwrap_or_default()),
                before: printable(before.unwrap_or_default()),
            })?;
        let to = Item {
            file: renamed,
            ..item.clone()
        };
        self.keep_whole_name(item, &to)?;
        let source = self.path_of(item);
        self.rename
            .rename_noreplace(&source, &self.path_of(&to))
            .map_err(|err| match err.kind() {
                io::ErrorKind::NotFound => Error::Vanished(item.qualified()),
                _ => Error::io(&source, err),
            })?;
        Ok(to)
    }

    /// Deletes an item and its records.
    pub fn delete(&self, item: &Item) -> Result<()> {
        let path = self.path_of(item);
        fs::remove_file(&path).map_err(|err| match err.kind() {
            io::ErrorKind::NotFound => Error::Vanished(item.qualified()),
            _ => Error::io(&path, err),
        })?;
        self.remove_records(item);
        Ok(())
    }

    /// Sends a failed or delayed item back to pending for a fresh set of attempts.
    pub fn retry(&self, item: &Item) -> Result<Item> {
        if !matches!(item.state, State::Failed | State::Delayed) {
            return Err(Error::WrongState {
                name: item.qualified(),
                state: item.state,
                what: "be retried from failed/ or delayed/",
            });
        }
        let moved = self.move_to(item, State::Pending)?;
        self.clear_record(&moved);
        Ok(moved)
    }

    /// Counts a failed run of `item` (attempts, reason, when it may run again); `retry_at` is
    /// `None` for an item that has no attempts left. `known_attempts` is a count the caller
    /// holds that the record may lack (it could not be written before). Returns the record
    /// written.
    pub fn count_failure(
        &self,
        item: &Item,
        reason: String,
        known_attempts: u32,
        retry_at: impl FnOnce(u32) -> Option<u64>,
    ) -> Result<ItemRecord> {
        let mut record = self.record(item);
        record.attempts = record.attempts.max(known_attempts) + 1;
        record.retry_at = retry_at(record.attempts);
        record.reason = Some(reason);
        self.write_record(item, &record)?;
        Ok(record)
    }
}

/// The name to try when `file` is taken in the target folder: a numbered variant of a plain name,
/// the same display name with a new id for a tagged one.
fn alternative(file: &OsStr, attempt: u32) -> Option<OsString> {
    let parsed = parse(file);
    match parsed.id {
        None => Some(numbered(file, attempt)),
        Some(_) => tagged(parsed.key, ItemId::new(), parsed.display, parsed.shortened),
    }
}

#[cfg(test)]
mod tests {
    use super::super::META;
    use super::super::testutil::{claim_first, ls, names, queue_with};
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
        let file = tagged(b"", ItemId::new(), OsStr::new("a"), false).unwrap();
        let (_dir, q) = queue_with(&[file.to_str().unwrap()]);
        let item = q.list(State::Pending).unwrap().remove(0);
        fs::remove_dir_all(q.root().join(META)).unwrap();
        fs::remove_dir(q.state_dir(State::Paused)).unwrap();
        assert!(matches!(
            q.move_to(&item, State::Paused),
            Err(Error::NotAQueue(_))
        ));
        assert!(!q.state_dir(State::Paused).exists());
        assert!(q.write_record(&item, &Default::default()).is_err());
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
        let id = ItemId::new();
        let file = tagged(b"", id, OsStr::new("a"), false).unwrap();
        let (_dir, q) = queue_with(&[file.to_str().unwrap()]);
        let item = q.list(State::Pending).unwrap().remove(0);
        // The first copy of the rename reached the server; its repeat answered ENOENT.
        fs::create_dir_all(q.state_dir(State::Process).join("w1")).unwrap();
        fs::rename(
            q.path_of(&item),
            q.state_dir(State::Process).join("w1").join(&file),
        )
        .unwrap();
        let claimed = q.claim(&item, OsStr::new("w1")).unwrap();
        assert_eq!(claimed.unwrap().owner.as_deref(), Some(OsStr::new("w1")));
        assert_eq!(q.claim(&item, OsStr::new("w2")).unwrap(), None);
    }

    #[test]
    fn a_claim_gives_an_id_and_keeps_the_name() {
        let (_dir, q) = queue_with(&["Draft1!notes.txt"]);
        let item = q.list(State::Pending).unwrap().remove(0);
        assert_eq!(item.id(), None);
        let claimed = q.claim(&item, OsStr::new("w")).unwrap().unwrap();
        assert!(claimed.id().is_some());
        assert_eq!(claimed.display(), "Draft1!notes.txt");
        // Back in the root it keeps its id, and with an empty key sorts before letters.
        let back = q.move_to(&claimed, State::Pending).unwrap();
        assert_eq!(back.id(), claimed.id());
        fs::write(q.root().join("0 first by name"), "").unwrap();
        assert_eq!(q.list(State::Pending).unwrap()[0], back);
    }

    #[test]
    fn a_copy_of_a_tagged_item_gets_its_own_id_when_names_meet() {
        let (_dir, q) = queue_with(&["a"]);
        let claimed = claim_first(&q, "w");
        let done = q.move_to(&claimed, State::Success).unwrap();
        fs::copy(q.path_of(&done), q.root().join(&done.file)).unwrap();
        let copy = q.list(State::Pending).unwrap().remove(0);
        let moved = q.move_to(&copy, State::Success).unwrap();
        assert_ne!(moved.id(), done.id());
        assert_eq!(moved.display(), "a");
    }

    #[test]
    fn a_claimed_255_byte_name_is_shortened_and_keeps_its_whole_name() {
        let long = format!("{}.mkv", "ж".repeat(125));
        let (_dir, q) = queue_with(&[&long]);
        let claimed = claim_first(&q, "w");
        assert!(claimed.file.len() <= 255 && claimed.name_is_shortened());
        assert_eq!(q.full_name(&claimed), OsStr::new(&long));
        let done = q.move_to(&claimed, State::Success).unwrap();
        q.clear_record(&done);
        assert_eq!(q.full_name(&done), OsStr::new(&long));
    }

    #[test]
    fn reorder_renames_only_the_moved_item() {
        let (_dir, q) = queue_with(&["a", "b", "c", "d"]);
        let snap = q.snapshot().unwrap();
        let c = snap.resolve(OsStr::new("c")).unwrap();
        q.reorder(&c, &Position::First).unwrap();
        let after = names(&q.list(State::Pending).unwrap());
        assert_eq!(after.len(), 4);
        assert!(after[0].ends_with("+c"), "{after:?}");
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
    fn reorder_between_camera_names_renames_one_file() {
        let names_in: Vec<String> = (1..=60).map(|n| format!("IMG_{n:04}.JPG")).collect();
        let refs: Vec<&str> = names_in.iter().map(String::as_str).collect();
        let (_dir, q) = queue_with(&refs);
        let snap = q.snapshot().unwrap();
        let moved = snap.resolve("IMG_0060.JPG".as_ref()).unwrap();
        let anchor = snap.resolve("IMG_0002.JPG".as_ref()).unwrap();
        q.reorder(&moved, &Position::Before(anchor)).unwrap();
        let after = q.list(State::Pending).unwrap();
        let displays: Vec<_> = after
            .iter()
            .map(|i| i.display().to_str().unwrap())
            .collect();
        assert_eq!(
            displays[..3],
            ["IMG_0001.JPG", "IMG_0060.JPG", "IMG_0002.JPG"]
        );
        let renamed = after.iter().filter(|i| i.id().is_some()).count();
        assert_eq!(renamed, 1, "only the moved item got a new name");
    }

    #[test]
    fn random_reorders_on_disk_rename_one_file_each_and_keep_every_name() {
        let mut people: Vec<String> = (1..=15).map(|n| format!("IMG_{n:04}.JPG")).collect();
        people.extend((1..=10).map(|n| format!("Scan ({n}).pdf")));
        people.extend((1495..1505).map(|n| format!("Отчёт {n}.docx")));
        people.extend(
            [
                "Hello!World.txt",
                "-rf",
                "(draft) b",
                "#42 x",
                "報告書.pdf",
                "a",
            ]
            .map(String::from),
        );
        let refs: Vec<&str> = people.iter().map(String::as_str).collect();
        let (_dir, q) = queue_with(&refs);
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng as usize
        };
        let displays = |items: &[Item]| {
            let mut d: Vec<OsString> = items.iter().map(|i| i.display().to_owned()).collect();
            d.sort();
            d
        };
        let start = q.list(State::Pending).unwrap();
        for _ in 0..300 {
            let before = q.list(State::Pending).unwrap();
            let moved = before[next() % before.len()].clone();
            let anchor = before[next() % before.len()].clone();
            let position = match next() % 4 {
                0 => Position::First,
                1 => Position::Last,
                2 => Position::Before(anchor.clone()),
                _ => Position::After(anchor.clone()),
            };
            if anchor == moved && matches!(position, Position::Before(_) | Position::After(_)) {
                continue;
            }
            let renamed = q.reorder(&moved, &position).unwrap();
            let after = q.list(State::Pending).unwrap();
            // `ls` order: the listing is byte order, and it has the item where it was asked.
            let files: Vec<&OsString> = after.iter().map(|i| &i.file).collect();
            assert!(files.windows(2).all(|w| w[0] < w[1]));
            let at = after.iter().position(|i| i.file == renamed.file).unwrap();
            match &position {
                Position::First => assert_eq!(at, 0),
                Position::Last => assert_eq!(at, after.len() - 1),
                Position::Before(a) => assert_eq!(after[at + 1].file, a.file),
                Position::After(a) => assert_eq!(after[at - 1].file, a.file),
            }
            let gone = before.iter().filter(|i| !after.contains(i)).count();
            assert!(gone <= 1, "one rename per move");
            assert_eq!(displays(&after), displays(&start), "no part of a name lost");
        }
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
