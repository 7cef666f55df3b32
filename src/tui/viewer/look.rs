//! Looking at a viewed file again, off the event loop: one `stat` of the path (was the file
//! replaced, as a log is at each attempt?), the new file opened if so, and the length and
//! modification time. The viewer takes the answer without I/O and asks for the bytes it needs
//! through its ordinary read requests.

use std::fs::File;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::SystemTime;

/// What to look at: the viewed path and the file open now.
#[derive(Clone, Debug)]
pub struct LookRequest {
    pub(super) path: PathBuf,
    pub(super) file: Arc<File>,
    pub(super) inode: (u64, u64),
}

/// What a look found.
#[derive(Debug)]
pub struct Looked {
    /// The path holds another file now: it, opened, and its device and inode.
    pub(super) reopened: Option<(Arc<File>, (u64, u64))>,
    pub(super) len: u64,
    pub(super) modified: Option<SystemTime>,
}

impl LookRequest {
    /// One stat of the path, an open if the file was replaced, one fstat. Blocking I/O.
    pub fn run(self) -> io::Result<Looked> {
        let replaced = std::fs::metadata(&self.path)
            .map(|meta| (meta.dev(), meta.ino()) != self.inode)
            .unwrap_or(false);
        let (file, reopened) = if replaced {
            let (file, meta) = super::open_regular(&self.path)?;
            let file = Arc::new(file);
            let inode = (meta.dev(), meta.ino());
            (Arc::clone(&file), Some((file, inode)))
        } else {
            (self.file, None)
        };
        let meta = file.metadata()?;
        Ok(Looked {
            reopened,
            len: meta.len(),
            modified: meta.modified().ok(),
        })
    }
}
