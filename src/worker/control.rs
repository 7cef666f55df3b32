//! What may be asked of one running job while it runs: stop (the engine is stopping), cancel
//! (an operator's request, to pending or to failed/), freeze and thaw. The engine sets these;
//! the job's loop wakes on `changed` and acts on the whole state, so no request is lost between
//! two looks.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use tokio::sync::Notify;

/// Why a job was cancelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cancel {
    /// Back to pending, no attempt counted.
    Requeue,
    /// To failed/ with the reason "cancelled".
    Fail,
}

/// Lets the engine steer one running job.
#[derive(Default)]
pub struct Control {
    stop: AtomicBool,
    /// 0: not cancelled, 1: `Cancel::Requeue`, 2: `Cancel::Fail`.
    cancel: AtomicU8,
    frozen: AtomicBool,
    notify: Notify,
}

impl Control {
    /// Kill the job and requeue its item (the engine is stopping).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.notify.notify_one();
    }

    pub fn cancel(&self, how: Cancel) {
        let code = match how {
            Cancel::Requeue => 1,
            Cancel::Fail => 2,
        };
        self.cancel.store(code, Ordering::SeqCst);
        self.notify.notify_one();
    }

    /// Freezes or thaws the job.
    pub fn set_frozen(&self, frozen: bool) {
        self.frozen.store(frozen, Ordering::SeqCst);
        self.notify.notify_one();
    }

    pub fn is_stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub fn cancelled(&self) -> Option<Cancel> {
        match self.cancel.load(Ordering::SeqCst) {
            1 => Some(Cancel::Requeue),
            2 => Some(Cancel::Fail),
            _ => None,
        }
    }

    pub fn is_frozen(&self) -> bool {
        self.frozen.load(Ordering::SeqCst)
    }

    /// Resolves when something was asked since the last call (at once if it was asked before).
    pub async fn changed(&self) {
        self.notify.notified().await;
    }

    /// Resolves once `stop` or `cancel` has been called.
    pub async fn stopped(&self) {
        while !self.is_stopped() && self.cancelled().is_none() {
            self.changed().await;
        }
    }
}
