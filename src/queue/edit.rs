//! Editing an item in place without ever clobbering someone else's change.
//!
//! The commander's editor reads an item, lets the operator change it for minutes, then saves.
//! Meanwhile a worker may have claimed the item, another operator may have moved, replaced or
//! rewritten it. `replace_content` therefore saves only over the very file that was read (same
//! device, inode, size and modification time), and it saves atomically: readers see the old
//! content or the new, never half of it.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::error::{Error, IoContext, Result};
use super::{Item, Queue};

/// Which file an item was, and how it looked, when it was read: device, inode, size and
/// modification time. Two identities are equal only for the same, unchanged file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileIdentity {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_sec: i64,
    pub mtime_nsec: i64,
}

impl FileIdentity {
    /// The identity of a file from its metadata.
    pub fn of(meta: &fs::Metadata) -> FileIdentity {
        FileIdentity {
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime_sec: meta.mtime(),
            mtime_nsec: meta.mtime_nsec(),
        }
    }

    /// Why `now` is not the file this identity describes, or `None` when it is.
    fn difference(&self, now: &FileIdentity) -> Option<&'static str> {
        if (self.dev, self.ino) != (now.dev, now.ino) {
            Some("it was replaced by another file since you opened it")
        } else if (self.size, self.mtime_sec, self.mtime_nsec)
            != (now.size, now.mtime_sec, now.mtime_nsec)
        {
            Some("someone else changed it since you opened it")
        } else {
            None
        }
    }
}

/// Distinguishes the temp files of several saves in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl Queue {
    /// The identity of an item's file as it is now (not following symlinks).
    pub fn identity(&self, item: &Item) -> Result<FileIdentity> {
        let path = self.path_of(item);
        match fs::symlink_metadata(&path) {
            Ok(meta) => Ok(FileIdentity::of(&meta)),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                Err(Error::Vanished(item.qualified()))
            }
            Err(err) => Err(Error::io(&path, err)),
        }
    }

    /// Reads an item for editing: its content (at most `limit` bytes; one more is read so the
    /// caller can tell a file that grew past the limit) and the identity of the very file read.
    pub fn read_for_edit(&self, item: &Item, limit: u64) -> Result<(Vec<u8>, FileIdentity)> {
        let path = self.path_of(item);
        let file = File::open(&path).map_err(|err| match err.kind() {
            std::io::ErrorKind::NotFound => Error::Vanished(item.qualified()),
            _ => Error::io(&path, err),
        })?;
        let meta = file.metadata().at(&path)?;
        if !meta.is_file() {
            return Err(Error::NotRegular(item.qualified()));
        }
        let mut bytes = Vec::with_capacity(meta.len().min(limit) as usize);
        file.take(limit + 1).read_to_end(&mut bytes).at(&path)?;
        Ok((bytes, FileIdentity::of(&meta)))
    }

    /// Replaces the content of `item` with `bytes`, atomically, but only if its file is still
    /// the one described by `expected` (read when the editor opened it). Returns the identity of
    /// the new file, so the editor can save again.
    ///
    /// The new content goes to a hidden temp file (`.fsq-edit.<pid>.<n>.tmp`, never an item) in
    /// the item's folder, with the old file's permissions; it is fsynced; the item's path is
    /// checked (same device and inode, size and modification time); the temp file is renamed
    /// over it, and the folder is fsynced. A refusal names the item and the reason, and leaves
    /// no temp file behind.
    ///
    /// Between the check and the rename there is a window of two system calls. It is accepted
    /// because the race that matters is the one that lasts as long as the editor is open, and
    /// that one is closed; and because losing the small one loses nothing: if a worker claims
    /// the item in that window it processes the old content and the edited text becomes a new
    /// pending item of the same name; if someone rewrites the file in place in that window, the
    /// last writer wins, as with any editor. Closing it entirely would need a lock every other
    /// tool (mv, mc, a Samba client) ignores.
    pub fn replace_content(
        &self,
        item: &Item,
        expected: FileIdentity,
        bytes: &[u8],
    ) -> Result<FileIdentity> {
        let path = self.path_of(item);
        let refuse = |reason: &str| {
            Error::Invalid(format!(
                "{}: not saved, {reason}; your text is kept",
                item.qualified()
            ))
        };
        // Fail early, before writing anything, when the item is already gone.
        let now = match self.identity(item) {
            Ok(now) => now,
            Err(Error::Vanished(_)) => {
                return Err(refuse(
                    "it is no longer there (claimed by a worker, moved or deleted)",
                ));
            }
            Err(err) => return Err(err),
        };
        if let Some(reason) = expected.difference(&now) {
            return Err(refuse(reason));
        }
        let dir = path.parent().unwrap_or(Path::new("."));
        let temp = write_temp(dir, &path, bytes)?;
        let checked = match self.identity(item) {
            Ok(now) => match expected.difference(&now) {
                None => Ok(()),
                Some(reason) => Err(refuse(reason)),
            },
            Err(Error::Vanished(_)) => Err(refuse(
                "it is no longer there (claimed by a worker, moved or deleted)",
            )),
            Err(err) => Err(err),
        };
        let replaced = checked.and_then(|()| fs::rename(&temp, &path).at(&path));
        if let Err(err) = replaced {
            let _ = fs::remove_file(&temp);
            return Err(err);
        }
        File::open(dir).and_then(|d| d.sync_all()).at(dir)?;
        self.identity(item)
    }
}

/// Writes `bytes` to a new hidden temp file in `dir` with the permissions of `original`, flushed
/// to disk; returns its path. On failure nothing is left behind.
fn write_temp(dir: &Path, original: &Path, bytes: &[u8]) -> Result<PathBuf> {
    let mode = fs::metadata(original)
        .map(|meta| meta.permissions().mode() & 0o7777)
        .unwrap_or(0o644);
    let mut attempts = 0;
    let (temp, mut file) = loop {
        let n = TEMP_COUNTER.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(format!(".fsq-edit.{}.{n}.tmp", std::process::id()));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .open(&temp)
        {
            Ok(file) => break (temp, file),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists && attempts < 100 => {
                attempts += 1;
            }
            Err(err) => return Err(Error::io(&temp, err)),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(mode)))
        .and_then(|()| file.sync_all());
    if let Err(err) = written {
        let _ = fs::remove_file(&temp);
        return Err(Error::io(&temp, err));
    }
    Ok(temp)
}

#[cfg(test)]
mod tests {
    use super::super::State;
    use super::super::testutil::{ls, queue_with};
    use super::*;
    use std::ffi::OsStr;

    fn only_pending(q: &Queue) -> Item {
        q.list(State::Pending).unwrap().remove(0)
    }

    #[test]
    fn save_replaces_the_content_and_leaves_no_temp_file() {
        let (_dir, q) = queue_with(&["job.txt"]);
        let item = only_pending(&q);
        let (bytes, identity) = q.read_for_edit(&item, 1024).unwrap();
        assert_eq!(bytes, b"content of job.txt");
        let new_identity = q.replace_content(&item, identity, b"edited\n").unwrap();
        assert_eq!(fs::read(q.path_of(&item)).unwrap(), b"edited\n");
        assert_eq!(new_identity, q.identity(&item).unwrap());
        assert_eq!(
            ls(q.root()),
            [
                "_meta", "delayed", "failed", "job.txt", "new", "paused", "process", "success"
            ]
        );
        // A second save over the new identity works too.
        q.replace_content(&item, new_identity, b"again").unwrap();
        assert_eq!(fs::read(q.path_of(&item)).unwrap(), b"again");
    }

    #[test]
    fn save_is_refused_after_a_worker_claimed_the_item() {
        let (_dir, q) = queue_with(&["job.txt"]);
        let item = only_pending(&q);
        let identity = q.identity(&item).unwrap();
        let claimed = q.claim(&item, OsStr::new("w1")).unwrap().unwrap();
        let err = q.replace_content(&item, identity, b"edited").unwrap_err();
        let message = err.to_string();
        assert!(message.contains("pending/job.txt"), "{message}");
        assert!(message.contains("claimed by a worker"), "{message}");
        assert_eq!(
            fs::read(q.path_of(&claimed)).unwrap(),
            b"content of job.txt"
        );
        assert!(!q.root().join("job.txt").exists());
        assert_eq!(
            ls(&q.root().join("process/w1")),
            [claimed.file.to_str().unwrap()]
        );
    }

    #[test]
    fn save_is_refused_when_the_file_was_replaced_or_changed() {
        let (_dir, q) = queue_with(&["job.txt"]);
        let item = only_pending(&q);
        let identity = q.identity(&item).unwrap();
        let path = q.path_of(&item);
        // Replaced by another file of the same name (a new inode).
        fs::write(q.root().join("other"), "other").unwrap();
        fs::rename(q.root().join("other"), &path).unwrap();
        let err = q.replace_content(&item, identity, b"x").unwrap_err();
        assert!(
            err.to_string().contains("replaced by another file"),
            "{err}"
        );
        // Changed in place.
        let identity = q.identity(&item).unwrap();
        fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b" more")
            .unwrap();
        let err = q.replace_content(&item, identity, b"x").unwrap_err();
        assert!(err.to_string().contains("changed it"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"other more");
        assert_eq!(
            ls(q.root()).iter().filter(|n| n.starts_with('.')).count(),
            0
        );
    }

    #[test]
    fn save_keeps_the_file_mode() {
        let (_dir, q) = queue_with(&["script.sh"]);
        let item = only_pending(&q);
        let path = q.path_of(&item);
        fs::set_permissions(&path, fs::Permissions::from_mode(0o750)).unwrap();
        let identity = q.identity(&item).unwrap();
        q.replace_content(&item, identity, b"#!/bin/sh\n").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode, 0o750);
    }

    #[test]
    fn read_for_edit_reads_one_byte_past_the_limit() {
        let (_dir, q) = queue_with(&["big"]);
        let item = only_pending(&q);
        fs::write(q.path_of(&item), vec![b'a'; 100]).unwrap();
        let (bytes, identity) = q.read_for_edit(&item, 10).unwrap();
        assert_eq!(bytes.len(), 11);
        assert_eq!(identity.size, 100);
    }
}
