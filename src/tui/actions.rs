//! Actions on items and on the embedded worker: they check what can be done (read-only mode,
//! the right state, something to act on), ask for confirmation where mc would, and return the
//! disk operations as effects. Nothing here touches the disk.

use crate::queue::{Item, Operation, Request, State as QState, printable};
use crate::worker::StopMode;

use super::dialog::{Confirm, Overlay, Prompt, PromptFor, Then};
use super::effect::{Effect, Op, Place};
use super::keymap::Action;
use super::model::Model;

/// The label of the move key in a pane showing `state`.
pub fn move_label(state: QState) -> &'static str {
    match state {
        QState::Failed | QState::Delayed => "Retry",
        _ => "Move",
    }
}

pub fn on_items(model: &mut Model, action: Action) -> Vec<Effect> {
    if action == Action::View || action == Action::Edit {
        return open(model, action);
    }
    if model.readonly {
        model.complain("read-only: fsq was started with --readonly, so the queue is not changed");
        return Vec::new();
    }
    if action == Action::New {
        return new_item(model);
    }
    let items = model.pane().targets();
    if items.is_empty() {
        model.complain("nothing here to act on");
        return Vec::new();
    }
    let state = model.pane().state;
    match action {
        Action::Move if matches!(state, QState::Failed | QState::Delayed) => {
            let question = format!(
                "Retry {} (back to pending, attempts reset)?",
                describe(&items)
            );
            confirm(model, "Retry", question, Op::Retry { items })
        }
        Action::Move | Action::Copy => move_or_copy(model, action, items),
        Action::Delete => delete(model, items),
        Action::MoveUp | Action::MoveDown | Action::MoveTop | Action::MoveBottom => {
            reorder(model, action, items)
        }
        Action::Retry => only_if(model, Operation::Retry, Op::Retry { items }),
        Action::Hold => {
            let to = QState::Paused;
            only_if(model, Operation::Hold, Op::Move { items, to })
        }
        Action::Resume => {
            let to = QState::Pending;
            only_if(model, Operation::Resume, Op::Move { items, to })
        }
        Action::CancelJob if state == QState::Process => ask_how_to_cancel(model, items),
        Action::CancelJob | Action::FreezeJob | Action::ThawJob => request(model, action, items),
        _ => Vec::new(),
    }
}

/// F7: asks for the name of a new pending text item.
fn new_item(model: &mut Model) -> Vec<Effect> {
    model.overlay = Some(Overlay::Prompt(Prompt {
        title: "New item".into(),
        label: "Name of the new pending text item".into(),
        input: String::new(),
        purpose: PromptFor::NewItem,
        pristine: false,
    }));
    Vec::new()
}

/// F6 / F5: to the other pane's state, once confirmed, where the queue's table allows it.
fn move_or_copy(model: &mut Model, action: Action, items: Vec<Item>) -> Vec<Effect> {
    let (from, to) = (model.pane().state, model.other().state);
    let what = describe(&items);
    let (operation, verb, op) = if action == Action::Move {
        (Operation::Move(to), "Move", Op::Move { items, to })
    } else {
        (Operation::Copy(to), "Copy", Op::Copy { items, to })
    };
    if refused(model, operation, from) {
        return Vec::new();
    }
    let question = format!("{verb} {what} to {}?", folder(to));
    confirm(model, verb, question, op)
}

/// F8: once confirmed, with "No" as the default.
fn delete(model: &mut Model, items: Vec<Item>) -> Vec<Effect> {
    let state = model.pane().state;
    if refused(model, Operation::Delete { force: false }, state) {
        return Vec::new();
    }
    let question = format!("Delete {}?", describe(&items));
    let mut dialog = Confirm::yes_no(
        "Delete",
        vec![question, "This cannot be undone.".into()],
        vec![Effect::Disk(Op::Delete { items })],
        false,
    );
    dialog.alarm = true;
    model.overlay = Some(Overlay::Confirm(dialog));
    Vec::new()
}

/// The reorder keys move pending items; with a filter on, only among the items shown.
fn reorder(model: &mut Model, action: Action, items: Vec<Item>) -> Vec<Effect> {
    let pane = model.pane();
    if pane.state != QState::Pending {
        model.complain("only pending items have an order to change");
        return Vec::new();
    }
    let place = match action {
        Action::MoveUp => Place::Up,
        Action::MoveDown => Place::Down,
        Action::MoveTop => Place::Top,
        _ => Place::Bottom,
    };
    let shown = pane.filter.as_ref().map(|_| {
        pane.shown
            .iter()
            .map(|&i| pane.items[i].display().to_os_string())
            .collect()
    });
    vec![Effect::Disk(Op::Reorder {
        items,
        place,
        shown,
    })]
}

/// Cancel on running items asks where they go: back to pending, or to failed/.
fn ask_how_to_cancel(model: &mut Model, items: Vec<Item>) -> Vec<Effect> {
    let question = format!(
        "Cancel {}? The job's whole process group is killed.",
        describe(&items)
    );
    let request = |request| {
        let items = items.clone();
        Then::Run(vec![Effect::Disk(Op::Request { items, request })])
    };
    model.overlay = Some(Overlay::Confirm(Confirm {
        title: "Cancel".into(),
        text: vec![question],
        choices: vec![
            ("Back to pending".into(), request(Request::Cancel)),
            ("To failed/".into(), request(Request::Fail)),
            ("Keep running".into(), Then::Nothing),
        ],
        focus: 2,
        alarm: true,
    }));
    Vec::new()
}

/// Freeze and thaw (and cancel anywhere but process/, which it refuses) ask the running jobs'
/// workers through a request.
fn request(model: &mut Model, action: Action, items: Vec<Item>) -> Vec<Effect> {
    let (verb, request) = match action {
        Action::CancelJob => ("cancelled", Request::Cancel),
        Action::FreezeJob => ("frozen", Request::Freeze),
        _ => ("thawed", Request::Thaw),
    };
    if model.pane().state != QState::Process {
        model.complain(format!("only running items (in process/) can be {verb}"));
        return Vec::new();
    }
    vec![Effect::Disk(Op::Request { items, request })]
}

/// Whether the queue layer's table refuses `operation` from `state`; says why if so.
fn refused(model: &mut Model, operation: Operation, state: QState) -> bool {
    match operation.refusal(state) {
        Some(what) => {
            model.complain(format!("{}: items can only {what}", folder(state)));
            true
        }
        None => false,
    }
}

fn only_if(model: &mut Model, operation: Operation, op: Op) -> Vec<Effect> {
    let state = model.pane().state;
    if refused(model, operation, state) {
        return Vec::new();
    }
    vec![Effect::Disk(op)]
}

fn confirm(model: &mut Model, title: &str, question: String, op: Op) -> Vec<Effect> {
    model.overlay = Some(Overlay::Confirm(Confirm::yes_no(
        title,
        vec![question],
        vec![Effect::Disk(op)],
        true,
    )));
    Vec::new()
}

/// F3 views the item (a running or failed one: its log, a running one's followed live); F4
/// edits it. Both components are read off the render path and arrive as events.
fn open(model: &mut Model, action: Action) -> Vec<Effect> {
    let Some(item) = model.pane().current().cloned() else {
        model.complain("nothing here to open");
        return Vec::new();
    };
    if action == Action::View {
        // Where an item has a log (its runs, attempt by attempt), that is what F3 shows.
        let log = matches!(
            item.state,
            QState::Process | QState::Failed | QState::Delayed | QState::Success
        );
        return vec![Effect::View { item, log }];
    }
    if model.readonly {
        model.complain("read-only: fsq was started with --readonly, so items cannot be edited");
        return Vec::new();
    }
    if item.state == QState::Process {
        model.complain("a worker is running this item; view it with F3");
        return Vec::new();
    }
    vec![Effect::Edit(item)]
}

/// F9 and the slot keys.
pub fn engine(model: &mut Model, action: Action) -> Vec<Effect> {
    let Some(status) = model.engine.clone() else {
        model.complain("no embedded worker (started with --no-worker or --readonly)");
        return Vec::new();
    };
    match action {
        Action::PauseWorker => {
            model.say(if status.paused {
                "worker resumed"
            } else {
                "worker paused: running jobs go on, nothing new is claimed"
            });
            vec![Effect::PauseEngine(!status.paused)]
        }
        Action::FewerSlots if status.slots <= 1 => {
            model.complain("one slot is the least; F9 pauses the worker");
            Vec::new()
        }
        Action::FewerSlots => {
            model.say(format!("{} slots", status.slots - 1));
            vec![Effect::SetSlots(status.slots - 1)]
        }
        _ => {
            model.say(format!("{} slots", status.slots + 1));
            vec![Effect::SetSlots(status.slots + 1)]
        }
    }
}

/// F10: with jobs running, ask whether to wait for them or to stop and requeue them.
pub fn quit(model: &mut Model) -> Vec<Effect> {
    let busy = model.engine.as_ref().map_or(0, |e| e.busy);
    if busy == 0 {
        return vec![Effect::Quit(StopMode::Requeue)];
    }
    model.overlay = Some(Overlay::Confirm(Confirm {
        title: "Quit".into(),
        text: vec![format!(
            "{busy} job{} running in the embedded worker.",
            if busy == 1 { " is" } else { "s are" }
        )],
        choices: vec![
            ("Wait for them".into(), Then::QuitAfterJobs),
            (
                "Stop and requeue".into(),
                Then::Run(vec![Effect::Quit(StopMode::Requeue)]),
            ),
            ("Cancel".into(), Then::Nothing),
        ],
        focus: 0,
        alarm: false,
    }));
    Vec::new()
}

/// `pending` or `failed/`, as the operator sees folders.
pub fn folder(state: QState) -> String {
    match state.folder() {
        Some(f) => format!("{f}/"),
        None => "pending".into(),
    }
}

/// `"a.txt"` or `3 items`.
fn describe(items: &[Item]) -> String {
    match items {
        [one] => format!("\"{}\"", printable(one.display())),
        many => format!("{} items", many.len()),
    }
}
