//! The mc-style function-key bar: `1Help 2State 3View ...`, generated from the key map, with
//! labels that fit the active pane (in failed/ the move key reads Retry; keys that cannot act
//! there are left blank). A click on a label presses its key.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::queue::State as QState;

use super::super::actions::move_label;
use super::super::keymap::{Action, Keymap};
use super::super::model::Model;
use super::put;

/// The label of function key `n` in the current state, and the action it does.
pub fn slot(model: &Model, keys: &Keymap, n: u8) -> Option<(Action, &'static str)> {
    let action = *Action::ALL.iter().find(|a| {
        keys.function_key(**a) == Some(n) && a.context() == super::super::keymap::Context::Pane
    })?;
    let state = model.pane().state;
    let changes = !model.readonly;
    let label = match action {
        Action::Help => "Help",
        Action::StateMenu => "State",
        Action::View => "View",
        Action::Edit if changes && state != QState::Process => "Edit",
        Action::Copy if changes && state != QState::Process => "Copy",
        Action::Move if changes && state != QState::Process => move_label(state),
        Action::New if changes => "New",
        Action::Delete if changes && state != QState::Process => "Delete",
        Action::PauseWorker => match &model.engine {
            Some(e) if e.paused => "Run",
            Some(_) => "Pause",
            None => "",
        },
        Action::Quit => "Quit",
        Action::Workers => "Workrs",
        Action::Filter => "Filter",
        Action::Retry => "Retry",
        _ => "",
    };
    Some((action, label))
}

pub fn render(
    buf: &mut Buffer,
    area: Rect,
    model: &Model,
    keys: &Keymap,
    theme: &super::super::theme::Theme,
) {
    if area.height == 0 || area.width == 0 {
        return;
    }
    put(buf, area.x, area.y, "", area.width, theme.keybar_label);
    let slot_width = (area.width / 10).max(1);
    for n in 1..=10u8 {
        let x = area.x + slot_width * u16::from(n - 1);
        if x >= area.right() {
            break;
        }
        let width = if n == 10 {
            area.right() - x
        } else {
            slot_width
        };
        let number = n.to_string();
        let nw = (number.len() as u16).min(width);
        put(buf, x, area.y, &number, nw, theme.keybar_number);
        let label = slot(model, keys, n).map_or("", |(_, label)| label);
        // Cut without an ellipsis: on a narrow bar the first letters say more than a dot.
        let room = usize::from(width - nw);
        let label: String = label.chars().take(room).collect();
        put(buf, x + nw, area.y, &label, width - nw, theme.keybar_label);
    }
}

/// The action under column `x` of the bar.
pub fn action_at(model: &Model, keys: &Keymap, area: Rect, x: u16) -> Option<Action> {
    let slot_width = (area.width / 10).max(1);
    let n = ((x.saturating_sub(area.x)) / slot_width + 1).min(10) as u8;
    slot(model, keys, n)
        .filter(|(_, label)| !label.is_empty())
        .map(|(a, _)| a)
}
