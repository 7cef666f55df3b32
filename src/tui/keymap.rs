//! The one key map: which key does which action. Handlers ask `Keymap::action` and never look at
//! key codes themselves, so every binding can be changed from `[tui.keys]` in the queue config,
//! and help and the function-key bar are generated from the same table.

use std::collections::HashMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::queue::KeyOverride;

const DEFAULT: &str = include_str!("keymap.toml");

/// Line and column in the config file.
type Position = (usize, usize);

/// A key map override that cannot be applied, and where it was written.
#[derive(Debug, PartialEq)]
pub struct BadKeys {
    pub at: Option<Position>,
    pub message: String,
}

/// Where a key is pressed: on the panes, in a dialog, in the viewer or in the editor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Pane,
    Dialog,
    Viewer,
    Editor,
}

macro_rules! actions {
    ($($variant:ident = $name:literal, $context:ident, $help:literal;)*) => {
        /// Everything a key can do.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Action { $($variant),* }

        impl Action {
            /// Every action, in the order help lists them.
            pub const ALL: &[Action] = &[$(Action::$variant),*];

            /// The name used in key map files.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name),* }
            }

            /// One line for the help screen.
            pub fn help(self) -> &'static str {
                match self { $(Action::$variant => $help),* }
            }

            pub fn context(self) -> Context {
                match self { $(Action::$variant => Context::$context),* }
            }

            fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    Help = "help", Pane, "this help";
    StateMenu = "state_menu", Pane, "open any state in this pane";
    View = "view", Pane, "view the item (or its log)";
    Edit = "edit", Pane, "edit a text item";
    Copy = "copy", Pane, "copy selection to the other pane's state";
    Move = "move", Pane, "move selection to the other pane's state (retry from failed/)";
    New = "new", Pane, "new text item";
    Delete = "delete", Pane, "delete selection";
    PauseWorker = "pause_worker", Pane, "pause / resume the embedded worker";
    Quit = "quit", Pane, "quit";
    Suspend = "suspend", Pane, "suspend to the shell (`fg` comes back)";
    Up = "up", Pane, "cursor up";
    Down = "down", Pane, "cursor down";
    PageUp = "page_up", Pane, "page up";
    PageDown = "page_down", Pane, "page down";
    Top = "top", Pane, "first item";
    Bottom = "bottom", Pane, "last item";
    SwitchPane = "switch_pane", Pane, "switch panes";
    ToggleSelect = "toggle_select", Pane, "select / unselect the cursor item";
    SelectGlob = "select_glob", Pane, "select by pattern";
    UnselectGlob = "unselect_glob", Pane, "unselect by pattern";
    InvertSelection = "invert_selection", Pane, "invert the selection";
    MoveUp = "move_up", Pane, "move pending item one place up";
    MoveDown = "move_down", Pane, "move pending item one place down";
    MoveTop = "move_top", Pane, "move pending item to the top";
    MoveBottom = "move_bottom", Pane, "move pending item to the bottom";
    Retry = "retry", Pane, "retry failed / delayed items";
    Hold = "hold", Pane, "hold pending items (to paused/)";
    Resume = "resume", Pane, "resume paused items";
    Filter = "filter", Pane, "filter by name (empty clears)";
    QuickSearch = "quick_search", Pane, "quick search: type a name's start (again: next match)";
    Sort = "sort", Pane, "sort by file order, name, size, time (not pending)";
    SortReverse = "sort_reverse", Pane, "reverse the sort";
    Info = "info", Pane, "info: size, times, attempts, reason, owner, history";
    FewerSlots = "fewer_slots", Pane, "one slot fewer for the worker";
    MoreSlots = "more_slots", Pane, "one slot more for the worker";
    Follow = "follow", Pane, "follow the cursor item through its states";
    Workers = "workers", Pane, "show / hide the workers panel";
    CancelJob = "cancel_job", Pane, "cancel running items (to pending or failed/)";
    FreezeJob = "freeze_job", Pane, "freeze running items (SIGSTOP to their groups)";
    ThawJob = "thaw_job", Pane, "thaw frozen items";
    PauseWorkers = "pause_workers", Pane, "pause all workers (for a while, or until a time)";
    ResumeWorkers = "resume_workers", Pane, "resume all workers";
    Refresh = "refresh", Pane, "re-read every state";
    ShowPending = "show_pending", Pane, "show pending here";
    ShowNew = "show_new", Pane, "show new/ here";
    ShowProcess = "show_process", Pane, "show process/ here";
    ShowSuccess = "show_success", Pane, "show success/ here";
    ShowFailed = "show_failed", Pane, "show failed/ here";
    ShowDelayed = "show_delayed", Pane, "show delayed/ here";
    ShowPaused = "show_paused", Pane, "show paused/ here";
    Confirm = "confirm", Dialog, "dialog: confirm / choose";
    Cancel = "cancel", Dialog, "dialog: cancel";
    NextChoice = "next_choice", Dialog, "dialog: next choice";
    PreviousChoice = "previous_choice", Dialog, "dialog: previous choice";
    CloseViewer = "close_viewer", Viewer, "viewer: close";
    LineUp = "line_up", Viewer, "viewer: line up";
    LineDown = "line_down", Viewer, "viewer: line down";
    ViewerPageUp = "viewer_page_up", Viewer, "viewer: page up";
    ViewerPageDown = "viewer_page_down", Viewer, "viewer: page down";
    ViewerTop = "viewer_top", Viewer, "viewer: first line";
    ViewerBottom = "viewer_bottom", Viewer, "viewer: last line";
    ScrollLeft = "scroll_left", Viewer, "viewer: scroll left";
    ScrollRight = "scroll_right", Viewer, "viewer: scroll right";
    ToggleWrap = "toggle_wrap", Viewer, "viewer: wrap long lines or not";
    ToggleHex = "toggle_hex", Viewer, "viewer: hex or text";
    ToggleFollow = "toggle_follow", Viewer, "viewer: follow a growing log";
    Save = "save", Editor, "editor: save";
    KeepAsNew = "keep_as_new", Editor, "editor: keep a refused save as a new item";
    CloseEditor = "close_editor", Editor, "editor: close (asks about unsaved changes)";
}

/// One key with its modifiers, as written in key map files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chord {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Chord {
    /// The chord a key event stands for. Shift is part of a character already (`?`, `A`), and
    /// BackTab implies it, so those lose the shift flag that some terminals add.
    pub fn of(key: &KeyEvent) -> Chord {
        let mut mods =
            key.modifiers & (KeyModifiers::SHIFT | KeyModifiers::CONTROL | KeyModifiers::ALT);
        if matches!(key.code, KeyCode::Char(_) | KeyCode::BackTab) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Chord {
            code: key.code,
            mods,
        }
    }

    /// Parses `F6`, `S-Down`, `C-r`, `A-1`, `+`...
    pub fn parse(text: &str) -> Result<Chord, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        while rest.len() > 2 && rest.as_bytes()[1] == b'-' {
            mods |= match rest.as_bytes()[0] {
                b'S' => KeyModifiers::SHIFT,
                b'C' => KeyModifiers::CONTROL,
                b'A' => KeyModifiers::ALT,
                _ => break,
            };
            rest = &rest[2..];
        }
        let code = match rest {
            "Enter" => KeyCode::Enter,
            "Esc" => KeyCode::Esc,
            "Tab" => KeyCode::Tab,
            "BackTab" => KeyCode::BackTab,
            "Space" => KeyCode::Char(' '),
            "Insert" => KeyCode::Insert,
            "Delete" => KeyCode::Delete,
            "Backspace" => KeyCode::Backspace,
            "Up" => KeyCode::Up,
            "Down" => KeyCode::Down,
            "Left" => KeyCode::Left,
            "Right" => KeyCode::Right,
            "Home" => KeyCode::Home,
            "End" => KeyCode::End,
            "PageUp" => KeyCode::PageUp,
            "PageDown" => KeyCode::PageDown,
            f if f.len() > 1 && f.starts_with('F') => match f[1..].parse::<u8>() {
                Ok(n @ 1..=12) => KeyCode::F(n),
                _ => return Err(format!("unknown key {text:?}")),
            },
            one if one.chars().count() == 1 => KeyCode::Char(one.chars().next().unwrap_or(' ')),
            _ => return Err(format!("unknown key {text:?}")),
        };
        if matches!(code, KeyCode::Char(_)) {
            mods.remove(KeyModifiers::SHIFT);
        }
        Ok(Chord { code, mods })
    }

    /// The function key number, for the key bar.
    pub fn function_key(&self) -> Option<u8> {
        match (self.code, self.mods.is_empty()) {
            (KeyCode::F(n), true) => Some(n),
            _ => None,
        }
    }
}

impl fmt::Display for Chord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (flag, prefix) in [
            (KeyModifiers::SHIFT, "S-"),
            (KeyModifiers::CONTROL, "C-"),
            (KeyModifiers::ALT, "A-"),
        ] {
            if self.mods.contains(flag) {
                f.write_str(prefix)?;
            }
        }
        match self.code {
            KeyCode::F(n) => write!(f, "F{n}"),
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::PageUp => f.write_str("PageUp"),
            KeyCode::PageDown => f.write_str("PageDown"),
            other => write!(f, "{other:?}"),
        }
    }
}

/// Every binding, the compiled-in defaults with the user's overrides applied.
#[derive(Clone, Debug)]
pub struct Keymap {
    bindings: Vec<(Chord, Action)>,
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap::with_overrides(&[]).unwrap_or(Keymap {
            bindings: Vec::new(),
        })
    }
}

impl Keymap {
    /// The defaults, with each action named in `overrides` bound to the keys given there
    /// instead. An unknown action, a key that does not parse, or a key left doing two things
    /// in one context is an error that says where in the config it was written.
    pub fn with_overrides(overrides: &[KeyOverride]) -> Result<Keymap, BadKeys> {
        let built_in = |message: String| BadKeys { at: None, message };
        let defaults: toml::Table =
            toml::from_str(DEFAULT).map_err(|err| built_in(format!("built-in key map: {err}")))?;
        let mut table: HashMap<&str, (Vec<String>, Option<Position>)> = HashMap::new();
        for section in defaults.values().filter_map(toml::Value::as_table) {
            for (name, keys) in section {
                let keys = match keys {
                    toml::Value::String(one) => vec![one.clone()],
                    toml::Value::Array(many) => many
                        .iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                };
                table.insert(name.as_str(), (keys, None));
            }
        }
        for over in overrides {
            let action = &over.action;
            let Some(known) = Action::from_name(&action.value) else {
                return Err(BadKeys {
                    at: Some((action.line, action.column)),
                    message: format!("[tui.keys]: unknown action {:?}", action.value),
                });
            };
            let at = Some((over.keys.line, over.keys.column));
            table.insert(known.name(), (over.keys.value.clone(), at));
        }
        let mut bindings: Vec<(Chord, Action)> = Vec::new();
        let mut sources: Vec<Option<Position>> = Vec::new();
        for action in Action::ALL {
            let Some((keys, at)) = table.get(action.name()) else {
                continue;
            };
            for key in keys {
                let chord = Chord::parse(key).map_err(|err| BadKeys {
                    at: *at,
                    message: format!("[tui.keys] {}: {err}", action.name()),
                })?;
                if let Some(index) = bindings.iter().position(|(c, a)| {
                    *c == chord && a.context() == action.context() && a != action
                }) {
                    let other = bindings[index].1;
                    return Err(BadKeys {
                        at: at.or(sources[index]),
                        message: format!(
                            "[tui.keys]: {chord} is bound to both {} and {}; give {} other keys too",
                            other.name(),
                            action.name(),
                            if at.is_some() {
                                other.name()
                            } else {
                                action.name()
                            },
                        ),
                    });
                }
                bindings.push((chord, *action));
                sources.push(*at);
            }
        }
        Ok(Keymap { bindings })
    }

    /// What `key` does in `context`.
    pub fn action(&self, context: Context, key: &KeyEvent) -> Option<Action> {
        let chord = Chord::of(key);
        self.bindings
            .iter()
            .find(|(c, a)| *c == chord && a.context() == context)
            .map(|(_, a)| *a)
    }

    /// The keys bound to `action`, in the order they were given.
    pub fn keys(&self, action: Action) -> impl Iterator<Item = &Chord> {
        self.bindings
            .iter()
            .filter(move |(_, a)| *a == action)
            .map(|(c, _)| c)
    }

    /// `action`'s function key, if it has one.
    pub fn function_key(&self, action: Action) -> Option<u8> {
        self.keys(action).find_map(Chord::function_key)
    }

    /// `action`'s keys for help: `F6, S-Down`.
    pub fn describe(&self, action: Action) -> String {
        let keys: Vec<String> = self.keys(action).map(ToString::to_string).collect();
        keys.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn defaults_bind_the_mc_keys() {
        let map = Keymap::default();
        let pane = Context::Pane;
        assert_eq!(
            map.action(pane, &key(KeyCode::F(6), KeyModifiers::NONE)),
            Some(Action::Move)
        );
        assert_eq!(
            map.action(pane, &key(KeyCode::Down, KeyModifiers::SHIFT)),
            Some(Action::MoveDown)
        );
        // Terminals report `?` with shift held; it is still `?`.
        assert_eq!(
            map.action(pane, &key(KeyCode::Char('?'), KeyModifiers::SHIFT)),
            Some(Action::Help)
        );
        assert_eq!(
            map.action(Context::Dialog, &key(KeyCode::Enter, KeyModifiers::NONE)),
            Some(Action::Confirm)
        );
        assert_eq!(map.function_key(Action::Quit), Some(10));
    }

    fn overrides(text: &str) -> Vec<KeyOverride> {
        crate::queue::Config::parse(&format!("[tui.keys]\n{text}"), std::path::Path::new("c"))
            .unwrap()
            .tui
            .keys
    }

    #[test]
    fn overrides_replace_only_what_they_name() {
        let map = Keymap::with_overrides(&overrides("quit = [\"C-q\"]\nhold = \"h\"")).unwrap();
        let q = key(KeyCode::Char('q'), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Pane, &q), None);
        let cq = key(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(map.action(Context::Pane, &cq), Some(Action::Quit));
        assert_eq!(map.describe(Action::Hold), "h");
        assert_eq!(map.describe(Action::Move), "F6");
    }

    #[test]
    fn bad_overrides_are_reported_where_they_were_written() {
        let unknown = Keymap::with_overrides(&overrides("fly = \"x\"")).unwrap_err();
        assert!(unknown.message.contains("fly"), "{unknown:?}");
        assert_eq!(unknown.at, Some((2, 1)));
        let bad_key = Keymap::with_overrides(&overrides("quit = \"F99\"")).unwrap_err();
        assert_eq!(bad_key.at, Some((2, 8)));
    }

    #[test]
    fn a_key_bound_twice_is_an_error() {
        let twice = Keymap::with_overrides(&overrides("quit = [\"F8\"]")).unwrap_err();
        assert_eq!(twice.at, Some((2, 8)));
        assert!(
            twice.message.contains("F8") && twice.message.contains("delete"),
            "{twice:?}"
        );
        // Moving delete elsewhere at the same time is fine.
        let swapped = overrides("quit = [\"F8\"]\ndelete = [\"Delete\"]");
        let map = Keymap::with_overrides(&swapped).unwrap();
        let f8 = key(KeyCode::F(8), KeyModifiers::NONE);
        assert_eq!(map.action(Context::Pane, &f8), Some(Action::Quit));
    }
}
