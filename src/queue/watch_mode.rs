//! Whether file events can be trusted for a queue, or it must be polled.
//!
//! inotify reports only what this kernel does. On NFS, SMB/CIFS, CephFS and FUSE filesystems
//! (sshfs, GlusterFS) another host's rename into the queue raises no event here, so a worker
//! or a TUI that waited for events would never see it. Those are recognised by the statfs magic
//! number, and named by the `/proc/self/mountinfo` type where it says more (`fuse.sshfs`).
//! The worker and the TUI both ask `watch_mode` and poll at the interval it gives.

use std::path::Path;
use std::time::Duration;

use super::mount::mount_of;

/// How changes to a queue folder are noticed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WatchMode {
    /// Local filesystem: inotify sees every change.
    Inotify,
    /// Network or FUSE filesystem: list the folder every `interval`.
    Poll {
        interval: Duration,
        /// What the filesystem is, for headers and notices: "NFS", "sshfs", "GlusterFS"...
        fs_name: String,
    },
}

/// The polling interval where events cannot be trusted: new items start within a second, and a
/// listing a second costs a few small requests on the server.
pub const DEFAULT_POLL: Duration = Duration::from_secs(1);

/// statfs magic numbers of filesystems where other hosts' changes raise no local event.
const REMOTE_MAGICS: [(u32, &str); 7] = [
    (0x6969, "NFS"),
    (0x517B, "SMB"),
    (0xFF53_4D42, "CIFS"),
    (0xFE53_4D42, "SMB2"),
    (0x00C3_6400, "CephFS"),
    (0x0102_1997, "9p"),
    (0x6573_5546, "FUSE"),
];

/// How to watch the queue at `path`: `Poll` on network and FUSE filesystems, else `Inotify`.
pub fn watch_mode(path: &Path) -> WatchMode {
    match remote_filesystem(path) {
        Some(fs_name) => WatchMode::Poll {
            interval: DEFAULT_POLL,
            fs_name,
        },
        None => WatchMode::Inotify,
    }
}

/// The name of the network or FUSE filesystem `path` is on, or `None` for a local one.
pub fn remote_filesystem(path: &Path) -> Option<String> {
    let by_magic = rustix::fs::statfs(path)
        .ok()
        .and_then(|stat| magic_name(stat.f_type as u32));
    let fstype = mount_of(path).map(|m| m.fstype);
    match (by_magic, fstype.as_deref().and_then(fstype_name)) {
        (_, Some(name)) => Some(name),
        (Some(name), None) => Some(name.to_string()),
        (None, None) => None,
    }
}

fn magic_name(magic: u32) -> Option<&'static str> {
    REMOTE_MAGICS
        .iter()
        .find(|(m, _)| *m == magic)
        .map(|(_, name)| *name)
}

/// A readable name for a mountinfo type that is remote, or `None` for a local one.
fn fstype_name(fstype: &str) -> Option<String> {
    let name = match fstype {
        "nfs" | "nfs4" => "NFS",
        "cifs" | "smb3" | "smbfs" => "SMB",
        "ceph" => "CephFS",
        "9p" => "9p",
        "fuse.sshfs" => "sshfs",
        "fuse.glusterfs" => "GlusterFS",
        "fuse.cephfs" | "fuse.ceph-fuse" => "CephFS",
        other => match other.strip_prefix("fuse.") {
            Some(sub) => return Some(format!("FUSE ({sub})")),
            None if other == "fuse" || other == "fuseblk" => "FUSE",
            None => return None,
        },
    };
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_remote_filesystems() {
        assert_eq!(fstype_name("nfs4").as_deref(), Some("NFS"));
        assert_eq!(fstype_name("fuse.sshfs").as_deref(), Some("sshfs"));
        assert_eq!(fstype_name("fuse.rclone").as_deref(), Some("FUSE (rclone)"));
        assert_eq!(fstype_name("ext4"), None);
        assert_eq!(magic_name(0x6969), Some("NFS"));
        assert_eq!(magic_name(0xEF53), None);
    }

    #[test]
    fn a_temp_dir_is_watched_unless_it_is_remote() {
        let dir = tempfile::tempdir().unwrap();
        match watch_mode(dir.path()) {
            WatchMode::Inotify => assert!(remote_filesystem(dir.path()).is_none()),
            WatchMode::Poll { interval, fs_name } => {
                assert_eq!(interval, DEFAULT_POLL);
                assert!(!fs_name.is_empty());
            }
        }
    }
}
