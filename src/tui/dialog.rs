//! What sits on top of the panes and takes the keys while it is open: confirmations, one-line
//! prompts, the state menu, help, and (until the components land) the viewer/editor
//! placeholder. `handle_key` turns a key into what the dialog decided; `update` acts on it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use crate::queue::State as QState;

use super::editor::Editor;
use super::effect::Effect;
use super::info::InfoPage;
use super::keymap::{Action, Context, Keymap};
use super::viewer::Viewer;

/// The thing on top.
pub enum Overlay {
    /// F3: the viewer component (keys go to it directly).
    Viewer(Box<Viewer>),
    /// F4 / F7: the editor component.
    Editor(Box<Editor>),
    Confirm(Confirm),
    Prompt(Prompt),
    /// Pick the state shown in the active pane.
    StateMenu {
        cursor: usize,
    },
    Help {
        scroll: usize,
    },
    /// `i`: the cursor item's info page.
    Info {
        page: InfoPage,
        scroll: usize,
    },
}

impl std::fmt::Debug for Overlay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Overlay::Viewer(_) => f.write_str("Viewer"),
            Overlay::Editor(_) => f.write_str("Editor"),
            Overlay::Confirm(c) => write!(f, "Confirm({:?})", c.title),
            Overlay::Prompt(p) => write!(f, "Prompt({:?})", p.title),
            Overlay::StateMenu { cursor } => write!(f, "StateMenu({cursor})"),
            Overlay::Help { scroll } => write!(f, "Help({scroll})"),
            Overlay::Info { page, scroll } => write!(f, "Info({:?}, {scroll})", page.title),
        }
    }
}

/// An mc-style question with buttons.
#[derive(Debug)]
pub struct Confirm {
    pub title: String,
    pub text: Vec<String>,
    pub choices: Vec<(String, Then)>,
    pub focus: usize,
    /// Drawn in the alarm colours (delete).
    pub alarm: bool,
}

/// What choosing a button does.
#[derive(Clone, Debug, PartialEq)]
pub enum Then {
    Run(Vec<Effect>),
    /// Stop claiming, and quit once running jobs have ended.
    QuitAfterJobs,
    Nothing,
}

/// A one-line text field.
#[derive(Debug)]
pub struct Prompt {
    pub title: String,
    pub label: String,
    pub input: String,
    pub purpose: PromptFor,
    /// The input is a suggestion nobody has touched yet: typing replaces it, Backspace clears it.
    pub pristine: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptFor {
    Select,
    Unselect,
    Filter,
    NewItem,
    PauseWorkers,
}

/// What an overlay decided after a key.
#[derive(Debug, PartialEq)]
pub enum Decision {
    /// Still open (maybe changed).
    Open,
    /// Close it, and do nothing.
    Close,
    /// Close it and do this.
    Chose(Then),
    /// Close the prompt with this text.
    Entered(PromptFor, String),
    /// Close the state menu, showing this state.
    Show(QState),
}

impl Overlay {
    /// Handles a key while this overlay is open.
    pub fn handle_key(&mut self, keys: &Keymap, key: &KeyEvent) -> Decision {
        let action = keys.action(Context::Dialog, key);
        match self {
            Overlay::Confirm(confirm) => match action {
                Some(Action::Confirm) => {
                    let then = confirm
                        .choices
                        .get(confirm.focus)
                        .map_or(Then::Nothing, |(_, then)| then.clone());
                    Decision::Chose(then)
                }
                Some(Action::Cancel) => Decision::Close,
                Some(Action::NextChoice) => {
                    confirm.focus = (confirm.focus + 1) % confirm.choices.len().max(1);
                    Decision::Open
                }
                Some(Action::PreviousChoice) => {
                    let n = confirm.choices.len().max(1);
                    confirm.focus = (confirm.focus + n - 1) % n;
                    Decision::Open
                }
                _ => confirm.hotkey(key),
            },
            Overlay::Prompt(prompt) => match action {
                Some(Action::Confirm) => Decision::Entered(prompt.purpose, prompt.input.clone()),
                Some(Action::Cancel) => Decision::Close,
                _ => {
                    let pristine = std::mem::take(&mut prompt.pristine);
                    match key.code {
                        KeyCode::Backspace if pristine => prompt.input.clear(),
                        KeyCode::Backspace => {
                            prompt.input.pop();
                        }
                        KeyCode::Char(c)
                            if !key
                                .modifiers
                                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
                        {
                            if pristine {
                                prompt.input.clear();
                            }
                            prompt.input.push(c)
                        }
                        _ => prompt.pristine = pristine,
                    }
                    Decision::Open
                }
            },
            Overlay::StateMenu { cursor } => match action {
                Some(Action::Confirm) => Decision::Show(QState::ALL[*cursor % QState::ALL.len()]),
                Some(Action::Cancel) => Decision::Close,
                Some(Action::NextChoice) => {
                    *cursor = (*cursor + 1) % QState::ALL.len();
                    Decision::Open
                }
                Some(Action::PreviousChoice) => {
                    *cursor = (*cursor + QState::ALL.len() - 1) % QState::ALL.len();
                    Decision::Open
                }
                _ => match key.code {
                    KeyCode::Char(c @ '1'..='7') => {
                        Decision::Show(QState::ALL[(c as usize - '1' as usize) % QState::ALL.len()])
                    }
                    _ => Decision::Open,
                },
            },
            // The components, and the scrolling pages (which need the screen's height), take
            // their keys in `input`.
            Overlay::Viewer(_)
            | Overlay::Editor(_)
            | Overlay::Help { .. }
            | Overlay::Info { .. } => Decision::Open,
        }
    }
}

impl Confirm {
    /// A yes/no question; `default_yes` decides which button has the focus.
    pub fn yes_no(title: &str, text: Vec<String>, yes: Vec<Effect>, default_yes: bool) -> Confirm {
        Confirm {
            title: title.to_string(),
            text,
            choices: vec![
                ("Yes".to_string(), Then::Run(yes)),
                ("No".to_string(), Then::Nothing),
            ],
            focus: if default_yes { 0 } else { 1 },
            alarm: false,
        }
    }

    /// The first letter of a button chooses it, as in mc.
    fn hotkey(&mut self, key: &KeyEvent) -> Decision {
        let KeyCode::Char(c) = key.code else {
            return Decision::Open;
        };
        let found = self.choices.iter().find(|(label, _)| {
            label
                .chars()
                .next()
                .is_some_and(|first| first.eq_ignore_ascii_case(&c))
        });
        match found {
            Some((_, then)) => Decision::Chose(then.clone()),
            None => Decision::Open,
        }
    }
}
