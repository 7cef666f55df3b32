//! `fsq demo`: a queue to play with. Sample text files of varied sizes, a few items already in
//! other states (one failed with its reason, one delayed, some held, a couple of hostile names),
//! and the built-in gzip processor throttled to 256 KiB/s, so each item really compresses for
//! several seconds and the progress bars have something to show. The throttle is the only
//! slowness: nothing sleeps to look busy.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context as _;

use crate::queue::{ItemRecord, Queue, State as QState, unix_ms};

const CONFIG: &str = "\
# The fsq demo queue. The built-in gzip processor compresses each item into _out/, throttled
# to 256 KiB/s so every item takes a few seconds and its progress is visible.

[worker]
processor = \"gzip\"
throttle = \"256KiB\"
workers = 2
retry_delay = \"2m\"

[tui]
theme = \"classic\"
";

/// Pending sample items: name and size in KiB.
const SAMPLES: &[(&str, u64)] = &[
    ("annual-report-2024.txt", 1800),
    ("meeting-notes.md", 420),
    ("server.log", 2600),
    ("chapter-01.txt", 900),
    ("chapter-02.txt", 1100),
    ("chapter-03.txt", 760),
    ("dataset.csv", 3200),
    ("日本語の報告書.txt", 640),
    (
        "a file name that is much too long to fit in any pane of the commander.txt",
        300,
    ),
    ("invoice-0042.txt", 150),
    ("translations.po", 980),
    ("changelog.txt", 520),
];

/// Creates the demo queue in `dir` or a new temp folder and returns its path.
pub fn create(dir: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let root = match dir {
        Some(dir) => dir,
        None => std::env::temp_dir().join(format!(
            "fsq-demo-{}-{}",
            std::process::id(),
            unix_ms(SystemTime::now())
        )),
    };
    let queue = Queue::init(&root).with_context(|| format!("cannot create {}", root.display()))?;
    fs::write(queue.config_path(), CONFIG).context("cannot write the demo config")?;
    for (name, kib) in SAMPLES {
        write_sample(&queue.root().join(name), *kib)?;
    }
    write_sample(&queue.state_dir(QState::Paused).join("held-back.txt"), 200)?;
    write_sample(
        &queue
            .state_dir(QState::Paused)
            .join("evil\x1b[31mred\x07.txt"),
        10,
    )?;
    let broken = ItemRecord {
        attempts: 3,
        reason: Some("exit status 1: unexpected end of input".into()),
        ..ItemRecord::default()
    };
    ran_before(&queue, "broken.txt", 5, QState::Failed, &broken)?;
    let flaky = ItemRecord {
        attempts: 1,
        reason: Some("timed out after 30s".into()),
        retry_at: Some(unix_ms(SystemTime::now()) + 120_000),
        ..ItemRecord::default()
    };
    ran_before(&queue, "flaky.txt", 50, QState::Delayed, &flaky)?;
    write_sample(&queue.state_dir(QState::Success).join("welcome.txt"), 2)?;
    Ok(queue.root().to_path_buf())
}

/// An item that ran before: written, given its id as a claim would, put in `state` with `record`.
fn ran_before(
    queue: &Queue,
    name: &str,
    kib: u64,
    state: QState,
    record: &ItemRecord,
) -> anyhow::Result<()> {
    write_sample(&queue.root().join(name), kib)?;
    let item = crate::queue::Item {
        state: QState::Pending,
        owner: None,
        file: name.into(),
    };
    let moved = queue.move_tagged(&item, state, None)?;
    queue.write_record(&moved, record)?;
    Ok(())
}

/// Readable text of about `kib` KiB: numbered lines of varied words.
fn write_sample(path: &Path, kib: u64) -> anyhow::Result<()> {
    const WORDS: &[&str] = &[
        "queue",
        "item",
        "rename",
        "worker",
        "atomic",
        "folder",
        "progress",
        "retry",
        "commander",
        "pending",
        "success",
        "failed",
        "operator",
        "convert",
        "batch",
        "durable",
    ];
    let target = kib * 1024;
    let mut text = String::with_capacity(target as usize + 128);
    let mut line = 0u64;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64 ^ kib;
    while (text.len() as u64) < target {
        line += 1;
        text.push_str(&format!("{line:06} "));
        for _ in 0..10 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            text.push_str(WORDS[(seed % WORDS.len() as u64) as usize]);
            text.push(' ');
        }
        text.push('\n');
    }
    fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}
