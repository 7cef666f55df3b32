//! Screenshots from a real run: fsq in a pseudo-terminal, driven by a script of steps, its screen
//! drawn cell by cell into an SVG (xterm 256-colour palette, bold, inverse) and turned into a
//! PNG by `rsvg-convert` (Debian package `librsvg2-bin`).
//!
//! ```text
//! cargo build && cargo run --example screenshot -- OUT.png [--size 100x30] [--cwd DIR]
//!     --args "demo /tmp/fsq-demo" wait:annual-report key:F3 wait:wrap
//! ```
//! Steps run in order: `wait:TEXT` (until TEXT is on screen, 20 s at most), `gone:TEXT`,
//! `percent:` (until a running percentage, 1% to 99%, is on screen),
//! `key:NAME` (F1..F10, Enter, Esc, Tab, Up, Down, S-Up, S-Down, PageDown, C-s, Space...),
//! `text:STRING` (typed as is), `pause:MS` (only to let a progress bar visibly advance for the
//! picture; never needed for correctness). OUT ending in `.svg` skips the PNG step. `FSQ_BIN`
//! names another binary (a release build, say).

#[path = "../../tests/pty/mod.rs"]
mod pty;
mod svg;

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use pty::{PtySession, keys};

const WAIT: Duration = Duration::from_secs(20);

struct Plan {
    out: PathBuf,
    cols: u16,
    rows: u16,
    cwd: PathBuf,
    args: Vec<String>,
    steps: Vec<String>,
}

fn parse(mut argv: impl Iterator<Item = String>) -> Result<Plan, String> {
    let out = argv
        .next()
        .ok_or("usage: screenshot OUT.png [--size CxR] --args \"...\" STEPS")?;
    let mut plan = Plan {
        out: PathBuf::from(out),
        cols: 100,
        rows: 30,
        cwd: std::env::current_dir().map_err(|e| e.to_string())?,
        args: Vec::new(),
        steps: Vec::new(),
    };
    while let Some(arg) = argv.next() {
        match arg.as_str() {
            "--size" => {
                let size = argv.next().ok_or("--size needs COLSxROWS")?;
                let (cols, rows) = size.split_once('x').ok_or("--size is COLSxROWS")?;
                plan.cols = cols.parse().map_err(|_| "bad column count")?;
                plan.rows = rows.parse().map_err(|_| "bad row count")?;
            }
            "--cwd" => plan.cwd = PathBuf::from(argv.next().ok_or("--cwd needs a folder")?),
            "--args" => {
                let args = argv.next().ok_or("--args needs fsq's arguments")?;
                plan.args = args.split_whitespace().map(str::to_string).collect();
            }
            _ => plan.steps.push(arg),
        }
    }
    Ok(plan)
}

fn run_step(session: &PtySession, step: &str) -> Result<(), String> {
    let (kind, value) = step.split_once(':').ok_or(format!("bad step {step:?}"))?;
    match kind {
        "wait" => session.wait_for_text(value, WAIT),
        "gone" => session.wait_for_text_gone(value, WAIT),
        "key" => session.send_keys(&keys::named(value).ok_or(format!("unknown key {value:?}"))?),
        "text" => session.send_keys(value.as_bytes()),
        "percent" => session.wait_until("a progress percentage", WAIT, |screen| {
            has_running_percentage(&screen.contents())
        }),
        "pause" => {
            let ms = value.parse().map_err(|_| format!("bad pause {value:?}"))?;
            std::thread::sleep(Duration::from_millis(ms));
        }
        _ => return Err(format!("unknown step {step:?}")),
    }
    Ok(())
}

/// Whether the screen shows `N%` with N from 1 to 99: something is under way.
fn has_running_percentage(text: &str) -> bool {
    text.split(|c: char| !c.is_ascii_digit() && c != '%')
        .filter_map(|word| word.strip_suffix('%'))
        .filter_map(|digits| digits.parse::<u32>().ok())
        .any(|percent| (1..100).contains(&percent))
}

fn convert(svg_path: &Path, png_path: &Path) -> Result<(), String> {
    // Twice the SVG's size: thin box-drawing lines stay visible when the picture is scaled.
    let status = Command::new("rsvg-convert")
        .args(["--zoom", "2", "-o"])
        .arg(png_path)
        .arg(svg_path)
        .status()
        .map_err(|err| {
            format!("cannot run rsvg-convert ({err}); install it: apt-get install librsvg2-bin")
        })?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("rsvg-convert failed: {status}"))
    }
}

fn main() -> ExitCode {
    let plan = match parse(std::env::args().skip(1)) {
        Ok(plan) => plan,
        Err(err) => {
            eprintln!("screenshot: {err}");
            return ExitCode::from(2);
        }
    };
    let binary = pty::fsq_binary();
    if !binary.is_file() {
        eprintln!(
            "screenshot: {} is missing; run `cargo build` first",
            binary.display()
        );
        return ExitCode::FAILURE;
    }
    let args: Vec<&str> = plan.args.iter().map(String::as_str).collect();
    let session = PtySession::fsq(&args, &plan.cwd, plan.cols, plan.rows);
    for step in &plan.steps {
        if let Err(err) = run_step(&session, step) {
            eprintln!("screenshot: {err}");
            return ExitCode::FAILURE;
        }
    }
    let drawing = svg::render(&session.screen());
    let is_svg = plan.out.extension().is_some_and(|ext| ext == "svg");
    let svg_path = if is_svg {
        plan.out.clone()
    } else {
        plan.out.with_extension("svg")
    };
    if let Err(err) = std::fs::write(&svg_path, drawing) {
        eprintln!("screenshot: {}: {err}", svg_path.display());
        return ExitCode::FAILURE;
    }
    if !is_svg {
        let converted = convert(&svg_path, &plan.out);
        let _ = std::fs::remove_file(&svg_path);
        if let Err(err) = converted {
            eprintln!("screenshot: {err}");
            return ExitCode::FAILURE;
        }
    }
    println!("{}", plan.out.display());
    ExitCode::SUCCESS
}
