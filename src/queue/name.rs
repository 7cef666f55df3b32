//! Item names: which directory entries are items, the sort prefix that reordering adds, and the
//! suffix that keeps a moved item from clobbering another of the same name.
//!
//! Names are bytes end to end. A name that is not UTF-8 is an ordinary name.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};

/// Separates a sort prefix from the rest of the name: `V!report.pdf`. It sorts below every
/// character a key may use, so prefixed names sort exactly as their keys do.
pub const PREFIX_SEPARATOR: u8 = b'!';

/// The longest sort key a name can carry and still be read as prefixed.
pub const MAX_KEY_LEN: usize = 24;

/// Whether a directory entry with this name may be an item. Hidden files, partial downloads,
/// editor and office temp files, and NFS silly-renames are never items.
pub fn is_item_name(name: &OsStr) -> bool {
    let bytes = name.as_bytes();
    !(bytes.is_empty()
        || bytes.starts_with(b".")
        || bytes.starts_with(b"~$")
        || bytes.ends_with(b".part")
        || bytes.ends_with(b".tmp"))
}

/// Whether `b` may appear in a sort key (`0-9A-Za-z`, compared as bytes).
pub fn is_key_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

/// Splits `file` into its sort key and its display name. A name has a key when it starts with
/// 1..=24 key characters followed by `!` and at least one more byte.
pub fn split_prefix(file: &OsStr) -> (Option<&[u8]>, &OsStr) {
    let bytes = file.as_bytes();
    let key_len = bytes.iter().take_while(|b| is_key_byte(**b)).count();
    let has_prefix = (1..=MAX_KEY_LEN).contains(&key_len)
        && bytes.get(key_len) == Some(&PREFIX_SEPARATOR)
        && bytes.len() > key_len + 1;
    if has_prefix {
        (
            Some(&bytes[..key_len]),
            OsStr::from_bytes(&bytes[key_len + 1..]),
        )
    } else {
        (None, file)
    }
}

/// The name users and commands see: the file name without its sort prefix.
pub fn display_name(file: &OsStr) -> &OsStr {
    split_prefix(file).1
}

/// The file name for `display` carrying sort key `key`.
pub fn with_prefix(key: &[u8], display: &OsStr) -> OsString {
    let mut bytes = Vec::with_capacity(key.len() + 1 + display.len());
    bytes.extend_from_slice(key);
    bytes.push(PREFIX_SEPARATOR);
    bytes.extend_from_slice(display.as_bytes());
    OsString::from_vec(bytes)
}

/// The `n`th alternative for a name that is taken: `report.pdf` becomes `report (2).pdf`. The sort
/// prefix and the extension stay put, so order and type survive.
pub fn numbered(file: &OsStr, n: u32) -> OsString {
    let bytes = file.as_bytes();
    let (key, display) = split_prefix(file);
    let display = display.as_bytes();
    let stem_len = match display.iter().rposition(|b| *b == b'.') {
        Some(dot) if dot > 0 => dot,
        _ => display.len(),
    };
    let mut out = Vec::with_capacity(bytes.len() + 8);
    if let Some(key) = key {
        out.extend_from_slice(key);
        out.push(PREFIX_SEPARATOR);
    }
    let suffix = format!(" ({n})");
    // Stay within NAME_MAX (255 bytes) by shortening the stem, never the extension.
    let room = 255usize.saturating_sub(out.len() + suffix.len() + (display.len() - stem_len));
    out.extend_from_slice(&display[..stem_len.min(room)]);
    out.extend_from_slice(suffix.as_bytes());
    out.extend_from_slice(&display[stem_len..]);
    OsString::from_vec(out)
}

/// A name fit for one line of a terminal or an error message: control and invisible format
/// characters (`hidden::is_hidden_char`) and invalid UTF-8 are shown escaped, so a hostile name
/// can neither move the cursor nor hide or reorder itself.
pub fn printable(name: &OsStr) -> String {
    let mut out = String::with_capacity(name.len());
    for chunk in name.as_bytes().utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if super::hidden::is_hidden_char(c) => out.extend(c.escape_unicode()),
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    out
}

/// A name for JSON output, and whether it had to be escaped. UTF-8 names are given as they are.
/// A name that is not UTF-8 is given with each byte that is not part of valid UTF-8 written as
/// `\xNN` and each backslash doubled, and the caller marks it escaped; the escape is lossless.
pub fn json_name(name: &OsStr) -> (String, bool) {
    if let Some(text) = name.to_str() {
        return (text.to_string(), false);
    }
    let mut out = String::with_capacity(name.len() + 8);
    for chunk in name.as_bytes().utf8_chunks() {
        out.push_str(&chunk.valid().replace('\\', "\\\\"));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02X}"));
        }
    }
    (out, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    #[test]
    fn temp_and_hidden_names_are_not_items() {
        for name in [".hidden", "a.part", "a.tmp", "~$doc.docx", ".nfs0001", ""] {
            assert!(!is_item_name(os(name)), "{name}");
        }
        for name in ["a", "-rf", "--help", "$(touch x)", "日本語.txt", "a b"] {
            assert!(is_item_name(os(name)), "{name}");
        }
    }

    #[test]
    fn prefix_splits_only_when_well_formed() {
        assert_eq!(split_prefix(os("V!a.txt")), (Some(&b"V"[..]), os("a.txt")));
        assert_eq!(split_prefix(os("a0Z!x")), (Some(&b"a0Z"[..]), os("x")));
        assert_eq!(split_prefix(os("!a")), (None, os("!a")));
        assert_eq!(split_prefix(os("V!")), (None, os("V!")));
        assert_eq!(split_prefix(os("a-b!c")), (None, os("a-b!c")));
        let long = format!("{}!x", "a".repeat(25));
        assert_eq!(split_prefix(os(&long)).0, None);
        assert_eq!(with_prefix(b"k", os("x.mp4")), OsString::from("k!x.mp4"));
    }

    #[test]
    fn numbered_keeps_prefix_and_extension() {
        assert_eq!(
            numbered(os("report.pdf"), 2),
            OsString::from("report (2).pdf")
        );
        assert_eq!(
            numbered(os("V!report.pdf"), 3),
            OsString::from("V!report (3).pdf")
        );
        assert_eq!(numbered(os(".x"), 2), OsString::from(".x (2)"));
        assert_eq!(numbered(os("noext"), 2), OsString::from("noext (2)"));
        let long = format!("{}.txt", "a".repeat(251));
        let n = numbered(os(&long), 12);
        assert_eq!(n.len(), 255);
        assert!(n.as_bytes().ends_with(b" (12).txt"));
    }

    #[test]
    fn json_name_escapes_only_invalid_names() {
        assert_eq!(json_name(os("a\\b")), ("a\\b".to_string(), false));
        let raw = OsStr::from_bytes(b"a\\\xff");
        assert_eq!(json_name(raw), ("a\\\\\\xFF".to_string(), true));
    }

    #[test]
    fn printable_escapes_controls_and_bad_bytes() {
        assert_eq!(printable(os("a\nb\tc")), "a\\nb\\tc");
        assert_eq!(printable(os("\u{1b}[31m")), "\\u{1b}[31m");
        assert_eq!(printable(OsStr::from_bytes(b"a\xffb")), "a\\xFFb");
        assert_eq!(printable(os("日本")), "日本");
    }
}
