//! Dead-mount safety: is the queue folder still the filesystem it was when we opened it?
//!
//! When a network mount dies (sshfs whose connection dropped, an NFS export unmounted), the
//! mount point goes back to being the empty local folder underneath. Every rename there fails
//! with ENOENT, which looks exactly like losing a race, and every write creates files on the
//! local disk that nobody else sees. A worker must not mistake that for an empty or changed
//! queue: it stops claiming and writing until the mount is back.
//!
//! `MountGuard` records, at open, the queue root's device (`st_dev`) and the entry of
//! `/proc/self/mountinfo` it lives on (mount point, filesystem type, source). `check` costs two
//! `stat` calls while nothing changed. A changed device is either a lost mount or a remount:
//! the same source mounted again at the same place with the same type, holding `_meta/`, is the
//! same queue (a FUSE or NFS remount gets a new device number), and the guard adopts it.

use std::fmt;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::META;

/// One line of `/proc/self/mountinfo`, the parts we compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountEntry {
    pub mount_point: PathBuf,
    /// `nfs4`, `cifs`, `fuse.sshfs`, `fuse.glusterfs`, `ext4`...
    pub fstype: String,
    /// What is mounted: `server:/export`, `//server/share`, `root@10.0.0.1:/srv/q`...
    pub source: String,
}

/// Why the queue folder is not the mounted filesystem it was.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountLost(pub String);

impl fmt::Display for MountLost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for MountLost {}

/// Watches one queue root for its mount going away and coming back.
#[derive(Debug)]
pub struct MountGuard {
    root: PathBuf,
    dev: AtomicU64,
    mount: Option<MountEntry>,
}

impl MountGuard {
    /// Records what `root` is mounted on now.
    pub fn new(root: &Path) -> std::io::Result<MountGuard> {
        let dev = fs::metadata(root.join(META))?.dev();
        Ok(MountGuard {
            root: root.to_path_buf(),
            dev: AtomicU64::new(dev),
            mount: mount_of(root),
        })
    }

    /// The mount the queue was opened on, if `/proc/self/mountinfo` could say.
    pub fn mount(&self) -> Option<&MountEntry> {
        self.mount.as_ref()
    }

    /// Whether the queue root is still the filesystem it was (or that filesystem mounted again
    /// at the same place). One `stat` of `_meta/` while nothing changed; blocks only as long as
    /// that does.
    pub fn check(&self) -> Result<(), MountLost> {
        let meta = match fs::metadata(self.root.join(META)) {
            Ok(meta) => meta,
            Err(err) => {
                let what = self.describe();
                return Err(match fs::metadata(&self.root) {
                    Ok(_) => MountLost(format!(
                        "{what} is gone: the queue folder has no _meta/ (an empty mount point?)"
                    )),
                    Err(_) => MountLost(format!("{what} is unreachable ({err})")),
                });
            }
        };
        if meta.dev() == self.dev.load(Ordering::Relaxed) {
            return Ok(());
        }
        let what = self.describe();
        let now = mount_of(&self.root);
        match (&self.mount, &now) {
            (Some(then), Some(now)) if then == now => {
                // Remounted: same source, type and place. Adopt the new device number.
                self.dev.store(meta.dev(), Ordering::Relaxed);
                Ok(())
            }
            (_, Some(now)) => Err(MountLost(format!(
                "{what} is gone: the queue folder is now on {} ({})",
                now.mount_point.display(),
                now.fstype
            ))),
            _ => Err(MountLost(format!(
                "{what} is gone: the queue folder is on another device now"
            ))),
        }
    }

    fn describe(&self) -> String {
        match &self.mount {
            Some(m) => format!(
                "the mount of {} at {} ({})",
                m.source,
                m.mount_point.display(),
                m.fstype
            ),
            None => format!("the filesystem of {}", self.root.display()),
        }
    }
}

/// The mount `path` lives on: the entry of `/proc/self/mountinfo` with the longest mount point
/// that contains it (the last one wins where mounts are stacked).
pub fn mount_of(path: &Path) -> Option<MountEntry> {
    let path = fs::canonicalize(path).ok()?;
    let text = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mut best: Option<MountEntry> = None;
    for entry in text.lines().filter_map(parse_mountinfo_line) {
        let longer = best
            .as_ref()
            .is_none_or(|b| entry.mount_point.as_os_str().len() >= b.mount_point.as_os_str().len());
        if path.starts_with(&entry.mount_point) && longer {
            best = Some(entry);
        }
    }
    best
}

/// Parses `36 35 98:0 /mnt1 /mnt2 rw,noatime master:1 - ext3 /dev/root rw,errors=continue`.
fn parse_mountinfo_line(line: &str) -> Option<MountEntry> {
    let (left, right) = line.split_once(" - ")?;
    let mount_point = left.split(' ').nth(4)?;
    let mut right = right.split(' ');
    let fstype = right.next()?;
    let source = right.next()?;
    Some(MountEntry {
        mount_point: PathBuf::from(unescape(mount_point)),
        fstype: fstype.to_string(),
        source: unescape(source),
    })
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\011`, `\012`, `\134`).
pub(super) fn unescape(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let octal = bytes.get(i + 1..i + 4).and_then(|d| {
            std::str::from_utf8(d)
                .ok()
                .and_then(|d| u8::from_str_radix(d, 8).ok())
        });
        match (bytes[i], octal) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::super::testutil::queue_with;
    use super::*;

    #[test]
    fn parses_mountinfo_lines_with_escapes() {
        let line = "36 35 0:52 / /mnt/my\\040queue rw,relatime shared:1 - fuse.sshfs \
                    root@10.77.0.1:/srv/q rw,user_id=0";
        let entry = parse_mountinfo_line(line).unwrap();
        assert_eq!(entry.mount_point, Path::new("/mnt/my queue"));
        assert_eq!(entry.fstype, "fuse.sshfs");
        assert_eq!(entry.source, "root@10.77.0.1:/srv/q");
        assert_eq!(parse_mountinfo_line("garbage"), None);
    }

    #[test]
    fn a_healthy_queue_passes_and_a_vanished_meta_does_not() {
        let (_dir, q) = queue_with(&[]);
        let guard = MountGuard::new(q.root()).unwrap();
        assert_eq!(guard.check(), Ok(()));
        if cfg!(target_os = "linux") {
            assert!(guard.mount().is_some());
        }
        fs::rename(q.meta_path(""), q.root().join("_moved")).unwrap();
        let lost = guard.check().unwrap_err();
        assert!(lost.0.contains("_meta"), "{lost}");
        fs::rename(q.root().join("_moved"), q.meta_path("")).unwrap();
        assert_eq!(guard.check(), Ok(()));
    }

    #[test]
    fn a_missing_root_is_a_lost_mount() {
        let (dir, q) = queue_with(&[]);
        let guard = MountGuard::new(q.root()).unwrap();
        drop(q);
        fs::remove_dir_all(dir.path().join("q")).unwrap();
        assert!(guard.check().unwrap_err().0.contains("unreachable"));
    }

    #[test]
    fn another_device_is_a_lost_mount() {
        let (_dir, q) = queue_with(&[]);
        let guard = MountGuard::new(q.root()).unwrap();
        guard.dev.store(u64::MAX, Ordering::Relaxed);
        // Same mount entry, so it reads as a remount and is adopted.
        assert_eq!(guard.check(), Ok(()));
        let moved = MountGuard {
            mount: Some(MountEntry {
                mount_point: "/nowhere".into(),
                fstype: "nfs4".into(),
                source: "server:/q".into(),
            }),
            ..MountGuard::new(q.root()).unwrap()
        };
        moved.dev.store(u64::MAX, Ordering::Relaxed);
        assert!(
            moved.check().unwrap_err().0.contains("gone"),
            "{:?}",
            moved.check()
        );
    }
}
