//! Runs one command: spawned in its own process group with no shell, its output streamed into
//! the capped log and the progress parser, its `$FSQ_PROGRESS_FILE` polled, and the whole group
//! killed on timeout or stop, so nothing it started outlives the job.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, interval_at, sleep_until};

use super::ctx::{Control, Ctx};
use super::log::CappedLog;
use super::progress::{OutputParser, Stream, read_progress_file};
use super::tracker::Tracker;

/// How a command run ended.
pub enum Ended {
    Exited(ExitStatus),
    TimedOut,
    /// Killed because the engine is stopping.
    Stopped,
    /// It never started; the reason says why.
    NotStarted(String),
}

/// How long pipes are still read after the command exits (a background child may hold them).
const DRAIN_AFTER_EXIT: Duration = Duration::from_millis(200);
const TICK: Duration = Duration::from_millis(250);
/// The most read from a pipe at once.
const READ_CHUNK: usize = 16384;

/// Everything one run needs besides the argv.
pub struct Run<'a> {
    pub ctx: &'a Ctx,
    pub control: &'a Control,
    pub log: &'a mut CappedLog,
    pub tracker: &'a mut Tracker,
    pub progress_file: &'a Path,
    /// A descriptor the command inherits (see `handoff`).
    pub inherit: Option<std::os::fd::BorrowedFd<'a>>,
}

pub async fn run_command(argv: &[OsString], mut run: Run<'_>) -> Ended {
    let Some(program) = argv.first() else {
        return Ended::NotStarted("the command is empty".into());
    };
    let resolved = resolve_program(program);
    let bare = !program.as_bytes().contains(&b'/');
    if bare && resolved.is_none() {
        // Never fall back to the working directory: a bare name is looked up on $PATH only.
        return Ended::NotStarted(spawn_error(program, &io::ErrorKind::NotFound.into()));
    }
    let path = resolved.as_deref().unwrap_or(Path::new(program));
    let mut child = match run
        .ctx
        .launcher
        .spawn(path, argv, run.progress_file, run.inherit)
    {
        Ok(child) => child,
        Err(err) => {
            if resolved.is_some() {
                forget_program(program);
            }
            return Ended::NotStarted(spawn_error(program, &err));
        }
    };
    let group = child.pid();
    let kill_group = || {
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    };
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Filled by `read_buf` without zeroing first: most jobs never print a byte.
    let (mut out_buf, mut err_buf) = (
        Vec::with_capacity(READ_CHUNK),
        Vec::with_capacity(READ_CHUNK),
    );
    let mut parser = OutputParser::default();
    let timeout = run.ctx.config.timeout;
    // The timers and the stop signal are made once, not per turn of the loop: each new one
    // would be registered and dropped again for every chunk of output.
    let timed_out = sleep_until(Instant::now() + timeout);
    let drained = sleep_until(Instant::now());
    let stopped = run.control.stopped();
    tokio::pin!(timed_out, drained, stopped);
    let mut ticks = interval_at(Instant::now() + TICK, TICK);
    let mut status: Option<io::Result<ExitStatus>> = None;
    let mut cause = None;
    loop {
        if status.is_some() && stdout.is_none() && stderr.is_none() {
            break;
        }
        // Biased: timers first, so a flood of output never starves them; output before the
        // exit, so a command that has closed its pipes by then (nearly all) needs no drain.
        tokio::select! {
            biased;
            _ = &mut stopped, if status.is_none() && cause.is_none() => {
                cause = Some(Ended::Stopped);
                kill_group();
            }
            _ = &mut timed_out, if !timeout.is_zero() && status.is_none() && cause.is_none() => {
                cause = Some(Ended::TimedOut);
                kill_group();
            }
            _ = ticks.tick() => {
                if let Some(fraction) = read_progress_file(run.progress_file) {
                    parser.set_fraction(fraction);
                }
                run.tracker.update(run.ctx, &mut parser);
            }
            read = read_some(&mut stdout, &mut out_buf) => match read {
                Ok(n) if n > 0 => record(&mut run, &mut parser, Stream::Stdout, &mut out_buf),
                _ => stdout = None,
            },
            read = read_some(&mut stderr, &mut err_buf) => match read {
                Ok(n) if n > 0 => record(&mut run, &mut parser, Stream::Stderr, &mut err_buf),
                _ => stderr = None,
            },
            exited = child.wait(), if status.is_none() => {
                status = Some(exited);
                drained.as_mut().reset(Instant::now() + DRAIN_AFTER_EXIT);
            }
            _ = &mut drained, if status.is_some() => break,
        }
    }
    super::reaper::end_job(group, run.progress_file);
    if let Some(cause) = cause {
        return cause;
    }
    match status {
        Some(Ok(status)) => Ended::Exited(status),
        Some(Err(err)) => Ended::NotStarted(format!("lost track of the command: {err}")),
        None => Ended::NotStarted("lost track of the command".into()),
    }
}

/// Hands a chunk of output to the log and the progress parser, and empties `chunk`.
fn record(run: &mut Run<'_>, parser: &mut OutputParser, stream: Stream, chunk: &mut Vec<u8>) {
    run.log.write(chunk);
    parser.feed(stream, chunk);
    run.tracker.update(run.ctx, parser);
    chunk.clear();
}

/// Appends what the pipe has to the (empty) `buf`; never resolves once the pipe is closed.
async fn read_some<R: AsyncRead + Unpin>(
    pipe: &mut Option<R>,
    buf: &mut Vec<u8>,
) -> io::Result<usize> {
    match pipe {
        Some(pipe) => pipe.read_buf(buf).await,
        None => std::future::pending().await,
    }
}

/// The file a command's program names: a path as given, a bare name looked up on `$PATH` as a
/// job would find it.
pub fn find_program(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        Some(PathBuf::from(program))
    } else {
        resolve_program(program)
    }
}

/// The full path of a bare program name, found on `$PATH` once and remembered: an `execvp`
/// per job tries every `$PATH` entry before the right one, and on a long `$PATH` those failed
/// `execve`s cost more than the job itself for short commands.
pub(super) fn resolve_program(program: &OsStr) -> Option<PathBuf> {
    if program.as_bytes().contains(&b'/') {
        return None;
    }
    let mut cache = program_cache()
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    if let Some(path) = cache.get(program) {
        return Some(path.clone());
    }
    let path = std::env::var_os("PATH")?;
    let found = std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate.is_file()
                && rustix::fs::access(candidate.as_path(), rustix::fs::Access::EXEC_OK).is_ok()
        })?;
    cache.insert(program.to_os_string(), found.clone());
    Some(found)
}

/// Drops a remembered path that failed (the program moved or was uninstalled).
fn forget_program(program: &OsStr) {
    let mut cache = program_cache()
        .lock()
        .unwrap_or_else(|poison| poison.into_inner());
    cache.remove(program);
}

fn program_cache() -> &'static Mutex<HashMap<OsString, PathBuf>> {
    static CACHE: OnceLock<Mutex<HashMap<OsString, PathBuf>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

fn spawn_error(program: &OsString, err: &io::Error) -> String {
    let program = program.to_string_lossy();
    match err.kind() {
        io::ErrorKind::NotFound => format!("command not found: {program}"),
        io::ErrorKind::PermissionDenied => format!("permission denied: {program}"),
        _ => format!("cannot run {program}: {err}"),
    }
}

/// "exit code 3" or "killed by signal 9 (SIGKILL)".
pub fn describe_failure(status: ExitStatus) -> Option<String> {
    if status.success() {
        return None;
    }
    if let Some(code) = status.code() {
        return Some(format!("exit code {code}"));
    }
    let signal = status.signal().unwrap_or(0);
    let name = match signal {
        1 => " (SIGHUP)",
        2 => " (SIGINT)",
        6 => " (SIGABRT)",
        9 => " (SIGKILL)",
        11 => " (SIGSEGV)",
        13 => " (SIGPIPE)",
        15 => " (SIGTERM)",
        _ => "",
    };
    Some(format!("killed by signal {signal}{name}"))
}
