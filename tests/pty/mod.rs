//! Running the built `fsq` in a pseudo-terminal and reading its screen, for end-to-end tests and
//! screenshots.
//!
//! A reader thread feeds everything the program writes into a `vt100::Parser`, so tests match on
//! the screen as a terminal would show it, not on raw bytes (ratatui's cursor moves would defeat
//! byte matching). Waiting is always polling with a deadline, woken by new output: no fixed
//! sleeps. The harness answers the cursor-position query (`ESC [ 6 n`) as a terminal would, so a
//! program that asks never stalls.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, ExitStatus, MasterPty, PtySize, native_pty_system};

/// Key sequences as a terminal sends them (and as crossterm parses them).
pub mod keys {
    pub const ENTER: &[u8] = b"\r";
    pub const ESC: &[u8] = b"\x1b";
    pub const TAB: &[u8] = b"\t";
    pub const UP: &[u8] = b"\x1b[A";
    pub const DOWN: &[u8] = b"\x1b[B";
    pub const RIGHT: &[u8] = b"\x1b[C";
    pub const LEFT: &[u8] = b"\x1b[D";
    pub const HOME: &[u8] = b"\x1b[H";
    pub const END: &[u8] = b"\x1b[F";
    pub const PAGE_UP: &[u8] = b"\x1b[5~";
    pub const PAGE_DOWN: &[u8] = b"\x1b[6~";
    pub const SHIFT_UP: &[u8] = b"\x1b[1;2A";
    pub const SHIFT_DOWN: &[u8] = b"\x1b[1;2B";
    pub const SHIFT_HOME: &[u8] = b"\x1b[1;2H";
    pub const SHIFT_END: &[u8] = b"\x1b[1;2F";
    pub const F1: &[u8] = b"\x1bOP";
    pub const F2: &[u8] = b"\x1bOQ";
    pub const F3: &[u8] = b"\x1bOR";
    pub const F4: &[u8] = b"\x1bOS";
    pub const F5: &[u8] = b"\x1b[15~";
    pub const F6: &[u8] = b"\x1b[17~";
    pub const F7: &[u8] = b"\x1b[18~";
    pub const F8: &[u8] = b"\x1b[19~";
    pub const F9: &[u8] = b"\x1b[20~";
    pub const F10: &[u8] = b"\x1b[21~";
    pub const CTRL_S: &[u8] = b"\x13";

    /// The bytes for a key name used on command lines (`F6`, `S-Down`, `Enter`, `text:abc`).
    pub fn named(name: &str) -> Option<Vec<u8>> {
        if let Some(text) = name.strip_prefix("text:") {
            return Some(text.as_bytes().to_vec());
        }
        let bytes = match name {
            "Enter" => ENTER,
            "Esc" => ESC,
            "Tab" => TAB,
            "Up" => UP,
            "Down" => DOWN,
            "Left" => LEFT,
            "Right" => RIGHT,
            "Home" => HOME,
            "End" => END,
            "PageUp" => PAGE_UP,
            "PageDown" => PAGE_DOWN,
            "S-Up" => SHIFT_UP,
            "S-Down" => SHIFT_DOWN,
            "S-Home" => SHIFT_HOME,
            "S-End" => SHIFT_END,
            "F1" => F1,
            "F2" => F2,
            "F3" => F3,
            "F4" => F4,
            "F5" => F5,
            "F6" => F6,
            "F7" => F7,
            "F8" => F8,
            "F9" => F9,
            "F10" => F10,
            "C-s" => CTRL_S,
            "Space" => b" ",
            _ => return None,
        };
        Some(bytes.to_vec())
    }
}

/// What the reader thread shares with the test.
struct Shared {
    parser: Mutex<vt100::Parser>,
    /// Signalled on every chunk of output and at end of output.
    changed: Condvar,
    closed: Mutex<bool>,
}

/// A program running in a pseudo-terminal.
pub struct PtySession {
    shared: Arc<Shared>,
    writer: Arc<Mutex<Box<dyn Write + Send>>>,
    child: Box<dyn Child + Send + Sync>,
    master: Box<dyn MasterPty + Send>,
    reader: Option<JoinHandle<()>>,
}

/// The built binary: Cargo names it for tests; elsewhere (examples) `FSQ_BIN`, or `fsq` next to
/// the folder of the running executable (`target/debug/examples/..` -> `target/debug/fsq`).
pub fn fsq_binary() -> PathBuf {
    if let Some(built) = option_env!("CARGO_BIN_EXE_fsq") {
        return PathBuf::from(built);
    }
    if let Some(bin) = std::env::var_os("FSQ_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().unwrap_or_default();
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    profile_dir.join("fsq")
}

/// The command line of the built `fsq` with `args`, isolated from the user's configuration.
pub fn fsq_command(args: &[&str], cwd: &Path) -> CommandBuilder {
    let mut cmd = CommandBuilder::new(fsq_binary());
    cmd.args(args);
    cmd.cwd(cwd);
    cmd.env("TERM", "xterm-256color");
    cmd.env("COLORTERM", "");
    cmd.env_remove("NO_COLOR");
    cmd.env("XDG_CONFIG_HOME", cwd.join(".no-user-config"));
    cmd
}

impl PtySession {
    /// Starts `cmd` in a `cols` x `rows` pseudo-terminal.
    pub fn spawn(cmd: CommandBuilder, cols: u16, rows: u16) -> PtySession {
        let pair = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pseudo-terminal");
        let child = pair.slave.spawn_command(cmd).expect("spawn in the pty");
        // The child holds the slave now; ours must go, or reads never see end of file.
        drop(pair.slave);
        let shared = Arc::new(Shared {
            parser: Mutex::new(vt100::Parser::new(non_zero(rows), non_zero(cols), 0)),
            changed: Condvar::new(),
            closed: Mutex::new(false),
        });
        let writer = Arc::new(Mutex::new(pair.master.take_writer().expect("pty writer")));
        let mut output = pair.master.try_clone_reader().expect("pty reader");
        let reader = {
            let shared = Arc::clone(&shared);
            let writer = Arc::clone(&writer);
            std::thread::spawn(move || {
                let mut chunk = [0u8; 8192];
                loop {
                    match output.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            let bytes = &chunk[..n];
                            let mut parser = shared.parser.lock().unwrap();
                            parser.process(bytes);
                            if contains(bytes, b"\x1b[6n") {
                                let (row, col) = parser.screen().cursor_position();
                                let answer = format!("\x1b[{};{}R", row + 1, col + 1);
                                let _ = writer.lock().unwrap().write_all(answer.as_bytes());
                            }
                            drop(parser);
                            shared.changed.notify_all();
                        }
                    }
                }
                *shared.closed.lock().unwrap() = true;
                shared.changed.notify_all();
            })
        };
        PtySession {
            shared,
            writer,
            child,
            master: pair.master,
            reader: Some(reader),
        }
    }

    /// Starts the built `fsq` with `args` in `cwd`.
    pub fn fsq(args: &[&str], cwd: &Path, cols: u16, rows: u16) -> PtySession {
        Self::spawn(fsq_command(args, cwd), cols, rows)
    }

    /// Types `bytes` into the terminal.
    pub fn send_keys(&self, bytes: &[u8]) {
        let mut writer = self.writer.lock().unwrap();
        writer.write_all(bytes).expect("write to the pty");
        writer.flush().expect("flush the pty");
    }

    /// The screen's text, rows joined by newlines.
    pub fn screen_text(&self) -> String {
        self.shared.parser.lock().unwrap().screen().contents()
    }

    /// A copy of the parsed screen, with colours and attributes.
    pub fn screen(&self) -> vt100::Screen {
        self.shared.parser.lock().unwrap().screen().clone()
    }

    /// Whether the program has switched to the alternate screen (and not back).
    pub fn alternate_screen(&self) -> bool {
        self.shared
            .parser
            .lock()
            .unwrap()
            .screen()
            .alternate_screen()
    }

    /// Whether the cursor is hidden.
    pub fn cursor_hidden(&self) -> bool {
        self.shared.parser.lock().unwrap().screen().hide_cursor()
    }

    /// Waits until `ready` holds for the screen, or panics after `timeout` showing the screen.
    pub fn wait_until(
        &self,
        what: &str,
        timeout: Duration,
        mut ready: impl FnMut(&vt100::Screen) -> bool,
    ) {
        let deadline = Instant::now() + timeout;
        let mut parser = self.shared.parser.lock().unwrap();
        loop {
            if ready(parser.screen()) {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                let screen = parser.screen().contents();
                drop(parser);
                panic!("timed out after {timeout:?} waiting for {what}; the screen:\n{screen}");
            }
            // Woken by output; the short cap also catches conditions on the disk.
            let wait = (deadline - now).min(Duration::from_millis(50));
            parser = self.shared.changed.wait_timeout(parser, wait).unwrap().0;
        }
    }

    /// Waits until `text` is on the screen.
    pub fn wait_for_text(&self, text: &str, timeout: Duration) {
        self.wait_until(&format!("{text:?} on screen"), timeout, |screen| {
            screen.contents().contains(text)
        });
    }

    /// Waits until `text` is no longer on the screen.
    pub fn wait_for_text_gone(&self, text: &str, timeout: Duration) {
        self.wait_until(&format!("{text:?} to go"), timeout, |screen| {
            !screen.contents().contains(text)
        });
    }

    /// Waits for the program to exit and for its last output to be parsed.
    pub fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("poll the child") {
                self.wait_closed(deadline.saturating_duration_since(Instant::now()));
                return status;
            }
            if Instant::now() >= deadline {
                panic!(
                    "fsq still running after {timeout:?}; the screen:\n{}",
                    self.screen_text()
                );
            }
            let closed = self.shared.closed.lock().unwrap();
            let _ = self
                .shared
                .changed
                .wait_timeout(closed, Duration::from_millis(20))
                .unwrap();
        }
    }

    /// Waits until the reader has seen the end of the output (the child and its children
    /// closed the terminal), at most `timeout`.
    fn wait_closed(&self, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        let mut closed = self.shared.closed.lock().unwrap();
        while !*closed {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            closed = self
                .shared
                .changed
                .wait_timeout(closed, deadline - now)
                .unwrap()
                .0;
        }
    }

    /// The child's process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.process_id()
    }

    /// Changes the terminal's size (the program gets SIGWINCH).
    pub fn resize(&self, cols: u16, rows: u16) {
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("resize the pty");
        self.shared
            .parser
            .lock()
            .unwrap()
            .set_size(non_zero(rows), non_zero(cols));
    }
}

impl Drop for PtySession {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
        // The reader ends when the terminal closes; do not wait on a grandchild holding it.
        drop(self.reader.take());
    }
}

fn non_zero(n: u16) -> std::num::NonZeroU16 {
    std::num::NonZeroU16::new(n.max(1)).unwrap_or(std::num::NonZeroU16::MIN)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Polls `check` (something on disk) until it holds, or panics with `what` after `timeout`.
pub fn wait_for(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        if Instant::now() >= deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
