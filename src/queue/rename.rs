//! The one way an item changes place: a rename that never replaces an existing file.
//!
//! Where the filesystem supports `renameat2(RENAME_NOREPLACE)` that is the whole story. Where it
//! answers EINVAL (sshfs, NFS, older kernels), we fall back to `link` + `unlink`: `link` fails
//! with EEXIST instead of clobbering, and the `unlink` of the source is the moment the move
//! happens. If two movers race, only one `unlink` succeeds; the loser removes its link and
//! reports the source as gone, exactly as a lost rename race would.
//!
//! On NFS a request can be sent twice (a retransmit after a lost reply); the server may then
//! answer the second copy with the error the repeat gets (ENOENT for a rename or unlink already
//! done, EEXIST for a link already made) although the first copy worked. So an error is not
//! believed blindly: we look where the file is. A source that is gone with the target present
//! is a move that happened; a link "refused" by the very file we were linking is our own link.
//!
//! GlusterFS (10.x, FUSE client) refuses RENAME_NOREPLACE too, but its link + unlink cannot
//! decide a race: under concurrent claims an `unlink` that failed on the server is now and then
//! answered with error 0, which the kernel passes on as success (the client log says
//! `UNLINK() /name => -1 (Success)`), so two hosts each believe they took the item. There a move
//! into a folder that only we write (our claim folder) is a plain `rename`, which the server does
//! atomically: the loser gets ENOENT. It cannot clobber, because nobody else creates names there
//! and we look for the name first.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

use rustix::fs::{CWD, RenameFlags};
use rustix::io::Errno;

/// How this filesystem does a no-clobber move, learnt from the first attempt.
#[derive(Debug, Default)]
pub struct RenameMode {
    mode: AtomicU8,
    /// Whether `st_nlink` counts links here (it reads 1 on sshfs), learnt on the first link.
    nlink: AtomicU8,
    /// Moves into a folder only we write are plain renames (GlusterFS, see the module doc).
    plain_into_own: bool,
}

const NOREPLACE: u8 = 1;
const LINK_UNLINK: u8 = 2;

const NLINK_COUNTS: u8 = 1;
const NLINK_CONSTANT: u8 = 2;

impl RenameMode {
    /// The mode for a queue whose root is `root`: plain renames into our own folders where the
    /// queue is on GlusterFS.
    pub fn for_root(root: &Path) -> RenameMode {
        let gluster = super::mount::mount_of(root).is_some_and(|m| m.fstype == "fuse.glusterfs");
        RenameMode {
            plain_into_own: gluster,
            ..RenameMode::default()
        }
    }

    /// Moves `from` into a folder that no one but us creates names in (a claim folder), never
    /// replacing a file there. Same errors as `rename_noreplace`.
    pub fn rename_into_own(&self, from: &Path, to: &Path) -> io::Result<()> {
        if !self.plain_into_own {
            return self.rename_noreplace(from, to);
        }
        if std::fs::symlink_metadata(to).is_ok() {
            return Err(io::ErrorKind::AlreadyExists.into());
        }
        std::fs::rename(from, to)
    }

    /// Whether moves fall back to link + unlink on this queue's filesystem.
    pub fn uses_link_fallback(&self) -> bool {
        self.mode.load(Ordering::Relaxed) == LINK_UNLINK
    }

    /// Moves `from` to `to`, failing with `AlreadyExists` rather than replacing `to`, and with
    /// `NotFound` when `from` is gone (or a racing mover took it).
    pub fn rename_noreplace(&self, from: &Path, to: &Path) -> io::Result<()> {
        if self.mode.load(Ordering::Relaxed) != LINK_UNLINK {
            match rustix::fs::renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
                Ok(()) => {
                    self.mode.store(NOREPLACE, Ordering::Relaxed);
                    return Ok(());
                }
                Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
                    self.mode.store(LINK_UNLINK, Ordering::Relaxed);
                }
                // ENOENT and EEXIST mean what they say here (a claim's caller checks its own
                // claim folder for a repeated rename); any other error may hide a done move.
                Err(errno)
                    if errno != Errno::EXIST && errno != Errno::NOENT && moved_anyway(from, to) =>
                {
                    return Ok(());
                }
                Err(errno) => return Err(errno.into()),
            }
        }
        self.link_then_unlink(from, to)
    }

    fn link_then_unlink(&self, from: &Path, to: &Path) -> io::Result<()> {
        // EEXIST from our own link to the source is a retransmitted link: go on.
        if let Err(err) = std::fs::hard_link(from, to)
            && !(err.kind() == io::ErrorKind::AlreadyExists && same_inode(from, to))
        {
            return Err(err);
        }
        if self.nlink.load(Ordering::Relaxed) == 0 {
            let counts = std::fs::symlink_metadata(to).is_ok_and(|m| m.nlink() >= 2);
            let learnt = if counts { NLINK_COUNTS } else { NLINK_CONSTANT };
            self.nlink.store(learnt, Ordering::Relaxed);
        }
        self.unlink_source(from, to)
    }

    /// The deciding step of a link move: unlink the source, or undo our link if we lost.
    fn unlink_source(&self, from: &Path, to: &Path) -> io::Result<()> {
        match std::fs::remove_file(from) {
            Ok(()) => Ok(()),
            Err(err) => {
                // ENOENT with our link as the only name left: our unlink was done by an earlier
                // copy of the request. Only where link counts are real can we tell.
                if err.kind() == io::ErrorKind::NotFound
                    && self.nlink.load(Ordering::Relaxed) == NLINK_COUNTS
                    && std::fs::symlink_metadata(to).is_ok_and(|m| m.nlink() == 1)
                {
                    return Ok(());
                }
                // Someone else moved the source first: their move stands, ours is undone.
                let _ = std::fs::remove_file(to);
                Err(err)
            }
        }
    }
}

/// Whether a move that reported an error happened all the same: the source is gone and the
/// target is there.
fn moved_anyway(from: &Path, to: &Path) -> bool {
    matches!(std::fs::symlink_metadata(from), Err(e) if e.kind() == io::ErrorKind::NotFound)
        && std::fs::symlink_metadata(to).is_ok()
}

/// Whether two names are links to one file.
fn same_inode(a: &Path, b: &Path) -> bool {
    match (std::fs::symlink_metadata(a), std::fs::symlink_metadata(b)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_replaces_and_reports_missing_source() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "A").unwrap();
        std::fs::write(&b, "B").unwrap();
        let mode = RenameMode::default();
        let err = mode.rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).unwrap(), b"B");
        std::fs::remove_file(&b).unwrap();
        mode.rename_noreplace(&a, &b).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"A");
        let err = mode.rename_noreplace(&a, &b).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }

    #[test]
    fn a_plain_move_into_our_own_folder_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "A").unwrap();
        std::fs::write(&b, "B").unwrap();
        let mode = RenameMode {
            plain_into_own: true,
            ..RenameMode::default()
        };
        let err = mode.rename_into_own(&a, &b).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(std::fs::read(&b).unwrap(), b"B");
        std::fs::remove_file(&b).unwrap();
        mode.rename_into_own(&a, &b).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"A");
        // The source gone (another host took it): NotFound, as a lost race.
        let err = mode.rename_into_own(&a, &dir.path().join("c")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!RenameMode::for_root(dir.path()).plain_into_own);
    }

    #[test]
    fn link_fallback_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "A").unwrap();
        std::fs::write(&b, "B").unwrap();
        let mode = RenameMode::default();
        let err = mode.link_then_unlink(&a, &b).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(a.exists());
        std::fs::remove_file(&b).unwrap();
        mode.link_then_unlink(&a, &b).unwrap();
        assert!(!a.exists());
        assert_eq!(std::fs::read(&b).unwrap(), b"A");
        assert_eq!(mode.nlink.load(Ordering::Relaxed), NLINK_COUNTS);
    }

    #[test]
    fn a_retransmitted_link_is_our_own_link() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "A").unwrap();
        // The first copy of the request made the link; the repeat would say EEXIST.
        std::fs::hard_link(&a, &b).unwrap();
        RenameMode::default().link_then_unlink(&a, &b).unwrap();
        assert!(!a.exists());
        assert_eq!(std::fs::read(&b).unwrap(), b"A");
    }

    #[test]
    fn a_retransmitted_unlink_is_not_a_lost_race() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&b, "A").unwrap();
        // Our link was made and the first unlink done; its repeat says ENOENT.
        let mode = RenameMode::default();
        mode.nlink.store(NLINK_COUNTS, Ordering::Relaxed);
        mode.unlink_source(&a, &b).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), b"A");
    }

    #[test]
    fn a_lost_link_race_undoes_only_our_link() {
        let dir = tempfile::tempdir().unwrap();
        let (a, ours, theirs) = (
            dir.path().join("a"),
            dir.path().join("ours"),
            dir.path().join("theirs"),
        );
        std::fs::write(&a, "A").unwrap();
        std::fs::hard_link(&a, &ours).unwrap();
        std::fs::hard_link(&a, &theirs).unwrap();
        std::fs::remove_file(&a).unwrap();
        let mode = RenameMode::default();
        mode.nlink.store(NLINK_COUNTS, Ordering::Relaxed);
        let err = mode.unlink_source(&a, &ours).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(!ours.exists());
        assert_eq!(std::fs::read(&theirs).unwrap(), b"A");
    }

    #[test]
    fn where_link_counts_are_fake_enoent_stays_a_lost_race() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&b, "A").unwrap();
        let mode = RenameMode::default();
        mode.nlink.store(NLINK_CONSTANT, Ordering::Relaxed);
        assert!(mode.unlink_source(&a, &b).is_err());
        assert!(!b.exists());
    }

    #[test]
    fn an_error_after_the_move_happened_is_recognised() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&b, "A").unwrap();
        assert!(moved_anyway(&a, &b));
        std::fs::write(&a, "A").unwrap();
        assert!(!moved_anyway(&a, &b));
    }
}
