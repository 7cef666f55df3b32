//! Whether the mount a queue lives on shows other hosts' changes promptly. Network filesystems
//! cache attributes, directory listings and "no such file" answers by default, for up to a
//! minute: a new item then stays invisible, a claimed one seems still there. docs/SCALE-OUT.md
//! lists the mount options that matter; this module reads them back and says which are missing.
//!
//! NFS and SMB show their options in `/proc/self/mountinfo`. FUSE filesystems (sshfs,
//! GlusterFS) keep theirs in the daemon's command line, found in `/proc/*/cmdline` by the mount
//! point; when that process is not visible (another user's, another namespace) we cannot say.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use super::mount::{mount_of, unescape};

/// Attribute or directory caching longer than this delays what other hosts see noticeably.
const MAX_CACHE_SECS: u64 = 2;

/// What was learnt about a mount's caching.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CacheReport {
    /// The filesystem type from mountinfo (`nfs4`, `fuse.sshfs`, `ext4`...).
    pub fstype: String,
    /// One line per option that makes other hosts' changes show late.
    pub problems: Vec<String>,
    /// Things we could not check, in words.
    pub notes: Vec<String>,
}

/// Reads the caching options of the mount holding `path`.
pub fn mount_cache(path: &Path) -> CacheReport {
    let Some(entry) = mount_of(path) else {
        return CacheReport {
            notes: vec!["cannot read /proc/self/mountinfo: mount options not checked".into()],
            ..CacheReport::default()
        };
    };
    let options = mount_options(&entry.mount_point).unwrap_or_default();
    let daemon = || fuse_daemon_args(&entry.mount_point);
    let mut report = judge(&entry.fstype, &options, daemon);
    for problem in &mut report.problems {
        *problem = format!(
            "{} on {} ({}): {problem}",
            entry.source,
            entry.mount_point.display(),
            entry.fstype
        );
    }
    report
}

/// Judges a mount from its type, its mountinfo options (mount and superblock options joined by
/// a comma) and, for FUSE, the daemon's arguments (`None` when it could not be found).
fn judge(fstype: &str, options: &str, daemon: impl FnOnce() -> Option<Vec<String>>) -> CacheReport {
    let mut report = CacheReport {
        fstype: fstype.to_string(),
        ..CacheReport::default()
    };
    let opts = parse_options(options.split(','));
    match fstype {
        "nfs" | "nfs4" => judge_nfs(&opts, &mut report),
        "cifs" | "smb3" => judge_smb(&opts, &mut report),
        "fuse.sshfs" => judge_sshfs(daemon(), &mut report),
        "fuse.glusterfs" => judge_glusterfs(daemon(), &mut report),
        _ => {}
    }
    report
}

type Options = HashMap<String, Option<String>>;

/// The longest of these options' values in seconds, if any is set.
fn longest_secs(opts: &Options, keys: &[&str]) -> Option<u64> {
    keys.iter()
        .filter_map(|key| opts.get(*key)?.as_deref()?.parse::<u64>().ok())
        .max()
}

fn judge_nfs(opts: &Options, report: &mut CacheReport) {
    let cached = longest_secs(opts, &["acdirmax", "acregmax"]).unwrap_or(60);
    if !opts.contains_key("noac") && cached > MAX_CACHE_SECS {
        report.problems.push(format!(
            "attributes are cached for up to {cached}s, so other hosts' renames show \
             that late; remount with actimeo=1 (or noac for small queues)"
        ));
    }
    let lookup = opts.get("lookupcache").cloned().flatten();
    if !matches!(lookup.as_deref(), Some("none" | "pos" | "positive")) {
        report.problems.push(
            "\"no such file\" answers are cached (lookupcache=all), which can hide new \
             items; remount with lookupcache=positive"
                .into(),
        );
    }
}

fn judge_smb(opts: &Options, report: &mut CacheReport) {
    let cached = longest_secs(opts, &["actimeo", "acdirmax", "acregmax"]).unwrap_or(1);
    if cached > MAX_CACHE_SECS {
        report.problems.push(format!(
            "attributes and listings are cached for up to {cached}s; remount with \
             actimeo=1"
        ));
    }
}

fn judge_sshfs(daemon: Option<Vec<String>>, report: &mut CacheReport) {
    let Some(args) = daemon else {
        return report.notes.push(
            "the sshfs process of this mount is not visible here: make sure it runs with \
             -o dir_cache=no"
                .into(),
        );
    };
    let o = parse_options(sshfs_options(&args));
    let off = |k: &str| o.get(k).cloned().flatten().as_deref() == Some("no");
    if !off("dir_cache") && !off("cache") {
        report.problems.push(
            "sshfs caches directory listings (dir_cache is on), so a new file takes \
             up to 20s to show; mount with -o dir_cache=no,entry_timeout=0,\
             attr_timeout=0"
                .into(),
        );
    }
}

fn judge_glusterfs(daemon: Option<Vec<String>>, report: &mut CacheReport) {
    let Some(args) = daemon else {
        return report.notes.push(
            "the glusterfs client process is not visible here: make sure it runs with \
             --entry-timeout=0 --attribute-timeout=0 --negative-timeout=0"
                .into(),
        );
    };
    let o = parse_options(args.iter().filter_map(|a| a.strip_prefix("--")));
    let missing: Vec<String> = ["entry-timeout", "attribute-timeout", "negative-timeout"]
        .into_iter()
        .filter(|k| o.get(*k).cloned().flatten().as_deref() != Some("0"))
        .map(|k| format!("--{k}=0"))
        .collect();
    if !missing.is_empty() {
        report.problems.push(format!(
            "the FUSE client caches entries and attributes; start glusterfs with {}",
            missing.join(" ")
        ));
    }
}

/// `key=value` and bare `flag` options into a map (`flag` maps to `None`).
fn parse_options<'a>(options: impl Iterator<Item = &'a str>) -> Options {
    options
        .filter(|o| !o.is_empty())
        .map(|o| match o.split_once('=') {
            Some((k, v)) => (k.to_string(), Some(v.to_string())),
            None => (o.to_string(), None),
        })
        .collect()
}

/// The `-o` options of an sshfs command line (`-o a,b`, `-oa,b`), one per item.
fn sshfs_options(args: &[String]) -> impl Iterator<Item = &str> {
    let mut values = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-o" {
            values.extend(iter.next().map(String::as_str));
        } else if let Some(value) = arg.strip_prefix("-o") {
            values.push(value);
        }
    }
    values.into_iter().flat_map(|v| v.split(','))
}

/// The mount and superblock options of the mountinfo entry mounted at `mount_point` (the last
/// one, where mounts are stacked).
fn mount_options(mount_point: &Path) -> Option<String> {
    let text = fs::read_to_string("/proc/self/mountinfo").ok()?;
    text.lines()
        .filter_map(|line| {
            let (left, right) = line.split_once(" - ")?;
            let left: Vec<&str> = left.split(' ').collect();
            let point = unescape(left.get(4)?);
            let super_opts = right.split(' ').nth(2).unwrap_or("");
            let mount_opts = left.get(5)?;
            (Path::new(&point) == mount_point).then(|| format!("{mount_opts},{super_opts}"))
        })
        .next_back()
}

/// The command line of the FUSE daemon (sshfs, glusterfs) serving `mount_point`: a process
/// whose arguments name that folder.
fn fuse_daemon_args(mount_point: &Path) -> Option<Vec<String>> {
    let target = fs::canonicalize(mount_point).unwrap_or_else(|_| mount_point.to_path_buf());
    fs::read_dir("/proc").ok()?.flatten().find_map(|entry| {
        let name = entry.file_name();
        if !name.as_encoded_bytes().iter().all(u8::is_ascii_digit) {
            return None;
        }
        let raw = fs::read(entry.path().join("cmdline")).ok()?;
        let args: Vec<String> = raw
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        let program = Path::new(args.first()?).file_name()?.to_str()?;
        if !matches!(program, "sshfs" | "glusterfs") {
            return None;
        }
        let names_it = args[1..]
            .iter()
            .any(|a| Path::new(a) == target || fs::canonicalize(a).is_ok_and(|p| p == target));
        names_it.then_some(args)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Option<Vec<String>> {
        Some(line.split(' ').map(String::from).collect())
    }

    #[test]
    fn nfs_defaults_cache_too_long_and_the_advised_options_do_not() {
        // What the kernel shows for `mount -t nfs4 server:/q /q` (defaults).
        let defaults = "rw,relatime,rw,vers=4.2,rsize=1048576,hard,proto=tcp,timeo=600,\
                        acregmin=3,acregmax=60,acdirmin=30,acdirmax=60,sec=sys";
        let report = judge("nfs4", defaults, || None);
        assert_eq!(report.problems.len(), 2, "{report:?}");
        assert!(report.problems[0].contains("up to 60s"));
        assert!(report.problems[1].contains("lookupcache=positive"));
        let advised = "rw,relatime,rw,vers=4.2,hard,acregmin=1,acregmax=1,acdirmin=1,\
                       acdirmax=1,lookupcache=pos,sec=sys";
        assert_eq!(
            judge("nfs4", advised, || None).problems,
            Vec::<String>::new()
        );
        let noac = "rw,vers=3,noac,acregmin=0,acregmax=0,acdirmin=0,acdirmax=0,lookupcache=none";
        assert!(judge("nfs", noac, || None).problems.is_empty());
    }

    #[test]
    fn cifs_is_fine_at_its_default_and_not_with_a_long_actimeo() {
        assert!(
            judge("cifs", "rw,vers=3.1.1,cache=strict,actimeo=1", || None)
                .problems
                .is_empty()
        );
        let long = judge("cifs", "rw,vers=3.1.1,actimeo=30", || None);
        assert!(long.problems[0].contains("up to 30s"), "{long:?}");
    }

    #[test]
    fn sshfs_needs_dir_cache_off_in_its_command_line() {
        let default = judge("fuse.sshfs", "rw,user_id=0", || {
            args("sshfs host:/q /mnt/q")
        });
        assert!(default.problems[0].contains("dir_cache=no"), "{default:?}");
        let off = judge("fuse.sshfs", "rw", || {
            args("sshfs -o reconnect -odir_cache=no,attr_timeout=0 host:/q /mnt/q")
        });
        assert!(off.problems.is_empty(), "{off:?}");
        let unseen = judge("fuse.sshfs", "rw", || None);
        assert!(unseen.problems.is_empty() && unseen.notes.len() == 1);
    }

    #[test]
    fn glusterfs_names_the_missing_timeouts() {
        let report = judge("fuse.glusterfs", "rw", || {
            args("/usr/sbin/glusterfs --entry-timeout=0 --volfile-server=s --volfile-id=v /mnt/q")
        });
        assert!(
            report.problems[0].ends_with("--attribute-timeout=0 --negative-timeout=0"),
            "{report:?}"
        );
    }

    #[test]
    fn local_filesystems_have_nothing_to_say() {
        let report = judge("ext4", "rw,relatime,errors=remount-ro", || None);
        assert_eq!(report.problems.len() + report.notes.len(), 0);
    }

    /// A process named `sshfs` whose arguments name `dir`, as the daemon of a mount there.
    fn fake_sshfs(dir: &Path, options: &str) -> std::process::Child {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(r#"exec -a sshfs bash -c 'sleep 30; true' "$@""#)
            .args(["bash", "host:/q"])
            .arg(dir)
            .args(["-o", options])
            .spawn()
            .unwrap()
    }

    #[test]
    fn the_sshfs_process_of_a_mount_is_found_by_its_mount_point() {
        let dir = tempfile::tempdir().unwrap();
        let mut daemon = fake_sshfs(dir.path(), "reconnect,dir_cache=no");
        let found = (0..200).find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(10));
            fuse_daemon_args(dir.path())
        });
        daemon.kill().unwrap();
        daemon.wait().unwrap();
        let args = found.expect("the daemon is found");
        assert_eq!(args[0], "sshfs");
        assert!(judge("fuse.sshfs", "rw", || Some(args)).problems.is_empty());
        let other = tempfile::tempdir().unwrap();
        assert_eq!(fuse_daemon_args(other.path()), None);
    }

    #[test]
    fn the_mount_of_a_temp_folder_is_found_with_its_options() {
        let dir = tempfile::tempdir().unwrap();
        let report = mount_cache(dir.path());
        assert!(!report.fstype.is_empty(), "{report:?}");
    }
}
