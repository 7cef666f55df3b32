//! What the commander looks like and which keys it takes, from three layers: the operator's own
//! `$XDG_CONFIG_HOME/fsq/config.toml` at the bottom, the queue's `[tui]` over it, and the
//! command-line flags over both. Each layer names only what it changes; key bindings merge per
//! action. A mistake in a layer is reported with that layer's file.

use std::path::{Path, PathBuf};

use crate::cli::TuiArgs;
use crate::queue::{State as QState, TuiConfig, UserConfig};

use super::keymap::{BadKeys, Keymap};
use super::theme::{self, Theme};

/// The resolved look.
pub struct Look {
    pub theme: Theme,
    pub keys: Keymap,
    pub left: QState,
    pub right: QState,
}

/// The operator's own layer: its config file's `[tui]`, and where its themes are.
#[derive(Default)]
pub struct UserLayer {
    pub config_path: Option<PathBuf>,
    pub tui: TuiConfig,
    pub themes: Option<PathBuf>,
}

impl UserLayer {
    /// Reads `config.toml` in `dir` (`$XDG_CONFIG_HOME/fsq`); nothing there is an empty layer.
    pub fn read(dir: Option<PathBuf>) -> anyhow::Result<UserLayer> {
        let Some(dir) = dir else {
            return Ok(UserLayer::default());
        };
        let path = dir.join("config.toml");
        let config = UserConfig::load(&path)?;
        Ok(UserLayer {
            tui: config.tui,
            config_path: Some(path),
            themes: Some(dir.join("themes")),
        })
    }
}

/// A key map mistake of the layer read from `path`, at its place when it has one.
fn bad_keys(bad: BadKeys, path: &Path) -> anyhow::Error {
    match bad.at {
        Some((line, column)) => {
            anyhow::anyhow!("{}:{line}:{column}: {}", path.display(), bad.message)
        }
        None => anyhow::anyhow!("{}: {}", path.display(), bad.message),
    }
}

/// Lays the queue's `[tui]` (from `queue_path`) over the user's, and the flags over both.
pub fn resolve(
    args: &TuiArgs,
    queue_tui: &TuiConfig,
    queue_path: &Path,
    user: &UserLayer,
) -> anyhow::Result<Look> {
    let user_path = user
        .config_path
        .as_deref()
        .unwrap_or(Path::new("user config"));
    // Each layer's keys are checked alone, so a mistake names its own file, line and column.
    for (keys, path) in [(&user.tui.keys, user_path), (&queue_tui.keys, queue_path)] {
        Keymap::with_overrides(keys).map_err(|bad| bad_keys(bad, path))?;
    }
    let tui = queue_tui.clone().over(user.tui.clone());
    // Together they can still leave a key doing two things (one layer's key, another's default).
    let keys = Keymap::with_overrides(&tui.keys).map_err(|bad| {
        anyhow::anyhow!(
            "{} (the keys of {} and {} together)",
            bad.message,
            user_path.display(),
            queue_path.display()
        )
    })?;
    let theme_name = args
        .theme
        .clone()
        .or(tui.theme.clone())
        .unwrap_or_else(|| "classic".into());
    let mut theme = Theme::find(&theme_name, user.themes.as_deref())?;
    if theme::no_color_requested() || super::terminal::is_dumb() {
        theme = theme.without_colour();
    }
    let left = args.left.or(tui.left).unwrap_or(QState::Pending);
    let right = args.right.or(tui.right).unwrap_or(QState::Process);
    Ok(Look {
        theme,
        keys,
        left,
        right,
    })
}
