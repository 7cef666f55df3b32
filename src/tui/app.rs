//! The event loop: wait for one event, drain whatever else is queued, update the model, run the
//! effects, and draw once if anything changed. No tick while nothing moves, so an idle commander
//! sleeps in `recv`. Draws are spaced at least `FRAME` apart, so a stream of progress reports
//! costs a few redraws a second however fast it comes.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context as _;

use crate::queue::{Queue, State as QState, printable};
use crate::worker::{Engine, Settings, StopMode};

use super::background::Background;
use super::dialog::Overlay;
use super::effect::Effect;
use super::event::Event;
use super::keymap::Keymap;
use super::model::Model;
use super::render;
use super::render::dialog::edit_style;
use super::terminal::{self, Term};
use super::theme::Theme;
use super::update::update;
use super::watch;

/// The least time between two draws.
const FRAME: Duration = Duration::from_millis(40);

/// Everything the loop needs that is not the model.
pub struct Setup {
    pub queue: Arc<Queue>,
    pub theme: Theme,
    pub keys: Keymap,
    pub left: QState,
    pub right: QState,
    pub readonly: bool,
    /// The engine's settings, or `None` for no embedded worker.
    pub engine: Option<Settings>,
    pub poll: Option<Duration>,
    pub heartbeat_timeout: Duration,
    /// A line for the message bar on the first screen (why the worker is off...).
    pub notice: Option<String>,
}

/// Runs the commander until the operator quits or a signal says stop.
pub fn run(setup: Setup) -> anyhow::Result<()> {
    let (tx, rx) = channel::<Event>();
    terminal::watch_signals(tx.clone()).context("cannot watch for signals")?;
    let mut term = terminal::enter().context("cannot set up the terminal")?;
    let size = term.size().map(|s| (s.width, s.height)).unwrap_or((80, 24));
    spawn_input(tx.clone());

    let background = Background::start(setup.queue.clone(), tx.clone(), setup.heartbeat_timeout);
    // Panes first, so the first screen does not wait for the other states; the watcher is set
    // up while they are listed.
    let mut first: Vec<Effect> = vec![Effect::List(setup.left), Effect::List(setup.right)];
    first.extend(QState::ALL.into_iter().map(Effect::List));
    first.extend([Effect::ReadProgress, Effect::ReadWorkers]);
    for effect in first {
        background.run(effect);
    }
    let (mode, _watch) = watch::start(setup.queue.root(), setup.poll, tx.clone());
    let engine = match start_engine(&setup, &tx) {
        Ok(engine) => engine,
        Err(err) => {
            terminal::restore();
            return Err(err);
        }
    };
    let mut model = first_model(&setup, size, engine.as_ref());
    model.queue.watch.mode = mode;

    let looped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        event_loop(
            &mut term,
            &mut model,
            &setup,
            &rx,
            &background,
            engine.as_ref(),
            Vec::new(),
        )
    }));
    terminal::restore();
    // Quit (a signal, an ssh session that dropped) with the editor open: its item goes back.
    if let Some(Overlay::Editor(editor)) = &mut model.overlay
        && let Some(hold) = editor.take_hold()
        && let Err(err) = setup.queue.release_edit(&hold)
    {
        let line = format!("fsq: {err}\n");
        let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
    }
    let mode = match looped {
        Ok(result) => result?,
        Err(panic) => {
            if let Some(engine) = engine {
                engine.shutdown(StopMode::Requeue);
            }
            std::panic::resume_unwind(panic);
        }
    };
    if let Some(engine) = engine {
        if mode == StopMode::Requeue && engine.status().busy > 0 {
            // The terminal may be gone (an ssh session that dropped): the requeue matters more.
            let line = "fsq: stopping running jobs and requeueing them...\n";
            let _ = std::io::Write::write_all(&mut std::io::stderr(), line.as_bytes());
        }
        engine.shutdown(mode);
    }
    Ok(())
}

/// The embedded worker, reporting into the event channel; `None` when there is none.
fn start_engine(setup: &Setup, tx: &Sender<Event>) -> anyhow::Result<Option<Engine>> {
    let Some(settings) = &setup.engine else {
        return Ok(None);
    };
    let events = std::sync::Mutex::new(tx.clone());
    let engine = Engine::start(setup.queue.clone(), settings.clone(), move |report| {
        if let Ok(events) = events.lock() {
            let _ = events.send(Event::Worker(report));
        }
    });
    engine
        .map(Some)
        .map_err(|err| err.context("cannot start the embedded worker"))
}

/// The model of the first screen: the panes asked for, and a line saying why the queue will not
/// be changed or why the worker is off.
fn first_model(setup: &Setup, size: (u16, u16), engine: Option<&Engine>) -> Model {
    let mut model = Model::new(
        printable(setup.queue.root().as_os_str()),
        setup.left,
        setup.right,
        size,
    );
    model.readonly = setup.readonly;
    model.queue.host = crate::queue::this_host();
    model.engine = engine.map(Engine::status);
    model.now = SystemTime::now();
    if setup.readonly {
        model.say("read-only: the queue is shown, never changed");
    } else if let Some(notice) = &setup.notice {
        model.say(notice.clone());
    }
    model
}

/// Returns how to stop the engine.
fn event_loop(
    term: &mut Term,
    model: &mut Model,
    setup: &Setup,
    rx: &Receiver<Event>,
    background: &Background,
    engine: Option<&Engine>,
    mut effects: Vec<Effect>,
) -> anyhow::Result<StopMode> {
    let mut last_draw: Option<Instant> = None;
    loop {
        for effect in effects.drain(..) {
            match background.run(effect) {
                Some(Effect::PauseEngine(paused)) => {
                    if let Some(engine) = engine {
                        engine.set_paused(paused);
                    }
                }
                Some(Effect::SetSlots(slots)) => {
                    if let Some(engine) = engine {
                        engine.set_slots(slots);
                    }
                }
                Some(Effect::Quit(mode)) => return Ok(mode),
                Some(Effect::Suspend) => {
                    terminal::suspend(term).context("cannot take the terminal back")?;
                    model.dirty = true;
                }
                _ => {}
            }
        }
        if model.dirty {
            // Too soon after the last draw: fold in whatever arrives meanwhile first.
            let wait = last_draw.map_or(Duration::ZERO, |at| FRAME.saturating_sub(at.elapsed()));
            if !wait.is_zero() {
                match rx.recv_timeout(wait) {
                    Ok(event) => {
                        effects = handle(model, setup, rx, engine, event);
                        continue;
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return Ok(StopMode::Requeue),
                }
            }
            term.draw(|frame| render::draw(frame, model, &setup.theme, &setup.keys))?;
            model.dirty = false;
            last_draw = Some(Instant::now());
        }
        let event = match model.tick_every() {
            Some(every) => match rx.recv_timeout(every) {
                Ok(event) => event,
                Err(RecvTimeoutError::Timeout) => Event::Tick,
                Err(RecvTimeoutError::Disconnected) => return Ok(StopMode::Requeue),
            },
            None => match rx.recv() {
                Ok(event) => event,
                Err(_) => return Ok(StopMode::Requeue),
            },
        };
        effects = handle(model, setup, rx, engine, event);
    }
}

/// Updates the model with `event` and everything else already queued, then with the engine's
/// status if it changed.
fn handle(
    model: &mut Model,
    setup: &Setup,
    rx: &Receiver<Event>,
    engine: Option<&Engine>,
    event: Event,
) -> Vec<Effect> {
    model.now = SystemTime::now();
    let mut effects = update(model, &setup.keys, event);
    for event in rx.try_iter().take(10_000) {
        effects.extend(update(model, &setup.keys, event));
    }
    if let Some(engine) = engine {
        let status = engine.status();
        if model.engine != Some(status.clone()) {
            effects.extend(update(model, &setup.keys, Event::Engine(status)));
        }
    }
    if let Some(Overlay::Editor(editor)) = &mut model.overlay {
        editor.set_style(edit_style(&setup.theme));
    }
    effects
}

/// Terminal input on its own thread, blocking in `read`.
fn spawn_input(events: Sender<Event>) {
    let _ = thread::Builder::new()
        .name("fsq-input".into())
        .spawn(move || {
            while let Ok(input) = crossterm::event::read() {
                if events.send(Event::Input(input)).is_err() {
                    break;
                }
            }
        });
}
