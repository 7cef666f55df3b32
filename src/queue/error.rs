//! What can go wrong with a queue, said with the item and the reason.

use std::io;
use std::path::{Path, PathBuf};

use super::State;

/// Errors of the queue layer. Every variant names the file or item it is about.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}: not a queue (no _meta/ folder); run `fsq init {}` first", .0.display(), .0.display())]
    NotAQueue(PathBuf),
    #[error("{}: {cause}", path.display())]
    Io { path: PathBuf, cause: io::Error },
    #[error("no item named {0}")]
    NoSuchItem(String),
    #[error("{name} is in several states ({states}); name it as STATE/NAME")]
    Ambiguous { name: String, states: String },
    #[error("{0}: the item vanished (moved or deleted by someone else)")]
    Vanished(String),
    #[error("{0}: is a symbolic link; refusing it (its target can be enqueued instead)")]
    Symlink(String),
    #[error("{0}: not a regular file")]
    NotRegular(String),
    #[error("{name} is {state}: items can only {what}")]
    WrongState {
        name: String,
        state: State,
        what: &'static str,
    },
    #[error(
        "{name}: no file name sorts between {after} and {before}: they share so many first bytes that a sort key and an id no longer fit in 255 bytes"
    )]
    NoRoom {
        name: String,
        after: String,
        before: String,
    },
    #[error("{0}: has no id yet (only items fsq claimed or reordered have records)")]
    NoId(String),
    #[error("{path}:{line}:{column}: {message}", path = .path.display())]
    Config {
        path: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn io(path: impl AsRef<Path>, source: io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            cause: source,
        }
    }

    /// Whether this is the error of a file that disappeared under us.
    pub fn is_not_found(&self) -> bool {
        match self {
            Error::Io { cause, .. } => cause.kind() == io::ErrorKind::NotFound,
            Error::Vanished(_) | Error::NoSuchItem(_) => true,
            _ => false,
        }
    }
}

/// Attaches the path to an `io::Result`.
pub trait IoContext<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn at(self, path: impl AsRef<Path>) -> Result<T> {
        self.map_err(|err| Error::io(path, err))
    }
}
