//! The jobs the engine runs now: each is a task of the engine's runtime with its own `Control`,
//! known by a sequence number that comes back through a channel when the task ends, even when it
//! panicked. The engine asks this set how many run, hands out requests and stops, and waits here
//! for jobs to end.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::mpsc;

use crate::queue::ItemId;
use crate::worker::claim::Claim;
use crate::worker::ctx::{Control, Ctx};
use crate::worker::job::run_job;

/// A running job as requests see it: its item's id and its controls.
pub type Handle = (Option<ItemId>, Arc<Control>);

pub struct Jobs {
    running: HashMap<u64, Handle>,
    seq: u64,
    done_tx: mpsc::UnboundedSender<u64>,
    done_rx: mpsc::UnboundedReceiver<u64>,
}

/// Sends the job's sequence number back when the job ends, even if it panicked.
struct DoneGuard(mpsc::UnboundedSender<u64>, u64);

impl Drop for DoneGuard {
    fn drop(&mut self) {
        let _ = self.0.send(self.1);
    }
}

impl Jobs {
    pub fn new() -> Jobs {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Jobs {
            running: HashMap::new(),
            seq: 0,
            done_tx,
            done_rx,
        }
    }

    pub fn len(&self) -> usize {
        self.running.len()
    }

    pub fn is_empty(&self) -> bool {
        self.running.is_empty()
    }

    /// Runs a claimed item as a task of the current runtime.
    pub fn start(&mut self, ctx: &Arc<Ctx>, claim: Claim) {
        self.seq += 1;
        let seq = self.seq;
        let control = Arc::new(Control::default());
        self.running.insert(seq, (claim.item.id(), control.clone()));
        let guard = DoneGuard(self.done_tx.clone(), seq);
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let _guard = guard;
            run_job(ctx, claim, control, seq).await;
        });
    }

    /// Waits until at least one job has ended, forgets all that have, and says how many.
    pub async fn ended(&mut self) -> usize {
        let Some(first) = self.done_rx.recv().await else {
            // Never: the set holds a sender itself.
            return std::future::pending().await;
        };
        self.running.remove(&first);
        let mut count = 1;
        while let Ok(done) = self.done_rx.try_recv() {
            self.running.remove(&done);
            count += 1;
        }
        count
    }

    pub fn handles(&self) -> Vec<Handle> {
        self.running.values().cloned().collect()
    }

    pub fn set_frozen(&self, frozen: bool) {
        for (_, control) in self.running.values() {
            control.set_frozen(frozen);
        }
    }

    pub fn stop_all(&self) {
        for (_, control) in self.running.values() {
            control.stop();
        }
    }
}
