//! The disk operations the operator asks for, run on the operations thread through the queue
//! layer. One bad item is reported and the others go on; the outcome names what changed so the
//! panes re-list at once (even where the watcher only polls).

use crate::queue::{EditHold, Item, Operation, Queue, Request, State as QState, printable};

use super::actions::folder;
use super::effect::Op;
use super::event::OpDone;

pub fn run(queue: &Queue, op: Op) -> OpDone {
    let by_rule =
        |operation: Operation| move |q: &Queue, item: &Item| q.operate(item, operation).map(drop);
    match op {
        Op::Move { items, to } => each(
            queue,
            &items,
            &format!("moved to {}", folder(to)),
            to,
            by_rule(Operation::Move(to)),
        ),
        Op::Copy { items, to } => each(
            queue,
            &items,
            &format!("copied to {}", folder(to)),
            to,
            by_rule(Operation::Copy(to)),
        ),
        Op::Delete { items } => {
            let from = items.first().map_or(QState::Pending, |i| i.state);
            let delete = Operation::Delete { force: false };
            each(queue, &items, "deleted", from, by_rule(delete))
        }
        Op::Retry { items } => each(
            queue,
            &items,
            "sent back to pending",
            QState::Pending,
            by_rule(Operation::Retry),
        ),
        Op::Reorder {
            items,
            place,
            shown,
        } => super::reorder::run(queue, &items, place, shown.as_deref()),
        Op::ReleaseEdit(hold) => release_edit(queue, &hold),
        Op::Request { items, request } => send_request(queue, &items, request),
        Op::PauseWorkers { for_ } => pause_workers(queue, for_),
        Op::ResumeWorkers => resume_workers(queue),
    }
}

/// The editor closed: its item goes back where it was held from.
fn release_edit(queue: &Queue, hold: &EditHold) -> OpDone {
    let touched = vec![hold.item.state, hold.home];
    match queue.release_edit(hold) {
        Ok(_) => OpDone {
            touched,
            ..OpDone::default()
        },
        Err(err) => OpDone {
            message: err.to_string(),
            error: true,
            touched,
            focus: None,
        },
    }
}

/// Cancel, freeze or thaw running items, through a request their worker answers.
fn send_request(queue: &Queue, items: &[Item], request: Request) -> OpDone {
    let verb = format!("asked to {}", request.verb());
    each(queue, items, &verb, QState::Process, |q, item| {
        if item.state != QState::Process {
            return Err(crate::queue::Error::Invalid(format!(
                "{} is not running",
                item.qualified()
            )));
        }
        q.send_request(item, request).map(drop)
    })
}

/// Pauses the workers of every host, for a while or until resumed.
fn pause_workers(queue: &Queue, for_: Option<std::time::Duration>) -> OpDone {
    let flag = crate::queue::PauseFlag {
        until: for_.map(|wait| queue.shared_time_in(wait)),
        note: None,
    };
    let result = queue.pause_workers(None, &flag);
    flag_outcome(result, "workers paused on every host")
}

/// Clears the pause of every host and this host's own.
fn resume_workers(queue: &Queue) -> OpDone {
    let result = queue
        .set_workers_paused(None, false)
        .and_then(|()| queue.set_workers_paused(Some(&crate::queue::this_host()), false));
    flag_outcome(result, "workers resumed")
}

fn flag_outcome(result: crate::queue::Result<()>, done: &str) -> OpDone {
    let (message, error) = match result {
        Ok(()) => (done.to_string(), false),
        Err(err) => (err.to_string(), true),
    };
    OpDone {
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
) -> OpDone {
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
        (n, _) => super::text::count(n, "item"),
    };
    let message = match failures.as_slice() {
        [] => format!("{what} {verb}"),
        [first, rest @ ..] if rest.is_empty() && done == 0 => first.clone(),
        [first, rest @ ..] => format!("{what} {verb}; {} failed: {first}", rest.len() + 1),
    };
    OpDone {
        message,
        error: !failures.is_empty(),
        touched,
        focus: None,
    }
}
