//! Sort keys for reordering by renaming one item.
//!
//! Items are processed in byte order of their file names. To move an item we give it a short
//! key prefix (`KEY!name`) chosen so that its new file name sorts between its new neighbours,
//! whatever those are called, prefixed or not. Keys use `0-9A-Za-z`; the separator `!` sorts
//! below all of them, so prefixed names sort as their keys do. A key never ends in `0`, which
//! keeps room between any two keys for later moves.

use std::cmp::Ordering;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use super::name::with_prefix;

const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE: u128 = 62;
/// 62^21 still fits in a u128; a key that long means millions of moves to one spot.
const MAX_GENERATED_LEN: u32 = 21;

/// Where the new name must fall: strictly after `after` and strictly before `before`.
#[derive(Debug, Clone, Copy)]
pub struct Gap<'a> {
    pub after: Option<&'a OsStr>,
    pub before: Option<&'a OsStr>,
}

/// The shortest prefixed file name for `display` that sorts inside `gap`, or `None` when no key
/// can (a neighbour starts with a byte outside the key alphabet on the wrong side).
///
/// Moving to an end takes the key next to the neighbour, so repeated moves to the top count
/// down like integers; moving between two items takes the middle of the room.
pub fn name_in_gap(display: &OsStr, gap: Gap<'_>) -> Option<OsString> {
    (1..=MAX_GENERATED_LEN).find_map(|len| key_of_len(display, gap, len))
}

fn key_of_len(display: &OsStr, gap: Gap<'_>, len: u32) -> Option<OsString> {
    let count = BASE.pow(len);
    let name_at = |index: u128| with_prefix(&key_bytes(index, len), display);
    let sorts_after = |index: u128| match gap.after {
        Some(after) => name_at(index).as_bytes() > after.as_bytes(),
        None => true,
    };
    let sorts_before = |index: u128| match gap.before {
        Some(before) => name_at(index).as_bytes() < before.as_bytes(),
        None => true,
    };
    // Names of one key length sort as their indices do, so the valid indices form one range.
    let low = partition_point(count, |i| !sorts_after(i));
    let high = partition_point(count, sorts_before); // first index that is too high
    if low >= high {
        return None;
    }
    let target = match (gap.after, gap.before) {
        (Some(_), Some(_)) => low + (high - 1 - low) / 2,
        (None, Some(_)) => high - 1,
        _ => low,
    };
    // Avoid keys ending in '0' (no key fits just below one); look outward from the target.
    [target, target + 1, target.wrapping_sub(1)]
        .into_iter()
        .filter(|i| (low..high).contains(i) && i % BASE != 0)
        .map(name_at)
        .next()
}

/// The first index in `0..count` for which `pred` is false; `pred` must be true then false.
fn partition_point(count: u128, pred: impl Fn(u128) -> bool) -> u128 {
    let (mut lo, mut hi) = (0u128, count);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if pred(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}

fn key_bytes(mut index: u128, len: u32) -> Vec<u8> {
    let mut key = vec![b'0'; len as usize];
    for slot in key.iter_mut().rev() {
        *slot = DIGITS[(index % BASE) as usize];
        index /= BASE;
    }
    key
}

/// Compares two file names in processing order.
pub fn processing_order(a: &OsStr, b: &OsStr) -> Ordering {
    a.as_bytes().cmp(b.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::super::name::{display_name, split_prefix};
    use super::*;
    use proptest::prelude::*;

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    fn place(display: &str, after: Option<&str>, before: Option<&str>) -> Option<String> {
        let gap = Gap {
            after: after.map(os),
            before: before.map(os),
        };
        name_in_gap(os(display), gap).map(|n| n.into_string().unwrap())
    }

    #[test]
    fn first_among_plain_names_gets_one_char() {
        let name = place("c.txt", None, Some("a.txt")).unwrap();
        assert!(name.as_str() < "a.txt");
        assert_eq!(name.len(), "c.txt".len() + 2);
    }

    #[test]
    fn between_plain_names() {
        let name = place("z.txt", Some("a.txt"), Some("b.txt")).unwrap();
        assert!("a.txt" < name.as_str() && name.as_str() < "b.txt", "{name}");
    }

    #[test]
    fn last_after_high_names() {
        let name = place("a", Some("zzz"), None).unwrap();
        assert!(name.as_str() > "zzz", "{name}");
        assert_eq!(place("a", Some("\u{65e5}.txt"), None), None);
    }

    #[test]
    fn repeated_moves_to_top_stay_short() {
        let mut first = "m.txt".to_string();
        for i in 0..300 {
            let name = place(&format!("x{i}"), None, Some(&first)).unwrap();
            assert!(name < first);
            first = name;
        }
        let key_len = split_prefix(os(&first)).0.unwrap().len();
        assert!(key_len <= 6, "{first}");
    }

    #[derive(Debug, Clone)]
    enum Op {
        First(usize),
        Last(usize),
        Before(usize, usize),
        After(usize, usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            any::<usize>().prop_map(Op::First),
            any::<usize>().prop_map(Op::Last),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::Before(a, b)),
            (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Op::After(a, b)),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Any sequence of reorders keeps a strict order, puts the item where it was asked to go,
        /// and keeps keys short.
        #[test]
        fn reorders_keep_strict_order(
            start in proptest::collection::vec("[a-zA-Z0-9 _.-]{1,8}", 2..12),
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            let mut names: Vec<OsString> = start.iter().map(OsString::from).collect();
            names.sort();
            names.dedup();
            prop_assume!(names.len() >= 2);
            for op in ops {
                let n = names.len();
                let (moved, target) = match op {
                    Op::First(a) => (a % n, 0),
                    Op::Last(a) => (a % n, n - 1),
                    Op::Before(a, b) | Op::After(a, b) => (a % n, b % n),
                };
                let item = names.remove(moved);
                let insert_at = match op {
                    Op::First(_) => 0,
                    Op::Last(_) => names.len(),
                    Op::Before(..) => target.min(names.len()),
                    Op::After(..) => (target + 1).min(names.len()),
                };
                let gap = Gap {
                    after: insert_at.checked_sub(1).map(|i| names[i].as_os_str()),
                    before: names.get(insert_at).map(|n| n.as_os_str()),
                };
                let display = display_name(&item).to_os_string();
                let Some(new_name) = name_in_gap(&display, gap) else {
                    // Only a neighbour starting above 'z' or below '0' can block a move.
                    names.insert(moved, item);
                    continue;
                };
                prop_assert_eq!(display_name(&new_name), display.as_os_str());
                names.insert(insert_at, new_name);
                for pair in names.windows(2) {
                    prop_assert!(pair[0] < pair[1], "{:?}", names);
                }
            }
            for name in &names {
                prop_assert!(split_prefix(name).0.is_none_or(|k| k.len() <= 8), "{:?}", name);
            }
        }
    }
}
