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

use super::name::{PREFIX_SEPARATOR, with_prefix};

const DIGITS: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const BASE: u128 = 62;
/// 62^21 still fits in a u128; a key that long means millions of moves to one spot.
const MAX_GENERATED_LEN: u32 = 21;
/// The longest file name Linux filesystems take.
const NAME_MAX: usize = 255;

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
    // The shortest roomy key wins; the shortest cramped one only if there is no roomy one.
    let mut cramped = None;
    for len in 1..=MAX_GENERATED_LEN {
        match key_of_len(display, gap, len) {
            Some((0, name)) => return Some(name),
            Some((_, name)) if cramped.is_none() => cramped = Some(name),
            _ => {}
        }
    }
    cramped
}

/// The best name with a key of `len` characters, and how cramped it is (0 = roomy).
fn key_of_len(display: &OsStr, gap: Gap<'_>, len: u32) -> Option<(u8, OsString)> {
    if display.len() + len as usize + 1 > NAME_MAX {
        return None;
    }
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
    // Look outward from the target, preferring keys that leave room for later moves: not ending
    // in '0' (no key fits just below one), not a neighbour's key, and not a neighbour's own name
    // plus `!` (nothing but a smaller display name fits between `d` and `d!x`). Take a cramped key only if it is all
    // there is.
    let extends = |shorter: &[u8], longer: &[u8]| {
        longer.starts_with(shorter) && longer.get(shorter.len()) == Some(&PREFIX_SEPARATOR)
    };
    let cramping = |index: u128, name: &OsString| {
        let name = name.as_bytes();
        let mut key = key_bytes(index, len);
        key.push(PREFIX_SEPARATOR);
        // Sharing a neighbour's key leaves room only for some display names.
        let shares_key = |neighbour: &OsStr| neighbour.as_bytes().starts_with(&key);
        let hugs = gap
            .after
            .is_some_and(|after| extends(after.as_bytes(), name) || shares_key(after))
            || gap.before.is_some_and(shares_key);
        u8::from(hugs) * 2 + u8::from(index.is_multiple_of(BASE))
    };
    (0..8u128)
        .flat_map(|step| [target.checked_add(step), target.checked_sub(step)])
        .flatten()
        .filter(|i| (low..high).contains(i))
        .map(|i| {
            let name = name_at(i);
            (cramping(i, &name), name)
        })
        .min_by_key(|(score, _)| *score)
}

/// One rename of a reorder plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rename {
    pub from: OsString,
    pub to: OsString,
}

/// How to rename so that `moved` sorts at `insert_at` among `others` (the folder's other names,
/// in order). Usually one rename. When a neighbour's name starts with a byte no key can get
/// past (below `0`, such as `-rf` or `(draft)`, or above `z`, such as `Отчёт`), the fewest
/// neighbours on that side are given prefixes too, keeping their order. `None` if even that
/// cannot work; an empty plan if `moved` is already in place.
pub fn plan_move(others: &[&OsStr], insert_at: usize, moved: &OsStr) -> Option<Vec<Rename>> {
    const MAX_EXTRA: usize = 64;
    for extra in 0..=others.len().min(MAX_EXTRA) {
        for below in 0..=extra {
            let above = extra - below;
            if below > insert_at || insert_at + above > others.len() {
                continue;
            }
            let (start, end) = (insert_at - below, insert_at + above);
            let mut run: Vec<&OsStr> = others[start..insert_at].to_vec();
            run.push(moved);
            run.extend_from_slice(&others[insert_at..end]);
            let bounds = Gap {
                after: start.checked_sub(1).map(|i| others[i]),
                before: others.get(end).copied(),
            };
            if let Some(plan) = fit_run(&run, bounds) {
                return Some(plan);
            }
        }
    }
    None
}

/// Names for `run`, in order, all inside `bounds`: keeping names that already fit where that
/// leaves room for the rest, else renaming the whole run.
fn fit_run(run: &[&OsStr], bounds: Gap<'_>) -> Option<Vec<Rename>> {
    fit_run_keeping(run, bounds, true).or_else(|| fit_run_keeping(run, bounds, false))
}

fn fit_run_keeping(run: &[&OsStr], bounds: Gap<'_>, keep_fitting: bool) -> Option<Vec<Rename>> {
    let mut plan = Vec::new();
    let mut upper: Option<OsString> = bounds.before.map(OsStr::to_os_string);
    // Names too long to take any prefix stay where they are; the others go around them.
    let fixed = |name: &OsStr| super::name::display_name(name).len() + 2 > NAME_MAX;
    for (i, name) in run.iter().enumerate().rev() {
        let floor = run[..i]
            .iter()
            .rev()
            .find(|n| fixed(n))
            .copied()
            .or(bounds.after);
        let bounds = Gap {
            after: floor,
            before: bounds.before,
        };
        let inside = |name: &OsStr, upper: Option<&OsStr>| {
            bounds
                .after
                .is_none_or(|after| after.as_bytes() < name.as_bytes())
                && upper.is_none_or(|upper| name.as_bytes() < upper.as_bytes())
        };
        // Keep a fitting name only if the name before it can still go below it.
        let keep = keep_fitting
            && inside(name, upper.as_deref())
            && (i == 0 || inside(run[i - 1], Some(name)) || {
                let gap = Gap {
                    after: bounds.after,
                    before: Some(name),
                };
                name_in_gap(super::name::display_name(run[i - 1]), gap).is_some()
            });
        let gap = Gap {
            after: bounds.after,
            before: upper.as_deref(),
        };
        let renamed = (!keep)
            .then(|| name_in_gap(super::name::display_name(name), gap))
            .flatten();
        let chosen = match renamed {
            Some(chosen) => {
                plan.push(Rename {
                    from: name.to_os_string(),
                    to: chosen.clone(),
                });
                chosen
            }
            // A name too long for a prefix (or with no key in reach) stays if it can.
            None if inside(name, upper.as_deref()) => name.to_os_string(),
            None => return None,
        };
        upper = Some(chosen);
    }
    plan.reverse();
    Some(plan)
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
    fn a_name_too_long_for_a_prefix_moves_by_renaming_its_neighbours() {
        let long = format!("{}.txt", "n".repeat(251));
        let plan = plan_move(&[os("a"), os("b"), os("z")], 0, os(&long)).unwrap();
        assert_eq!(plan.len(), 2, "{plan:?}");
        assert!(
            plan.iter()
                .all(|r| r.to.as_os_str() > os(&long) && r.to.as_os_str() < os("z"))
        );
    }

    #[test]
    fn a_new_name_never_extends_its_neighbour() {
        let name = place("a", Some("d"), None).unwrap();
        assert!(!name.starts_with('d'), "{name}");
        let between = place("c", Some("d"), Some(&name)).unwrap();
        assert!("d" < between.as_str() && between < name);
    }

    #[test]
    fn blockers_get_prefixes_only_when_no_key_can_pass_them() {
        let others = [os("-rf"), os("b")];
        let plan = plan_move(&others, 0, os("z")).unwrap();
        assert_eq!(plan.len(), 2, "{plan:?}");
        assert_eq!(plan[0].from, "z");
        assert_eq!(plan[1].from, "-rf");
        assert!(plan[0].to < plan[1].to && plan[1].to.as_os_str() < os("b"));
        let plan = plan_move(&[os("a"), os("b")], 0, os("z")).unwrap();
        assert_eq!(plan.len(), 1);
        assert!(
            plan_move(&[os("a"), os("b")], 2, os("c"))
                .unwrap()
                .is_empty()
        );
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

    fn check_reorders(
        start: Vec<String>,
        ops: Vec<Op>,
        one_rename: bool,
    ) -> Result<(), TestCaseError> {
        let mut names: Vec<OsString> = start.iter().map(OsString::from).collect();
        names.sort();
        names.dedup();
        // Names that look prefixed would change display when re-keyed; keep the start plain.
        names.retain(|n| split_prefix(n).0.is_none());
        if names.len() < 2 {
            return Ok(());
        }
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
            let others: Vec<&OsStr> = names.iter().map(|n| n.as_os_str()).collect();
            let plan = plan_move(&others, insert_at, &item).expect("room for the move");
            if one_rename {
                prop_assert!(
                    plan.iter().all(|r| r.from == item),
                    "only the moved item is renamed: {:?}",
                    plan
                );
            }
            let displays_before: Vec<OsString> =
                names.iter().map(|n| display_name(n).to_owned()).collect();
            names.insert(insert_at, item.clone());
            for rename in &plan {
                let slot = names.iter().position(|n| *n == rename.from).unwrap();
                prop_assert_eq!(display_name(&rename.to), display_name(&rename.from));
                names[slot] = rename.to.clone();
            }
            let mut displays_after: Vec<OsString> =
                names.iter().map(|n| display_name(n).to_owned()).collect();
            displays_after.remove(insert_at);
            prop_assert_eq!(displays_after, displays_before);
            for pair in names.windows(2) {
                prop_assert!(pair[0] < pair[1], "{:?}", names);
            }
        }
        for name in &names {
            prop_assert!(
                split_prefix(name).0.is_none_or(|k| k.len() <= 8),
                "{:?}",
                name
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// Any sequence of reorders keeps a strict order with the item where it was asked to go,
        /// renames only the moved item, and keeps keys short. (Plain alphanumeric names of one
        /// length: between `a` and `a b`, or `A--a` and `A-0a`, no prefixed name can fit.)
        #[test]
        fn reorders_keep_strict_order_with_one_rename(
            start in proptest::collection::vec("[a-zA-Z0-9]{4}", 2..12),
            ops in proptest::collection::vec(op(), 1..120),
        ) {
            check_reorders(start, ops, true)?;
        }

        /// With names that start below `0` or above `z`, order still holds; blockers may be
        /// re-keyed too.
        #[test]
        fn reorders_among_hostile_names_keep_strict_order(
            start in proptest::collection::vec("[ -~\u{e9}\u{65e5}]{1,8}", 2..12),
            ops in proptest::collection::vec(op(), 1..60),
        ) {
            check_reorders(start, ops, false)?;
        }
    }
}
