//! What the commander looks like and which keys it takes, from three layers: the operator's own
//! `$XDG_CONFIG_HOME/fsq/config.toml` at the bottom, the queue's `[tui]` over it, and the
//! command-line flags over both. Each layer names only what it changes; key bindings merge per
//! action. A mistake in a layer is reported with that layer's file.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::cli::TuiArgs;
use crate::queue::{State as QState, TuiConfig, UserConfig};

use super::keymap::Keymap;
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
    // Each layer's key names are checked alone, so a mistake names its own file.
    for (keys, path) in [(&user.tui.keys, user_path), (&queue_tui.keys, queue_path)] {
        Keymap::with_overrides(keys).map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))?;
    }
    let tui = queue_tui.clone().over(user.tui.clone());
    let keys = Keymap::with_overrides(&tui.keys).map_err(|err| anyhow::anyhow!("{err}"))?;
    let theme_name = args
        .theme
        .clone()
        .or(tui.theme.clone())
        .unwrap_or_else(|| "classic".into());
    let mut theme = Theme::find(&theme_name, user.themes.as_deref())?;
    if theme::no_color_requested() {
        theme = theme.without_colour();
    }
    let state_of =
        |flag: Option<QState>, queue: &Option<String>, mine: &Option<String>, default| {
            let named = |name: &String, path: &Path| {
                name.parse::<QState>()
                    .with_context(|| format!("[tui] in {}", path.display()))
            };
            match (flag, queue, mine) {
                (Some(state), _, _) => Ok(state),
                (None, Some(name), _) => named(name, queue_path),
                (None, None, Some(name)) => named(name, user_path),
                (None, None, None) => Ok(default),
            }
        };
    let left = state_of(args.left, &queue_tui.left, &user.tui.left, QState::Pending)?;
    let right = state_of(
        args.right,
        &queue_tui.right,
        &user.tui.right,
        QState::Process,
    )?;
    Ok(Look {
        theme,
        keys,
        left,
        right,
    })
}
