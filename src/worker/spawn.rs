//! Starting one command cheaply, without a shell: `posix_spawn` with an environment built once
//! per engine, the child in a process group of its own, stdin on /dev/null, stdout and stderr
//! on pipes read asynchronously, and the exit awaited through a pidfd.
//!
//! std's `Command` copies the whole environment into a new map on every spawn once a single
//! variable is set, and every job sets `FSQ_PROGRESS_FILE`: for short jobs that copy cost more
//! than the rest of a job's bookkeeping put together.

use std::ffi::{CStr, CString, OsString};
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::ExitStatus;

use nix::spawn::{PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags, posix_spawn};
use nix::sys::signal::{self as nix_signal, SigSet};
use rustix::process::{Pid, PidfdFlags, WaitOptions};
use tokio::io::unix::AsyncFd;
use tokio::net::unix::pipe::Receiver;
use tokio::signal::unix::{Signal, SignalKind, signal};

/// The name under which a job finds its progress file.
pub const PROGRESS_VAR: &str = "FSQ_PROGRESS_FILE";

/// How a child's exit is noticed: its pidfd turns readable, or (on kernels before 5.3, and
/// under emulators without pidfds) a SIGCHLD arrives and it can be reaped.
enum Exit {
    Pidfd(AsyncFd<OwnedFd>),
    Sigchld(Signal),
}

/// What every spawn of an engine shares.
pub struct Launcher {
    /// `KEY=value` for the engine's environment, without `PROGRESS_VAR`.
    env: Vec<CString>,
    devnull: OwnedFd,
    /// Off only in tests of the SIGCHLD path.
    pidfds: bool,
}

/// A running command: its pid (also its process group), its output pipes, and its exit.
pub struct Child {
    pid: Pid,
    exit: Exit,
    status: Option<ExitStatus>,
    pub stdout: Option<Receiver>,
    pub stderr: Option<Receiver>,
}

impl Launcher {
    pub fn new() -> io::Result<Launcher> {
        let env = std::env::vars_os()
            .filter(|(key, _)| key != PROGRESS_VAR)
            .filter_map(|(key, value)| c_string([key.as_bytes(), b"=", value.as_bytes()]).ok())
            .collect();
        let devnull = rustix::fs::open(
            "/dev/null",
            rustix::fs::OFlags::RDONLY | rustix::fs::OFlags::CLOEXEC,
            rustix::fs::Mode::empty(),
        )?;
        Ok(Launcher {
            env,
            devnull,
            pidfds: true,
        })
    }

    /// Starts `program` (a path) with `argv` (`argv[0]` included) and `PROGRESS_VAR` set to
    /// `progress_file`; the child inherits `inherit` under the same number. Must be called on
    /// the tokio runtime that will read the pipes.
    pub fn spawn(
        &self,
        program: &Path,
        argv: &[OsString],
        progress_file: &Path,
        inherit: Option<BorrowedFd<'_>>,
    ) -> io::Result<Child> {
        let args = argv
            .iter()
            .map(|arg| c_string([arg.as_bytes()]))
            .collect::<io::Result<Vec<_>>>()?;
        let progress = c_string([
            PROGRESS_VAR.as_bytes(),
            b"=",
            progress_file.as_os_str().as_bytes(),
        ])?;
        let mut env: Vec<&CStr> = Vec::with_capacity(self.env.len() + 1);
        env.extend(self.env.iter().map(CString::as_c_str));
        env.push(&progress);

        let cloexec = rustix::pipe::PipeFlags::CLOEXEC;
        let (out_read, out_write) = rustix::pipe::pipe_with(cloexec)?;
        let (err_read, err_write) = rustix::pipe::pipe_with(cloexec)?;
        let mut actions = PosixSpawnFileActions::init()?;
        actions.add_dup2(self.devnull.as_raw_fd(), 0)?;
        actions.add_dup2(out_write.as_raw_fd(), 1)?;
        actions.add_dup2(err_write.as_raw_fd(), 2)?;
        if let Some(fd) = inherit {
            // A dup2 onto itself clears close-on-exec in the child (POSIX 2024, glibc 2.29).
            actions.add_dup2(fd.as_raw_fd(), fd.as_raw_fd())?;
        }
        let mut attr = PosixSpawnAttr::init()?;
        attr.set_pgroup(nix::unistd::Pid::from_raw(0))?;
        attr.set_sigmask(&SigSet::empty())?;
        // Rust ignores SIGPIPE for itself; the command gets the default back, as from a shell.
        let mut default = SigSet::empty();
        default.add(nix_signal::Signal::SIGPIPE);
        attr.set_sigdefault(&default)?;
        attr.set_flags(
            PosixSpawnFlags::POSIX_SPAWN_SETPGROUP
                | PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK
                | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF,
        )?;
        let pid = posix_spawn(program, &actions, &attr, &args, &env)?;
        let pid = Pid::from_raw(pid.as_raw()).ok_or_else(|| io::Error::other("no pid"))?;
        drop((out_write, err_write));

        // From here on the child is ours to reap: a failure below kills and reaps it.
        let pidfd = if self.pidfds {
            rustix::process::pidfd_open(pid, PidfdFlags::NONBLOCK)
        } else {
            Err(rustix::io::Errno::NOSYS)
        };
        let exit = match pidfd {
            Ok(pidfd) => Exit::Pidfd(async_fd(pidfd)?),
            Err(rustix::io::Errno::NOSYS) => Exit::Sigchld(signal(SignalKind::child())?),
            Err(err) => Err(err)?,
        };
        let mut child = Child {
            pid,
            exit,
            status: None,
            stdout: None,
            stderr: None,
        };
        child.stdout = Some(receiver(out_read)?);
        child.stderr = Some(receiver(err_read)?);
        Ok(child)
    }
}

impl Child {
    /// The child's pid, which is also its process group.
    pub fn pid(&self) -> Pid {
        self.pid
    }

    /// Waits for the child to exit and reaps it.
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        loop {
            if let Some(status) = self.status {
                return Ok(status);
            }
            match &mut self.exit {
                Exit::Pidfd(pidfd) => {
                    let mut ready = pidfd.readable().await?;
                    self.status = reap(self.pid)?;
                    if self.status.is_none() {
                        ready.clear_ready();
                    }
                }
                // The listener exists since before the first look, so no exit goes unseen.
                Exit::Sigchld(sigchld) => {
                    self.status = reap(self.pid)?;
                    if self.status.is_none() && sigchld.recv().await.is_none() {
                        return Err(io::Error::other("SIGCHLD is no longer delivered"));
                    }
                }
            }
        }
    }
}

impl Drop for Child {
    /// A child abandoned before its exit (its job was dropped) is killed with its group.
    fn drop(&mut self) {
        if self.status.is_none() {
            let _ = rustix::process::kill_process_group(self.pid, rustix::process::Signal::KILL);
            let _ = reap(self.pid);
        }
    }
}

/// The exit status of `pid` if it has exited (reaping it), `None` while it runs.
fn reap(pid: Pid) -> io::Result<Option<ExitStatus>> {
    match rustix::process::waitpid(Some(pid), WaitOptions::NOHANG) {
        Ok(Some((_, status))) => Ok(Some(ExitStatus::from_raw(status.as_raw()))),
        Ok(None) | Err(rustix::io::Errno::INTR) => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Registers `fd` with the current runtime's reactor.
pub fn async_fd(fd: OwnedFd) -> io::Result<AsyncFd<OwnedFd>> {
    // SAFETY: the `OwnedFd` moves into the `AsyncFd`, which keeps it open and always reports
    // the same descriptor, until the `AsyncFd` is dropped.
    Ok(unsafe { AsyncFd::register(fd) }?)
}

fn receiver(read_end: OwnedFd) -> io::Result<Receiver> {
    rustix::io::ioctl_fionbio(&read_end, true)?;
    Receiver::from_owned_fd_unchecked(read_end)
}

/// The pieces joined as one C string; a NUL inside is refused.
fn c_string<const N: usize>(parts: [&[u8]; N]) -> io::Result<CString> {
    CString::new(parts.concat()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "an argument or variable holds a NUL byte",
        )
    })
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt;

    use super::*;

    fn run(body: impl AsyncFnOnce(Launcher)) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async { body(Launcher::new().unwrap()).await });
    }

    fn sh(script: &str) -> Vec<OsString> {
        ["sh", "-c", script].map(OsString::from).to_vec()
    }

    async fn output(child: &mut Child) -> String {
        let mut text = String::new();
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut text)
            .await
            .unwrap();
        text
    }

    #[test]
    fn a_child_gets_its_own_group_null_stdin_sigpipe_and_the_progress_variable() {
        run(async |launcher| {
            let script = "read line; echo \"read:$?\"; echo \"$FSQ_PROGRESS_FILE\"; \
                          echo \"path:${PATH:+set}\"; cut -d' ' -f5 /proc/$$/stat; \
                          grep SigIgn /proc/$$/status";
            let mut child = launcher
                .spawn(
                    Path::new("/bin/sh"),
                    &sh(script),
                    Path::new("/q/_meta/p"),
                    None,
                )
                .unwrap();
            let text = output(&mut child).await;
            assert!(child.wait().await.unwrap().success());
            let lines: Vec<&str> = text.lines().collect();
            assert_eq!(lines[0], "read:1", "stdin is at its end: {text}");
            assert_eq!(lines[1], "/q/_meta/p");
            assert_eq!(
                lines[2], "path:set",
                "the engine's environment is passed on"
            );
            assert_eq!(
                lines[3],
                child.pid().as_raw_nonzero().to_string(),
                "own group"
            );
            let ignored = u64::from_str_radix(lines[4].trim_start_matches("SigIgn:").trim(), 16);
            assert_eq!(
                ignored.unwrap() & (1 << (13 - 1)),
                0,
                "SIGPIPE is not ignored"
            );
        });
    }

    #[test]
    fn exits_are_seen_with_and_without_pidfds() {
        for pidfds in [true, false] {
            run(async |mut launcher| {
                launcher.pidfds = pidfds;
                let progress = Path::new("/nonexistent");
                let mut child = launcher
                    .spawn(
                        Path::new("/bin/sh"),
                        &sh("sleep 0.1; exit 7"),
                        progress,
                        None,
                    )
                    .unwrap();
                assert_eq!(child.wait().await.unwrap().code(), Some(7));
                let mut child = launcher
                    .spawn(Path::new("/bin/sh"), &sh("kill -9 $$"), progress, None)
                    .unwrap();
                assert_eq!(child.wait().await.unwrap().signal(), Some(9));
            });
        }
    }

    #[test]
    fn a_missing_program_or_a_nul_is_refused() {
        run(async |launcher| {
            let progress = Path::new("/nonexistent");
            let missing = launcher.spawn(Path::new("/no/such/program"), &sh("x"), progress, None);
            assert_eq!(missing.err().unwrap().kind(), io::ErrorKind::NotFound);
            let nul = launcher.spawn(Path::new("/bin/sh"), &sh("echo \0"), progress, None);
            assert_eq!(nul.err().unwrap().kind(), io::ErrorKind::InvalidInput);
        });
    }
}
