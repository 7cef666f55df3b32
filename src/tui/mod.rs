//! The commander: a two-pane TUI over a queue. (Being built.)

pub mod editor;
pub mod viewer;

use std::path::PathBuf;
use std::process::ExitCode;

use crate::cli::TuiArgs;

/// `fsq [DIR]`.
pub fn run(_args: TuiArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the commander is not built yet")
}

/// `fsq demo [DIR]`.
pub fn run_demo(_dir: Option<PathBuf>) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the demo is not built yet")
}
