//! The subcommands that manage a queue by hand: init, add, ls, status, mv, order, retry, pause,
//! resume, rm, recover and the worker pause flags. Each is a thin shell over the queue layer;
//! one bad item is reported and the rest go on, and the exit code says whether any failed.

use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, bail};

use super::output::{item_json, print_json_array, print_names};
use super::{Command, OrderPlace};
use std::time::{Duration, SystemTime};

use crate::queue::{
    AddMode, Item, Operation, PauseFlag, Position, Queue, Request, Source, State, printable,
};

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Init { dir } => {
            let queue = Queue::init(&dir)?;
            writeln!(std::io::stdout(), "{}", queue.root().display())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Add {
            dir,
            files,
            move_in,
            name,
            follow,
        } => add(&dir, &files, move_in, name, follow),
        Command::Ls { dir, state, json } => ls(&Queue::open(&dir)?, state, json),
        Command::Status { dir, json } => super::status::run(&Queue::open(&dir)?, json),
        Command::Mv { dir, items, to } => operate(&Queue::open(&dir)?, &items, Operation::Move(to)),
        Command::Order { dir, item, place } => order(&Queue::open(&dir)?, &item, place),
        Command::Retry { dir, items, all } => retry(&Queue::open(&dir)?, &items, all),
        Command::Pause { dir, items } => operate(&Queue::open(&dir)?, &items, Operation::Hold),
        Command::Resume { dir, items } => operate(&Queue::open(&dir)?, &items, Operation::Resume),
        Command::Rm { dir, items, force } => rm(&Queue::open(&dir)?, &items, force),
        Command::Recover { dir } => recover(&Queue::open(&dir)?),
        Command::PauseWorkers {
            dir,
            host,
            for_,
            until,
        } => pause_workers(&Queue::open(&dir)?, host.as_deref(), for_, until),
        Command::Cancel { dir, items, fail } => {
            let request = if fail { Request::Fail } else { Request::Cancel };
            super::farm::run(&Queue::open(&dir)?, &items, request, None)
        }
        Command::Freeze { dir, items, host } => super::farm::run(
            &Queue::open(&dir)?,
            &items,
            Request::Freeze,
            host.as_deref(),
        ),
        Command::Thaw { dir, items, host } => {
            super::farm::run(&Queue::open(&dir)?, &items, Request::Thaw, host.as_deref())
        }
        Command::ResumeWorkers { dir, host } => {
            Queue::open(&dir)?.set_workers_paused(host.as_deref(), false)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Work { .. }
        | Command::Demo { .. }
        | Command::Check { .. }
        | Command::Completions { .. }
        | Command::Man => unreachable!("dispatched in cli::main"),
    }
}

/// Deletes items; outside the states `rm` may delete from, only with `--force`.
fn rm(queue: &Queue, items: &[OsString], force: bool) -> anyhow::Result<ExitCode> {
    each_item(queue, items, |queue, item| {
        let deleted = queue.operate(item, Operation::Delete { force });
        deleted.map(drop).map_err(|err| match err {
            crate::queue::Error::WrongState { .. } => {
                crate::queue::Error::Invalid(format!("{err}; use --force to delete it anyway"))
            }
            other => other,
        })
    })
}

/// Returns dead workers' claims. Their jobs on this host may still run: they are stopped first,
/// before their items can be claimed again.
fn recover(queue: &Queue) -> anyhow::Result<ExitCode> {
    let config = queue.config()?.worker;
    let killed = crate::worker::stop_jobs_of_dead_workers(queue, config.heartbeat_timeout, None);
    if killed > 0 {
        say!("stopped {killed} job(s) left running by a dead worker");
    }
    let recovery = queue.recover(config.heartbeat_timeout, config.max_attempts, None)?;
    for item in &recovery.items {
        say!("recovered {}", item.qualified());
    }
    for err in &recovery.errors {
        say!("fsq: cannot recover: {err}");
    }
    Ok(if recovery.errors.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn pause_workers(
    queue: &Queue,
    host: Option<&str>,
    for_: Option<Duration>,
    until: Option<String>,
) -> anyhow::Result<ExitCode> {
    let wait = match (for_, until) {
        (Some(wait), _) if wait.is_zero() => {
            bail!("--for 0 would end the pause at once; give a duration such as 30m")
        }
        (Some(wait), _) => Some(wait),
        (None, Some(text)) => {
            let now = SystemTime::now();
            let at =
                crate::worker::clock::parse_local_time(&text, now).map_err(anyhow::Error::msg)?;
            Some(at.duration_since(now).unwrap_or_default())
        }
        (None, None) => None,
    };
    let flag = PauseFlag {
        until: wait.map(|wait| queue.shared_time_in(wait)),
        note: None,
    };
    queue.pause_workers(host, &flag)?;
    Ok(ExitCode::SUCCESS)
}

fn add(
    dir: &Path,
    files: &[OsString],
    move_in: bool,
    name: Option<OsString>,
    follow: bool,
) -> anyhow::Result<ExitCode> {
    let queue = Queue::open(dir)?;
    if name.is_some() && files.len() > 1 {
        bail!("--name names one item; give one FILE with it");
    }
    let mode = if move_in {
        AddMode::Move
    } else {
        AddMode::Copy
    };
    let mut batch = queue.add_batch()?;
    let mut failed = false;
    for file in files {
        let staged = if file == "-" {
            let name = name
                .clone()
                .context("`-` reads standard input: give the item a --name")?;
            let mut stdin = std::io::stdin().lock();
            batch.add(Source::Reader(&mut stdin), &name, AddMode::Copy)
        } else {
            let path = Path::new(file);
            match name
                .clone()
                .or_else(|| path.file_name().map(OsStr::to_os_string))
            {
                Some(wanted) => batch.add(Source::File { path, follow }, &wanted, mode),
                None => Err(crate::queue::Error::Invalid(format!(
                    "{}: not a file name",
                    printable(file)
                ))),
            }
        };
        match staged {
            Err(err @ crate::queue::Error::Symlink(_)) => {
                say!("fsq: {err}: give --follow to enqueue it");
                failed = true;
            }
            Err(err) => {
                say!("fsq: {err}");
                failed = true;
            }
            Ok(_) => {}
        }
    }
    for (wanted, placed) in batch.commit() {
        match placed {
            Ok(item) if item.display() != wanted => say!(
                "fsq: {} was taken; added as {}",
                printable(&wanted),
                printable(item.display())
            ),
            Ok(_) => {}
            Err(err) => {
                say!("fsq: {err}");
                failed = true;
            }
        }
    }
    Ok(exit_code(failed))
}

fn ls(queue: &Queue, state: State, json: bool) -> anyhow::Result<ExitCode> {
    let items = queue.list(state)?;
    if json {
        let recorded = queue.recorded_ids();
        let objects = items.iter().map(|item| {
            let with_record = item.id().is_some_and(|id| recorded.contains(&id));
            item_json(queue, item, with_record)
        });
        print_json_array(objects)?;
    } else {
        let names: Vec<OsString> = items.iter().map(|item| queue.full_name(item)).collect();
        print_names(names.iter().map(OsString::as_os_str))?;
    }
    Ok(ExitCode::SUCCESS)
}

fn order(queue: &Queue, spec: &OsStr, place: OrderPlace) -> anyhow::Result<ExitCode> {
    let snapshot = queue.snapshot()?;
    let item = snapshot.resolve(spec)?;
    let anchor = |other: &OsStr| -> anyhow::Result<Item> {
        Ok(snapshot.in_state(item.state).resolve(other)?)
    };
    let position = match place {
        OrderPlace { first: true, .. } => Position::First,
        OrderPlace { last: true, .. } => Position::Last,
        OrderPlace {
            before: Some(other),
            ..
        } => Position::Before(anchor(&other)?),
        OrderPlace {
            after: Some(other), ..
        } => Position::After(anchor(&other)?),
        _ => bail!("say where: --first, --last, --before OTHER or --after OTHER"),
    };
    // The snapshot already listed the folder: no second listing of a big queue.
    queue.reorder_among(&item, &position, &snapshot.items)?;
    Ok(ExitCode::SUCCESS)
}

fn retry(queue: &Queue, specs: &[OsString], all: bool) -> anyhow::Result<ExitCode> {
    if all {
        let mut failed = false;
        for state in [State::Delayed, State::Failed] {
            for item in queue.list(state)? {
                if let Err(err) = queue.operate(&item, Operation::Retry) {
                    say!("fsq: {err}");
                    failed = true;
                }
            }
        }
        return Ok(exit_code(failed));
    }
    if specs.is_empty() {
        bail!("name the items to retry, or give --all");
    }
    operate(queue, specs, Operation::Retry)
}

/// Does `op` to every item named, through the queue layer's rules, one failure at a time.
fn operate(queue: &Queue, specs: &[OsString], op: Operation) -> anyhow::Result<ExitCode> {
    each_item(queue, specs, |queue, item| {
        queue.operate(item, op).map(drop)
    })
}

/// Resolves each name and applies `action`, reporting failures one by one.
fn each_item<T>(
    queue: &Queue,
    specs: &[OsString],
    action: impl Fn(&Queue, &Item) -> crate::queue::Result<T>,
) -> anyhow::Result<ExitCode> {
    let snapshot = queue.snapshot()?;
    let mut failed = false;
    for spec in specs {
        if let Err(err) = snapshot.resolve(spec).and_then(|item| action(queue, &item)) {
            say!("fsq: {err}");
            failed = true;
        }
    }
    Ok(exit_code(failed))
}

fn exit_code(failed: bool) -> ExitCode {
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}
