//! Adding items so that no reader ever sees half of one: the content is written under a hidden
//! temp name in `new/`, flushed to disk, then renamed into the root, which is flushed too.

use std::collections::HashSet;
use std::ffi::{OsStr, OsString};
use std::fs::{self, File};
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use super::error::{Error, IoContext, Result};
use super::name::{ItemId, display_name, is_item_name, numbered, printable};
use super::{Item, Queue, State};

/// Where the content of a new item comes from.
pub enum Source<'a> {
    /// A file; a symlink is refused unless `follow` is set.
    File { path: &'a Path, follow: bool },
    /// A stream, such as standard input.
    Reader(&'a mut dyn Read),
}

/// Whether `add` copies the source or moves it in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddMode {
    Copy,
    Move,
}

impl Queue {
    /// Adds one item called `name` (or a numbered variant if that name is taken in the root) and
    /// returns it.
    pub fn enqueue(&self, source: Source<'_>, name: &OsStr, mode: AddMode) -> Result<Item> {
        let mut batch = self.add_batch()?;
        batch.add(source, name, mode)?;
        let (_, placed) = batch
            .commit()
            .pop()
            .ok_or_else(|| Error::Invalid("nothing added".into()))?;
        placed
    }

    /// Starts adding several items at once: one listing of the root and one flush for all.
    pub fn add_batch(&self) -> Result<AddBatch<'_>> {
        self.create_inside(&self.state_dir(State::New))?;
        let taken = self
            .list(State::Pending)?
            .into_iter()
            .map(|item| item.display().to_os_string())
            .collect();
        Ok(AddBatch {
            queue: self,
            taken,
            staged: Vec::new(),
            placed: Vec::new(),
        })
    }

    /// Adds an item called `name` straight into `to` (any state but process): staged in `new/`,
    /// flushed, then renamed in under `name` or its first free numbered variant. Pending goes
    /// through `enqueue`'s rules. For the TUI's "new item" and "copy".
    pub fn add_to(&self, content: &mut dyn Read, name: &OsStr, to: State) -> Result<Item> {
        check_item_name(name)?;
        match to {
            State::Pending => return self.enqueue(Source::Reader(content), name, AddMode::Copy),
            State::Process => {
                return Err(Error::Invalid(
                    "items enter process/ only when a worker claims them".into(),
                ));
            }
            _ => {}
        }
        let batch = self.add_batch()?;
        let staged = batch.stage(content, Path::new("-"))?;
        let placed = File::open(&staged)
            .and_then(|f| f.sync_all())
            .at(&staged)
            .and_then(|()| {
                let item = Item {
                    state: to,
                    owner: None,
                    file: name.to_os_string(),
                };
                self.move_staged(&staged, &item)
            });
        if placed.is_err() {
            let _ = fs::remove_file(&staged);
        }
        placed
    }

    /// Copies an item into `to` under its display name (numbered if taken there).
    pub fn copy_to(&self, item: &Item, to: State) -> Result<Item> {
        let from = self.path_of(item);
        let mut file = open_regular(&from, false)?;
        self.add_to(&mut file, item.display(), to)
    }
}

/// Items being added together. Content is staged under hidden names in `new/`, flushed to disk
/// all at once, renamed into the root one by one, and the root is flushed once at the end: a
/// reader never sees a partial item, and a batch of thousands costs two flushes, not thousands.
pub struct AddBatch<'q> {
    queue: &'q Queue,
    /// Display names in use in the root.
    taken: HashSet<OsString>,
    staged: Vec<Staged>,
    /// What was asked for, and what became of it.
    placed: Vec<(OsString, Result<Item>)>,
}

struct Staged {
    tmp: PathBuf,
    name: OsString,
    /// The source of a move across filesystems, removed once its copy is in place.
    source: Option<PathBuf>,
}

impl AddBatch<'_> {
    /// Stages one item. A move within the queue's filesystem is a rename and happens at once.
    /// Errors here concern this item only; the batch goes on.
    pub fn add(&mut self, source: Source<'_>, name: &OsStr, mode: AddMode) -> Result<()> {
        check_item_name(name)?;
        let queue = self.queue;
        let (tmp, source) = match source {
            Source::File { path, follow } => {
                let file = open_regular(path, follow)?;
                if mode == AddMode::Move {
                    match self.place(name, |target| queue.rename.rename_noreplace(path, target)) {
                        Err(Error::Io { cause, .. }) if cause.raw_os_error() == Some(XDEV) => {}
                        placed => {
                            self.placed.push((name.to_os_string(), placed));
                            return Ok(());
                        }
                    }
                }
                let source = (mode == AddMode::Move).then(|| path.to_path_buf());
                (self.stage(file, path)?, source)
            }
            Source::Reader(reader) => (self.stage(reader, Path::new("-"))?, None),
        };
        self.staged.push(Staged {
            tmp,
            name: name.to_os_string(),
            source,
        });
        Ok(())
    }

    /// Flushes the staged content, renames each item into the root and flushes the root.
    /// Returns each requested name with the item it became, or why it did not.
    pub fn commit(mut self) -> Vec<(OsString, Result<Item>)> {
        let staged = std::mem::take(&mut self.staged);
        if let Err(err) = self.flush(&staged) {
            for item in &staged {
                let _ = fs::remove_file(&item.tmp);
            }
            let message = err.to_string();
            self.placed.extend(
                staged
                    .into_iter()
                    .map(|s| (s.name, Err(Error::Invalid(message.clone())))),
            );
            return self.placed;
        }
        let queue = self.queue;
        for item in staged {
            let placed = self.place(&item.name, |target| {
                queue.rename.rename_noreplace(&item.tmp, target)
            });
            match &placed {
                Err(_) => {
                    let _ = fs::remove_file(&item.tmp);
                }
                Ok(_) => {
                    if let Some(source) = &item.source {
                        let _ = fs::remove_file(source);
                    }
                }
            }
            self.placed.push((item.name, placed));
        }
        if let Err(err) = sync_dir(queue.root()) {
            // The items are in place; only their durability across a power cut is in doubt.
            for (_, placed) in &mut self.placed {
                if placed.is_ok() {
                    *placed = Err(Error::Invalid(err.to_string()));
                }
            }
        }
        self.placed
    }

    /// Writes `content` to a hidden temp file in `new/`.
    fn stage(&self, mut content: impl Read, from: &Path) -> Result<PathBuf> {
        // Unique across hosts sharing the queue, not just within this process.
        let tmp = self
            .queue
            .state_dir(State::New)
            .join(format!(".fsq-add.{}.part", ItemId::new()));
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .at(&tmp)?;
        if let Err(err) = io::copy(&mut content, &mut file) {
            let _ = fs::remove_file(&tmp);
            // A failed write names the temp file's disk; a failed read names the source.
            let path = if err.raw_os_error() == Some(ENOSPC) {
                tmp.as_path()
            } else {
                from
            };
            return Err(Error::io(path, err));
        }
        Ok(tmp)
    }

    /// Puts staged content on disk: each file for a few, the whole filesystem once for many.
    fn flush(&self, staged: &[Staged]) -> Result<()> {
        const FSYNC_EACH_UP_TO: usize = 8;
        if staged.len() <= FSYNC_EACH_UP_TO {
            for item in staged {
                File::open(&item.tmp)
                    .and_then(|f| f.sync_all())
                    .at(&item.tmp)?;
            }
            return Ok(());
        }
        let new_dir = self.queue.state_dir(State::New);
        let dir = File::open(&new_dir).at(&new_dir)?;
        rustix::fs::syncfs(&dir)
            .map_err(io::Error::from)
            .at(&new_dir)
    }

    /// Renames into the root with `rename_to`, under `name` or the first numbered variant whose
    /// display name is free in the root. A new item is a new item: a name that carries another
    /// item's id (a copy of a file from success/) is added under its display name alone.
    fn place(&mut self, name: &OsStr, rename_to: impl Fn(&Path) -> io::Result<()>) -> Result<Item> {
        let name = display_name(name);
        let mut candidate = name.to_os_string();
        let mut n = 1;
        loop {
            while self.taken.contains(display_name(&candidate)) {
                n += 1;
                candidate = numbered(name, n);
            }
            let target = self.queue.root().join(&candidate);
            match rename_to(&target) {
                Ok(()) => {
                    self.taken.insert(display_name(&candidate).to_os_string());
                    return Ok(Item {
                        state: State::Pending,
                        owner: None,
                        file: candidate,
                    });
                }
                Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
                    self.taken.insert(candidate.clone());
                }
                Err(err) => return Err(Error::io(&target, err)),
            }
        }
    }
}

const ENOSPC: i32 = rustix::io::Errno::NOSPC.raw_os_error();
const XDEV: i32 = rustix::io::Errno::XDEV.raw_os_error();

/// Refuses names that could never be items (they would vanish from every listing).
fn check_item_name(name: &OsStr) -> Result<()> {
    let bytes = name.as_bytes();
    if bytes.contains(&b'/')
        || bytes.contains(&0)
        || bytes.len() > 255
        || name == ".."
        || name == "."
    {
        return Err(Error::Invalid(format!(
            "{}: not a valid file name",
            printable(name)
        )));
    }
    if !is_item_name(name) {
        return Err(Error::Invalid(format!(
            "{}: hidden and temp names (.*, *.part, *.tmp, ~$*) are never items",
            printable(name)
        )));
    }
    Ok(())
}

/// Opens a source file, refusing symlinks (unless following them) and anything but a regular
/// file. The check is made on the open file, so a name swapped meanwhile cannot fool it.
fn open_regular(path: &Path, follow: bool) -> Result<File> {
    let mut options = fs::OpenOptions::new();
    options.read(true);
    if !follow {
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    let file = options.open(path).map_err(|err| {
        if err.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
            Error::Symlink(path.display().to_string())
        } else {
            Error::io(path, err)
        }
    })?;
    if !file.metadata().at(path)?.is_file() {
        return Err(Error::NotRegular(path.display().to_string()));
    }
    Ok(file)
}

/// Flushes a folder, so that renames into it are on disk.
fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).at(dir)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{ls, queue_with};
    use super::*;

    #[test]
    fn add_to_and_copy_to_place_items_in_any_state() {
        let (_dir, q) = queue_with(&["a.txt"]);
        let made = q
            .add_to(&mut io::empty(), OsStr::new("n.txt"), State::Paused)
            .unwrap();
        assert_eq!(made.state, State::Paused);
        let item = q.list(State::Pending).unwrap().remove(0);
        let copy = q.copy_to(&item, State::Paused).unwrap();
        assert_eq!(copy.file, "a.txt");
        q.copy_to(&item, State::Paused).unwrap();
        assert_eq!(
            ls(&q.state_dir(State::Paused)),
            ["a (2).txt", "a.txt", "n.txt"]
        );
        assert_eq!(ls(&q.state_dir(State::New)), Vec::<String>::new());
        assert!(
            q.add_to(&mut io::empty(), OsStr::new("x"), State::Process)
                .is_err()
        );
    }

    #[test]
    fn copies_and_numbers_taken_names() {
        let reordered = crate::queue::name::tagged(b"V", ItemId::new(), OsStr::new("a.txt"), false);
        let (dir, q) = queue_with(&[reordered.unwrap().to_str().unwrap()]);
        let src = dir.path().join("a.txt");
        fs::write(&src, "new").unwrap();
        let source = Source::File {
            path: &src,
            follow: false,
        };
        let item = q
            .enqueue(source, OsStr::new("a.txt"), AddMode::Copy)
            .unwrap();
        assert_eq!(item.file, "a (2).txt");
        assert!(src.exists());
        assert_eq!(
            ls(q.root()).iter().filter(|n| n.contains(".txt")).count(),
            2
        );
        assert_eq!(ls(&q.state_dir(State::New)), Vec::<String>::new());
    }

    #[test]
    fn move_takes_the_source() {
        let (dir, q) = queue_with(&[]);
        let src = dir.path().join("m");
        fs::write(&src, "x").unwrap();
        q.enqueue(
            Source::File {
                path: &src,
                follow: false,
            },
            OsStr::new("m"),
            AddMode::Move,
        )
        .unwrap();
        assert!(!src.exists());
        assert_eq!(fs::read(q.root().join("m")).unwrap(), b"x");
    }

    #[test]
    fn symlinks_are_refused_unless_followed() {
        let (dir, q) = queue_with(&[]);
        let target = dir.path().join("t");
        fs::write(&target, "t").unwrap();
        let link = dir.path().join("l");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = q.enqueue(
            Source::File {
                path: &link,
                follow: false,
            },
            OsStr::new("l"),
            AddMode::Copy,
        );
        assert!(matches!(err, Err(Error::Symlink(_))));
        q.enqueue(
            Source::File {
                path: &link,
                follow: true,
            },
            OsStr::new("l"),
            AddMode::Copy,
        )
        .unwrap();
        assert_eq!(fs::read(q.root().join("l")).unwrap(), b"t");
    }

    #[test]
    fn a_failing_reader_leaves_no_partial_item() {
        struct Broken(usize);
        impl Read for Broken {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::from_raw_os_error(28)); // ENOSPC
                }
                self.0 -= 1;
                buf[0] = b'x';
                Ok(1)
            }
        }
        let (_dir, q) = queue_with(&[]);
        let mut reader = Broken(3);
        let err = q.enqueue(Source::Reader(&mut reader), OsStr::new("x"), AddMode::Copy);
        assert!(err.is_err());
        assert!(q.list(State::Pending).unwrap().is_empty());
        assert!(
            fs::read_dir(q.state_dir(State::New))
                .unwrap()
                .next()
                .is_none()
        );
    }

    #[test]
    fn names_that_could_never_be_items_are_refused() {
        let (_dir, q) = queue_with(&[]);
        for name in [".hidden", "a.part", "", "..", "a/b"] {
            let mut empty: &[u8] = b"";
            assert!(
                q.enqueue(Source::Reader(&mut empty), OsStr::new(name), AddMode::Copy)
                    .is_err(),
                "{name}"
            );
        }
    }
}
