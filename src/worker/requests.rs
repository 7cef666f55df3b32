//! Acting on `_meta/requests/`: on a local disk the engine hears of a request through inotify at
//! once; where events cannot be trusted (network mounts, where inotify never hears of another
//! host's request) it lists the folder every `REQUEST_CHECK` while it runs jobs. It hands each
//! request for one of its own jobs to that job's `Control` and removes the file, which is the
//! answer the sender waits for. Requests for jobs of other workers are theirs; requests whose item
//! nobody holds any more are removed by `upkeep`.

use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::Duration;

use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use tokio::io::unix::AsyncFd;
use tokio::time::Instant;

use super::control::{Cancel, Control};
use super::ctx::Ctx;
use crate::queue::{ItemId, Request};

/// How often requests are looked for while jobs run.
const REQUEST_CHECK: Duration = Duration::from_millis(250);

/// How old a request for an item nobody holds must be before it is removed: enough for a
/// sender that has just written it to see its item leave and say so itself.
pub const STALE_AFTER: Duration = Duration::from_secs(10);

/// Hears of new requests: an inotify watch on `_meta/requests/`, or nothing (then the engine
/// lists the folder every `REQUEST_CHECK`).
pub struct RequestWatch {
    fd: Option<AsyncFd<OwnedFd>>,
    buf: Vec<MaybeUninit<u8>>,
    /// The watch fired since requests were last read.
    heard: bool,
    /// When to list the folder next, without a watch.
    next_check: Instant,
}

impl RequestWatch {
    /// Watches the requests folder when `events` (the queue is on a local disk and watched).
    pub fn start(ctx: &Ctx, events: bool) -> RequestWatch {
        let fd = events.then(|| watch(ctx)).and_then(|fd| fd.ok());
        RequestWatch {
            fd,
            buf: vec![MaybeUninit::uninit(); 4096],
            heard: false,
            next_check: Instant::now(),
        }
    }

    /// When the folder must be listed next: only without a watch.
    pub fn check_at(&self) -> Option<Instant> {
        self.fd.is_none().then_some(self.next_check)
    }

    /// Whether requests should be read now (the watch fired, or a check is due); if so, the
    /// next check is a `REQUEST_CHECK` away.
    pub fn take_due(&mut self, now: Instant) -> bool {
        let due = self.heard || self.check_at().is_some_and(|at| now >= at);
        if due {
            self.heard = false;
            self.next_check = now + REQUEST_CHECK;
        }
        due
    }

    /// Resolves when a request may have arrived; never when not watching.
    pub async fn arrived(&mut self) {
        let Some(fd) = &self.fd else {
            return std::future::pending().await;
        };
        let Ok(mut guard) = fd.readable().await else {
            return std::future::pending().await;
        };
        let mut reader = inotify::Reader::new(fd.get_ref(), &mut self.buf);
        while reader.next().is_ok() {}
        guard.clear_ready();
        self.heard = true;
    }
}

fn watch(ctx: &Ctx) -> std::io::Result<AsyncFd<OwnedFd>> {
    let dir = ctx.queue.meta_path("requests");
    std::fs::create_dir_all(&dir)?;
    let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK)?;
    inotify::add_watch(
        &fd,
        &dir,
        WatchFlags::CREATE | WatchFlags::MOVED_TO | WatchFlags::ONLYDIR,
    )?;
    super::spawn::async_fd(fd)
}

/// Hands requests for `running` jobs to them; says how many were acted on.
pub fn apply(ctx: &Ctx, running: &[(Option<ItemId>, Arc<Control>)]) -> usize {
    let mut acted = 0;
    for pending in ctx.queue.requests() {
        let Some((_, control)) = running.iter().find(|(id, _)| *id == Some(pending.id)) else {
            continue;
        };
        // A cancel is answered by the job once its item has moved (see `job`), so the sender
        // can say where it went; until then asking again changes nothing.
        match pending.request {
            Request::Cancel => control.cancel(Cancel::Requeue),
            Request::Fail => control.cancel(Cancel::Fail),
            Request::Freeze => control.set_frozen(true),
            Request::Thaw => control.set_frozen(false),
        }
        if matches!(pending.request, Request::Freeze | Request::Thaw) {
            ctx.queue.answer_request(&pending);
        }
        acted += 1;
    }
    acted
}

/// Removes requests whose item no worker holds any more.
pub fn clear_stale(ctx: &Ctx) {
    if let Err(err) = ctx.queue.clear_stale_requests(STALE_AFTER) {
        ctx.notice(format!("cannot clear old requests: {err}"));
    }
}
