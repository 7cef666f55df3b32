//! Listing items and finding them by name. Listings read folders, never files: entry types come
//! from the directory entries, so a hundred thousand items list in milliseconds.

use std::ffi::{OsStr, OsString};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;

use super::error::{Error, IoContext, Result};
use super::name::{is_item_name, printable};
use super::order_key::processing_order;
use super::{Item, META, Queue, State};

/// Something in the queue root that can never be an item: a symlink, a FIFO, a socket or a
/// device. Workers move these to `failed/` with `reason`, where they are listed and counted with
/// the failed items. (A folder in the root is not a stray: it is left where it is.)
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stray {
    pub file: OsString,
    pub reason: &'static str,
}

impl Queue {
    /// The items of `state` in processing order. Reads only the folder, never the files, so a
    /// hundred thousand items list in milliseconds. A missing state folder is an empty state.
    pub fn list(&self, state: State) -> Result<Vec<Item>> {
        let dir = self.state_dir(state);
        let mut items = Vec::new();
        if state == State::Process {
            for (name, kind) in read_dir(&dir)? {
                if kind.is_dir() {
                    // Another user's claim folder (mode 0700) cannot be read: not ours to show.
                    let claims = match read_dir(&dir.join(&name)) {
                        Err(Error::Io { cause, .. })
                            if cause.kind() == io::ErrorKind::PermissionDenied =>
                        {
                            Vec::new()
                        }
                        other => other?,
                    };
                    for (file, kind) in claims {
                        if kind.is_file() && is_item_name(&file) {
                            items.push(Item {
                                state,
                                owner: Some(name.clone()),
                                file,
                            });
                        }
                    }
                } else if kind.is_file() && is_item_name(&name) {
                    items.push(Item {
                        state,
                        owner: None,
                        file: name,
                    });
                }
            }
        } else {
            for (file, kind) in read_dir(&dir)? {
                if lists(state, kind) && is_item_name(&file) {
                    items.push(Item {
                        state,
                        owner: None,
                        file,
                    });
                }
            }
        }
        items.sort_unstable_by(|a, b| processing_order(&a.file, &b.file));
        Ok(items)
    }

    /// Which of `files` are items of `state` now, in processing order: one `lstat` per name, so
    /// a few changed names in a huge folder are looked at without listing it. Claimed items
    /// (inside claim folders in `process/`) are not found this way; re-list `process/` instead.
    pub fn list_named(&self, state: State, files: &[OsString]) -> Vec<Item> {
        let dir = self.state_dir(state);
        let mut items: Vec<Item> = files
            .iter()
            .filter(|file| is_item_name(file))
            .filter(|file| {
                fs::symlink_metadata(dir.join(file)).is_ok_and(|m| lists(state, m.file_type()))
            })
            .map(|file| Item {
                state,
                owner: None,
                file: file.clone(),
            })
            .collect();
        items.sort_unstable_by(|a, b| processing_order(&a.file, &b.file));
        items.dedup();
        items
    }

    /// Entries in the root that are neither items, temp files nor the queue's own folders.
    pub fn strays(&self) -> Result<Vec<Stray>> {
        let mut strays = Vec::new();
        for (file, kind) in read_dir(&self.root)? {
            let reason = if kind.is_symlink() {
                "a symbolic link, never followed"
            } else if kind.is_dir() || kind.is_file() || !is_item_name(&file) {
                continue;
            } else {
                "not a regular file (FIFO, socket or device)"
            };
            strays.push(Stray { file, reason });
        }
        Ok(strays)
    }

    /// Folders in the root that are not the queue's own (`mkdir "Holiday photos"`, an archived
    /// `success/` renamed): never items, never moved, shown for what they are.
    pub fn root_folders(&self) -> Result<Vec<OsString>> {
        let mut folders: Vec<OsString> = read_dir(&self.root)?
            .into_iter()
            .filter(|(name, kind)| kind.is_dir() && is_item_name(name) && !is_reserved_folder(name))
            .map(|(name, _)| name)
            .collect();
        folders.sort_unstable_by(|a, b| processing_order(a, b));
        Ok(folders)
    }

    /// Which of `files` are folders in the root now (as `root_folders` counts them).
    pub fn root_folders_named(&self, files: &[OsString]) -> Vec<OsString> {
        files
            .iter()
            .filter(|name| is_item_name(name) && !is_reserved_folder(name))
            .filter(|name| fs::symlink_metadata(self.root.join(name)).is_ok_and(|m| m.is_dir()))
            .cloned()
            .collect()
    }

    /// Every item of every state, for resolving names.
    pub fn snapshot(&self) -> Result<Snapshot> {
        let mut items = Vec::new();
        for state in State::ALL {
            items.extend(self.list(state)?);
        }
        let whole_names = items
            .iter()
            .filter(|item| item.name_is_shortened())
            .map(|item| (item.file.clone(), self.full_name(item)))
            .collect();
        Ok(Snapshot { items, whole_names })
    }
}

/// Whether an entry of this kind is listed in `state`: regular files everywhere, and in failed/
/// anything else too (the strays workers put there), so nothing sits there unseen and uncounted.
fn lists(state: State, kind: fs::FileType) -> bool {
    kind.is_file() || state == State::Failed
}

/// Folders in the root that belong to the queue: the state folders, `_meta`, and any folder whose
/// name starts with `_` (such as the default output folder `_out`).
fn is_reserved_folder(name: &OsStr) -> bool {
    name.as_bytes().starts_with(b"_")
        || name == META
        || State::ALL
            .iter()
            .any(|s| s.folder().is_some_and(|f| f == name))
}

/// Names and entry types of a folder; a missing folder reads as empty.
fn read_dir(dir: &std::path::Path) -> Result<Vec<(OsString, fs::FileType)>> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(Error::io(dir, err)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.at(dir)?;
        // file_type() comes from the directory entry where the filesystem gives it: no stat.
        match entry.file_type() {
            Ok(kind) => out.push((entry.file_name(), kind)),
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(Error::io(entry.path(), err)),
        }
    }
    Ok(out)
}

/// Every item at one moment, for turning the names users type into items.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub items: Vec<Item>,
    /// The whole names of items whose file names carry a shortened form, by file name.
    whole_names: std::collections::HashMap<OsString, OsString>,
}

impl Snapshot {
    /// The part of the snapshot that is in `state`.
    pub fn in_state(&self, state: State) -> Snapshot {
        let items: Vec<Item> = self
            .items
            .iter()
            .filter(|i| i.state == state)
            .cloned()
            .collect();
        let whole_names = self
            .whole_names
            .iter()
            .filter(|(file, _)| items.iter().any(|i| &i.file == *file))
            .map(|(file, whole)| (file.clone(), whole.clone()))
            .collect();
        Snapshot { items, whole_names }
    }

    /// Finds the item `spec` names: `STATE/NAME`, or a name (display or file name) that only one
    /// item has. A file name that matches exactly wins over display names.
    pub fn resolve(&self, spec: &OsStr) -> Result<Item> {
        let bytes = spec.as_bytes();
        let (state, name) = match bytes.iter().position(|b| *b == b'/') {
            Some(slash) => {
                let state = std::str::from_utf8(&bytes[..slash])
                    .ok()
                    .and_then(|s| s.parse::<State>().ok())
                    .ok_or_else(|| Error::NoSuchItem(printable(spec)))?;
                (Some(state), OsStr::from_bytes(&bytes[slash + 1..]))
            }
            None => (None, spec),
        };
        let in_state = |item: &&Item| state.is_none_or(|s| s == item.state);
        let exact: Vec<&Item> = self
            .items
            .iter()
            .filter(in_state)
            .filter(|i| i.file == name)
            .collect();
        let matches = if exact.is_empty() {
            self.items
                .iter()
                .filter(in_state)
                .filter(|i| {
                    i.display() == name
                        || self
                            .whole_names
                            .get(&i.file)
                            .is_some_and(|whole| whole == name)
                })
                .collect()
        } else {
            exact
        };
        match matches.as_slice() {
            [] => Err(Error::NoSuchItem(printable(spec))),
            [one] => Ok((*one).clone()),
            many => Err(Error::Ambiguous {
                name: printable(spec),
                states: many
                    .iter()
                    .map(|i| i.qualified())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ItemId;
    use super::super::testutil::{names, queue_with};
    use super::*;

    #[test]
    fn lists_items_in_byte_order_and_skips_non_items() {
        let (_dir, q) = queue_with(&["b", "a", "C", ".hidden", "x.part", "~$lock"]);
        std::os::unix::fs::symlink("a", q.root().join("link")).unwrap();
        fs::create_dir(q.root().join("stray")).unwrap();
        assert_eq!(names(&q.list(State::Pending).unwrap()), ["C", "a", "b"]);
        let strays: Vec<_> = q.strays().unwrap().into_iter().map(|s| s.file).collect();
        assert_eq!(strays, ["link"], "a folder is not a stray");
        assert_eq!(q.root_folders().unwrap(), ["stray"]);
    }

    #[test]
    fn strays_in_failed_are_listed_with_the_failed_items() {
        let (_dir, q) = queue_with(&[]);
        let failed = q.state_dir(State::Failed);
        fs::create_dir_all(&failed).unwrap();
        fs::write(failed.join("bad.txt"), "").unwrap();
        std::os::unix::fs::symlink("nowhere", failed.join("link")).unwrap();
        fs::create_dir(failed.join("Holiday photos")).unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            failed.join("pipe"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let all = ["Holiday photos", "bad.txt", "link", "pipe"];
        assert_eq!(names(&q.list(State::Failed).unwrap()), all);
        let asked: Vec<OsString> = all.iter().map(OsString::from).collect();
        assert_eq!(names(&q.list_named(State::Failed, &asked)), all);
    }

    #[test]
    fn list_named_finds_only_items_there_now() {
        let (_dir, q) = queue_with(&["b", "a", ".hidden"]);
        std::os::unix::fs::symlink("a", q.root().join("link")).unwrap();
        fs::create_dir(q.root().join("stray")).unwrap();
        let asked: Vec<OsString> = ["b", "gone", "a", ".hidden", "link", "stray", "paused"]
            .into_iter()
            .map(OsString::from)
            .collect();
        assert_eq!(names(&q.list_named(State::Pending, &asked)), ["a", "b"]);
    }

    #[test]
    fn resolve_handles_prefixes_states_and_ambiguity() {
        let tagged = super::super::name::tagged(b"V", ItemId::new(), "a".as_ref(), false).unwrap();
        let (_dir, q) = queue_with(&[tagged.to_str().unwrap(), "b", "V!c"]);
        fs::write(q.state_dir(State::Failed).join("b"), "").unwrap();
        let snap = q.snapshot().unwrap();
        assert_eq!(snap.resolve("a".as_ref()).unwrap().file, tagged);
        assert_eq!(snap.resolve(&tagged).unwrap().file, tagged);
        // A name people chose is never read as carrying a key.
        assert!(snap.resolve("c".as_ref()).is_err());
        assert_eq!(snap.resolve("V!c".as_ref()).unwrap().file, "V!c");
        assert!(matches!(
            snap.resolve("b".as_ref()),
            Err(Error::Ambiguous { .. })
        ));
        assert_eq!(
            snap.resolve("failed/b".as_ref()).unwrap().state,
            State::Failed
        );
        assert!(matches!(
            snap.resolve("zzz".as_ref()),
            Err(Error::NoSuchItem(_))
        ));
    }
}
