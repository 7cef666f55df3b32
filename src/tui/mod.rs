//! The commander: a two-pane TUI over a queue, in the Midnight Commander tradition.
//!
//! It follows the Elm shape: `event` is everything that can happen, `update` the only place the
//! `model` changes, `effect` what update asks for, `render` a pure drawing of the model. `app`
//! runs the loop; `background`, `ops` and `watch` (with `changes`) do the disk work off the
//! render path; `terminal` takes the screen and always gives it back. Keys (`keymap`) and colours (`theme`)
//! are TOML data with compiled-in defaults.

mod actions;
mod app;
mod background;
mod changes;
mod demo;
mod dialog;
mod effect;
mod event;
mod glob;
mod info;
mod input;
mod keymap;
mod layout;
mod look;
mod merge;
mod model;
mod ops;
mod pane;
mod refresh;
mod render;
mod reorder;
mod search;
mod sort;
mod terminal;
mod text;
mod theme;
mod update;
mod watch;

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) use render::help_lines as render_help_lines;

/// The commander's default keys, one `KEYS  what they do` line per action, as help shows them.
pub fn default_key_lines() -> Vec<String> {
    render::help_lines(&keymap::Keymap::default())
}

pub mod editor;
pub mod viewer;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};

use crate::cli::TuiArgs;
use crate::queue::Queue;

/// `fsq [DIR]`.
pub fn run(args: TuiArgs) -> anyhow::Result<ExitCode> {
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let queue = Queue::open(&dir).with_context(|| {
        format!(
            "{} is not a queue (create one with `fsq init {}`)",
            dir.display(),
            dir.display()
        )
    })?;
    let config = queue.trusted_config()?;
    let user = look::UserLayer::read(crate::queue::user_config_dir())?;
    let look::Look {
        theme,
        keys,
        left,
        right,
    } = look::resolve(&args, &config.tui, &queue.config_path(), &user)?;
    // A broken config or theme is reported first, wherever fsq runs.
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("the commander needs a terminal; in scripts use `fsq ls` and `fsq status`");
    }
    let mut notice = None;
    let engine = if args.no_worker || args.readonly {
        None
    } else {
        let settings = args.worker.apply(&config);
        if settings.has_something_to_run() {
            Some(settings)
        } else {
            notice = Some(NO_COMMAND.to_string());
            None
        }
    };
    app::run(app::Setup {
        queue: Arc::new(queue),
        theme,
        keys,
        left,
        right,
        readonly: args.readonly,
        engine,
        poll: args.worker.poll.or(config.worker.poll),
        heartbeat_timeout: config.worker.heartbeat_timeout,
        notice,
    })?;
    Ok(ExitCode::SUCCESS)
}

/// The message line of a commander opened on a queue with no command: how to set one, in
/// 80 columns.
pub(crate) const NO_COMMAND: &str =
    "worker off: set [worker] command in _meta/config.toml (or: fsq DIR -- CMD ...)";

/// `fsq demo [DIR]`.
pub fn run_demo(dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let root = demo::create(dir)?;
    let result = run(TuiArgs {
        dir: Some(root.clone()),
        ..TuiArgs::default()
    });
    // After the commander, where the session may be gone: a line that cannot be written is not
    // an error of the demo.
    let _ = writeln!(std::io::stdout(), "fsq demo queue: {}", root.display());
    result
}
