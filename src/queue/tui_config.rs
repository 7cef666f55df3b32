//! `[tui]`: how the commander looks, in a queue's `_meta/config.toml` and in the operator's own
//! `$XDG_CONFIG_HOME/fsq/config.toml` (which holds only `[tui]` and lies under every queue's).
//! Parsed typed: panes are states, and each `[tui.keys]` entry keeps the line and column it was
//! written at, so the commander's check of the keys can say where a mistake is.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use super::State;
use super::config::{load_toml, parse_toml};
use super::error::Result;

/// `[tui]`: how the commander looks when opened on this queue.
#[derive(Clone, Debug, Default)]
pub struct TuiConfig {
    pub theme: Option<String>,
    pub left: Option<State>,
    pub right: Option<State>,
    /// Key map overrides, in file order: an action's name and the keys it gets instead of its
    /// defaults, each where it was written.
    pub keys: Vec<KeyOverride>,
}

/// `action = ["F10", "C-q"]` in `[tui.keys]`.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyOverride {
    pub action: Located<String>,
    pub keys: Located<Vec<String>>,
}

/// A value and where it was written: 1-based line and column in the config file.
#[derive(Clone, Debug, PartialEq)]
pub struct Located<T> {
    pub value: T,
    pub line: usize,
    pub column: usize,
}

/// `[tui]` as read, before the places of its keys are turned into lines.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawTui {
    theme: Option<String>,
    left: Option<State>,
    right: Option<State>,
    keys: BTreeMap<Spanned<String>, Spanned<KeyList>>,
}

/// One key or a list of keys, as `[tui.keys]` takes them.
#[derive(Deserialize)]
#[serde(untagged)]
enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl RawTui {
    /// The settings, with the places of the keys in `text` (the file this was read from).
    pub(super) fn locate(self, text: &str) -> TuiConfig {
        let at = |span: std::ops::Range<usize>| line_and_column(text, span.start);
        let keys = self
            .keys
            .into_iter()
            .map(|(action, keys)| {
                let ((line, column), (key_line, key_column)) = (at(action.span()), at(keys.span()));
                let value = match keys.into_inner() {
                    KeyList::One(one) => vec![one],
                    KeyList::Many(many) => many,
                };
                KeyOverride {
                    action: Located {
                        value: action.into_inner(),
                        line,
                        column,
                    },
                    keys: Located {
                        value,
                        line: key_line,
                        column: key_column,
                    },
                }
            })
            .collect();
        TuiConfig {
            theme: self.theme,
            left: self.left,
            right: self.right,
            keys,
        }
    }
}

impl TuiConfig {
    /// These settings over `under`: each key set here wins; key bindings merge per action
    /// (later entries win, and these come after `under`'s).
    pub fn over(self, under: TuiConfig) -> TuiConfig {
        let mut keys = under.keys;
        keys.extend(self.keys);
        TuiConfig {
            theme: self.theme.or(under.theme),
            left: self.left.or(under.left),
            right: self.right.or(under.right),
            keys,
        }
    }
}

/// The operator's own settings: `[tui]` only (a queue's `[worker]` is the queue's business).
#[derive(Clone, Debug, Default)]
pub struct UserConfig {
    pub tui: TuiConfig,
}

#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawUser {
    tui: RawTui,
}

impl UserConfig {
    /// Reads the user config; a missing file gives the defaults.
    pub fn load(path: &Path) -> Result<UserConfig> {
        load_toml(path, UserConfig::parse)
    }

    /// Parses user config text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<UserConfig> {
        let raw: RawUser = parse_toml(text, path)?;
        Ok(UserConfig {
            tui: raw.tui.locate(text),
        })
    }
}

/// Where the operator's own files live: `$XDG_CONFIG_HOME/fsq`, by default `~/.config/fsq`
/// (a relative `XDG_CONFIG_HOME` is ignored, as the XDG specification says).
pub fn user_config_dir() -> Option<PathBuf> {
    let xdg = std::env::var_os("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let base = xdg.or_else(|| {
        std::env::var_os("HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .map(|home| home.join(".config"))
    })?;
    Some(base.join("fsq"))
}

/// The 1-based line and column of byte `offset` in `text` (columns count bytes).
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|b| **b == b'\n').count() + 1;
    let column = before.len()
        - before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1)
        + 1;
    (line, column)
}
