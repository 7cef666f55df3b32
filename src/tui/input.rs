//! Keys and the mouse. A key goes to the overlay if one is open, else it is looked up in the key
//! map and becomes an action on the active pane. Actions that change the queue are refused in
//! read-only mode, and those that need the embedded worker say when there is none.

use crossterm::event::{Event as Term, KeyEventKind, MouseButton, MouseEvent, MouseEventKind};

use crate::queue::{State as QState, printable};
use crate::worker::StopMode;

use super::actions;
use super::dialog::{Decision, Overlay, Prompt, PromptFor, Then};
use super::editor::{Editor, EditorOutcome};
use super::effect::Effect;
use super::keymap::{Action, Context, Keymap};
use super::layout;
use super::model::Model;
use super::render::{clamp_scroll, help_lines, page_rows};
use super::search::{self, Searched};
use super::sort::SortMode;
use super::update::{keep_cursors_in_view, list_height, workers_rows};
use super::viewer::ViewerOutcome;

pub fn handle(model: &mut Model, keys: &Keymap, input: Term) -> Vec<Effect> {
    match input {
        Term::Key(key) if key.kind != KeyEventKind::Release => {
            model.dirty = true;
            // In raw mode Ctrl+Z is a key, not a signal; it suspends whatever is open.
            if keys.action(Context::Pane, &key) == Some(Action::Suspend) {
                return vec![Effect::Suspend];
            }
            if let Some(effects) = component_key(model, keys, key) {
                return effects;
            }
            if page_key(model, keys, &key) {
                return Vec::new();
            }
            if let Some(mut overlay) = model.overlay.take() {
                let decision = overlay.handle_key(keys, &key);
                if decision == Decision::Open {
                    model.overlay = Some(overlay);
                    return Vec::new();
                }
                return decided(model, decision);
            }
            if model.pane().search.is_some()
                && search::key(model.pane_mut(), keys, &key) == Searched::Taken
            {
                keep_cursors_in_view(model);
                return Vec::new();
            }
            match keys.action(Context::Pane, &key) {
                Some(action) => {
                    let effects = act(model, action);
                    keep_cursors_in_view(model);
                    effects
                }
                None => Vec::new(),
            }
        }
        Term::Mouse(mouse) => mouse_event(model, keys, mouse),
        Term::Resize(width, height) => {
            model.size = (width, height);
            keep_cursors_in_view(model);
            model.dirty = true;
            Vec::new()
        }
        _ => Vec::new(),
    }
}

/// Acts on what a closed overlay decided.
fn decided(model: &mut Model, decision: Decision) -> Vec<Effect> {
    match decision {
        Decision::Open | Decision::Close | Decision::Chose(Then::Nothing) => Vec::new(),
        Decision::Chose(Then::Run(effects)) => effects,
        Decision::Chose(Then::QuitAfterJobs) => {
            model.quit_when_idle = true;
            model.say("Waiting for running jobs to finish, then quitting (claiming nothing new)");
            let idle = model.engine.as_ref().is_none_or(|e| e.busy == 0);
            if idle {
                vec![Effect::Quit(StopMode::Wait)]
            } else {
                vec![Effect::PauseEngine(true)]
            }
        }
        Decision::Entered(purpose, text) => entered(model, purpose, text),
        Decision::Show(state) => show(model, state),
    }
}

fn entered(model: &mut Model, purpose: PromptFor, text: String) -> Vec<Effect> {
    match purpose {
        PromptFor::Select | PromptFor::Unselect => {
            let select = purpose == PromptFor::Select;
            let n = model.pane_mut().select_matching(&text, select);
            let verb = if select { "selected" } else { "unselected" };
            let what = super::text::count(n, "item");
            model.say(format!("{what} {verb} by {text:?}"));
            Vec::new()
        }
        PromptFor::Filter => {
            let pane = model.pane_mut();
            pane.filter = (!text.is_empty()).then_some(text);
            pane.refilter();
            keep_cursors_in_view(model);
            Vec::new()
        }
        PromptFor::PauseWorkers => match pause_length(&text, model.now) {
            Ok(for_) => vec![Effect::Disk(super::effect::Op::PauseWorkers { for_ })],
            Err(message) => {
                model.complain(message);
                Vec::new()
            }
        },
        PromptFor::NewItem => {
            if text.trim().is_empty() {
                model.complain("a new item needs a name");
            } else {
                let editor = Editor::new_item(std::ffi::OsStr::new(&text));
                model.overlay = Some(Overlay::Editor(Box::new(editor)));
            }
            Vec::new()
        }
    }
}

/// How long a pause typed as `2h`, `19:00` or nothing (for good) lasts.
fn pause_length(
    text: &str,
    now: std::time::SystemTime,
) -> Result<Option<std::time::Duration>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.contains(':') {
        let at = crate::worker::clock::parse_local_time(text, now)?;
        return Ok(Some(at.duration_since(now).unwrap_or_default()));
    }
    match crate::queue::parse_duration(text)? {
        wait if wait.is_zero() => Err("a pause of 0 would end at once".into()),
        wait => Ok(Some(wait)),
    }
}

/// Shows `state` in the active pane.
pub fn show(model: &mut Model, state: QState) -> Vec<Effect> {
    model.pane_mut().switch_to(state);
    // The other pane may show it already: share its listing at once.
    let other = model.other();
    if other.state == state && other.loaded {
        let items = other.items.clone();
        let now = model.now;
        model.pane_mut().set_items(items, now);
    }
    vec![Effect::List(state)]
}

fn act(model: &mut Model, action: Action) -> Vec<Effect> {
    let page = list_height(model, model.active).saturating_sub(1).max(1) as isize;
    let pane = model.pane_mut();
    match action {
        Action::Up => pane.move_cursor(-1),
        Action::Down => pane.move_cursor(1),
        Action::PageUp => pane.move_cursor(-page),
        Action::PageDown => pane.move_cursor(page),
        Action::Top => pane.cursor = 0,
        Action::Bottom => pane.cursor = pane.shown.len().saturating_sub(1),
        Action::SwitchPane => model.active = 1 - model.active,
        Action::ToggleSelect => {
            pane.toggle_current();
            pane.move_cursor(1);
        }
        Action::InvertSelection => pane.invert_selection(),
        Action::SelectGlob => prompt(
            model,
            "Select",
            "Select items matching",
            "*",
            PromptFor::Select,
        ),
        Action::UnselectGlob => {
            let label = "Unselect items matching";
            prompt(model, "Unselect", label, "*", PromptFor::Unselect)
        }
        Action::Filter => {
            let current = model.pane().filter.clone().unwrap_or_default();
            let label = "Show names containing (empty: all)";
            prompt(model, "Filter", label, &current, PromptFor::Filter)
        }
        Action::StateMenu => {
            let cursor = super::model::index_of(model.pane().state);
            model.overlay = Some(Overlay::StateMenu { cursor });
        }
        Action::ShowPending => return show(model, QState::Pending),
        Action::ShowNew => return show(model, QState::New),
        Action::ShowProcess => return show(model, QState::Process),
        Action::ShowSuccess => return show(model, QState::Success),
        Action::ShowFailed => return show(model, QState::Failed),
        Action::ShowDelayed => return show(model, QState::Delayed),
        Action::ShowPaused => return show(model, QState::Paused),
        Action::Help => model.overlay = Some(Overlay::Help { scroll: 0 }),
        Action::QuickSearch => pane.quick_search(),
        Action::Sort | Action::SortReverse => sort(model, action),
        Action::Info => {
            if let Some(item) = model.pane().current() {
                return vec![Effect::Info(item.clone())];
            }
        }
        Action::Workers => {
            model.show_workers = !model.show_workers;
            if model.show_workers {
                return vec![Effect::ReadWorkers];
            }
        }
        Action::Follow => toggle_follow(model),
        Action::Refresh => {
            return QState::ALL.into_iter().map(Effect::List).collect();
        }
        Action::Quit => return actions::quit(model),
        Action::Suspend => return vec![Effect::Suspend],
        Action::PauseWorkers if !model.readonly => {
            let label = "Pause every worker for (2h) or until (19:00); empty: until resumed";
            prompt(model, "Pause workers", label, "", PromptFor::PauseWorkers)
        }
        Action::ResumeWorkers if !model.readonly => {
            return vec![Effect::Disk(super::effect::Op::ResumeWorkers)];
        }
        Action::PauseWorker | Action::FewerSlots | Action::MoreSlots => {
            return actions::engine(model, action);
        }
        other => return actions::on_items(model, other),
    }
    Vec::new()
}

/// Follows the current item through its states, or stops following it.
fn toggle_follow(model: &mut Model) {
    let name = model.pane().current().map(|i| i.display().to_os_string());
    if name.is_some() && name == model.follow {
        model.follow = None;
        model.say("no longer following");
    } else if let Some(name) = name {
        model.say(format!("following {} through its states", printable(&name)));
        model.follow = Some(name);
    }
}

/// Changes the active pane's sort, or says why pending keeps processing order.
fn sort(model: &mut Model, action: Action) {
    let pane = model.pane_mut();
    if !SortMode::allowed_in(pane.state) {
        model.say("pending always shows processing order: the order items will run in");
        return;
    }
    if action == Action::Sort {
        pane.sort = pane.sort.next();
    } else {
        pane.reverse = !pane.reverse;
    }
    pane.refilter();
    let reversed = if pane.reverse { ", reversed" } else { "" };
    let text = format!("sorted by {}{reversed}", pane.sort.label());
    model.say(text);
}

/// Keys for a scrolling page (help, info): arrows and PgUp/PgDn scroll, Home/End jump, and the
/// keys of help, quit and cancel (F1, `q`, Esc) close it. Says whether a page took the key.
fn page_key(model: &mut Model, keys: &Keymap, key: &crossterm::event::KeyEvent) -> bool {
    let total = match &model.overlay {
        Some(Overlay::Help { .. }) => help_lines(keys).len(),
        Some(Overlay::Info { page, .. }) => page.lines.len(),
        _ => return false,
    };
    let height = model.size.1;
    let page = page_rows(height) as isize;
    let delta = match keys.action(Context::Pane, key) {
        Some(Action::Up) => -1,
        Some(Action::Down) => 1,
        Some(Action::PageUp) => -page,
        Some(Action::PageDown) => page,
        Some(Action::Top) => isize::MIN / 2,
        Some(Action::Bottom) => isize::MAX / 2,
        Some(Action::Help | Action::Quit) => {
            model.overlay = None;
            return true;
        }
        _ => match keys.action(Context::Dialog, key) {
            Some(Action::Cancel | Action::Confirm) => {
                model.overlay = None;
                return true;
            }
            Some(Action::NextChoice) => 1,
            Some(Action::PreviousChoice) => -1,
            _ => 0,
        },
    };
    if let Some(Overlay::Help { scroll } | Overlay::Info { scroll, .. }) = &mut model.overlay {
        *scroll = clamp_scroll(scroll.saturating_add_signed(delta), total, height);
    }
    true
}

fn prompt(model: &mut Model, title: &str, label: &str, input: &str, purpose: PromptFor) {
    model.overlay = Some(Overlay::Prompt(Prompt {
        title: title.to_string(),
        label: label.to_string(),
        input: input.to_string(),
        purpose,
        pristine: !input.is_empty(),
    }));
}

/// Clicks put the cursor (and the focus) where they land; the wheel scrolls the pane under it;
/// a click on the key bar presses that function key.
fn mouse_event(model: &mut Model, keys: &Keymap, mouse: MouseEvent) -> Vec<Effect> {
    if model.overlay.is_some() {
        return Vec::new();
    }
    let areas = layout::areas(
        model.size.0,
        model.size.1,
        model.active,
        workers_rows(model),
    );
    let hit = |r: ratatui::layout::Rect| {
        mouse.column >= r.x
            && mouse.column < r.right()
            && mouse.row >= r.y
            && mouse.row < r.bottom()
    };
    if matches!(mouse.kind, MouseEventKind::Down(MouseButton::Left)) && hit(areas.keybar) {
        let action = super::render::keybar::action_at(model, keys, areas.keybar, mouse.column);
        model.dirty = true;
        return action.map(|a| act(model, a)).unwrap_or_default();
    }
    let Some(index) = (0..2).find(|&i| hit(areas.panes[i])) else {
        return Vec::new();
    };
    let list = layout::pane_areas(areas.panes[index]).list;
    match mouse.kind {
        MouseEventKind::Down(MouseButton::Left) => {
            model.active = index;
            if hit(list) {
                let pane = &mut model.panes[index];
                let row = pane.offset + usize::from(mouse.row - list.y);
                if row < pane.shown.len() {
                    pane.cursor = row;
                }
            }
        }
        MouseEventKind::ScrollDown => model.panes[index].move_cursor(3),
        MouseEventKind::ScrollUp => model.panes[index].move_cursor(-3),
        _ => return Vec::new(),
    }
    keep_cursors_in_view(model);
    model.dirty = true;
    Vec::new()
}

/// Keys for the viewer or the editor, when one is open: they have their own key handling.
fn component_key(
    model: &mut Model,
    keys: &Keymap,
    key: crossterm::event::KeyEvent,
) -> Option<Vec<Effect>> {
    match model.overlay.as_mut()? {
        Overlay::Viewer(viewer) => {
            if viewer.handle_key(keys, key) == ViewerOutcome::Close {
                model.overlay = None;
                return Some(Vec::new());
            }
            Some(
                viewer
                    .read_request()
                    .map(Effect::ViewerRead)
                    .into_iter()
                    .collect(),
            )
        }
        Overlay::Editor(editor) => Some(match editor.handle_key(keys, key) {
            EditorOutcome::Continue => Vec::new(),
            EditorOutcome::Save(request) => vec![Effect::Save(request)],
            EditorOutcome::Close => {
                let hold = editor.take_hold();
                model.overlay = None;
                hold.map(|hold| Effect::Disk(super::effect::Op::ReleaseEdit(hold)))
                    .into_iter()
                    .collect()
            }
        }),
        _ => None,
    }
}
