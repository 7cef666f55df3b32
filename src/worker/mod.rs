//! The worker engine: claims items, runs their command, reports progress. (Being built.)

use std::path::Path;
use std::process::ExitCode;

use crate::cli::WorkerFlags;

/// `fsq work DIR`.
pub fn run_headless(_dir: &Path, _drain: bool, _flags: &WorkerFlags) -> anyhow::Result<ExitCode> {
    anyhow::bail!("the worker is not built yet")
}
