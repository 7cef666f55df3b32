//! Files a worker or commander obeys must be safe from other users, like sshd's `StrictModes`
//! or `postfix check`: a `_meta/config.toml`, a hook or command program, or a theme file that
//! someone else could have written would let that someone run anything as the user running
//! fsq (often root). Such a file stops the worker and the commander, with the fix in the message.
//!
//! The rule: the file (symbolic links followed: the target is what gets read) must not be
//! writable by group or others, and must be owned by the user running fsq or by root. A file
//! that does not exist is not judged here (its absence has its own error or default).

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::error::{Error, Result};
use super::{Config, Queue};

/// Why `path` must not be obeyed, with the command that fixes it; `None` when it is safe (or
/// missing).
pub fn unsafe_permissions(path: &Path) -> Option<String> {
    let meta = std::fs::metadata(path).ok()?;
    let me = rustix::process::geteuid().as_raw();
    let shown = path.display();
    if meta.uid() != me && meta.uid() != 0 {
        return Some(format!(
            "{shown} is owned by uid {}, not by you (uid {me}) or root, so its owner could make \
             fsq run anything as you; refusing it (fix: chown {me} {shown}, or root)",
            meta.uid()
        ));
    }
    if meta.mode() & 0o022 != 0 {
        let who = if meta.mode() & 0o002 != 0 {
            "anyone"
        } else {
            "its group"
        };
        return Some(format!(
            "{shown} is writable by {who} (mode {:o}), who could make fsq run anything as you; \
             refusing it (fix: chmod go-w {shown})",
            meta.mode() & 0o7777
        ));
    }
    None
}

impl Queue {
    /// Reads `_meta/config.toml` for a worker or commander, which obey it: refused when another
    /// user could have written it (see `unsafe_permissions`).
    pub fn trusted_config(&self) -> Result<Config> {
        let path = self.config_path();
        if let Some(problem) = unsafe_permissions(&path) {
            return Err(Error::Invalid(problem));
        }
        self.config()
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::super::testutil::queue_with;
    use super::*;

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_file_others_can_write_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hook");
        fs::write(&path, "").unwrap();
        chmod(&path, 0o755);
        assert_eq!(unsafe_permissions(&path), None);
        chmod(&path, 0o775);
        let problem = unsafe_permissions(&path).unwrap();
        assert!(problem.contains("writable by its group"), "{problem}");
        assert!(problem.contains(&format!("chmod go-w {}", path.display())));
        chmod(&path, 0o646);
        assert!(unsafe_permissions(&path).unwrap().contains("by anyone"));
        assert_eq!(unsafe_permissions(&dir.path().join("missing")), None);
    }

    #[test]
    fn a_file_owned_by_another_user_is_refused_unless_root_owns_it() {
        if !rustix::process::geteuid().is_root() {
            return; // chown to another user needs root
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, "").unwrap();
        std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
        let problem = unsafe_permissions(&path).unwrap();
        assert!(problem.contains("owned by uid 65534"), "{problem}");
        assert!(problem.contains("chown 0"), "{problem}");
        std::os::unix::fs::chown(&path, Some(0), Some(65534)).unwrap();
        assert_eq!(unsafe_permissions(&path), None);
    }

    #[test]
    fn a_config_others_can_write_is_not_obeyed() {
        let (_dir, queue) = queue_with(&[]);
        assert!(queue.trusted_config().is_ok());
        chmod(&queue.config_path(), 0o666);
        let err = queue.trusted_config().unwrap_err().to_string();
        assert!(
            err.contains("chmod go-w") && err.contains("config.toml"),
            "{err}"
        );
    }
}
