//! Help: every action with its keys, generated from the key map in use, so it can never go out
//! of date and shows the user's own overrides.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::super::keymap::{Action, Keymap};
use super::super::text;
use super::super::theme::Theme;
use super::dialog::framed;
use super::put;

pub fn lines(keys: &Keymap) -> Vec<String> {
    let width = Action::ALL
        .iter()
        .map(|a| text::width(&keys.describe(*a)))
        .max()
        .unwrap_or(0)
        .min(18);
    Action::ALL
        .iter()
        .filter(|a| keys.keys(**a).next().is_some())
        .map(|a| format!("{}  {}", text::pad(&keys.describe(*a), width), a.help()))
        .collect()
}

pub fn render(buf: &mut Buffer, screen: Rect, scroll: usize, keys: &Keymap, theme: &Theme) {
    let all = lines(keys);
    let room = usize::from(screen.height.saturating_sub(6)).max(1);
    let scroll = scroll.min(all.len().saturating_sub(room));
    let shown: Vec<String> = all.iter().skip(scroll).take(room).cloned().collect();
    let inner = framed(buf, screen, "Help", &shown, 1, theme.dialog, theme);
    if inner.height > 0 {
        let more = if scroll + room < all.len() {
            "↓ more"
        } else {
            ""
        };
        put(
            buf,
            inner.x + 1,
            inner.bottom() - 1,
            &format!("Up/Down/PgUp/PgDn scroll, any other key closes   {more}"),
            inner.width.saturating_sub(2),
            theme.dialog,
        );
    }
}
