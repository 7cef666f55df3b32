//! `fsq cancel`, `fsq freeze` and `fsq thaw`: requests to the workers running items, on this host
//! or any other. Each request is a file in `_meta/requests/` (see the queue layer); the command
//! waits until the owning worker has acted on it, and says so, or says why it could not: the item
//! finished meanwhile, or its worker is down (the request is then removed).

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use crate::queue::{Item, Queue, Request, State, WorkerHealth, WorkerId, printable};

/// How often the command looks whether its requests were answered.
const LOOK_EVERY: Duration = Duration::from_millis(20);
/// The least time a worker gets to answer; a polling worker gets three of its intervals more.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// How long a cancelled item may be out of its claim before its worker answers.
const CANCEL_SETTLE: Duration = Duration::from_secs(1);

/// Sends `request` for the named items, or with no names for every running item (of `host`).
pub fn run(
    queue: &Queue,
    specs: &[OsString],
    request: Request,
    host: Option<&str>,
) -> anyhow::Result<ExitCode> {
    let mut failed = false;
    let items = if specs.is_empty() {
        let running = running_on(queue, host)?;
        if running.is_empty() {
            let place = host.map_or(String::new(), |h| format!(" on {h}"));
            say!("fsq: nothing is running{place}");
            return Ok(ExitCode::from(1));
        }
        running
    } else {
        let snapshot = queue.snapshot()?;
        let mut items = Vec::new();
        for spec in specs {
            match snapshot.resolve(spec) {
                Ok(item) if item.state == State::Process => items.push(item),
                Ok(item) => {
                    say!(
                        "fsq: {} is not running (it is in {}/)",
                        printable(item.display()),
                        item.state
                    );
                    failed = true;
                }
                Err(err) => {
                    say!("fsq: {err}");
                    failed = true;
                }
            }
        }
        items
    };
    let mut waiting = Vec::new();
    for item in items {
        match queue.send_request(&item, request) {
            Ok(path) => waiting.push((item, path)),
            Err(err) => {
                say!("fsq: {err}");
                failed = true;
            }
        }
    }
    for (item, path) in waiting {
        if let Err(message) = await_answer(queue, &item, &path, request) {
            say!("fsq: {message}");
            failed = true;
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Items in process/, of workers on `host` when given.
fn running_on(queue: &Queue, host: Option<&str>) -> anyhow::Result<Vec<Item>> {
    let items = queue.list(State::Process)?;
    let Some(host) = host else {
        return Ok(items);
    };
    Ok(items
        .into_iter()
        .filter(|item| {
            item.owner
                .as_ref()
                .and_then(|o| o.to_str())
                .is_some_and(|owner| WorkerId::host_of(owner) == host)
        })
        .collect())
}

/// Waits until the request at `path` is answered and says what came of it.
fn await_answer(
    queue: &Queue,
    item: &Item,
    path: &PathBuf,
    request: Request,
) -> Result<(), String> {
    let name = printable(item.display());
    let owner = item.owner.clone().unwrap_or_default();
    let owner = owner.to_string_lossy();
    let config = queue.config().map(|c| c.worker).unwrap_or_default();
    let workers = queue.workers(config.heartbeat_timeout).unwrap_or_default();
    let heartbeat = workers.iter().find(|w| w.heartbeat.id == owner);
    let gone = |why: &str| {
        let _ = std::fs::remove_file(path);
        Err(format!(
            "{name}: its worker {owner} is {why}; nothing was done (the claim goes back when \
             the worker is recovered)"
        ))
    };
    match heartbeat.map(|w| &w.health) {
        None => return gone("gone"),
        Some(WorkerHealth::Down { why, .. }) => return gone(&format!("down ({why})")),
        Some(WorkerHealth::Alive) => {}
    }
    let poll = heartbeat
        .and_then(|w| w.heartbeat.poll_ms)
        .map_or(Duration::ZERO, Duration::from_millis);
    let deadline = Instant::now() + ANSWER_WITHIN + poll * 3;
    let claim = queue.path_of(item);
    // A cancelled job's worker answers right after moving the item: a claim gone for longer
    // with the request still there is an item that ended by itself.
    let settle = match request {
        Request::Cancel | Request::Fail => CANCEL_SETTLE,
        Request::Freeze | Request::Thaw => Duration::ZERO,
    };
    let mut gone_since: Option<Instant> = None;
    while path.exists() {
        if claim.exists() {
            gone_since = None;
        } else if gone_since.get_or_insert_with(Instant::now).elapsed() >= settle {
            let _ = std::fs::remove_file(path);
            let now = where_now(queue, item).map_or("gone".to_string(), |s| format!("in {s}/"));
            return Err(format!(
                "{name} is no longer running (finished meanwhile, now {now}); nothing was done"
            ));
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{name}: worker {owner} did not answer within {}s; the request stays in \
                 _meta/requests/ until it does",
                (ANSWER_WITHIN + poll * 3).as_secs()
            ));
        }
        std::thread::sleep(LOOK_EVERY);
    }
    match request {
        Request::Freeze => say!("frozen {name}"),
        Request::Thaw => say!("thawed {name}"),
        // The worker answers a cancel once the item has moved.
        Request::Cancel | Request::Fail => match where_now(queue, item) {
            Some(State::Process) => say!(
                "cancelled {name}: claimed again at once (pause the workers first to keep it \
                 pending)"
            ),
            Some(State::Pending) => say!("cancelled {name}: now in pending"),
            Some(state) => say!("cancelled {name}: now in {state}/"),
            None => say!("cancelled {name}: gone"),
        },
    }
    Ok(())
}

/// The state the item (found by its id) is in now.
fn where_now(queue: &Queue, item: &Item) -> Option<State> {
    let id = item.id()?;
    State::ALL.into_iter().find(|state| {
        queue
            .list(*state)
            .is_ok_and(|items| items.iter().any(|i| i.id() == Some(id)))
    })
}
