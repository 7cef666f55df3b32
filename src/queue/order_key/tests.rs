//! Reorders over names as people and devices make them: every move renames only the moved
//! item, keeps a strict order with the item where it was asked to go, and keeps every name whole.

use std::os::unix::ffi::OsStringExt;

use proptest::prelude::*;

use super::super::name::{BLOCK_LEN, display_name, parse};
use super::*;

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

fn between(file: &str, after: Option<&str>, before: Option<&str>) -> OsString {
    name_between(os(file), after.map(os), before.map(os), ItemId::new()).expect("a name fits")
}

#[test]
fn between_camera_names_that_differ_in_the_last_digit() {
    for (a, b) in [
        ("IMG_0001.JPG", "IMG_0002.JPG"),
        ("frame-0499.png", "frame-0500.png"),
        ("Отчёт 1500.docx", "Отчёт 1501.docx"),
        ("report", "report final.pdf"),
        ("(draft) a", "(draft) b"),
        ("-rf", "-rg"),
        ("#42 a", "#42 b"),
        ("報告書1.pdf", "報告書2.pdf"),
    ] {
        let name = between("IMG_0100.JPG", Some(a), Some(b));
        assert!(
            os(a) < name.as_os_str() && name.as_os_str() < os(b),
            "{a} {name:?} {b}"
        );
        assert_eq!(display_name(&name), os("IMG_0100.JPG"));
    }
}

#[test]
fn first_and_last_around_any_name() {
    for edge in [
        "!",
        "(x",
        "-rf",
        "0",
        "~z",
        "Отчёт",
        "日本",
        "\u{1}x",
        "+x",
        "zzzz",
    ] {
        let first = between("m", None, Some(edge));
        assert!(first.as_os_str() < os(edge), "{first:?} < {edge}");
        let last = between("m", Some(edge), None);
        assert!(last.as_os_str() > os(edge), "{last:?} > {edge}");
    }
}

#[test]
fn names_that_look_like_the_old_prefix_keep_every_byte() {
    let name = between("Hello!World.txt", None, Some("a"));
    assert_eq!(display_name(&name), os("Hello!World.txt"));
}

#[test]
fn no_name_fits_between_names_sharing_nearly_a_whole_name() {
    let a = format!("{}a", "x".repeat(254));
    let b = format!("{}b", "x".repeat(254));
    assert_eq!(
        name_between(os("m"), Some(os(&a)), Some(os(&b)), ItemId::new()),
        None
    );
    // One byte shorter, there is room.
    let a = format!("{}a", "x".repeat(200));
    let b = format!("{}b", "x".repeat(200));
    let name = between("m", Some(&a), Some(&b));
    assert!(name.len() <= NAME_MAX);
    assert!(parse(&name).shortened || display_name(&name) == os("m"));
}

#[test]
fn repeated_moves_to_either_end_stay_short() {
    let mut first = OsString::from("m.txt");
    let mut last = OsString::from("m.txt");
    for _ in 0..300 {
        first = name_between(os("x"), None, Some(&first), ItemId::new()).unwrap();
        last = name_between(os("x"), Some(&last), None, ItemId::new()).unwrap();
    }
    assert!(parse(&first).key.len() <= 8, "{first:?}");
    assert!(parse(&last).key.len() <= 8, "{last:?}");
}

/// Names as cameras, scanners, renderers, people and old Samba shares make them.
fn realistic_name() -> impl Strategy<Value = OsString> {
    let text = |s: String| OsString::from(s);
    prop_oneof![
        (0..10000u32).prop_map(move |n| text(format!("IMG_{n:04}.JPG"))),
        (0..100000u32).prop_map(move |n| text(format!("DSC{n:05}.ARW"))),
        (0..1000u32).prop_map(move |n| text(format!("frame-{n:05}.png"))),
        (0..60u32, 0..24u32)
            .prop_map(move |(m, h)| text(format!("Scan 2024-03-01 {h:02}.{m:02}.30.pdf"))),
        (1..40u32).prop_map(move |n| text(format!("Scan ({n}).pdf"))),
        (1490..1510u32).prop_map(move |n| text(format!("Отчёт {n}.docx"))),
        (1..9u32).prop_map(move |n| text(format!("報告書{n}.pdf"))),
        "[ -~]{1,12}".prop_map(text),
        "[(#!\\-+][a-z!+]{0,6}".prop_map(text),
        proptest::collection::vec(1u8..=255, 1..10).prop_map(|mut bytes| {
            bytes.retain(|b| *b != b'/');
            bytes.insert(0, b'q');
            OsString::from_vec(bytes)
        }),
        (200..255usize).prop_map(move |len| text(format!("{}.mkv", "n".repeat(len - 4)))),
        Just(text("Hello!World.txt".into())),
        Just(text("V!report.pdf".into())),
        Just(text("report".into())),
        Just(text("report final FINAL (2).pdf".into())),
    ]
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

/// How many first bytes two names share.
fn shared_len(a: &OsStr, b: &OsStr) -> usize {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// Applies `ops` to a folder of `start` names as `Queue::reorder` does: one new name for the
/// moved item, between its new neighbours.
fn check_reorders(start: Vec<OsString>, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut names = start;
    names.sort();
    names.dedup();
    if names.len() < 2 {
        return Ok(());
    }
    let displays = |names: &[OsString]| -> Vec<OsString> {
        let mut d: Vec<OsString> = names.iter().map(|n| display_name(n).to_owned()).collect();
        d.sort();
        d
    };
    let all_displays = displays(&names);
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
        let after = insert_at.checked_sub(1).map(|i| names[i].as_os_str());
        let before = names.get(insert_at).map(OsString::as_os_str);
        let renamed = name_between(&item, after, before, ItemId::new());
        let Some(renamed) = renamed else {
            // Only neighbours sharing nearly a whole name leave no room for a key, an id and
            // one character (up to four bytes) of the name; and nothing but control characters
            // sorts below a name that goes on with nothing but spaces and control characters.
            let (a, b) = (after.unwrap_or_default(), before.unwrap_or_default());
            let shared = shared_len(a, b);
            prop_assert!(
                shared + 1 + BLOCK_LEN + 4 > NAME_MAX
                    || b.as_bytes()[shared..].iter().all(|c| *c <= b' '),
                "{a:?} {b:?}"
            );
            names.insert(moved.min(names.len()), item);
            continue;
        };
        prop_assert!(renamed.len() <= NAME_MAX);
        let (was, now) = (parse(&item), parse(&renamed));
        if !now.shortened {
            prop_assert_eq!(now.display, was.display, "no part of the name is lost");
        }
        names.insert(insert_at, renamed);
        for pair in names.windows(2) {
            prop_assert!(pair[0] < pair[1], "strict order: {:?}", pair);
        }
    }
    let shortened = names.iter().any(|n| parse(n).shortened);
    if !shortened {
        prop_assert_eq!(displays(&names), all_displays);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]
    /// Thousands of moves among realistic names: one rename each, strict order, names whole.
    #[test]
    fn reorders_among_realistic_names_rename_only_the_moved_item(
        start in proptest::collection::vec(realistic_name(), 2..40),
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        check_reorders(start, ops)?;
    }
}
