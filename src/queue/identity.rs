//! Whether two names are the same item file, where inode numbers cannot always say.
//!
//! A link + unlink move that crashed half-way leaves one file under two names. On a local disk
//! and on NFS the two names share device and inode number. sshfs without `-o use_ino` (and other
//! FUSE filesystems) makes up inode numbers per name, so two links of one file show different
//! ones. There we accept a cheaper identity: same size, same modification time to the
//! nanosecond, and the same first and last `SAMPLE` bytes. Two different items passing that are
//! copies of each other with the same name (the caller only compares equal names) and the same
//! mtime, and treating them as one item runs that content once, as it should.

use std::fs::{self, File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Bytes compared at each end of the two files.
const SAMPLE: u64 = 64 * 1024;

/// Whether `a` and `b` are links to one file (same inode), or indistinguishable copies of one.
pub fn same_item_file(a: &Path, b: &Path) -> bool {
    let (Ok(meta_a), Ok(meta_b)) = (fs::symlink_metadata(a), fs::symlink_metadata(b)) else {
        return false;
    };
    if !meta_a.is_file() || !meta_b.is_file() {
        return false;
    }
    if meta_a.dev() == meta_b.dev() && meta_a.ino() == meta_b.ino() {
        return true;
    }
    same_size_and_mtime(&meta_a, &meta_b) && same_samples(a, b, meta_a.len()).unwrap_or(false)
}

fn same_size_and_mtime(a: &Metadata, b: &Metadata) -> bool {
    a.len() == b.len() && a.mtime() == b.mtime() && a.mtime_nsec() == b.mtime_nsec()
}

fn same_samples(a: &Path, b: &Path, len: u64) -> io::Result<bool> {
    let (mut a, mut b) = (File::open(a)?, File::open(b)?);
    let mut offsets = vec![0];
    if len > SAMPLE {
        offsets.push(len.saturating_sub(SAMPLE).max(SAMPLE));
    }
    for offset in offsets {
        if read_at(&mut a, offset)? != read_at(&mut b, offset)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn read_at(file: &mut File, offset: u64) -> io::Result<Vec<u8>> {
    file.seek(SeekFrom::Start(offset))?;
    let mut buf = Vec::new();
    file.take(SAMPLE).read_to_end(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_copies_and_strangers() {
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(p("a"), &big).unwrap();
        fs::hard_link(p("a"), p("link")).unwrap();
        assert!(same_item_file(&p("a"), &p("link")));

        // A copy with the same mtime passes, as it does where inode numbers are made up.
        fs::write(p("copy"), &big).unwrap();
        let mtime = fs::metadata(p("a")).unwrap().modified().unwrap();
        File::options()
            .write(true)
            .open(p("copy"))
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert!(same_item_file(&p("a"), &p("copy")));

        // Same size and mtime, different tail: another file.
        let mut other = big.clone();
        *other.last_mut().unwrap() ^= 1;
        fs::write(p("other"), &other).unwrap();
        File::options()
            .write(true)
            .open(p("other"))
            .unwrap()
            .set_modified(mtime)
            .unwrap();
        assert!(!same_item_file(&p("a"), &p("other")));

        // Same content, another mtime: another file.
        fs::write(p("later"), &big).unwrap();
        File::options()
            .write(true)
            .open(p("later"))
            .unwrap()
            .set_modified(mtime - std::time::Duration::from_secs(5))
            .unwrap();
        assert!(!same_item_file(&p("a"), &p("later")));
        assert!(!same_item_file(&p("a"), &p("missing")));
    }
}
