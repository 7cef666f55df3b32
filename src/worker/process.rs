//! Runs one command: spawned in its own process group with no shell, its output streamed into
//! the capped log and the progress parser, its `$FSQ_PROGRESS_FILE` polled, and the whole group
//! killed on timeout, stall, cancel or stop, so nothing it started outlives the job. A frozen job's
//! group is stopped (SIGSTOP) and its timeout and stall clocks stop with it.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::ExitStatus;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use rustix::process::{Pid, Signal};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, interval_at, sleep_until};

use super::control::Cancel;
use super::ctx::{Control, Ctx};
use super::log::CappedLog;
use super::progress::{OutputParser, Stream, fraction_from_tail, read_progress_tail};
use super::tracker::Tracker;

/// How a command run ended.
pub enum Ended {
    /// It exited; with the last non-empty line it wrote to stderr, escaped and capped.
    Exited(ExitStatus, Option<String>),
    TimedOut,
    /// Killed because the engine is stopping.
    Stopped,
    /// Killed on an operator's request.
    Cancelled(Cancel),
    /// Killed after printing nothing and making no progress for the `stall` time.
    Stalled,
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
    let mut child = match start(argv, &run) {
        Ok(child) => child,
        Err(ended) => return ended,
    };
    let group = child.pid();
    let kill_group = || signal_group(group, Signal::KILL);
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    // Filled by `read_buf` without zeroing first: most jobs never print a byte.
    let (mut out_buf, mut err_buf) = (
        Vec::with_capacity(READ_CHUNK),
        Vec::with_capacity(READ_CHUNK),
    );
    let mut parser = OutputParser::default();
    let mut last_line = LastLine::default();
    let timeout = run.ctx.config.timeout;
    let mut clocks = Clocks::new(timeout);
    // The timers and the control signal are made once, not per turn of the loop: each new one
    // would be registered and dropped again for every chunk of output.
    let timed_out = sleep_until(clocks.deadline);
    let drained = sleep_until(Instant::now());
    let changed = run.control.changed();
    tokio::pin!(timed_out, drained, changed);
    let mut ticks = interval_at(Instant::now() + TICK, TICK);
    let mut status: Option<io::Result<ExitStatus>> = None;
    let mut cause = None;
    let mut progress_tail = Vec::new();
    loop {
        if status.is_some() && stdout.is_none() && stderr.is_none() {
            break;
        }
        let running = status.is_none() && cause.is_none();
        // Biased: timers first, so a flood of output never starves them; output before the
        // exit, so a command that has closed its pipes by then (nearly all) needs no drain.
        tokio::select! {
            biased;
            _ = &mut changed, if running => {
                changed.set(run.control.changed());
                cause = steer(run.control, group, &mut clocks, &mut run);
                if cause.is_none() {
                    timed_out.as_mut().reset(clocks.deadline);
                }
            }
            _ = &mut timed_out, if !timeout.is_zero() && running && clocks.frozen.is_none() => {
                cause = Some(Ended::TimedOut);
                kill_group();
            }
            _ = ticks.tick() => {
                look_at_progress(&mut run, &mut parser, &mut clocks, &mut progress_tail);
                if running && clocks.stalled(run.ctx.config.stall) {
                    cause = Some(Ended::Stalled);
                    kill_group();
                }
            }
            read = read_some(&mut stdout, &mut out_buf) => match read {
                Ok(n) if n > 0 => {
                    clocks.active();
                    record(&mut run, &mut parser, Stream::Stdout, &mut out_buf)
                }
                _ => stdout = None,
            },
            read = read_some(&mut stderr, &mut err_buf) => match read {
                Ok(n) if n > 0 => {
                    clocks.active();
                    last_line.feed(&err_buf);
                    record(&mut run, &mut parser, Stream::Stderr, &mut err_buf);
                }
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
    match (cause, status) {
        (Some(cause), _) => cause,
        (None, Some(Ok(status))) => Ended::Exited(status, last_line.finish()),
        (None, Some(Err(err))) => Ended::NotStarted(format!("lost track of the command: {err}")),
        (None, None) => Ended::NotStarted("lost track of the command".into()),
    }
}

/// Spawns the command in its process group. A bare program name is looked up on `$PATH` only,
/// never in the working directory.
fn start(argv: &[OsString], run: &Run<'_>) -> Result<super::spawn::Child, Ended> {
    let Some(program) = argv.first() else {
        return Err(Ended::NotStarted("the command is empty".into()));
    };
    let resolved = resolve_program(program);
    let bare = !program.as_bytes().contains(&b'/');
    if bare && resolved.is_none() {
        return Err(Ended::NotStarted(spawn_error(
            program,
            &io::ErrorKind::NotFound.into(),
        )));
    }
    let path = resolved.as_deref().unwrap_or(Path::new(program));
    run.ctx
        .launcher
        .spawn(path, argv, run.progress_file, run.inherit)
        .map_err(|err| {
            if resolved.is_some() {
                forget_program(program);
            }
            Ended::NotStarted(spawn_error(program, &err))
        })
}

/// Reads the tail of `$FSQ_PROGRESS_FILE`: a new tail is activity, and may carry a fraction.
/// Then the tracker reports what the parser knows.
fn look_at_progress(
    run: &mut Run<'_>,
    parser: &mut OutputParser,
    clocks: &mut Clocks,
    progress_tail: &mut Vec<u8>,
) {
    if let Some(tail) = read_progress_tail(run.progress_file)
        && tail != *progress_tail
    {
        clocks.active();
        if let Some(fraction) = fraction_from_tail(&tail) {
            parser.set_fraction(fraction);
        }
        *progress_tail = tail;
    }
    run.tracker.update(run.ctx, parser);
}

/// A job's timeout and stall clocks, which stand still while it is frozen.
struct Clocks {
    /// When the timeout strikes (far away when there is none).
    deadline: Instant,
    last_activity: Instant,
    frozen: Option<Instant>,
}

impl Clocks {
    fn new(timeout: Duration) -> Clocks {
        let now = Instant::now();
        Clocks {
            deadline: now.checked_add(timeout).unwrap_or(now),
            last_activity: now,
            frozen: None,
        }
    }

    /// The job printed something or its progress moved.
    fn active(&mut self) {
        self.last_activity = Instant::now();
    }

    fn stalled(&self, stall: Duration) -> bool {
        !stall.is_zero() && self.frozen.is_none() && self.last_activity.elapsed() >= stall
    }

    fn freeze(&mut self) {
        self.frozen.get_or_insert_with(Instant::now);
    }

    /// Moves both clocks on by the time spent frozen.
    fn thaw(&mut self) {
        if let Some(since) = self.frozen.take() {
            let frozen_for = since.elapsed();
            self.deadline += frozen_for;
            self.last_activity += frozen_for;
        }
    }
}

/// Acts on what the engine asked: a stop or a cancel kills the group and says how the run
/// ends; a freeze or thaw stops or continues the group and tells the tracker.
fn steer(control: &Control, group: Pid, clocks: &mut Clocks, run: &mut Run<'_>) -> Option<Ended> {
    let cause = if control.is_stopped() {
        Some(Ended::Stopped)
    } else {
        control.cancelled().map(Ended::Cancelled)
    };
    if cause.is_some() {
        signal_group(group, Signal::KILL);
        // A stopped group dies of SIGKILL too; SIGCONT only keeps a debugger's view tidy.
        signal_group(group, Signal::CONT);
        return cause;
    }
    let frozen = control.is_frozen();
    if frozen != clocks.frozen.is_some() {
        if frozen {
            signal_group(group, Signal::STOP);
            clocks.freeze();
        } else {
            signal_group(group, Signal::CONT);
            clocks.thaw();
        }
        run.tracker.set_frozen(run.ctx, frozen);
    }
    None
}

fn signal_group(group: Pid, signal: Signal) {
    let _ = rustix::process::kill_process_group(group, signal);
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

/// The last non-empty line of a stream, fed in chunks: what a failing command last said, for
/// the failure reason (`exit code 1: moov atom not found`). `\r` ends a line too, so a progress
/// bar redrawn in place counts as its last state.
#[derive(Default)]
pub struct LastLine {
    current: Vec<u8>,
    last: Vec<u8>,
}

/// How many bytes of one line are kept while reading, and shown in a reason.
const LINE_KEEP: usize = 1024;
const REASON_LINE_CAP: usize = 200;

impl LastLine {
    pub fn feed(&mut self, chunk: &[u8]) {
        for piece in chunk.split_inclusive(|b| matches!(b, b'\n' | b'\r')) {
            let (text, ended) = match piece.split_last() {
                Some((b'\n' | b'\r', text)) => (text, true),
                _ => (piece, false),
            };
            let room = LINE_KEEP.saturating_sub(self.current.len());
            self.current
                .extend_from_slice(&text[..text.len().min(room)]);
            if ended {
                if self.current.trim_ascii().is_empty() {
                    self.current.clear();
                } else {
                    self.last = std::mem::take(&mut self.current);
                }
            }
        }
    }

    /// The line, with control characters escaped and cut at about 200 bytes.
    pub fn finish(self) -> Option<String> {
        let line = if self.current.trim_ascii().is_empty() {
            self.last
        } else {
            self.current
        };
        let text = String::from_utf8_lossy(line.trim_ascii());
        if text.is_empty() {
            return None;
        }
        let mut out = String::new();
        for c in text.chars() {
            if out.len() >= REASON_LINE_CAP {
                out.push('…');
                break;
            }
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        Some(out)
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

#[cfg(test)]
mod tests {
    use super::LastLine;

    fn last(chunks: &[&[u8]]) -> Option<String> {
        let mut line = LastLine::default();
        for chunk in chunks {
            line.feed(chunk);
        }
        line.finish()
    }

    #[test]
    fn the_last_non_empty_stderr_line_is_kept_escaped_and_capped() {
        assert_eq!(
            last(&[b"Input #0\nmoov atom ", b"not found\n\n  \n"]).as_deref(),
            Some("moov atom not found")
        );
        assert_eq!(
            last(&[b"no newline at the end"]).as_deref(),
            Some("no newline at the end")
        );
        assert_eq!(
            last(&[b"\x1b[31mred\x07\n"]).as_deref(),
            Some("\\u{1b}[31mred\\u{7}")
        );
        assert_eq!(last(&[b"\n \n"]), None);
        let long = last(&[&[b'x'; 5000], b"\n"]).unwrap();
        assert!(long.len() < 210 && long.ends_with('…'), "{long}");
        assert_eq!(
            last(&[b"10%\r50%\rdisk full\r"]).as_deref(),
            Some("disk full")
        );
    }
}
