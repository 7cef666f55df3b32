//! The command line: `fsq [DIR]` opens the commander, the subcommands manage a queue from
//! scripts. Names and flags here are a contract; extend them, never rename them.

/// `eprintln!` that never panics: the line goes to stderr in one write, and is dropped when
/// stderr is a pipe nobody reads any more (see `output::to_stderr`).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::cli::output::to_stderr(format!($($arg)*))
    };
}

mod check;
mod docs;
mod farm;
mod manage;
mod output;
mod status;
mod work;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::queue::{State, parse_duration};
use work::Report;

#[derive(Debug, Parser)]
#[command(
    name = "fsq",
    version,
    about = "A two-pane commander and worker for filesystem job queues"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub tui: TuiArgs,
}

/// `fsq [DIR] ...`: open the commander on a queue.
#[derive(Debug, Args, Clone, Default)]
pub struct TuiArgs {
    /// The queue folder (default: the current folder).
    pub dir: Option<PathBuf>,
    /// Do not start the embedded worker.
    #[arg(long)]
    pub no_worker: bool,
    /// Refuse every change to the queue.
    #[arg(long)]
    pub readonly: bool,
    /// Theme: classic, dark, light, or a path to a theme file.
    #[arg(long)]
    pub theme: Option<String>,
    /// State shown in the left pane.
    #[arg(long, value_parser = state_values())]
    pub left: Option<State>,
    /// State shown in the right pane.
    #[arg(long, value_parser = state_values())]
    pub right: Option<State>,
    #[command(flatten)]
    pub worker: WorkerFlags,
}

/// Settings shared by `fsq work` and the embedded worker; each overrides its config key.
#[derive(Debug, Args, Clone, Default)]
pub struct WorkerFlags {
    /// Parallel jobs ([worker] workers).
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// Kill a job after this long, e.g. 30s, 2h ([worker] timeout).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub timeout: Option<std::time::Duration>,
    /// Runs per item before it fails for good ([worker] max_attempts).
    #[arg(long, value_name = "N")]
    pub max_attempts: Option<u32>,
    /// Wait before the first retry; doubles each time ([worker] retry_delay).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub retry_delay: Option<std::time::Duration>,
    /// Scan the folder at this interval instead of watching it ([worker] poll).
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub poll: Option<std::time::Duration>,
    /// The command to run per item, as argv (overrides [worker] command).
    #[arg(last = true, value_name = "CMD")]
    pub command: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the queue layout (idempotent) and a commented _meta/config.toml.
    Init { dir: PathBuf },
    /// Enqueue copies of files (or move them in); `-` reads standard input.
    Add {
        dir: PathBuf,
        #[arg(required = true)]
        files: Vec<OsString>,
        /// Move the files in instead of copying them.
        #[arg(long = "move")]
        move_in: bool,
        /// The item's name (required with `-`; with one file, renames it).
        #[arg(long)]
        name: Option<OsString>,
        /// Enqueue the target of a symbolic link instead of refusing it.
        #[arg(long)]
        follow: bool,
    },
    /// List the items of a state (default pending) in processing order.
    Ls {
        dir: PathBuf,
        #[arg(default_value = "pending", value_parser = state_values())]
        state: State,
        #[arg(long)]
        json: bool,
    },
    /// Counts of every state, the workers, and running items with progress.
    Status {
        dir: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Move items between states.
    Mv {
        dir: PathBuf,
        #[arg(required = true)]
        items: Vec<OsString>,
        #[arg(long, value_parser = state_values())]
        to: State,
    },
    /// Change an item's place in the processing order (renames only that item).
    Order {
        dir: PathBuf,
        item: OsString,
        #[command(flatten)]
        place: OrderPlace,
    },
    /// Send failed/ and delayed/ items back to pending, attempts reset.
    Retry {
        dir: PathBuf,
        items: Vec<OsString>,
        #[arg(long, conflicts_with = "items")]
        all: bool,
    },
    /// Hold pending items (move them to paused/).
    Pause {
        dir: PathBuf,
        #[arg(required = true)]
        items: Vec<OsString>,
    },
    /// Send paused items back to pending.
    Resume {
        dir: PathBuf,
        #[arg(required = true)]
        items: Vec<OsString>,
    },
    /// Delete items; refuses items in process/ without --force.
    Rm {
        dir: PathBuf,
        #[arg(required = true)]
        items: Vec<OsString>,
        #[arg(long)]
        force: bool,
    },
    /// Run the worker headless until SIGINT/SIGTERM (or, with --drain, until the queue is done).
    Work {
        dir: PathBuf,
        /// Stop when nothing is pending, delayed or running.
        #[arg(long)]
        drain: bool,
        /// Print no line per finished item (notices and the final count only).
        #[arg(long, conflicts_with = "json")]
        quiet: bool,
        /// Print one JSON object per event (started, finished, notice, stopped) on stdout.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        worker: WorkerFlags,
    },
    /// Return the claims of dead workers to pending.
    Recover { dir: PathBuf },
    /// Stop all workers (or those of one host) from claiming new items, for good or for a while.
    PauseWorkers {
        dir: PathBuf,
        #[arg(long)]
        host: Option<String>,
        /// End the pause by itself after this long, e.g. 30m, 2h.
        #[arg(long = "for", value_name = "DUR", value_parser = parse_duration, conflicts_with = "until")]
        for_: Option<std::time::Duration>,
        /// End the pause by itself at this local time: 19:00 (the next one) or 2026-12-24 19:00.
        #[arg(long, value_name = "TIME")]
        until: Option<String>,
    },
    /// Let paused workers claim again.
    ResumeWorkers {
        dir: PathBuf,
        #[arg(long)]
        host: Option<String>,
    },
    /// Kill running items' jobs (whole process groups) and put the items back in pending.
    Cancel {
        dir: PathBuf,
        #[arg(required = true)]
        items: Vec<OsString>,
        /// Move them to failed/ with the reason "cancelled" instead.
        #[arg(long)]
        fail: bool,
    },
    /// Stop running jobs where they are (SIGSTOP to the process group); no ITEM: every job.
    Freeze {
        dir: PathBuf,
        items: Vec<OsString>,
        /// Only the jobs of workers on this host.
        #[arg(long, conflicts_with = "items")]
        host: Option<String>,
    },
    /// Let frozen jobs go on (SIGCONT); no ITEM: every job.
    Thaw {
        dir: PathBuf,
        items: Vec<OsString>,
        /// Only the jobs of workers on this host.
        #[arg(long, conflicts_with = "items")]
        host: Option<String>,
    },
    /// Open the commander on a demo queue with a built-in processor.
    Demo { dir: Option<PathBuf> },
    /// Check a queue's health: layout, config, permissions, filesystem, limits, clock.
    Check { dir: PathBuf },
    /// Print a completion script for a shell (bash, zsh, fish, elvish).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff) on standard output.
    Man,
}

/// STATE arguments: the seven state names, listed in `--help` and completed by the shells.
fn state_values() -> impl clap::builder::TypedValueParser<Value = State> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(State::ALL.map(State::as_str))
        .try_map(|name| name.parse::<State>())
}

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct OrderPlace {
    #[arg(long)]
    pub first: bool,
    #[arg(long)]
    pub last: bool,
    #[arg(long, value_name = "OTHER")]
    pub before: Option<OsString>,
    #[arg(long, value_name = "OTHER")]
    pub after: Option<OsString>,
}

/// Runs the command line and turns the outcome into an exit code: 0 ok, 1 operational error,
/// 2 usage error (clap's own).
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        None => crate::tui::run(cli.tui),
        Some(Command::Work {
            dir,
            drain,
            quiet,
            json,
            worker,
        }) => {
            let report = match (quiet, json) {
                (_, true) => Report::Json,
                (true, false) => Report::Quiet,
                (false, false) => Report::Lines,
            };
            work::run(&dir, drain, &worker, report)
        }
        Some(Command::Demo { dir }) => crate::tui::run_demo(dir),
        Some(Command::Check { dir }) => check::run(&dir),
        Some(Command::Completions { shell }) => {
            docs::completions(shell, &mut std::io::stdout().lock())
                .map(|()| ExitCode::SUCCESS)
                .map_err(Into::into)
        }
        Some(Command::Man) => docs::man(&mut std::io::stdout().lock())
            .map(|()| ExitCode::SUCCESS)
            .map_err(Into::into),
        Some(command) => manage::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            say!("fsq: {err:#}");
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
