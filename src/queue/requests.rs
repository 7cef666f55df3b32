//! Requests to the worker running an item: cancel it, fail it, freeze it or thaw it. A request is
//! an empty file `_meta/requests/<ID>.<verb>` that anyone on any host may create; the worker that
//! holds the claim acts on it and removes it, which is the answer the sender waits for. A request
//! whose item is no longer claimed (it finished, or its worker died and the claim was recovered)
//! is stale, and any worker removes it.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use super::error::{IoContext, Result};
use super::meta::replace_file;
use super::name::ItemId;
use super::{Item, Queue};

const REQUESTS: &str = "requests";

/// What a request asks of the worker running an item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Request {
    /// Kill the job's process group and put the item back in pending.
    Cancel,
    /// Kill the job's process group and move the item to failed/ with reason "cancelled".
    Fail,
    /// Stop the job's process group (SIGSTOP); its timeout and stall clocks stop.
    Freeze,
    /// Let a frozen job go on (SIGCONT).
    Thaw,
}

impl Request {
    pub const ALL: [Request; 4] = [
        Request::Cancel,
        Request::Fail,
        Request::Freeze,
        Request::Thaw,
    ];

    /// The verb in the request's file name.
    pub fn verb(self) -> &'static str {
        match self {
            Request::Cancel => "cancel",
            Request::Fail => "fail",
            Request::Freeze => "freeze",
            Request::Thaw => "thaw",
        }
    }

    fn parse(verb: &str) -> Option<Request> {
        Request::ALL.into_iter().find(|r| r.verb() == verb)
    }

    /// The request that undoes this one, which a new request replaces.
    fn opposite(self) -> Option<Request> {
        match self {
            Request::Freeze => Some(Request::Thaw),
            Request::Thaw => Some(Request::Freeze),
            Request::Cancel | Request::Fail => None,
        }
    }
}

/// A request found in `_meta/requests/`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pending {
    pub id: ItemId,
    pub request: Request,
    pub path: PathBuf,
}

impl Queue {
    /// The file of a request for the item `id`.
    pub fn request_path(&self, id: ItemId, request: Request) -> PathBuf {
        self.meta_path(REQUESTS)
            .join(format!("{}.{}", id.as_str(), request.verb()))
    }

    /// Asks the worker running `item` (a claimed item, so it has an id) for `request`. A freeze
    /// replaces a thaw not yet acted on, and the other way round.
    pub fn send_request(&self, item: &Item, request: Request) -> Result<PathBuf> {
        let id = item
            .id()
            .ok_or_else(|| super::Error::NoId(item.qualified()))?;
        if let Some(opposite) = request.opposite() {
            let _ = fs::remove_file(self.request_path(id, opposite));
        }
        let path = self.request_path(id, request);
        self.create_inside(&self.meta_path(REQUESTS))?;
        replace_file(&path, b"")?;
        Ok(path)
    }

    /// Every request waiting to be acted on. One folder read; none is an empty list.
    pub fn requests(&self) -> Vec<Pending> {
        let Ok(dir) = fs::read_dir(self.meta_path(REQUESTS)) else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|entry| {
                let name = entry.file_name();
                let (id, verb) = name.to_str()?.split_once('.')?;
                Some(Pending {
                    id: ItemId::parse(id.as_bytes())?,
                    request: Request::parse(verb)?,
                    path: entry.path(),
                })
            })
            .collect()
    }

    /// Marks a request as acted on (or refused): its sender stops waiting.
    pub fn answer_request(&self, pending: &Pending) {
        let _ = fs::remove_file(&pending.path);
    }

    /// Removes requests older than `age` (by the shared filesystem's clock) whose item is not
    /// claimed by anyone: it finished, or its worker is gone. Says how many went.
    pub fn clear_stale_requests(&self, age: Duration) -> Result<usize> {
        let requests = self.requests();
        if requests.is_empty() {
            return Ok(0);
        }
        let claimed: Vec<ItemId> = self
            .list(super::State::Process)?
            .iter()
            .filter_map(Item::id)
            .collect();
        let now = self.shared_now();
        let mut removed = 0;
        for pending in requests.iter().filter(|p| !claimed.contains(&p.id)) {
            let mtime = fs::metadata(&pending.path)
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            if now.duration_since(mtime).unwrap_or_default() >= age {
                match fs::remove_file(&pending.path) {
                    Ok(()) => removed += 1,
                    Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                    Err(err) => return Err(err).at(&pending.path),
                }
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::State;
    use super::super::testutil::{claim_first, queue_with};
    use super::*;

    #[test]
    fn a_request_is_found_by_id_and_verb_and_a_freeze_replaces_a_thaw() {
        let (_dir, q) = queue_with(&["a"]);
        let claimed = claim_first(&q, "w");
        q.send_request(&claimed, Request::Thaw).unwrap();
        q.send_request(&claimed, Request::Freeze).unwrap();
        let found = q.requests();
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].id, claimed.id().unwrap());
        assert_eq!(found[0].request, Request::Freeze);
        q.answer_request(&found[0]);
        assert!(q.requests().is_empty());
    }

    #[test]
    fn stale_requests_go_only_when_their_item_is_no_longer_claimed() {
        let (_dir, q) = queue_with(&["a"]);
        let claimed = claim_first(&q, "w");
        q.send_request(&claimed, Request::Cancel).unwrap();
        assert_eq!(q.clear_stale_requests(Duration::ZERO).unwrap(), 0);
        q.move_to(&claimed, State::Success).unwrap();
        assert_eq!(q.clear_stale_requests(Duration::from_secs(60)).unwrap(), 0);
        assert_eq!(q.clear_stale_requests(Duration::ZERO).unwrap(), 1);
        assert!(q.requests().is_empty());
    }
}
