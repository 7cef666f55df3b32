//! The claimer against a real folder and a real inotify watch: arrivals join the order without
//! listings, and files still being written wait.

use std::fs;
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::queue::testutil::queue_with;
use crate::queue::{Queue, WorkerConfig, WorkerId};
use crate::worker::mount::MountWatch;
use crate::worker::spawn::Launcher;
use crate::worker::watch::{self, Watch};

fn ctx_for(queue: Queue) -> Ctx {
    Ctx {
        out_dir: queue.root().join("_out"),
        mount: MountWatch::new(queue.root()),
        queue: Arc::new(queue),
        config: WorkerConfig::default(),
        on_conflict: Default::default(),
        worker: WorkerId::for_this_process(),
        events: Box::new(|_| {}),
        held: Default::default(),
        delayed_added: Default::default(),
        launcher: Launcher::new().unwrap(),
        breaker: Default::default(),
        hooks: Default::default(),
    }
}

/// Runs `body` with a claimer (settle time zero) on a watched queue holding `names`.
fn with_claimer(names: &[&str], body: impl AsyncFnOnce(&Ctx, Watch, Signals, Claimer)) {
    let (_dir, queue) = queue_with(names);
    let ctx = ctx_for(queue);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let (watch, note) = watch::start(ctx.queue.root(), None);
        assert!(note.is_none(), "{note:?}");
        let intake = Intake::new(true, Duration::ZERO, Duration::from_secs(2));
        body(&ctx, watch, Signals::default(), Claimer::new(intake, true)).await;
    });
}

/// Waits until the watcher has told about everything done so far.
async fn settle_events(watch: &mut Watch, signals: &Signals, names: &[&str]) {
    loop {
        let told: Vec<OsString> = lock(&signals.changes)
            .iter()
            .map(|(name, _, _)| name.clone())
            .collect();
        if names.iter().all(|name| told.iter().any(|t| t == name)) {
            return;
        }
        tokio::time::timeout(Duration::from_secs(5), watch.changed(signals))
            .await
            .expect("the watcher told nothing");
    }
}

/// Claims one item and finishes it, returning its display name.
fn take(ctx: &Ctx, claimer: &mut Claimer, signals: &Signals) -> Option<String> {
    let item = claimer.next(ctx, signals)?.item;
    ctx.queue.move_to(&item, State::Success).unwrap();
    Some(item.display().to_string_lossy().into_owned())
}

fn drop_staged(ctx: &Ctx, name: &str) {
    let staged = ctx.queue.root().join("new").join(name);
    fs::write(&staged, name).unwrap();
    fs::rename(&staged, ctx.queue.root().join(name)).unwrap();
}

#[test]
fn arrivals_during_a_drain_join_the_order_without_a_listing() {
    let backlog: Vec<String> = (0..50).map(|i| format!("b-{i:03}")).collect();
    let refs: Vec<&str> = backlog.iter().map(String::as_str).collect();
    with_claimer(&refs, async |ctx, mut watch, signals, mut claimer| {
        let mut taken = Vec::new();
        for round in 0..5 {
            for _ in 0..5 {
                taken.push(take(ctx, &mut claimer, &signals).unwrap());
            }
            // One arrival sorting before the backlog, one after it.
            let early = format!("a-late-{round}");
            let late = format!("z-late-{round}");
            drop_staged(ctx, &early);
            drop_staged(ctx, &late);
            settle_events(&mut watch, &signals, &[&early, &late]).await;
            assert_eq!(take(ctx, &mut claimer, &signals).unwrap(), early);
        }
        while let Some(name) = take(ctx, &mut claimer, &signals) {
            taken.push(name);
        }
        assert_eq!(claimer.listings, 1, "arrivals made the claimer list again");
        let late: Vec<String> = (0..5).map(|r| format!("z-late-{r}")).collect();
        assert_eq!(taken[taken.len() - 5..], late[..]);
        assert_eq!(taken.len(), 50 + 5);
        assert!(claimer.root_empty(&signals));
    });
}

#[test]
fn a_file_open_for_writing_waits_for_its_close() {
    with_claimer(&[], async |ctx, mut watch, signals, mut claimer| {
        assert_eq!(take(ctx, &mut claimer, &signals), None);
        let mut file = fs::File::create(ctx.queue.root().join("upload")).unwrap();
        file.write_all(b"part one").unwrap();
        settle_events(&mut watch, &signals, &["upload"]).await;
        assert_eq!(take(ctx, &mut claimer, &signals), None, "taken while open");
        assert!(
            !claimer.root_empty(&signals),
            "a file being written is not nothing"
        );
        file.write_all(b"part two").unwrap();
        drop(file);
        while take(ctx, &mut claimer, &signals).is_none() {
            tokio::time::timeout(Duration::from_secs(5), watch.changed(&signals))
                .await
                .expect("no close event");
        }
        let done = ctx.queue.list(State::Success).unwrap();
        assert_eq!(done.len(), 1);
        assert_eq!(done[0].display(), "upload");
        let done = fs::read(ctx.queue.path_of(&done[0])).unwrap();
        assert_eq!(done, b"part onepart two");
        assert_eq!(claimer.listings, 1);
    });
}

#[test]
fn lost_events_list_the_root_again() {
    with_claimer(&["a"], async |ctx, _watch, signals, mut claimer| {
        assert_eq!(take(ctx, &mut claimer, &signals).as_deref(), Some("a"));
        fs::write(ctx.queue.root().join("b"), "b").unwrap();
        signals.dirty.store(true, Ordering::SeqCst);
        assert_eq!(take(ctx, &mut claimer, &signals).as_deref(), Some("b"));
        assert_eq!(claimer.listings, 2);
    });
}
