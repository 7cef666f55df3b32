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
mod input;
mod keymap;
mod layout;
mod model;
mod ops;
mod pane;
mod render;
mod terminal;
mod text;
mod theme;
mod update;
mod watch;

#[cfg(test)]
mod tests;

#[cfg(test)]
pub(crate) use render::help_lines as render_help_lines;

pub mod editor;
pub mod viewer;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};

use crate::cli::TuiArgs;
use crate::queue::{Queue, State as QState};
use crate::worker::Settings;

/// `fsq [DIR]`.
pub fn run(args: TuiArgs) -> anyhow::Result<ExitCode> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        bail!("the commander needs a terminal; in scripts use `fsq ls` and `fsq status`");
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let queue = Queue::open(&dir).with_context(|| {
        format!(
            "{} is not a queue (create one with `fsq init {}`)",
            dir.display(),
            dir.display()
        )
    })?;
    let config = queue.trusted_config()?;
    let theme_name = args
        .theme
        .clone()
        .or(config.tui.theme.clone())
        .unwrap_or_else(|| "classic".into());
    let mut theme = theme::Theme::load(&theme_name)?;
    if theme::no_color_requested() {
        theme = theme.without_colour();
    }
    let keys = keymap::Keymap::with_overrides(&config.tui.keys)
        .map_err(|err| anyhow::anyhow!("{}: {err}", queue.config_path().display()))?;
    let state_of =
        |flag: Option<QState>, key: &Option<String>, default: QState| -> anyhow::Result<QState> {
            match (flag, key) {
                (Some(state), _) => Ok(state),
                (None, Some(name)) => name
                    .parse::<QState>()
                    .with_context(|| format!("[tui] in {}", queue.config_path().display())),
                (None, None) => Ok(default),
            }
        };
    let left = state_of(args.left, &config.tui.left, QState::Pending)?;
    let right = state_of(args.right, &config.tui.right, QState::Process)?;
    let engine = if args.no_worker || args.readonly {
        None
    } else {
        Some(Settings::resolve(&config.worker, &args.worker)?)
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
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `fsq demo [DIR]`.
pub fn run_demo(dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    let root = demo::create(dir)?;
    let result = run(TuiArgs {
        dir: Some(root.clone()),
        ..TuiArgs::default()
    });
    println!("fsq demo queue: {}", root.display());
    result
}
