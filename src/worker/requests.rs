//! Acting on `_meta/requests/`: the engine looks there every `REQUEST_CHECK` while it runs jobs
//! (one folder read, the same on a local disk and on a network mount, where inotify would never
//! hear of another host's request), hands each request for one of its own jobs to that job's
//! `Control`, and removes the file, which is the answer the sender waits for. Requests for jobs of
//! other workers are theirs; requests whose item nobody holds any more are removed by `upkeep`.

use std::sync::Arc;
use std::time::Duration;

use super::control::{Cancel, Control};
use super::job::Ctx;
use crate::queue::{ItemId, Request};

/// How often requests are looked for while jobs run.
pub const REQUEST_CHECK: Duration = Duration::from_millis(250);

/// How old a request for an item nobody holds must be before it is removed: enough for a
/// sender that has just written it to see its item leave and say so itself.
pub const STALE_AFTER: Duration = Duration::from_secs(10);

/// Hands requests for `running` jobs to them; says how many were acted on.
pub fn apply(ctx: &Ctx, running: &[(Option<ItemId>, Arc<Control>)]) -> usize {
    let mut acted = 0;
    for pending in ctx.queue.requests() {
        let Some((_, control)) = running.iter().find(|(id, _)| *id == Some(pending.id)) else {
            continue;
        };
        match pending.request {
            Request::Cancel => control.cancel(Cancel::Requeue),
            Request::Fail => control.cancel(Cancel::Fail),
            Request::Freeze => control.set_frozen(true),
            Request::Thaw => control.set_frozen(false),
        }
        ctx.queue.answer_request(&pending);
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
