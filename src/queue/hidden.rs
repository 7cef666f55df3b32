//! The one rule for characters that must never reach a terminal raw in a name or a line of text:
//! controls (a terminal acts on them), and the format characters that reorder or hide text
//! without showing themselves (bidi overrides and isolates, zero-width characters, line and
//! paragraph separators). `printable` escapes them for every command and the commander's panes;
//! the viewer shows them as `<U+202E>`.

/// Whether `c` acts on a terminal or changes how text around it looks while staying invisible.
pub fn is_hidden_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061c}' | '\u{180e}' | '\u{feff}' | '\u{2028}' | '\u{2029}' | '\u{00ad}'
        )
        || ('\u{200b}'..='\u{200f}').contains(&c)
        || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2060}'..='\u{2069}').contains(&c)
}

#[cfg(test)]
mod tests {
    use super::super::printable;
    use super::*;

    #[test]
    fn ls_escapes_bidi_zero_width_and_line_separators_like_the_commander() {
        for c in [
            '\u{202e}', '\u{200b}', '\u{2028}', '\u{2066}', '\u{feff}', '\u{1b}',
        ] {
            assert!(is_hidden_char(c), "{c:?}");
        }
        let name = std::ffi::OsStr::new("evil\u{202e}txt.exe\u{200b}\u{2028}x");
        assert_eq!(printable(name), "evil\\u{202e}txt.exe\\u{200b}\\u{2028}x");
        assert_eq!(printable("日本語 ok.txt".as_ref()), "日本語 ok.txt");
    }
}
