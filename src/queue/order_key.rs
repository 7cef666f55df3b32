//! Sort keys for reordering by renaming one item.
//!
//! Items are processed in byte order of their file names. To move an item, it is renamed to
//! `KEY+ID+NAME` with a key chosen so that the new file name sorts strictly between its new
//! neighbours, whatever those are called. A key is decided within itself: it differs from each
//! neighbour at a byte inside the key (or extends a neighbour that ends), so the id and the name
//! after it never matter for the order. Where the neighbours leave no letter or digit between
//! them at some position, the key copies the lower neighbour's byte and goes one position deeper,
//! where there is always room above; between `IMG_0001.JPG` and `IMG_0002.JPG` the key is
//! `IMG_0001V`. So a key exists between any two names, except two NAME_MAX-long names equal up to
//! their last byte, and it takes microseconds to find.

use std::cmp::Ordering;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use super::name::{ItemId, NAME_MAX, TAG, parse, tagged};

/// Bytes a key prefers: readable in any file manager and safe on every share.
const ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/// Bytes a key uses where no letter or digit fits (sorted). Never `/`, `.`, `+`, `=`, `-`, `~`,
/// quotes, or the characters SMB forbids.
const SYMBOLS: &[u8] = b"!#$%&(),;@[]^_{}";
/// The last resort, below every symbol: a key sorts before a name starting with `!`.
const SPACE: &[u8] = b" ";
/// What a key that would end in the lowest byte of its kind gets appended, so that a later key
/// still fits below it (`0z`, not `0`): repeated moves to the front count down.
const HIGH: u8 = b'z';

/// The file name for the item `file` (its id and display name kept, or a new id for a plain
/// name) that sorts strictly after `after` and before `before`. `None` when no name can.
pub fn name_between(
    file: &OsStr,
    after: Option<&OsStr>,
    before: Option<&OsStr>,
    new_id: ItemId,
) -> Option<OsString> {
    let parsed = parse(file);
    let id = parsed.id.unwrap_or(new_id);
    let inside = |name: &OsStr| {
        after.is_none_or(|a| a.as_bytes() < name.as_bytes())
            && before.is_none_or(|b| name.as_bytes() < b.as_bytes())
    };
    (0..4).find_map(|pick| {
        let key = key_between(
            after.map(OsStr::as_bytes),
            before.map(OsStr::as_bytes),
            pick,
        )?;
        let name = tagged(&key, id, parsed.display, parsed.shortened)?;
        // The name must read back as this key and id, and sort where it should.
        let back = parse(&name);
        (back.key == key.as_slice() && back.id == Some(id) && inside(&name)).then_some(name)
    })
}

/// A non-empty key such that `key` followed by anything sorts strictly between `after` and
/// `before` (either may be open). `pick` chooses among equally good keys, for a second try.
pub fn key_between(after: Option<&[u8]>, before: Option<&[u8]>, pick: usize) -> Option<Vec<u8>> {
    if let (Some(a), Some(b)) = (after, before)
        && a >= b
    {
        return None;
    }
    let mut key = Vec::new();
    // Each bound stays in play while the key so far equals its first bytes.
    let (mut low, mut high) = (after, before);
    for depth in 0..NAME_MAX {
        // Exclusive bounds at this position; `None` when that side no longer constrains.
        let lo = low.and_then(|a| a.get(depth).copied());
        let hi = match high {
            Some(b) => Some(*b.get(depth)?), // the key equals `before`: nothing extends below it
            None => None,
        };
        let fits = |c: &&u8| lo.is_none_or(|lo| **c > lo) && hi.is_none_or(|hi| **c < hi);
        let among = |set: &[u8]| -> Vec<u8> { set.iter().filter(fits).copied().collect() };
        if let Some(c) = choose(&among(ALNUM), lo, hi, pick) {
            return Some(finish(key, c, lo, hi));
        }
        match (lo, hi) {
            // Both neighbours have this byte: the key must too.
            (Some(l), Some(h)) if l == h => key.push(l),
            // Room opens above the lower neighbour's next byte: copy this one and go deeper;
            // the upper neighbour is then passed for good.
            (Some(l), _) => {
                key.push(l);
                high = None;
            }
            (None, Some(h)) => {
                // Under a byte no letter goes below: copying it leaves room for letters under
                // the next byte (`0z` after `1`, `0y` after `0z`); else a symbol fits here.
                let next = high.and_then(|b| b.get(depth + 1).copied());
                let copy_has_room = h != TAG && next.is_some_and(|n| n > ALNUM[0]);
                if !copy_has_room {
                    let symbols = [among(SYMBOLS), among(SPACE)].concat();
                    if let Some(c) = choose(&symbols, lo, hi, pick) {
                        return Some(finish(key, c, lo, hi));
                    }
                }
                key.push(h);
            }
            (None, None) => unreachable!("every letter fits between open bounds"),
        }
        if low.is_some_and(|a| a.len() == key.len()) {
            // The key now equals `after`: anything longer sorts above it.
            low = None;
        }
    }
    None
}

/// The key with `c` appended; a key moving to the front that would end in the lowest letter or
/// symbol gets a high letter after it, so the next move to the front still fits below it.
fn finish(mut key: Vec<u8>, c: u8, lo: Option<u8>, hi: Option<u8>) -> Vec<u8> {
    key.push(c);
    if lo.is_none() && hi.is_some() && (c == ALNUM[0] || c == SYMBOLS[0] || c == SPACE[0]) {
        key.push(HIGH);
    }
    key
}

/// Which of `candidates` (sorted) to take: next to the lower bound when moving to the end, next
/// to the upper when moving to the front, so repeated moves count like integers; the middle
/// when both bounds are near, leaving room on both sides.
fn choose(candidates: &[u8], lo: Option<u8>, hi: Option<u8>, pick: usize) -> Option<u8> {
    if candidates.is_empty() {
        return None;
    }
    let n = candidates.len();
    let index = match (lo, hi) {
        (Some(_), None) => pick.min(n - 1),
        (None, Some(_)) => n - 1 - pick.min(n - 1),
        _ => (n / 2 + pick) % n,
    };
    Some(candidates[index])
}

/// Compares two file names in processing order.
pub fn processing_order(a: &OsStr, b: &OsStr) -> Ordering {
    a.as_bytes().cmp(b.as_bytes())
}

#[cfg(test)]
mod tests;
