//! Applying a look at some names to a sorted listing in place. A burst of renames into a folder
//! of a million items must cost what the burst costs: no re-sort, no second copy of the listing,
//! and the items before the first changed name are not touched at all.

use std::cmp::Ordering;
use std::ffi::OsString;

use crate::queue::{Item, State as QState, processing_order};

/// Replaces the items of `items` (in processing order) whose file names are in `files` (sorted)
/// by `found` (the items under those names now, in processing order), in place. Returns the
/// items taken out, in no particular order.
pub fn merge_names(
    items: &mut Vec<Item>,
    files: &[OsString],
    mut found: Vec<Item>,
    state: QState,
) -> Vec<Item> {
    let Some(first) = files.first() else {
        return Vec::new();
    };
    let start = items.partition_point(|item| processing_order(&item.file, first) == Ordering::Less);
    // Take out the items under the changed names: the kept ones move forward, the rest end up
    // at the tail and are split off.
    let mut keep = start;
    let mut names = files.iter().peekable();
    for i in start..items.len() {
        let file = &items[i].file;
        while names
            .next_if(|name| processing_order(name, file) == Ordering::Less)
            .is_some()
        {}
        if names.peek().is_some_and(|name| *name == file) {
            continue;
        }
        items.swap(keep, i);
        keep += 1;
    }
    let gone = items.split_off(keep);
    // Merge `found` in from the back: each kept item moves at most once.
    let mut read = items.len();
    let mut write = items.len() + found.len();
    items.resize_with(write, || Item {
        state,
        owner: None,
        file: OsString::new(),
    });
    while let Some(new) = found.last() {
        write -= 1;
        if read > 0 && processing_order(&items[read - 1].file, &new.file) == Ordering::Greater {
            read -= 1;
            items.swap(read, write);
        } else if let Some(new) = found.pop() {
            items[write] = new;
        }
    }
    gone
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(names: &[&str]) -> Vec<Item> {
        names
            .iter()
            .map(|name| Item {
                state: QState::Pending,
                owner: None,
                file: OsString::from(name),
            })
            .collect()
    }

    fn files(items: &[Item]) -> Vec<String> {
        items
            .iter()
            .map(|i| i.file.to_string_lossy().into_owned())
            .collect()
    }

    #[test]
    fn names_leave_and_arrive_in_order() {
        let mut listing = items(&["b", "d", "f", "h"]);
        let asked: Vec<OsString> = ["a", "d", "e", "h", "z"].map(OsString::from).to_vec();
        let gone = merge_names(
            &mut listing,
            &asked,
            items(&["a", "e", "z"]),
            QState::Pending,
        );
        assert_eq!(files(&listing), ["a", "b", "e", "f", "z"]);
        let mut gone = files(&gone);
        gone.sort();
        assert_eq!(gone, ["d", "h"]);
    }

    #[test]
    fn agrees_with_a_full_sort_on_random_bursts() {
        let mut seed = 7u64;
        let mut next = move || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as usize
        };
        for _ in 0..200 {
            let all: Vec<String> = (0..40).map(|i| format!("n{i:02}")).collect();
            let before: Vec<&str> = all
                .iter()
                .filter(|_| next() % 2 == 0)
                .map(String::as_str)
                .collect();
            let mut asked: Vec<&str> = all
                .iter()
                .filter(|_| next() % 4 == 0)
                .map(String::as_str)
                .collect();
            asked.sort();
            let now: Vec<&str> = asked.iter().copied().filter(|_| next() % 2 == 0).collect();
            let mut expected: Vec<&str> = before
                .iter()
                .copied()
                .filter(|n| !asked.contains(n))
                .collect();
            expected.extend(&now);
            expected.sort();
            let mut listing = items(&before);
            let asked: Vec<OsString> = asked.iter().map(OsString::from).collect();
            merge_names(&mut listing, &asked, items(&now), QState::Pending);
            assert_eq!(files(&listing), expected);
        }
    }
}
