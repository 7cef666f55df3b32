//! Overlays drawn over the panes: mc-style confirmations with buttons, one-line prompts, the
//! state menu, notices, and help (in its own module). Each is a box centred on the screen,
//! clipped to it, so a tiny terminal gets a smaller box rather than a panic.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::widgets::{Block, BorderType, Clear, Widget};

use crate::queue::State as QState;

use super::super::dialog::{Confirm, Overlay, Prompt};
use super::super::editor::EditStyle;
use super::super::keymap::Keymap;
use super::super::model::Model;
use super::super::text;
use super::super::theme::Theme;
use super::super::viewer::ViewStyle;
use super::put;

pub fn render(
    buf: &mut Buffer,
    screen: Rect,
    overlay: &Overlay,
    model: &Model,
    keys: &Keymap,
    theme: &Theme,
) {
    match overlay {
        Overlay::Viewer(viewer) => {
            blank(buf, screen, theme);
            viewer.render(screen, buf, &view_style(theme));
        }
        Overlay::Editor(editor) => {
            blank(buf, screen, theme);
            editor.render(screen, buf);
        }
        Overlay::Confirm(confirm) => render_confirm(buf, screen, confirm, theme),
        Overlay::Prompt(prompt) => render_prompt(buf, screen, prompt, theme),
        Overlay::StateMenu { cursor } => render_menu(buf, screen, *cursor, model, theme),
        Overlay::Help { scroll } => super::help::render(buf, screen, *scroll, keys, theme),
        Overlay::Info { page, scroll } => {
            super::help::scrolled(buf, screen, &page.title, &page.lines, *scroll, theme)
        }
    }
}

/// The components draw only their text: wipe what is under them first.
fn blank(buf: &mut Buffer, area: Rect, theme: &Theme) {
    Clear.render(area, buf);
    buf.set_style(area, theme.base);
}

/// Draws a titled box around `lines` plus `extra` rows, returns its inside.
pub fn framed(
    buf: &mut Buffer,
    screen: Rect,
    title: &str,
    lines: &[String],
    extra: u16,
    style: Style,
    theme: &Theme,
) -> Rect {
    let widest = lines
        .iter()
        .map(|l| text::width(l))
        .max()
        .unwrap_or(0)
        .max(text::width(title) + 4);
    let width = (widest as u16 + 6).min(screen.width);
    let height = (lines.len() as u16 + extra + 4).min(screen.height);
    let area = centered(screen, width, height);
    let inner = frame(buf, area, title, style, theme);
    for (i, line) in lines.iter().enumerate() {
        let y = inner.y + 1 + i as u16;
        if y >= inner.bottom() {
            break;
        }
        put(
            buf,
            inner.x + 1,
            y,
            line,
            inner.width.saturating_sub(2),
            style,
        );
    }
    inner
}

fn frame(buf: &mut Buffer, area: Rect, title: &str, style: Style, theme: &Theme) -> Rect {
    Clear.render(area, buf);
    let title_style = if style == theme.dialog_alarm {
        style
    } else {
        theme.dialog_title
    };
    let block = Block::bordered()
        .border_type(BorderType::Double)
        .style(style)
        .border_style(style)
        .title(ratatui::text::Span::styled(
            format!(" {title} "),
            title_style,
        ))
        .title_alignment(ratatui::layout::Alignment::Center);
    let inner = block.inner(area);
    block.render(area, buf);
    inner
}

fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(screen.width);
    let height = height.min(screen.height);
    Rect::new(
        screen.x + (screen.width - width) / 2,
        screen.y + (screen.height - height) / 2,
        width,
        height,
    )
}

fn render_confirm(buf: &mut Buffer, screen: Rect, confirm: &Confirm, theme: &Theme) {
    let style = if confirm.alarm {
        theme.dialog_alarm
    } else {
        theme.dialog
    };
    let buttons: Vec<String> = confirm
        .choices
        .iter()
        .map(|(label, _)| format!("[ {label} ]"))
        .collect();
    let buttons_width: usize = buttons.iter().map(|b| text::width(b) + 1).sum();
    let mut lines = confirm.text.clone();
    lines.push(" ".repeat(buttons_width));
    let inner = framed(buf, screen, &confirm.title, &lines, 0, style, theme);
    if inner.height < 2 {
        return;
    }
    let y = inner.bottom() - 1;
    let mut x = inner.x + inner.width.saturating_sub(buttons_width as u16) / 2;
    for (i, button) in buttons.iter().enumerate() {
        let w = text::width(button) as u16;
        let focus = i == confirm.focus;
        let button_style = if focus {
            theme.button_focus
        } else if confirm.alarm {
            style
        } else {
            theme.button
        };
        put(
            buf,
            x,
            y,
            button,
            w.min(inner.right().saturating_sub(x)),
            button_style,
        );
        x = x.saturating_add(w + 1);
    }
}

fn render_prompt(buf: &mut Buffer, screen: Rect, prompt: &Prompt, theme: &Theme) {
    let width = (screen.width * 2 / 3).max(40).min(screen.width);
    let area = centered(screen, width, 6);
    let inner = frame(buf, area, &prompt.title, theme.dialog, theme);
    if inner.height < 2 {
        return;
    }
    put(
        buf,
        inner.x + 1,
        inner.y,
        &prompt.label,
        inner.width.saturating_sub(2),
        theme.dialog,
    );
    let field = inner.width.saturating_sub(2);
    // Show the end of a long input, where the typing happens.
    let shown = tail(&prompt.input, usize::from(field).saturating_sub(1));
    put(
        buf,
        inner.x + 1,
        inner.y + 1,
        &format!("{shown}▏"),
        field,
        theme.input,
    );
    if inner.height >= 4 {
        put(
            buf,
            inner.x + 1,
            inner.y + 3,
            "Enter: OK   Esc: cancel",
            field,
            theme.dialog,
        );
    }
}

fn tail(text: &str, cells: usize) -> String {
    let mut out: Vec<char> = Vec::new();
    let mut used = 0;
    for c in text.chars().rev() {
        let w = text::width(c.encode_utf8(&mut [0; 4]));
        if used + w > cells {
            break;
        }
        used += w;
        out.push(c);
    }
    out.into_iter().rev().collect()
}

fn render_menu(buf: &mut Buffer, screen: Rect, cursor: usize, model: &Model, theme: &Theme) {
    let lines: Vec<String> = QState::ALL
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let count = model.queue.count(*s).map_or("…".into(), |n| n.to_string());
            format!("{} {:<10}{:>8}", i + 1, s.as_str(), count)
        })
        .collect();
    let inner = framed(buf, screen, "Show state", &lines, 0, theme.dialog, theme);
    let y = inner.y + 1 + cursor as u16;
    if y < inner.bottom() {
        put(
            buf,
            inner.x + 1,
            y,
            &lines[cursor.min(lines.len() - 1)],
            inner.width.saturating_sub(2),
            theme.button_focus,
        );
    }
}

/// The viewer's colours, from the theme.
pub fn view_style(theme: &Theme) -> ViewStyle {
    ViewStyle {
        text: theme.base,
        border: theme.border,
        title: theme.title_active,
        status: theme.dim,
        escape: theme.alarm,
        hex_offset: theme.column_header,
        hex_bytes: theme.base,
    }
}

/// The editor's colours, from the theme.
pub fn edit_style(theme: &Theme) -> EditStyle {
    EditStyle {
        text: theme.base,
        cursor: theme.cursor,
        cursor_line: theme.base,
        border: theme.border,
        title: theme.title_active,
        status: theme.dim,
        message: theme.fresh,
        error: theme.alarm,
        prompt: theme.dialog_alarm,
    }
}
