//! The one way an item changes place: a rename that never replaces an existing file.
//!
//! Where the filesystem supports `renameat2(RENAME_NOREPLACE)` that is the whole story. Where it
//! answers EINVAL (sshfs, some NFS servers, older kernels), we fall back to `link` + `unlink`:
//! `link` fails with EEXIST instead of clobbering, and the `unlink` of the source is the moment
//! the move happens. If two movers race, only one `unlink` succeeds; the loser removes its link
//! and reports the source as gone, exactly as a lost rename race would.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};

use rustix::fs::{CWD, RenameFlags};
use rustix::io::Errno;

/// How this filesystem does a no-clobber move, learnt from the first attempt.
#[derive(Debug, Default)]
pub struct RenameMode(AtomicU8);

const NOREPLACE: u8 = 1;
const LINK_UNLINK: u8 = 2;

impl RenameMode {
    /// Whether moves fall back to link + unlink on this queue's filesystem.
    pub fn uses_link_fallback(&self) -> bool {
        self.0.load(Ordering::Relaxed) == LINK_UNLINK
    }

    /// Moves `from` to `to`, failing with `AlreadyExists` rather than replacing `to`, and with
    /// `NotFound` when `from` is gone (or a racing mover took it).
    pub fn rename_noreplace(&self, from: &Path, to: &Path) -> io::Result<()> {
        if self.0.load(Ordering::Relaxed) != LINK_UNLINK {
            match rustix::fs::renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
                Ok(()) => {
                    self.0.store(NOREPLACE, Ordering::Relaxed);
                    return Ok(());
                }
                Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
                    self.0.store(LINK_UNLINK, Ordering::Relaxed);
                }
                Err(errno) => return Err(errno.into()),
            }
        }
        link_then_unlink(from, to)
    }
}

fn link_then_unlink(from: &Path, to: &Path) -> io::Result<()> {
    std::fs::hard_link(from, to)?;
    match std::fs::remove_file(from) {
        Ok(()) => Ok(()),
        Err(err) => {
            // Someone else moved the source first: their move stands, ours is undone.
            let _ = std::fs::remove_file(to);
            Err(err)
        }
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
    fn link_fallback_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::write(&a, "A").unwrap();
        std::fs::write(&b, "B").unwrap();
        let err = link_then_unlink(&a, &b).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(a.exists());
        std::fs::remove_file(&b).unwrap();
        link_then_unlink(&a, &b).unwrap();
        assert!(!a.exists());
        assert_eq!(std::fs::read(&b).unwrap(), b"A");
    }
}
