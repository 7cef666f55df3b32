//! Text for one terminal line: hostile names escaped, widths measured in cells (a CJK character
//! takes two, a combining mark none), long text cut with an ellipsis, and the short human forms
//! of sizes, ages and durations the panes show.

use std::time::Duration;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::queue::Speed;

/// Cells `text` takes on screen.
pub fn width(text: &str) -> usize {
    UnicodeWidthStr::width(text)
}

/// `text` cut to at most `max` cells, ending in `…` when something was cut.
pub fn fit(text: &str, max: usize) -> String {
    if width(text) <= max {
        return text.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w > max - 1 {
            break;
        }
        used += w;
        out.push(c);
    }
    out.push('…');
    out
}

/// `text` cut or padded with spaces to exactly `cells` cells.
pub fn pad(text: &str, cells: usize) -> String {
    let mut out = fit(text, cells);
    let w = width(&out);
    out.extend(std::iter::repeat_n(' ', cells.saturating_sub(w)));
    out
}

/// `text` right-aligned in `cells` cells.
pub fn pad_left(text: &str, cells: usize) -> String {
    let cut = fit(text, cells);
    let w = width(&cut);
    let mut out: String = std::iter::repeat_n(' ', cells.saturating_sub(w)).collect();
    out.push_str(&cut);
    out
}

/// A size like `1.5 MiB`.
pub fn size(bytes: u64) -> String {
    humansize::format_size(
        bytes,
        humansize::BINARY.decimal_places(1).space_after_value(true),
    )
}

/// `1 item`, `3 items`.
pub fn count(n: usize, noun: &str) -> String {
    format!("{n} {noun}{}", if n == 1 { "" } else { "s" })
}

/// A short duration: `42s`, `3m05s`, `2h10m`, `3d4h`.
pub fn duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{}h", s / 86400, s % 86400 / 3600),
    }
}

/// A rate in its own unit: `1.2 MiB/s` for bytes, `2.5x` for a multiple of real time.
pub fn speed(speed: Speed) -> String {
    let value = speed.value();
    if !value.is_finite() || value < 0.0 {
        return String::new();
    }
    match speed {
        Speed::BytesPerSec(_) => format!("{}/s", size(value as u64)),
        Speed::Realtime(_) if value < 10.0 => format!("{value:.1}x"),
        Speed::Realtime(_) => format!("{value:.0}x"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_counts_cells_not_bytes() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
        assert_eq!(fit("日本語ファイル", 5), "日本…");
        assert!(width(&fit("日本語ファイル", 6)) <= 6);
        assert_eq!(fit("abc", 0), "");
        assert_eq!(pad("日本", 6), "日本  ");
        assert_eq!(pad_left("7", 3), "  7");
    }

    #[test]
    fn human_forms() {
        assert_eq!(duration(Duration::from_secs(185)), "3m05s");
        assert_eq!(duration(Duration::from_secs(7300)), "2h01m");
        assert_eq!(size(1536), "1.5 KiB");
    }
}
