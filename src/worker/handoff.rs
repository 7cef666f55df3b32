//! Handing a command the very file the worker validated. Passing the claim's path would let
//! the command open it again by name, and whoever can rename entries on that path (another user
//! of a group-shared queue, renaming `process/<id>` itself) could swap in a symbolic link to a
//! file only the worker may read. So the command gets a path that no other user can change:
//!
//! - the validated file is hard-linked, through its open descriptor, into a fresh folder of
//!   mode 0700 in the worker's claim folder, under the item's display name;
//! - that folder is opened, and the command inherits the descriptor, so `{input}` is
//!   `/dev/fd/<N>/<name>`: a real path with the item's name and extension, resolved through the
//!   folder the worker holds open, whatever happens to the names above it;
//! - where the link cannot be made (filesystems without hard links; with
//!   `fs.protected_hardlinks`, a file of another user that a non-root worker cannot write),
//!   `{input}` is `/dev/fd/<N>` of the validated file itself: same content, no name.

use std::ffi::{OsStr, OsString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, Mode, OFlags};

use super::ctx::Ctx;
use super::{EngineEvent, Outcome};
use crate::queue::{FileIdentity, Item};

/// The path a command reads its item by, and the descriptor it must inherit for that.
pub struct Handoff<'a> {
    /// `{input}` for the command.
    pub input: PathBuf,
    /// The private folder and the link's name in it, removed when the handoff is dropped.
    private: Option<(OwnedFd, PathBuf, OsString)>,
    file: &'a File,
}

impl<'a> Handoff<'a> {
    /// Prepares the handoff of `file` (open and validated) named `name`, with the private
    /// folder `.in-<seq>` in `claim_dir`.
    pub fn new(file: &'a File, claim_dir: &Path, seq: u64, name: &OsStr) -> Handoff<'a> {
        let private = link_privately(file, &claim_dir.join(format!(".in-{seq}")), name);
        let input = match &private {
            Some((dir, _, name)) => {
                let mut path = PathBuf::from(format!("/dev/fd/{}", dir.as_raw_fd()));
                path.push(name);
                path
            }
            None => PathBuf::from(format!("/dev/fd/{}", file.as_raw_fd())),
        };
        Handoff {
            input,
            private,
            file,
        }
    }

    /// The descriptor the command must inherit, at the same number, for `input` to work.
    pub fn inherit(&self) -> BorrowedFd<'_> {
        match &self.private {
            Some((dir, _, _)) => dir.as_fd(),
            None => self.file.as_fd(),
        }
    }
}

impl Drop for Handoff<'_> {
    fn drop(&mut self) {
        if let Some((dir, path, name)) = self.private.take() {
            let _ = rustix::fs::unlinkat(&dir, name.as_os_str(), AtFlags::empty());
            drop(dir);
            let _ = std::fs::remove_dir(path);
        }
    }
}

/// Makes `folder` (mode 0700) and links `file` into it as `name`; `None` where it cannot.
fn link_privately(
    file: &File,
    folder: &Path,
    name: &OsStr,
) -> Option<(OwnedFd, PathBuf, OsString)> {
    if name.is_empty() || name.as_bytes().contains(&b'/') || name == "." || name == ".." {
        return None;
    }
    rustix::fs::mkdir(folder, Mode::from_raw_mode(0o700)).ok()?;
    let made = || -> rustix::io::Result<OwnedFd> {
        let flags = OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::RDONLY | OFlags::CLOEXEC;
        let dir = rustix::fs::open(folder, flags, Mode::empty())?;
        let source = format!("/proc/self/fd/{}", file.as_raw_fd());
        rustix::fs::linkat(CWD, source.as_str(), &dir, name, AtFlags::SYMLINK_FOLLOW)?;
        Ok(dir)
    };
    match made() {
        Ok(dir) => Some((dir, folder.to_path_buf(), name.to_os_string())),
        Err(_) => {
            let _ = std::fs::remove_dir(folder);
            None
        }
    }
}

/// Why an item whose claimed file is another file than the one that was run is failed.
pub const REPLACED: &str = "replaced by another file while it ran (that file was not processed)";

/// What the claimed entry is after the run, against the file that was validated and run.
pub enum Claimed {
    Same,
    Gone,
    Symlink,
    Replaced,
}

/// The same file: same device and inode, or where a filesystem makes inode numbers up per name
/// (FUSE without `use_ino`), the same size and modification time.
pub fn claimed_now(path: &Path, validated: FileIdentity) -> Claimed {
    match std::fs::symlink_metadata(path) {
        Err(_) => Claimed::Gone,
        Ok(meta) if meta.file_type().is_symlink() => Claimed::Symlink,
        Ok(meta) if meta.is_file() => {
            let now = FileIdentity::of(&meta);
            let inode = |id: &FileIdentity| (id.dev, id.ino);
            let look = |id: &FileIdentity| (id.size, id.mtime_sec, id.mtime_nsec);
            if inode(&now) == inode(&validated) || look(&now) == look(&validated) {
                Claimed::Same
            } else {
                Claimed::Replaced
            }
        }
        Ok(_) => Claimed::Replaced,
    }
}

pub fn is_symlink(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink())
}

/// A claim that someone swapped for a symbolic link: the link is removed (never followed, never
/// moved into a state folder), and the item reported as failed.
pub fn drop_symlink(ctx: &Ctx, claimed: &Item, path: &Path) {
    let reason = "swapped for a symbolic link after it was claimed; the link was removed, \
                  never followed";
    if let Err(err) = std::fs::remove_file(path) {
        ctx.notice(format!(
            "{}: cannot remove a symbolic link: {err}",
            claimed.qualified()
        ));
    }
    ctx.notice(format!("{}: {reason}", claimed.qualified()));
    (ctx.events)(EngineEvent::Finished {
        item: claimed.clone(),
        outcome: Outcome::Failed {
            reason: reason.into(),
            final_: true,
        },
    });
}
