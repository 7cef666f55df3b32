//! The queue-wide moment "drained": nothing pending, delayed or running on any host. Every worker
//! that sees the queue go from busy to drained tries to create `_meta/drained` with an exclusive
//! create; the one that succeeds runs `on_drained`, so the event fires once per drain however many
//! workers and hosts share the queue. The first worker to claim again removes the marker.

use std::fs;
use std::io;

use super::error::{IoContext, Result};
use super::{Queue, State};

const DRAINED: &str = "drained";

impl Queue {
    /// Whether nothing is pending, delayed or running (claimed by any worker). Listed twice in
    /// the order items flow, so an item moving between two folders during the first look is
    /// seen by the second.
    pub fn is_drained(&self) -> Result<bool> {
        for _ in 0..2 {
            for state in [State::Pending, State::Process, State::Delayed] {
                if !self.list(state)?.is_empty() {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Elects the one worker that reports this drain: true for the caller that created the
    /// marker, false for everyone else.
    pub fn mark_drained(&self) -> Result<bool> {
        let path = self.meta_path(DRAINED);
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => Ok(true),
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(false),
            Err(err) => Err(err).at(&path),
        }
    }

    /// The queue is busy again: the next drain is a new one.
    pub fn clear_drained(&self) {
        let _ = fs::remove_file(self.meta_path(DRAINED));
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::queue_with;

    #[test]
    fn one_caller_is_elected_per_drain() {
        let (_dir, q) = queue_with(&["a"]);
        assert!(!q.is_drained().unwrap());
        std::fs::remove_file(q.root().join("a")).unwrap();
        assert!(q.is_drained().unwrap());
        assert!(q.mark_drained().unwrap());
        assert!(!q.mark_drained().unwrap(), "a second worker is not elected");
        q.clear_drained();
        assert!(q.mark_drained().unwrap(), "the next drain elects again");
    }
}
