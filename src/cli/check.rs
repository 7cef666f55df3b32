//! `fsq check DIR`: everything that makes a queue misbehave later, found now, as `postfix
//! check` does for a mail system. The layout, the queue's config and the operator's own, the
//! files fsq takes instructions from (configs, hooks, commands, themes), the mount's caching,
//! inotify limits, free space and inodes, and this host's clock against the shared filesystem's.
//!
//! Each problem is one line saying what is wrong and what to do; the exit code is 1 when there
//! is any. The rules themselves live in the queue layer, so the worker can apply them too.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::queue::{
    Config, InotifyUse, Queue, Space, UserConfig, WatchMode, clock_problem, mount_cache,
    unsafe_permissions, user_config_dir, watch_mode,
};

/// What the checks found.
#[derive(Default)]
struct Findings {
    problems: Vec<String>,
    notes: Vec<String>,
    /// Short facts for the one-line verdict of a healthy queue.
    facts: Vec<String>,
}

pub fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    let findings = check(dir);
    let mut out = std::io::stdout().lock();
    for problem in &findings.problems {
        writeln!(out, "{problem}")?;
    }
    for note in &findings.notes {
        writeln!(out, "note: {note}")?;
    }
    if findings.problems.is_empty() {
        writeln!(
            out,
            "{}: healthy ({})",
            dir.display(),
            findings.facts.join(", ")
        )?;
        Ok(ExitCode::SUCCESS)
    } else {
        Ok(ExitCode::from(1))
    }
}

fn check(dir: &Path) -> Findings {
    let mut found = Findings::default();
    let queue = match Queue::open(dir) {
        Ok(queue) => queue,
        Err(err) => {
            found.problems.push(format!(
                "{err}; `fsq init {}` creates the layout",
                dir.display()
            ));
            return found;
        }
    };
    for missing in queue.missing_layout() {
        found.problems.push(format!(
            "{}: missing; `fsq init {}` recreates the layout (items and config are kept)",
            missing.display(),
            dir.display()
        ));
    }
    let config = match queue.config() {
        Ok(config) => Some(config),
        Err(err) => {
            found.problems.push(format!("{err}; fix the config"));
            None
        }
    };
    let mut files = instruction_files(&queue, config.as_ref());
    files.extend(user_files(&mut found));
    for path in files {
        if let Some(why) = unsafe_permissions(&path) {
            found.problems.push(format!("{}: {why}", path.display()));
        }
    }
    for folder in queue.writable_folders() {
        if folder.is_dir() && !writable(&folder) {
            found.problems.push(format!(
                "{}: not writable by this user; fsq cannot move items or write records there",
                folder.display()
            ));
        }
    }
    if let Some(config) = &config {
        let worker = &config.worker;
        let outputs = std::iter::once(queue.root().join(&worker.output))
            .chain(worker.destinations.iter().map(|d| queue.root().join(d)));
        for folder in outputs.filter(|f| f.is_dir() && !writable(f)) {
            found.problems.push(format!(
                "{}: an output folder this user cannot write; jobs writing there will fail",
                folder.display()
            ));
        }
    }
    filesystem(&queue, &mut found);
    match queue.clock_skew() {
        Ok(skew) => {
            if let Some(problem) = clock_problem(skew) {
                let probe = queue.meta_path("workers");
                found
                    .problems
                    .push(format!("{}: {problem}", probe.display()));
            } else {
                found.facts.push(format!("clock within {:.1}s", skew.abs()));
            }
        }
        Err(err) => found.problems.push(format!(
            "{}: cannot touch a file there to read the shared clock ({err})",
            queue.meta_path("workers").display()
        )),
    }
    found
}

fn writable(folder: &Path) -> bool {
    rustix::fs::access(folder, rustix::fs::Access::WRITE_OK).is_ok()
}

/// Mount caching, inotify limits, free space and inodes.
fn filesystem(queue: &Queue, found: &mut Findings) {
    let cache = mount_cache(queue.root());
    found.problems.extend(cache.problems);
    found.notes.extend(cache.notes);
    if !cache.fstype.is_empty() {
        found.facts.push(cache.fstype);
    }
    match watch_mode(queue.root()) {
        WatchMode::Inotify => match InotifyUse::read() {
            Some(usage) => {
                found
                    .problems
                    .extend(usage.problems(queue.watches_needed()));
                found.facts.push(format!(
                    "inotify {}/{} watches used",
                    usage.used_watches, usage.max_watches
                ));
            }
            None => found
                .notes
                .push("cannot read /proc/sys/fs/inotify: limits not checked".into()),
        },
        WatchMode::Poll { interval, fs_name } => found.facts.push(format!(
            "{fs_name}: polled every {}s",
            interval.as_secs_f64()
        )),
    }
    match Space::of(queue.root()) {
        Ok(space) => {
            for problem in space.problems() {
                found
                    .problems
                    .push(format!("{}: {problem}", queue.root().display()));
            }
            found
                .facts
                .push(format!("{} MiB free", space.free_bytes >> 20));
        }
        Err(err) => found.notes.push(format!("cannot read free space: {err}")),
    }
}

/// The operator's own config (checked to parse) and themes, which the commander reads.
fn user_files(found: &mut Findings) -> Vec<PathBuf> {
    let Some(dir) = user_config_dir() else {
        return Vec::new();
    };
    let config = dir.join("config.toml");
    if let Err(err) = UserConfig::load(&config) {
        found.problems.push(format!("{err}; fix your user config"));
    }
    let themes = std::fs::read_dir(dir.join("themes"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path());
    std::iter::once(config).chain(themes).collect()
}

/// The files fsq reads instructions from: the config, the programs of the command and hooks,
/// and a theme file named by path.
fn instruction_files(queue: &Queue, config: Option<&Config>) -> Vec<PathBuf> {
    let mut files = vec![queue.config_path()];
    let Some(config) = config else {
        return files;
    };
    let worker = &config.worker;
    let programs = [&worker.command, &worker.on_success, &worker.on_failure]
        .into_iter()
        .flatten()
        .filter_map(|argv| argv.first());
    for program in programs {
        let program = program.replace("{queue}", &queue.root().to_string_lossy());
        if program.contains('{') {
            continue; // names a per-item path; nothing fixed to check
        }
        files.extend(crate::worker::find_program(program.as_ref()));
    }
    if let Some(theme) = &config.tui.theme
        && theme.contains('/')
    {
        files.push(PathBuf::from(theme));
    }
    files
}
