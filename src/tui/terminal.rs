//! Taking over the terminal and giving it back: raw mode, the alternate screen and mouse
//! reporting on the way in; the exact reverse on the way out, whether the commander quits, panics
//! (a panic hook restores first, so the message is readable) or is told to stop by a signal.
//! A `TERM=dumb` terminal gets neither the alternate screen nor mouse reporting (nor, see the
//! theme, colours): it would print their escape sequences as text.

use std::io::{self, Stdout};
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

pub type Term = Terminal<CrosstermBackend<Stdout>>;

/// Whether the screen was taken with the alternate screen and mouse reporting.
static FULL: AtomicBool = AtomicBool::new(false);

/// Whether the terminal says it understands no escape sequences beyond the basics.
pub fn is_dumb() -> bool {
    std::env::var_os("TERM").is_some_and(|term| term == "dumb")
}

/// Enters the commander's screen.
pub fn enter() -> io::Result<Term> {
    install_panic_hook();
    enable_raw_mode()?;
    let mut stdout = io::stdout();
    if !is_dumb() {
        FULL.store(true, Ordering::SeqCst);
        if let Err(err) = execute!(stdout, EnterAlternateScreen, EnableMouseCapture) {
            restore();
            return Err(err);
        }
    }
    let terminal = Terminal::new(CrosstermBackend::new(stdout));
    if terminal.is_err() {
        restore();
    }
    terminal
}

/// Gives the terminal back and stops the process as the shell's Ctrl+Z would (SIGTSTP, which
/// raw mode does not send); once continued (`fg`), takes the terminal again, cleared, so the
/// next draw repaints everything.
pub fn suspend(term: &mut Term) -> io::Result<()> {
    restore();
    let _ = nix::sys::signal::raise(nix::sys::signal::Signal::SIGTSTP);
    enable_raw_mode()?;
    if !is_dumb() {
        FULL.store(true, Ordering::SeqCst);
        execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture)?;
    }
    execute!(
        io::stdout(),
        crossterm::terminal::Clear(crossterm::terminal::ClearType::All),
        crossterm::cursor::Hide
    )?;
    // Both buffers empty, so the next draw paints every cell (`Terminal::clear` would ask the
    // terminal for the cursor position, whose answer the input thread takes).
    term.swap_buffers();
    Ok(())
}

/// Leaves the commander's screen; safe to call more than once, and when the terminal is gone.
pub fn restore() {
    if FULL.swap(false, Ordering::SeqCst) {
        let _ = execute!(
            io::stdout(),
            DisableMouseCapture,
            LeaveAlternateScreen,
            crossterm::cursor::Show
        );
    } else {
        let _ = execute!(io::stdout(), crossterm::cursor::Show);
    }
    let _ = disable_raw_mode();
}

fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Sends `Event::Terminate` on SIGTERM, SIGHUP, SIGINT or SIGQUIT, from a small thread of its
/// own: the commander then restores the terminal, stops the embedded worker requeueing its
/// items, and exits.
pub fn watch_signals(events: std::sync::mpsc::Sender<super::event::Event>) -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    // Register in this thread so a signal arriving right after start-up is not missed.
    let (mut term, mut hup, mut int, mut quit) = runtime.block_on(async {
        Ok::<_, io::Error>((
            signal(SignalKind::terminate())?,
            signal(SignalKind::hangup())?,
            signal(SignalKind::interrupt())?,
            signal(SignalKind::quit())?,
        ))
    })?;
    std::thread::Builder::new()
        .name("fsq-signals".into())
        .spawn(move || {
            runtime.block_on(async {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = hup.recv() => {}
                    _ = int.recv() => {}
                    _ = quit.recv() => {}
                }
            });
            let _ = events.send(super::event::Event::Terminate);
        })?;
    Ok(())
}
