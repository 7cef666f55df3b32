//! Item names: which directory entries are items, and the tag that gives an item its identity and,
//! when it was reordered, its place in the order.
//!
//! A tagged file name is `KEY+ID+NAME`: an optional sort key, the item's id between two `+`, then
//! the name people gave it. The id is fixed-length, from a fixed alphabet, and ends in a check
//! character, so a name a person chose is read as tagged only if it carries such a block by
//! design; and nothing of the name after the block is ever dropped or reinterpreted. Names are
//! bytes end to end: a name that is not UTF-8 is an ordinary name.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::time::{SystemTime, UNIX_EPOCH};

/// Opens and closes the id block of a tagged name. It sorts below `0-9A-Za-z`, so `KEY+...`
/// sorts as `KEY` does against any longer key, and items whose key is empty sort before every
/// name that starts with a letter or digit.
pub const TAG: u8 = b'+';

/// The id block's closing byte when the name after it is a shortened form of the item's name
/// (the full name is in the item's record).
pub const TAG_SHORTENED: u8 = b'=';

/// The longest file name Linux filesystems take.
pub const NAME_MAX: usize = 255;

/// Id characters: lowercase base32, so ids stay distinct on case-insensitive shares.
const ID_DIGITS: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
/// Nine characters of milliseconds since the epoch, five random, one check.
const ID_TIME: usize = 9;
const ID_RANDOM: usize = 5;
/// Length of an item id.
pub const ID_LEN: usize = ID_TIME + ID_RANDOM + 1;
/// Length of the id block: `+`, the id, `+` (or `=`).
pub const BLOCK_LEN: usize = ID_LEN + 2;

/// An item's identity: made when fsq first claims or reorders the item, carried in its file
/// name from then on, and the key of its records in `_meta/`. Ids made later sort later.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemId([u8; ID_LEN]);

impl ItemId {
    /// A new id: the current time in milliseconds and 25 random bits.
    pub fn new() -> ItemId {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        let mut id = [0u8; ID_LEN];
        encode(ms, &mut id[..ID_TIME]);
        encode(random_bits(), &mut id[ID_TIME..ID_TIME + ID_RANDOM]);
        id[ID_LEN - 1] = ID_DIGITS[check(&id[..ID_LEN - 1]) as usize];
        ItemId(id)
    }

    /// Reads an id; `None` unless it has the right length, alphabet and check character.
    pub fn parse(bytes: &[u8]) -> Option<ItemId> {
        let id: [u8; ID_LEN] = bytes.try_into().ok()?;
        let valid = id.iter().all(|b| ID_DIGITS.contains(b))
            && ID_DIGITS[check(&id[..ID_LEN - 1]) as usize] == id[ID_LEN - 1];
        valid.then_some(ItemId(id))
    }

    pub fn as_str(&self) -> &str {
        // Always ASCII: made from ID_DIGITS only.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    pub fn as_os_str(&self) -> &OsStr {
        OsStr::from_bytes(&self.0)
    }
}

impl Default for ItemId {
    fn default() -> ItemId {
        ItemId::new()
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ItemId({})", self.as_str())
    }
}

/// Writes the low `5 * out.len()` bits of `value` as base32 digits, most significant first.
fn encode(mut value: u64, out: &mut [u8]) {
    for slot in out.iter_mut().rev() {
        *slot = ID_DIGITS[(value & 31) as usize];
        value >>= 5;
    }
}

/// The check digit (0..32) of an id's first 14 characters: FNV-1a, folded to five bits.
fn check(bytes: &[u8]) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    (hash ^ (hash >> 5) ^ (hash >> 10) ^ (hash >> 15) ^ (hash >> 20) ^ (hash >> 25)) & 31
}

/// Random bits from the kernel, mixed with the time and a counter should that fail.
fn random_bits() -> u64 {
    let mut buf = [0u8; 8];
    if rustix::rand::getrandom(&mut buf, rustix::rand::GetRandomFlags::empty())
        .is_ok_and(|n| n == 8)
    {
        return u64::from_ne_bytes(buf);
    }
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    nanos ^ u64::from(std::process::id()) << 32 ^ NEXT.fetch_add(1, Ordering::Relaxed) << 20
}

/// A file name read as the format says: its sort key, its id and the name people see.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Parsed<'a> {
    /// The sort key before the id block; empty for a tagged name that has none, and for plain
    /// names.
    pub key: &'a [u8],
    pub id: Option<ItemId>,
    /// The name after the id block (or the whole name, for a plain name).
    pub display: &'a OsStr,
    /// Whether `display` is a shortened form: the full name is in the item's record.
    pub shortened: bool,
}

/// Splits a file name into key, id and display name. The id block is the first `+ID+` (or
/// `+ID=`) in the name whose id is valid; a name without one is plain and is its own display
/// name.
pub fn parse(file: &OsStr) -> Parsed<'_> {
    let bytes = file.as_bytes();
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|b| *b == TAG) {
        let start = from + offset;
        let end = start + BLOCK_LEN;
        if end <= bytes.len()
            && matches!(bytes[end - 1], TAG | TAG_SHORTENED)
            && let Some(id) = ItemId::parse(&bytes[start + 1..end - 1])
        {
            return Parsed {
                key: &bytes[..start],
                id: Some(id),
                display: OsStr::from_bytes(&bytes[end..]),
                shortened: bytes[end - 1] == TAG_SHORTENED,
            };
        }
        from = start + 1;
    }
    Parsed {
        key: &[],
        id: None,
        display: file,
        shortened: false,
    }
}

/// The name users and commands see: the file name without its key and id block.
pub fn display_name(file: &OsStr) -> &OsStr {
    parse(file).display
}

/// The tagged file name for `display` with sort key `key` and id `id`; `shortened` says that
/// `display` is already a shortened form. When the whole would be longer than NAME_MAX, the
/// display part is shortened (its extension kept where possible, cut at a character boundary)
/// and the block says so; `None` if not even that fits.
pub fn tagged(key: &[u8], id: ItemId, display: &OsStr, shortened: bool) -> Option<OsString> {
    let display = display.as_bytes();
    let room = NAME_MAX.checked_sub(key.len() + BLOCK_LEN)?;
    let (closing, shown) = if display.len() <= room {
        (
            if shortened { TAG_SHORTENED } else { TAG },
            display.to_vec(),
        )
    } else {
        (TAG_SHORTENED, shorten(display, room)?)
    };
    let mut out = Vec::with_capacity(key.len() + BLOCK_LEN + shown.len());
    out.extend_from_slice(key);
    out.push(TAG);
    out.extend_from_slice(&id.0);
    out.push(closing);
    out.extend_from_slice(&shown);
    Some(OsString::from_vec(out))
}

/// `name` cut to at most `room` bytes, keeping a short extension where the room allows and whole
/// UTF-8 characters always.
fn shorten(name: &[u8], room: usize) -> Option<Vec<u8>> {
    let ext_len = match name.iter().rposition(|b| *b == b'.') {
        Some(dot) if dot > 0 && name.len() - dot <= 16 => name.len() - dot,
        _ => 0,
    };
    [ext_len, 0].into_iter().find_map(|ext_len| {
        let (stem, ext) = name.split_at(name.len() - ext_len);
        let mut cut = room.checked_sub(ext_len)?;
        // Back up to a character boundary (a UTF-8 continuation byte is 0b10xx_xxxx).
        while cut > 0 && cut < stem.len() && stem[cut] & 0xC0 == 0x80 {
            cut -= 1;
        }
        (cut > 0).then(|| [&stem[..cut.min(stem.len())], ext].concat())
    })
}

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

/// The `n`th alternative for a plain name that is taken: `report.pdf` becomes `report (2).pdf`.
/// The extension stays put, and the stem is shortened to stay within NAME_MAX.
pub fn numbered(file: &OsStr, n: u32) -> OsString {
    let display = file.as_bytes();
    let stem_len = match display.iter().rposition(|b| *b == b'.') {
        Some(dot) if dot > 0 => dot,
        _ => display.len(),
    };
    let suffix = format!(" ({n})");
    let room = NAME_MAX.saturating_sub(suffix.len() + (display.len() - stem_len));
    let mut stem = &display[..stem_len.min(room)];
    while !stem.is_empty() && stem.len() < stem_len && display[stem.len()] & 0xC0 == 0x80 {
        stem = &stem[..stem.len() - 1];
    }
    let mut out = Vec::with_capacity(display.len() + suffix.len());
    out.extend_from_slice(stem);
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

/// The bytes of a name written by `json_name`: the inverse of its escape.
pub fn unescape_json_name(text: &str, escaped: bool) -> OsString {
    if !escaped {
        return OsString::from(text);
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'\\', Some(b'\\')) => {
                out.push(b'\\');
                i += 2;
            }
            (b'\\', Some(b'x')) if i + 4 <= bytes.len() => {
                match std::str::from_utf8(&bytes[i + 2..i + 4])
                    .ok()
                    .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                {
                    Some(b) => {
                        out.push(b);
                        i += 4;
                    }
                    None => {
                        out.push(b'\\');
                        i += 1;
                    }
                }
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    OsString::from_vec(out)
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
    fn ids_are_unique_checked_and_sort_by_time() {
        let a = ItemId::new();
        let b = ItemId::new();
        assert_ne!(a, b);
        assert_eq!(ItemId::parse(a.as_str().as_bytes()), Some(a));
        // The check is 5 bits: a changed character passes it once in 32, by chance.
        let caught = (0..2000)
            .filter(|_| {
                let mut broken = ItemId::new().0;
                broken[3] = if broken[3] == b'0' { b'1' } else { b'0' };
                ItemId::parse(&broken).is_none()
            })
            .count();
        assert!(
            caught > 1800,
            "only {caught} of 2000 changed ids failed the check"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
        assert!(ItemId::new().0[..ID_TIME] > a.0[..ID_TIME]);
    }

    #[test]
    fn tagged_names_parse_back_whole() {
        let id = ItemId::new();
        for (key, display) in [
            (&b""[..], "report.pdf"),
            (b"V", "V!report.pdf"),
            (b"IMG_0001V", "IMG_0100.JPG"),
            (b"", "a+b+c.txt"),
            (b"x", "Отчёт 1500.docx"),
        ] {
            let name = tagged(key, id, os(display), false).unwrap();
            let parsed = parse(&name);
            assert_eq!(parsed.key, key);
            assert_eq!(parsed.id, Some(id));
            assert_eq!(parsed.display, os(display));
            assert!(!parsed.shortened);
        }
    }

    #[test]
    fn names_people_choose_stay_whole() {
        for name in [
            "Draft1!notes.txt",
            "Hello!World.txt",
            "V!report.pdf",
            "a+b+c",
            "+0123456789abcd+x",
            "C++ notes.txt",
            "x+0123456789abcde+y",
        ] {
            let parsed = parse(os(name));
            assert_eq!(parsed.display, os(name), "{name}");
            assert_eq!(parsed.id, None, "{name}");
        }
    }

    #[test]
    fn a_name_too_long_for_a_tag_is_shortened_and_says_so() {
        let long = format!("{}.mkv", "ж".repeat(125));
        assert_eq!(long.len(), 254);
        let name = tagged(b"k", ItemId::new(), os(&long), false).unwrap();
        assert!(name.len() <= NAME_MAX);
        let parsed = parse(&name);
        assert!(parsed.shortened);
        let shown = parsed
            .display
            .to_str()
            .expect("cut at a character boundary");
        assert!(shown.ends_with(".mkv") && long.starts_with(&shown[..shown.len() - 4]));
        assert_eq!(tagged(&[b'k'; 250], ItemId::new(), os("x"), false), None);
    }

    #[test]
    fn numbered_keeps_extension_and_fits() {
        assert_eq!(
            numbered(os("report.pdf"), 2),
            OsString::from("report (2).pdf")
        );
        assert_eq!(numbered(os(".x"), 2), OsString::from(".x (2)"));
        assert_eq!(numbered(os("noext"), 2), OsString::from("noext (2)"));
        let long = format!("{}.txt", "a".repeat(251));
        let n = numbered(os(&long), 12);
        assert_eq!(n.len(), 255);
        assert!(n.as_bytes().ends_with(b" (12).txt"));
        let cyrillic = format!("{}.txt", "ж".repeat(125));
        assert!(numbered(os(&cyrillic), 3).to_str().is_some());
    }

    #[test]
    fn json_name_escapes_only_invalid_names_and_round_trips() {
        assert_eq!(json_name(os("a\\b")), ("a\\b".to_string(), false));
        let raw = OsStr::from_bytes(b"a\\\xff");
        assert_eq!(json_name(raw), ("a\\\\\\xFF".to_string(), true));
        let (text, escaped) = json_name(raw);
        assert_eq!(unescape_json_name(&text, escaped), raw);
    }

    #[test]
    fn printable_escapes_controls_and_bad_bytes() {
        assert_eq!(printable(os("a\nb\tc")), "a\\nb\\tc");
        assert_eq!(printable(os("\u{1b}[31m")), "\\u{1b}[31m");
        assert_eq!(printable(OsStr::from_bytes(b"a\xffb")), "a\\xFFb");
        assert_eq!(printable(os("日本")), "日本");
    }
}
