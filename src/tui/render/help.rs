//! Help: every action with its keys, generated from the key map in use, so it can never go out
//! of date and shows the user's own overrides.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::super::keymap::{Action, Keymap};
use super::super::text;
use super::super::theme::Theme;
use super::dialog::framed;

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
    scrolled(buf, screen, "Help", &lines(keys), scroll, theme);
}

/// Rows of text a scrolling page shows on a screen `height` rows tall.
pub fn page_rows(height: u16) -> usize {
    usize::from(height.saturating_sub(6)).max(1)
}

/// The first line shown when `total` lines are scrolled by `scroll` on a screen `height` tall:
/// the last page stops at the end.
pub fn clamp_scroll(scroll: usize, total: usize, height: u16) -> usize {
    scroll.min(total.saturating_sub(page_rows(height)))
}

/// A box of `all` lines from `scroll` on, with a footer saying how to scroll and close.
pub fn scrolled(
    buf: &mut Buffer,
    screen: Rect,
    title: &str,
    all: &[String],
    scroll: usize,
    theme: &Theme,
) {
    let room = page_rows(screen.height);
    let scroll = clamp_scroll(scroll, all.len(), screen.height);
    let more = match (scroll > 0, scroll + room < all.len()) {
        (true, true) => "↑↓ more",
        (false, true) => "↓ more",
        (true, false) => "↑ more",
        (false, false) => "",
    };
    // The footer is as wide as the widest line of the whole page, so the box keeps its width
    // while it scrolls.
    let footer = format!("arrows, PgUp/PgDn scroll; Esc closes   {more}");
    let widest = all
        .iter()
        .map(|l| text::width(l))
        .chain([text::width(&footer) + 2])
        .max()
        .unwrap_or(0)
        .min(usize::from(screen.width).saturating_sub(8));
    let footer = text::pad(&footer, widest);
    let mut shown: Vec<String> = all.iter().skip(scroll).take(room).cloned().collect();
    shown.resize(room.min(all.len()), String::new());
    shown.push(footer);
    framed(buf, screen, title, &shown, 0, theme.dialog, theme);
}
