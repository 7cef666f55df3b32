//! The states an item can be in. A state is a folder; the queue root is `pending`.

use std::fmt;
use std::str::FromStr;

/// Where an item sits, and so what it is doing.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase", try_from = "String")]
pub enum State {
    Pending,
    New,
    Process,
    Success,
    Failed,
    Delayed,
    Paused,
}

impl State {
    /// Every state, in the order the CLI and the TUI present them.
    pub const ALL: [State; 7] = [
        State::Pending,
        State::New,
        State::Process,
        State::Success,
        State::Failed,
        State::Delayed,
        State::Paused,
    ];

    /// The state's name as the CLI spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::New => "new",
            State::Process => "process",
            State::Success => "success",
            State::Failed => "failed",
            State::Delayed => "delayed",
            State::Paused => "paused",
        }
    }

    /// The folder under the queue root, or `None` for pending items, which live in the root.
    pub fn folder(self) -> Option<&'static str> {
        match self {
            State::Pending => None,
            other => Some(other.as_str()),
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a state name that is not one of the seven.
#[derive(Debug, thiserror::Error)]
#[error("unknown state {0:?} (expected one of: pending new process success failed delayed paused)")]
pub struct UnknownState(pub String);

impl TryFrom<String> for State {
    type Error = UnknownState;

    fn try_from(name: String) -> Result<Self, Self::Error> {
        name.parse()
    }
}

impl FromStr for State {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|state| state.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for state in State::ALL {
            assert_eq!(state.as_str().parse::<State>().unwrap(), state);
        }
        assert!("done".parse::<State>().is_err());
        assert_eq!(State::Pending.folder(), None);
        assert_eq!(State::Failed.folder(), Some("failed"));
    }
}
