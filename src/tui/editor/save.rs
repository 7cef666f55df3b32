//! What a save asks of the queue layer, as a value the app can send to a background thread.

use std::ffi::OsString;

use crate::queue::{self, AddMode, FileIdentity, Item, Queue, Source};

/// Where the text goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SaveTarget {
    /// Over an existing item, only if it is still the file described by `expected` (`None`
    /// when the item was claimed before its identity could be read: every save is refused).
    Replace {
        item: Item,
        expected: Option<FileIdentity>,
    },
    /// A new pending item called `name` (F7).
    Create { name: OsString },
}

/// One save to run off the render path.
#[derive(Clone, Debug)]
pub struct SaveRequest {
    pub target: SaveTarget,
    pub bytes: Vec<u8>,
}

/// A save that went through: the item as it now is, and its new identity (`None` if a worker
/// claimed a just-created item before it could be read).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Saved {
    pub item: Item,
    pub identity: Option<FileIdentity>,
}

impl SaveRequest {
    /// Performs the save: an atomic, no-clobber replace or a new item. Blocking disk I/O.
    pub fn run(&self, queue: &Queue) -> queue::Result<Saved> {
        match &self.target {
            SaveTarget::Replace { item, expected } => {
                let expected = expected.ok_or_else(|| {
                    queue::Error::Invalid(format!("{}: not saved, it is gone", item.qualified()))
                })?;
                let identity = queue.replace_content(item, expected, &self.bytes)?;
                Ok(Saved {
                    item: item.clone(),
                    identity: Some(identity),
                })
            }
            SaveTarget::Create { name } => {
                let mut reader = self.bytes.as_slice();
                let item = queue.enqueue(Source::Reader(&mut reader), name, AddMode::Copy)?;
                let identity = queue.identity(&item).ok();
                Ok(Saved { item, identity })
            }
        }
    }
}
