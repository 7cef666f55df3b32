//! Themes: every colour the commander uses, read from TOML. The classic theme is compiled in and
//! is the base every other theme is laid over, so a theme file names only what it changes and a
//! bare binary always has a complete theme. `NO_COLOR` strips colours but keeps the cursor
//! visible (reversed) and the selection distinguishable (bold).

use std::path::Path;

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
    /// The theme called `name` (built-in) or stored at path `name`, over the classic base.
    pub fn load(name: &str) -> anyhow::Result<Theme> {
        let text = match name {
            "classic" => CLASSIC.to_string(),
            "dark" => DARK.to_string(),
            "light" => LIGHT.to_string(),
            path => {
                if let Some(problem) = crate::queue::unsafe_permissions(Path::new(path)) {
                    anyhow::bail!("theme {problem}");
                }
                std::fs::read_to_string(Path::new(path)).map_err(|err| {
                    anyhow::anyhow!(
                        "theme {path:?}: {err} (built-in themes: {})",
                        BUILT_IN.join(", ")
                    )
                })?
            }
        };
        Theme::from_layers(&[CLASSIC, &text])
            .map_err(|err| anyhow::anyhow!("theme {name:?}: {err}"))
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
            Theme::load(name).unwrap();
        }
        assert_eq!(Theme::default().base.bg, Some(Color::Blue));
    }

    #[test]
    fn a_partial_theme_file_layers_over_classic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "cursor = { fg = \"red\", bg = \"#112233\" }\n").unwrap();
        let theme = Theme::load(path.to_str().unwrap()).unwrap();
        assert_eq!(theme.cursor.bg, Some(Color::Rgb(0x11, 0x22, 0x33)));
        assert_eq!(theme.base, Theme::default().base);
    }

    #[test]
    fn unknown_theme_keys_and_names_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "curser = { fg = \"red\" }\n").unwrap();
        assert!(Theme::load(path.to_str().unwrap()).is_err());
        assert!(Theme::load("no-such-theme").is_err());
    }

    #[test]
    fn no_color_has_no_colours() {
        let theme = Theme::default().without_colour();
        assert_eq!(theme.base.bg, None);
        assert!(theme.cursor.add_modifier.contains(Modifier::REVERSED));
    }
}
