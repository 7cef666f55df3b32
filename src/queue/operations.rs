//! What an operator may do to an item by hand, and the one table of which state may go where.
//! The command line and the commander both ask here, so a rule cannot drift between them (retry
//! once lived in both, and only one copy cleared the record of a renamed item).
//!
//! Every operation is one atomic move (plus, for retry, clearing the attempt record of the item
//! under the name it has after the move). The refusals speak of items and states, never of keys
//! or flags.

use super::error::{Error, Result};
use super::{Item, Queue, State};

/// Something an operator does to items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    /// To another state, as it is.
    Move(State),
    /// A copy into another state; the item stays.
    Copy(State),
    /// Back to pending with its attempts forgotten.
    Retry,
    /// Pending to paused/.
    Hold,
    /// Paused back to pending.
    Resume,
    /// Gone for good; `force` allows an item a worker is running.
    Delete { force: bool },
}

impl Operation {
    /// Why this operation cannot be done to an item in `from`, in words that finish "items
    /// can only ...", or `None` when it can.
    pub fn refusal(self, from: State) -> Option<&'static str> {
        use Operation::*;
        use State::*;
        match self {
            Retry if !matches!(from, Failed | Delayed) => Some("be retried from failed or delayed"),
            Hold if from != Pending => Some("be paused from pending"),
            Resume if from != Paused => Some("be resumed from paused"),
            Move(_) | Copy(_) | Delete { force: false } if from == Process => {
                Some("leave process/ when their worker is done (or be deleted by force)")
            }
            Move(Process) | Copy(Process) => Some("enter process/ when a worker claims them"),
            Move(to) if to == from => Some("be moved to another state"),
            _ => None,
        }
    }

    /// Where the item goes, if it moves.
    pub fn destination(self) -> Option<State> {
        match self {
            Operation::Move(to) | Operation::Copy(to) => Some(to),
            Operation::Retry | Operation::Resume => Some(State::Pending),
            Operation::Hold => Some(State::Paused),
            Operation::Delete { .. } => None,
        }
    }
}

impl Queue {
    /// Does `op` to `item` if the table allows it. Returns the item as it now is (for a delete,
    /// as it was; for a copy, the copy).
    pub fn operate(&self, item: &Item, op: Operation) -> Result<Item> {
        if let Some(what) = op.refusal(item.state) {
            return Err(Error::WrongState {
                name: item.qualified(),
                state: item.state,
                what,
            });
        }
        match op {
            Operation::Copy(to) => self.copy_to(item, to),
            Operation::Delete { .. } => self.delete(item).map(|()| item.clone()),
            Operation::Retry => self.retry(item),
            Operation::Move(to) => self.move_to(item, to),
            Operation::Hold => self.move_to(item, State::Paused),
            Operation::Resume => self.move_to(item, State::Pending),
        }
    }
}

/// An item held out of every worker's reach while the commander's editor has it open. A pending
/// or delayed item (which a worker on any host could take) waits in paused/, where nothing
/// touches it, and returns where it was when the editor closes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EditHold {
    /// The item where the hold keeps it (paused/, or where it was if no worker would take it).
    pub item: Item,
    /// Where it goes back to.
    pub home: State,
}

impl Queue {
    /// Holds `item` for editing. Items no worker takes (paused, failed, success, new) stay
    /// where they are; an item in process/ is refused.
    pub fn hold_for_edit(&self, item: &Item) -> Result<EditHold> {
        let held = match item.state {
            State::Process => {
                return Err(Error::WrongState {
                    name: item.qualified(),
                    state: item.state,
                    what: "be edited when no worker is running them",
                });
            }
            State::Pending | State::Delayed => self.move_to(item, State::Paused)?,
            _ => item.clone(),
        };
        Ok(EditHold {
            item: held,
            home: item.state,
        })
    }

    /// Ends a hold: the item goes back to where it was, if it is still where the hold put it.
    /// Returns where it is now (`None` when someone else moved or deleted it meanwhile).
    pub fn release_edit(&self, hold: &EditHold) -> Result<Option<Item>> {
        if hold.item.state == hold.home {
            return Ok(Some(hold.item.clone()));
        }
        match self.move_to(&hold.item, hold.home) {
            Ok(item) => Ok(Some(item)),
            Err(Error::Vanished(_)) => Ok(None),
            Err(err) => Err(err),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::State;
    use super::super::testutil::{claim_first, queue_with};
    use super::*;

    #[test]
    fn retry_of_a_renumbered_item_clears_its_attempts() {
        let (_dir, q) = queue_with(&["a.txt"]);
        let claimed = claim_first(&q, "w");
        q.count_failure(&claimed, "exit code 1".into(), 0, |_| None)
            .unwrap();
        let item = q.move_to(&claimed, State::Failed).unwrap();
        // Another a.txt arrived meanwhile: the retried one may be renamed on the way back.
        std::fs::write(q.root().join("a.txt"), "new").unwrap();
        assert_eq!(q.record(&item).attempts, 1);
        let moved = q.operate(&item, Operation::Retry).unwrap();
        assert_eq!(moved.state, State::Pending);
        assert_eq!(q.record(&moved).attempts, 0);
    }

    #[test]
    fn an_item_held_for_editing_is_out_of_every_workers_reach_and_comes_back() {
        let (_dir, q) = queue_with(&["V!job.txt"]);
        let item = q.list(State::Pending).unwrap().remove(0);
        let hold = q.hold_for_edit(&item).unwrap();
        assert_eq!(hold.item.state, State::Paused);
        assert!(
            q.list(State::Pending).unwrap().is_empty(),
            "nothing to claim"
        );
        let back = q.release_edit(&hold).unwrap().unwrap();
        assert_eq!(
            (back.state, back.file.to_str()),
            (State::Pending, Some("V!job.txt"))
        );
        // A failed item is not moved; one in process/ is refused.
        let failed = q.operate(&back, Operation::Move(State::Failed)).unwrap();
        assert_eq!(q.hold_for_edit(&failed).unwrap().item, failed);
        let running = Item {
            state: State::Process,
            owner: Some("w".into()),
            file: "x".into(),
        };
        assert!(q.hold_for_edit(&running).is_err());
    }

    #[test]
    fn the_table_refuses_what_no_operator_may_do() {
        use Operation::*;
        use State::*;
        assert!(Retry.refusal(Pending).is_some());
        assert!(Retry.refusal(Delayed).is_none());
        assert!(Hold.refusal(Paused).is_some());
        assert!(Resume.refusal(Paused).is_none());
        assert!(Move(Process).refusal(Pending).is_some());
        assert!(Move(Failed).refusal(Process).is_some());
        assert!(Delete { force: false }.refusal(Process).is_some());
        assert!(Delete { force: true }.refusal(Process).is_none());
        assert!(Move(Paused).refusal(Paused).is_some());
        assert!(Copy(Paused).refusal(Paused).is_none());
    }
}
