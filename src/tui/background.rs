//! The threads that touch the disk for the commander: one lists states, one reads details
//! (stat, records, progress, heartbeats), one runs operations in the order they were asked.
//! Each drains its queue before working, so a burst of requests for the same thing is done
//! once. Results go back to the event loop as events.

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fs;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::thread;
use std::time::Duration;

use crate::queue::{Item, Queue, State as QState, remote_filesystem};
use crate::worker::being_written;

use super::editor::{Editor, SaveRequest};
use super::effect::{Effect, Op};
use super::event::Event;
use super::ops;
use super::pane::{Details, Key};
use super::viewer::{LookRequest, ReadRequest, Viewer};

/// Handles to the background threads; dropping it lets them end.
pub struct Background {
    lists: Sender<List>,
    reads: Sender<Read>,
    ops: Sender<Job>,
}

/// A listing: a whole state, or only some file names in it.
enum List {
    Whole(QState),
    Named(QState, Vec<OsString>),
}

enum Read {
    Stat(Vec<Item>),
    Progress,
    Workers,
    /// Open the viewer (these three are done in order, never merged).
    View {
        item: Item,
        log: bool,
    },
    Edit(Item),
    Info(Item),
    Chunk(ReadRequest),
    Look(LookRequest),
}

/// Changes, in the order asked.
enum Job {
    Op(Op),
    Save(SaveRequest),
}

impl Background {
    pub fn start(
        queue: Arc<Queue>,
        events: Sender<Event>,
        heartbeat_timeout: Duration,
    ) -> Background {
        let (lists, list_rx) = channel();
        let (reads, read_rx) = channel();
        let (ops, op_rx) = channel();
        spawn("fsq-list", {
            let (queue, events) = (queue.clone(), events.clone());
            move || lister(&queue, &list_rx, &events)
        });
        spawn("fsq-read", {
            let (queue, events) = (queue.clone(), events.clone());
            move || reader(&queue, &read_rx, &events, heartbeat_timeout)
        });
        spawn("fsq-ops", move || {
            for job in op_rx {
                let event = match job {
                    Job::Op(op) => Event::Done(ops::run(&queue, op)),
                    Job::Save(request) => {
                        Event::Saved(request.run(&queue).map_err(|e| e.to_string()))
                    }
                };
                if events.send(event).is_err() {
                    break;
                }
            }
        });
        Background { lists, reads, ops }
    }

    /// Hands a disk effect to its thread; gives back the effects that are not disk work.
    pub fn run(&self, effect: Effect) -> Option<Effect> {
        // A send fails only when the thread is gone, which happens only at exit.
        let sent = match effect {
            Effect::List(state) => self.lists.send(List::Whole(state)).is_ok(),
            Effect::Recheck { state, files } => self.lists.send(List::Named(state, files)).is_ok(),
            Effect::Stat(items) => self.reads.send(Read::Stat(items)).is_ok(),
            Effect::ReadProgress => self.reads.send(Read::Progress).is_ok(),
            Effect::ReadWorkers => self.reads.send(Read::Workers).is_ok(),
            Effect::Disk(op) => self.ops.send(Job::Op(op)).is_ok(),
            Effect::Save(request) => self.ops.send(Job::Save(request)).is_ok(),
            Effect::View { item, log } => self.reads.send(Read::View { item, log }).is_ok(),
            Effect::Edit(item) => self.reads.send(Read::Edit(item)).is_ok(),
            Effect::Info(item) => self.reads.send(Read::Info(item)).is_ok(),
            Effect::ViewerRead(request) => self.reads.send(Read::Chunk(request)).is_ok(),
            Effect::ViewerLook(request) => self.reads.send(Read::Look(request)).is_ok(),
            other => return Some(other),
        };
        let _ = sent;
        None
    }
}

/// Holds the item out of the workers' reach, then reads it for the editor; a failed read ends
/// the hold at once.
fn open_editor(queue: &Queue, item: &crate::queue::Item) -> Event {
    let hold = match queue.hold_for_edit(item) {
        Ok(hold) => hold,
        Err(err) => return Event::OpenFailed(err.to_string()),
    };
    match Editor::open(queue, &hold.item) {
        Ok(editor) => Event::EditorOpened(Box::new(editor.holding(hold))),
        Err(err) => {
            let _ = queue.release_edit(&hold);
            Event::OpenFailed(err.to_string())
        }
    }
}

fn spawn(name: &str, work: impl FnOnce() + Send + 'static) {
    // Without these threads the commander cannot work at all; failing to start one is fatal.
    if let Err(err) = thread::Builder::new().name(name.into()).spawn(work) {
        panic!("cannot start thread {name}: {err}");
    }
}

/// Drains the requests first: a state asked for whole is listed once, and names asked for in it
/// are dropped; names asked for elsewhere are merged per state and looked at first (they are
/// the quick ones, for a change the operator is waiting to see).
fn lister(queue: &Queue, requests: &Receiver<List>, events: &Sender<Event>) {
    while let Ok(first) = requests.recv() {
        let mut whole = BTreeSet::new();
        let mut named: BTreeMap<QState, BTreeSet<OsString>> = BTreeMap::new();
        for request in std::iter::once(first).chain(requests.try_iter()) {
            match request {
                List::Whole(state) => {
                    whole.insert(state);
                }
                List::Named(state, files) => named.entry(state).or_default().extend(files),
            }
        }
        named.retain(|state, _| !whole.contains(state));
        for (state, files) in named {
            let files: Vec<OsString> = files.into_iter().collect();
            let found = queue.list_named(state, &files);
            if state == QState::Pending {
                let found = queue.root_folders_named(&files);
                let asked = Some(files.clone());
                if events.send(Event::RootFolders { asked, found }).is_err() {
                    return;
                }
            }
            if events
                .send(Event::Rechecked {
                    state,
                    files,
                    found,
                })
                .is_err()
            {
                return;
            }
        }
        for state in whole {
            if state == QState::Pending
                && let Ok(found) = queue.root_folders()
                && events
                    .send(Event::RootFolders { asked: None, found })
                    .is_err()
            {
                return;
            }
            let event = match queue.list(state) {
                Ok(items) => Event::Listed { state, items },
                Err(err) => Event::ListFailed {
                    state,
                    error: err.to_string(),
                },
            };
            if events.send(event).is_err() {
                return;
            }
        }
    }
}

fn reader(queue: &Queue, requests: &Receiver<Read>, events: &Sender<Event>, timeout: Duration) {
    let local = remote_filesystem(queue.root()).is_none();
    while let Ok(first) = requests.recv() {
        let (mut stat, mut progress, mut workers) = (Vec::new(), false, false);
        let mut out = Vec::new();
        for read in std::iter::once(first).chain(requests.try_iter()) {
            match read {
                Read::Stat(items) => stat.extend(items),
                Read::Progress => progress = true,
                Read::Workers => workers = true,
                Read::View { item, log } => out.push(open_viewer(queue, &item, log)),
                Read::Edit(item) => out.push(open_editor(queue, &item)),
                Read::Look(request) => out.push(match request.run() {
                    Ok(looked) => Event::ViewerLooked(looked),
                    Err(err) => Event::OpenFailed(format!("cannot read: {err}")),
                }),
                Read::Info(item) => out.push(Event::InfoRead(super::info::read(queue, &item))),
                Read::Chunk(request) => out.push(match request.read() {
                    Ok(chunk) => Event::ViewerChunk(chunk),
                    Err(err) => Event::OpenFailed(format!("cannot read: {err}")),
                }),
            }
        }
        if !stat.is_empty() {
            out.push(Event::Details(
                stat.iter()
                    .map(|item| details(queue, item, local))
                    .collect(),
            ));
        }
        if progress {
            out.push(Event::ProgressRead(read_progress(queue)));
        }
        if workers {
            match queue.workers(timeout) {
                Ok(list) => out.push(Event::Workers(list)),
                Err(err) => out.push(Event::Done(super::event::OpDone {
                    message: format!("cannot read workers: {err}"),
                    error: true,
                    ..Default::default()
                })),
            }
        }
        for event in out {
            if events.send(event).is_err() {
                return;
            }
        }
    }
}

/// What a stat and the records say about an item; `local`: the queue is on a local filesystem,
/// where the kernel can tell a pending file still being written.
fn details(queue: &Queue, item: &Item, local: bool) -> (QState, Key, Details) {
    let path = queue.path_of(item);
    let meta = fs::symlink_metadata(&path).ok();
    let mut found = Details {
        size: meta.as_ref().map_or(0, |m| m.len()),
        modified: meta.and_then(|m| m.modified().ok()),
        arriving: local && item.state == QState::Pending && being_written(&path) == Some(true),
        ..Details::default()
    };
    if matches!(item.state, QState::Failed | QState::Delayed) {
        let record = queue.record(item);
        found.reason = record.reason;
        found.retry_at = record.retry_at;
    }
    (item.state, Key::of(item), found)
}

fn read_progress(queue: &Queue) -> Vec<(std::ffi::OsString, crate::queue::Progress)> {
    queue
        .all_progress()
        .into_iter()
        .map(|(id, progress)| (id.as_os_str().to_os_string(), progress))
        .collect()
}

/// The viewer on an item, or on its log: a running item's log is followed live.
fn open_viewer(queue: &Queue, item: &Item, log: bool) -> Event {
    let log_path = queue.log_path(item).filter(|path| path.is_file());
    let (path, title, is_log) = if let Some(log_path) = log_path.filter(|_| log) {
        (log_path, format!("log of {}", item.qualified()), true)
    } else {
        (queue.path_of(item), item.qualified(), false)
    };
    match Viewer::open(&path, &title) {
        Ok(viewer) => Event::ViewerOpened {
            viewer: Box::new(viewer),
            follow: is_log && item.state == QState::Process,
        },
        Err(err) => Event::OpenFailed(format!("cannot view {}: {err}", item.qualified())),
    }
}
