//! The disk operations the operator asks for, run on the operations thread through the queue
//! layer. One bad item is reported and the others go on; the outcome names what changed so the
//! panes re-list at once (even where the watcher only polls).

use crate::queue::{Item, Queue, State as QState, printable};

use super::actions::folder;
use super::effect::{Op, Place};
use super::event::Outcome;
use super::pane::Key;

pub fn run(queue: &Queue, op: Op) -> Outcome {
    match op {
        Op::Move { items, to } => each(
            queue,
            &items,
            &format!("moved to {}", folder(to)),
            to,
            |q, item| q.move_to(item, to).map(drop),
        ),
        Op::Copy { items, to } => each(
            queue,
            &items,
            &format!("copied to {}", folder(to)),
            to,
            |q, item| q.copy_to(item, to).map(drop),
        ),
        Op::Delete { items } => {
            let from = items.first().map_or(QState::Pending, |i| i.state);
            each(queue, &items, "deleted", from, |q, item| q.delete(item))
        }
        Op::Retry { items } => each(
            queue,
            &items,
            "sent back to pending",
            QState::Pending,
            |q, item| q.retry(item).map(drop),
        ),
        Op::Reorder { item, place } => reorder(queue, &item, place),
        Op::Request { items, request } => {
            let verb = format!("asked to {}", request.verb());
            each(queue, &items, &verb, QState::Process, |q, item| {
                if item.state != QState::Process {
                    return Err(crate::queue::Error::Invalid(format!(
                        "{} is not running",
                        item.qualified()
                    )));
                }
                q.send_request(item, request).map(drop)
            })
        }
        Op::PauseWorkers { for_ } => {
            let flag = crate::queue::PauseFlag {
                until: for_.map(|wait| queue.shared_time_in(wait)),
                note: None,
            };
            let result = queue.pause_workers(None, &flag);
            flag_outcome(result, "workers paused on every host")
        }
        Op::ResumeWorkers => {
            let result = queue
                .set_workers_paused(None, false)
                .and_then(|()| queue.set_workers_paused(Some(&crate::queue::this_host()), false));
            flag_outcome(result, "workers resumed")
        }
    }
}

fn flag_outcome(result: crate::queue::Result<()>, done: &str) -> Outcome {
    let (message, error) = match result {
        Ok(()) => (done.to_string(), false),
        Err(err) => (err.to_string(), true),
    };
    Outcome {
        message,
        error,
        touched: Vec::new(),
        focus: None,
    }
}

/// Runs `f` on every item; the message counts successes and quotes the first failure.
fn each(
    queue: &Queue,
    items: &[Item],
    verb: &str,
    to: QState,
    f: impl Fn(&Queue, &Item) -> crate::queue::Result<()>,
) -> Outcome {
    let mut done = 0;
    let mut failures = Vec::new();
    for item in items {
        match f(queue, item) {
            Ok(()) => done += 1,
            Err(err) => failures.push(err.to_string()),
        }
    }
    let mut touched: Vec<QState> = items.iter().map(|i| i.state).collect();
    touched.push(to);
    touched.sort();
    touched.dedup();
    let what = match (done, items) {
        (1, [one]) => format!("\"{}\"", printable(one.display())),
        (n, _) => format!("{n} item{}", if n == 1 { "" } else { "s" }),
    };
    let message = match failures.as_slice() {
        [] => format!("{what} {verb}"),
        [first, rest @ ..] if rest.is_empty() && done == 0 => first.clone(),
        [first, rest @ ..] => format!("{what} {verb}; {} failed: {first}", rest.len() + 1),
    };
    Outcome {
        message,
        error: !failures.is_empty(),
        touched,
        focus: None,
    }
}

/// Moves an item one place (or to an end) against a fresh listing, so repeated presses that
/// arrive before the panes re-list still each move it once more.
fn reorder(queue: &Queue, item: &Item, place: Place) -> Outcome {
    let fail = |message: String| Outcome {
        message,
        error: true,
        touched: vec![QState::Pending],
        focus: None,
    };
    let items = match queue.list(QState::Pending) {
        Ok(items) => items,
        Err(err) => return fail(err.to_string()),
    };
    let Some(at) = items.iter().position(|i| i.display() == item.display()) else {
        return fail(format!("{} has left pending", item.qualified()));
    };
    let current = &items[at];
    // Neighbours from this one listing: the rename itself is microseconds of work.
    let file = |i: usize| items.get(i).map(|item| item.file.as_os_str());
    let (after, before) = match place {
        Place::Top if at == 0 => return Outcome::default(),
        Place::Top => (None, file(0)),
        Place::Bottom if at + 1 == items.len() => return Outcome::default(),
        Place::Bottom => (file(items.len() - 1), None),
        Place::Up if at == 0 => return Outcome::default(),
        Place::Up => (at.checked_sub(2).and_then(file), file(at - 1)),
        Place::Down if at + 1 == items.len() => return Outcome::default(),
        Place::Down => (file(at + 1), file(at + 2)),
    };
    match queue.reorder_between(current, after, before) {
        Ok(moved) => Outcome {
            message: String::new(),
            error: false,
            touched: vec![QState::Pending],
            focus: Some((QState::Pending, Key::of(&moved))),
        },
        Err(err) => fail(err.to_string()),
    }
}
