//! The worker's side of dead-mount safety. The queue layer's `MountGuard` says whether the queue
//! folder is still the filesystem it was; this module turns that into behaviour: say loudly when
//! the mount goes and comes back, stop claiming and writing meanwhile (the engine asks
//! `mounted`), excuse failures of runs that the outage may have caused (no attempt counted), and
//! hold each finished item until the mount is back, then either make its transition or, when
//! another host recovered the item meanwhile, leave it to that host.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::ctx::{Control, Ctx, lock};
use super::{EngineEvent, Outcome};
use crate::queue::{Item, MountGuard, remote_filesystem};

/// How often a job waiting for the mount looks again.
const RECHECK: Duration = Duration::from_millis(250);

/// How long the heartbeat mentions a mount loss after the mount came back.
const RECENT: Duration = Duration::from_secs(60);

/// The mount state of one engine's queue.
pub struct MountWatch {
    guard: Option<MountGuard>,
    /// Why the mount is gone and since when, while it is.
    lost: Mutex<Option<(String, Instant)>>,
    /// How many times the mount was lost: a job compares it before and after its run.
    losses: AtomicU64,
    /// The network or FUSE filesystem, if the queue is on one: each finished job there looks
    /// once more before its move (one `stat`). A local queue relies on the engine's regular look.
    fs_name: Option<String>,
    /// How long the last loss lasted and when it ended, for the heartbeat's note.
    last_loss: Mutex<Option<(f64, Instant)>>,
}

impl MountWatch {
    pub fn new(queue_root: &std::path::Path) -> MountWatch {
        MountWatch {
            guard: MountGuard::new(queue_root).ok(),
            lost: Mutex::new(None),
            losses: AtomicU64::new(0),
            fs_name: remote_filesystem(queue_root),
            last_loss: Mutex::new(None),
        }
    }

    /// Looks at the mount now; says so when it went away or came back. True while mounted.
    pub fn mounted(&self, ctx: &Ctx) -> bool {
        let Some(guard) = &self.guard else {
            return true;
        };
        let now = guard.check();
        let mut lost = lock(&self.lost);
        match (now, lost.as_ref()) {
            (Ok(()), None) => true,
            (Ok(()), Some((_, since))) => {
                let secs = since.elapsed().as_secs_f64();
                *lost = None;
                drop(lost);
                *lock(&self.last_loss) = Some((secs, Instant::now()));
                ctx.notice(format!(
                    "the queue's mount is back after {secs:.1}s: claiming again, finishing held items"
                ));
                true
            }
            (Err(why), None) => {
                *lost = Some((why.0.clone(), Instant::now()));
                self.losses.fetch_add(1, Ordering::Relaxed);
                drop(lost);
                ctx.notice(format!(
                    "MOUNT LOST: {why}. Claiming stopped; nothing is written to the queue and \
                     finished items are held until it is back"
                ));
                false
            }
            (Err(_), Some(_)) => false,
        }
    }

    /// The network or FUSE filesystem the queue is on, if it is on one.
    pub fn fs_name(&self) -> Option<&str> {
        self.fs_name.as_deref()
    }

    /// What the heartbeat says about the mount: nothing can be written while it is gone, so
    /// what others see is a recent loss, for `RECENT` after it ended.
    pub fn note(&self) -> Option<String> {
        if let Some((why, _)) = lock(&self.lost).as_ref() {
            return Some(format!("mount lost: {why}"));
        }
        lock(&self.last_loss)
            .filter(|(_, back)| back.elapsed() < RECENT)
            .map(|(secs, back)| {
                format!(
                    "mount was lost for {secs:.1}s, back {}s ago",
                    back.elapsed().as_secs()
                )
            })
    }

    /// A mark to compare with `lost_since` after a run.
    pub fn epoch(&self) -> u64 {
        self.losses.load(Ordering::Relaxed)
    }

    /// Whether the mount was lost at any time since `epoch`, or is lost now.
    pub fn lost_since(&self, epoch: u64) -> bool {
        self.epoch() != epoch || lock(&self.lost).is_some()
    }

    /// Whether a job that started at `epoch` must hold its item for the mount: it was lost
    /// meanwhile, or (on a remote queue) it is gone right now.
    pub fn troubled_since(&self, ctx: &Ctx, epoch: u64) -> bool {
        self.lost_since(epoch) || (self.fs_name.is_some() && !self.mounted(ctx))
    }

    /// Waits until the queue's mount is back (true), or the job is stopped while it is gone
    /// (false: the item stays claimed and is recovered by others or at our next start). Once
    /// back, an item no longer in our claim folder was recovered by another host: it is theirs.
    pub async fn hold_until_back(&self, ctx: &Ctx, claimed: &Item, control: &Control) -> bool {
        while !self.mounted(ctx) {
            tokio::select! {
                _ = control.stopped() => return false,
                _ = tokio::time::sleep(RECHECK) => {}
            }
        }
        if std::fs::symlink_metadata(ctx.queue.path_of(claimed)).is_ok() {
            return true;
        }
        ctx.notice(format!(
            "{}: recovered by another host while our mount was gone; leaving it to them",
            claimed.qualified()
        ));
        (ctx.events)(EngineEvent::Finished {
            item: claimed.clone(),
            outcome: Outcome::Requeued,
        });
        false
    }
}
