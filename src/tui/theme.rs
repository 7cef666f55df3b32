//! Themes: every colour the commander uses, read from TOML. The classic theme is compiled in and
//! is the base every other theme is laid over, so a theme file names only what it changes and a
//! bare binary always has a complete theme. `NO_COLOR` strips colours but keeps the cursor
//! visible (reversed) and the selection distinguishable (bold).
//!
//! A theme is named (a built-in one, or `NAME.toml` in the operator's
//! `$XDG_CONFIG_HOME/fsq/themes/`, which is looked at first) or given as a path. A broken theme
//! file is reported with its file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ratatui::style::{Modifier, Style};
use serde::Deserialize;

const CLASSIC: &str = include_str!("../../themes/classic.toml");
const DARK: &str = include_str!("../../themes/dark.toml");
const LIGHT: &str = include_str!("../../themes/light.toml");

/// The names of the compiled-in themes.
pub const BUILT_IN: [&str; 3] = ["classic", "dark", "light"];

/// Every style the renderer uses.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub base: Style,
    pub border: Style,
    pub title: Style,
    pub title_active: Style,
    pub column_header: Style,
    pub cursor: Style,
    pub selected: Style,
    pub cursor_selected: Style,
    pub fresh: Style,
    pub dim: Style,
    pub alarm: Style,
    pub progress_done: Style,
    pub progress_todo: Style,
    pub header: Style,
    pub header_value: Style,
    pub header_alarm: Style,
    pub keybar_number: Style,
    pub keybar_label: Style,
    pub message: Style,
    pub message_error: Style,
    pub dialog: Style,
    pub dialog_title: Style,
    pub dialog_alarm: Style,
    pub button: Style,
    pub button_focus: Style,
    pub input: Style,
}

impl Default for Theme {
    fn default() -> Self {
        // The classic theme is tested to parse, so this only fails if the build is broken.
        Theme::from_layers(&[CLASSIC]).unwrap_or_else(|_| Theme::monochrome())
    }
}

impl Theme {
    /// The theme called `name`: `NAME.toml` in `user_themes` if there is one, else a built-in
    /// theme, else the file at path `name`; laid over the classic base.
    pub fn find(name: &str, user_themes: Option<&Path>) -> anyhow::Result<Theme> {
        let user = user_themes
            .filter(|_| !name.contains('/'))
            .map(|dir| dir.join(format!("{name}.toml")))
            .filter(|path| path.is_file());
        let built_in = match name {
            "classic" => Some(CLASSIC),
            "dark" => Some(DARK),
            "light" => Some(LIGHT),
            _ => None,
        };
        let path = match (user, built_in) {
            (Some(path), _) => path,
            (None, Some(text)) => {
                return Theme::from_layers(&[CLASSIC, text])
                    .map_err(|err| anyhow::anyhow!("theme {name:?}: {err}"));
            }
            (None, None) => PathBuf::from(name),
        };
        if let Some(problem) = crate::queue::unsafe_permissions(&path) {
            anyhow::bail!("theme {}: {problem}", path.display());
        }
        let text = crate::queue::read_utf8(&path).map_err(|err| match err {
            crate::queue::Error::Io { cause, .. } => anyhow::anyhow!(
                "theme {name:?}: {}: {cause} (built-in themes: {})",
                path.display(),
                BUILT_IN.join(", ")
            ),
            // Not UTF-8: the error names the file, line and column.
            other => other.into(),
        })?;
        check_file(&text, &path)?;
        Theme::from_layers(&[CLASSIC, &text])
            .map_err(|err| anyhow::anyhow!("{}: {err}", path.display()))
    }

    /// Merges TOML texts key by key, later ones winning, and reads the result.
    fn from_layers(layers: &[&str]) -> Result<Theme, String> {
        let mut merged = toml::Table::new();
        for layer in layers {
            let table: toml::Table = toml::from_str(layer).map_err(|err| err.to_string())?;
            merged.extend(table);
        }
        Theme::deserialize(toml::Value::Table(merged)).map_err(|err| err.to_string())
    }

    /// The theme without colours, for `NO_COLOR`.
    pub fn without_colour(&self) -> Theme {
        let plain = |style: Style| Style::default().add_modifier(style.add_modifier);
        let mut theme = Theme::monochrome();
        theme.selected = plain(self.selected).add_modifier(Modifier::BOLD);
        theme.alarm = plain(self.alarm).add_modifier(Modifier::BOLD);
        theme.fresh = plain(self.fresh).add_modifier(Modifier::BOLD);
        theme
    }

    /// Plain text with reversed highlights: readable on any terminal.
    fn monochrome() -> Theme {
        let plain = Style::default();
        let reversed = plain.add_modifier(Modifier::REVERSED);
        let bold = plain.add_modifier(Modifier::BOLD);
        Theme {
            base: plain,
            border: plain,
            title: plain,
            title_active: reversed,
            column_header: bold,
            cursor: reversed,
            selected: bold,
            cursor_selected: reversed.add_modifier(Modifier::BOLD),
            fresh: bold,
            dim: plain,
            alarm: bold,
            progress_done: plain,
            progress_todo: plain,
            header: reversed,
            header_value: reversed.add_modifier(Modifier::BOLD),
            header_alarm: reversed.add_modifier(Modifier::BOLD),
            keybar_number: plain,
            keybar_label: reversed,
            message: plain,
            message_error: bold,
            dialog: reversed,
            dialog_title: reversed.add_modifier(Modifier::BOLD),
            dialog_alarm: reversed,
            button: reversed,
            button_focus: plain,
            input: plain.add_modifier(Modifier::UNDERLINED),
        }
    }
}

/// Reports a theme file's mistakes with line and column: TOML syntax, a value that is not a
/// style, or a name the theme does not have.
fn check_file(text: &str, path: &Path) -> anyhow::Result<()> {
    let styles: BTreeMap<String, Style> = crate::queue::parse_toml(text, path)?;
    let known: toml::Table = toml::from_str(CLASSIC).unwrap_or_default();
    if let Some(unknown) = styles.keys().find(|name| !known.contains_key(*name)) {
        let line = text
            .lines()
            .position(|l| l.trim_start().starts_with(unknown.as_str()))
            .map_or(1, |i| i + 1);
        anyhow::bail!(
            "{}:{line}:1: unknown theme key `{unknown}` (the keys are those of themes/classic.toml)",
            path.display()
        );
    }
    Ok(())
}

/// Whether the user asked for no colour (`NO_COLOR` set and not empty).
pub fn no_color_requested() -> bool {
    std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::Color;

    #[test]
    fn every_built_in_theme_parses() {
        for name in BUILT_IN {
            Theme::find(name, None).unwrap();
        }
        assert_eq!(Theme::default().base.bg, Some(Color::Blue));
    }

    #[test]
    fn a_partial_theme_file_layers_over_classic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "cursor = { fg = \"red\", bg = \"#112233\" }\n").unwrap();
        let theme = Theme::find(path.to_str().unwrap(), None).unwrap();
        assert_eq!(theme.cursor.bg, Some(Color::Rgb(0x11, 0x22, 0x33)));
        assert_eq!(theme.base, Theme::default().base);
    }

    #[test]
    fn unknown_theme_keys_and_names_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "curser = { fg = \"red\" }\n").unwrap();
        assert!(Theme::find(path.to_str().unwrap(), None).is_err());
        assert!(Theme::find("no-such-theme", None).is_err());
    }

    #[test]
    fn a_user_theme_is_found_by_name_first_and_its_mistakes_have_line_and_column() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.toml"), "cursor = { bg = \"red\" }\n").unwrap();
        let mine = Theme::find("mine", Some(dir.path())).unwrap();
        assert_eq!(mine.cursor.bg, Some(Color::Red));
        // A user file named like a built-in theme replaces it.
        std::fs::write(dir.path().join("dark.toml"), "base = { bg = \"green\" }\n").unwrap();
        assert_eq!(
            Theme::find("dark", Some(dir.path())).unwrap().base.bg,
            Some(Color::Green)
        );
        assert!(Theme::find("light", Some(dir.path())).is_ok());
        std::fs::write(
            dir.path().join("typo.toml"),
            "# mine\n\ncurser = { fg = \"red\" }\n",
        )
        .unwrap();
        let err = Theme::find("typo", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.ends_with("typo.toml:3:1: unknown theme key `curser` (the keys are those of themes/classic.toml)"), "{err}");
        std::fs::write(dir.path().join("bad.toml"), "base = { fg = 12.5 }\n").unwrap();
        let err = Theme::find("bad", Some(dir.path()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("bad.toml:1:"), "{err}");
    }

    #[test]
    fn no_color_has_no_colours() {
        let theme = Theme::default().without_colour();
        assert_eq!(theme.base.bg, None);
        assert!(theme.cursor.add_modifier.contains(Modifier::REVERSED));
    }
}
