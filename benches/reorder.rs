//! The computation of a reorder beside a million items: how long finding a new name between two
//! neighbours takes, for moves to random places in a sorted folder of a million realistic names
//! (camera, scanner, render, dates, Cyrillic, CJK), with the folder updated after each move.
//!
//!   cargo bench --bench reorder -- [ITEMS] [MOVES]
//!
//! Prints the median, 99th percentile and worst time per move, and the longest key made. The
//! whole `fsq order` command (listing included) is measured by benches/reorder.sh.

use std::ffi::OsString;
use std::time::{Duration, Instant};

use fsq::queue::{ItemId, name_between, parse_name};

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse::<usize>().ok());
    let items = args.next().unwrap_or(1_000_000);
    let moves = args.next().unwrap_or(10_000);
    let mut names: Vec<OsString> = (0..items).map(realistic).collect();
    names.sort();
    names.dedup();
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut times = Vec::with_capacity(moves);
    let mut longest_key = 0;
    for _ in 0..moves {
        let from = next() as usize % names.len();
        let moved = names.remove(from);
        let at = next() as usize % (names.len() + 1);
        let after = at.checked_sub(1).map(|i| names[i].as_os_str());
        let before = names.get(at).map(|n| n.as_os_str());
        let start = Instant::now();
        let renamed = name_between(&moved, after, before, ItemId::new());
        times.push(start.elapsed());
        let renamed = renamed.expect("a name fits between realistic neighbours");
        longest_key = longest_key.max(parse_name(&renamed).key.len());
        names.insert(at, renamed);
    }
    times.sort();
    let at = |q: f64| times[((times.len() - 1) as f64 * q) as usize];
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    println!(
        "{moves} moves among {} names: median {:.1} us, p99 {:.1} us, worst {:.1} us per move; longest key {longest_key} bytes",
        names.len(),
        us(at(0.5)),
        us(at(0.99)),
        us(at(1.0)),
    );
}

/// The `i`th name of a folder as devices and people fill it.
fn realistic(i: usize) -> OsString {
    let name = match i % 6 {
        0 => format!("IMG_{:07}.JPG", i / 6),
        1 => format!("frame-{:07}.png", i / 6),
        2 => format!(
            "Scan 2024-03-01 {:02}.{:02}.{:02} ({}).pdf",
            i % 24,
            i % 60,
            i % 59,
            i / 6
        ),
        3 => format!("Отчёт {}.docx", i / 6),
        4 => format!("報告書{}.pdf", i / 6),
        _ => format!("report final FINAL ({}).pdf", i / 6),
    };
    OsString::from(name)
}
