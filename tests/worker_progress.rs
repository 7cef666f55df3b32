//! Progress of running items, as any host reads it from `_meta/progress/<id>`, and the engine
//! API the TUI embeds.

mod common;

use std::fs;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};

use common::*;
use fsq::queue::{Queue, WorkerConfig};
use fsq::worker::{Engine, EngineEvent, Outcome, Settings, StopMode};

fn worker(root: &Path, command: &[&str]) -> Child {
    quiet_worker(root, command)
}

/// Waits until the item's progress file satisfies `check`; returns it.
fn progress_where(
    root: &Path,
    name: &str,
    check: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    wait_for(20, "progress", || {
        let bytes = fs::read(find_meta_of(root, "progress", name)?).ok()?;
        let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
        check(&value).then_some(value)
    })
}

#[test]
fn percent_in_output_with_carriage_returns() {
    let (dir, root) = queue(&["dl"], "");
    let gate = dir.path().join("gate");
    let script = format!(
        "printf ' 12%%\\r 37.5%% 1.2MB/s\\r' >&2; while [ ! -e '{}' ]; do sleep 0.05; done",
        gate.display()
    );
    let child = worker(&root, &["sh", "-c", &script]);
    let progress = progress_where(&root, "dl", |p| p["fraction"] == 0.375);
    assert!(progress["worker"].as_str().unwrap().contains('-'));
    assert!(progress["eta_secs"].as_f64().is_some());
    fs::write(&gate, "").unwrap();
    wait_for(20, "the item to finish", || {
        (ls(&root.join("success")) == ["dl"]).then_some(())
    });
    assert!(
        !meta_of(&root, "progress", "dl").exists(),
        "progress is cleared when the job ends"
    );
    stop_worker(child);
}

#[test]
fn progress_file_written_by_the_command() {
    let (dir, root) = queue(&["render"], "");
    let gate = dir.path().join("gate");
    let script = format!(
        "echo 0.25 > \"$FSQ_PROGRESS_FILE\"; while [ ! -e '{}' ]; do sleep 0.05; done",
        gate.display()
    );
    let child = worker(&root, &["sh", "-c", &script]);
    progress_where(&root, "render", |p| p["fraction"] == 0.25);
    fs::write(&gate, "").unwrap();
    wait_for(20, "the item to finish", || {
        (ls(&root.join("success")) == ["render"]).then_some(())
    });
    stop_worker(child);
}

#[test]
fn ffmpeg_progress_stream_against_the_duration() {
    // The same streams ffmpeg writes with `-progress pipe:1`: Duration on stderr, keys on stdout.
    let (dir, root) = queue(&["clip.mp4"], "");
    let gate = dir.path().join("gate");
    let script = format!(
        "echo '  Duration: 00:00:10.00, start: 0.000000, bitrate: 1205 kb/s' >&2; \
         printf 'out_time_us=0\\nspeed=216000x\\nprogress=continue\\n'; \
         printf 'out_time_us=4000000\\nout_time=00:00:04.000000\\nspeed=2.00x\\nprogress=continue\\n'; \
         while [ ! -e '{}' ]; do sleep 0.05; done",
        gate.display()
    );
    let child = worker(&root, &["sh", "-c", &script]);
    let progress = progress_where(&root, "clip.mp4", |p| p["fraction"] == 0.4);
    assert_eq!(progress["speed"], 2.0, "not the first report's 216000x");
    assert_eq!(progress["speed_unit"], "x");
    assert_eq!(progress["eta_secs"], 3.0, "6 media seconds left at 2x");
    fs::write(&gate, "").unwrap();
    stop_worker(child);
}

#[test]
fn live_ffmpeg_when_installed() {
    let Ok(probe) = std::process::Command::new("ffmpeg")
        .arg("-version")
        .output()
    else {
        eprintln!("ffmpeg is not installed: skipping the live ffmpeg test");
        return;
    };
    assert!(probe.status.success());
    let (_dir, root) = queue(&[], "");
    add_tone(&root, 4);
    let child = worker(&root, &FFMPEG_TO_FLAC);
    // -re makes ffmpeg take the clip's 4 s, so progress is seen part way through.
    progress_where(&root, "tone.wav", |p| {
        p["fraction"].as_f64().is_some_and(|f| f > 0.0 && f < 1.0)
    });
    // Its speed is a multiple of real time, named so, and near 1x under -re (never 216000).
    progress_where(&root, "tone.wav", |p| {
        p["speed_unit"] == "x" && p["speed"].as_f64().is_some_and(|s| s > 0.2 && s < 5.0)
    });
    wait_for(30, "the conversion", || {
        (ls(&root.join("success")) == ["tone.wav"]).then_some(())
    });
    let flac = fs::read(root.join("_out/tone.flac")).unwrap();
    assert!(flac.starts_with(b"fLaC"), "a FLAC file was written");
    stop_worker(child);
}

#[test]
fn builtin_copy_reports_bytes_under_throttle() {
    let (dir, root) = queue(&[], "");
    let dest = dir.path().join("dest");
    fs::write(
        root.join("_meta/config.toml"),
        format!(
            "[worker]\nprocessor = \"copy\"\ndestinations = [\"{}\"]\nthrottle = \"40KiB\"\n",
            dest.display()
        ),
    )
    .unwrap();
    add_old(&root, "big.bin".as_ref(), &vec![1u8; 200_000]);
    let child = fsq()
        .arg("work")
        .arg(&root)
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let progress = progress_where(&root, "big.bin", |p| {
        p["bytes_done"]
            .as_u64()
            .is_some_and(|done| done > 0 && done < 200_000)
    });
    assert_eq!(progress["bytes_total"], 200_000);
    let speed = progress["speed"].as_f64().unwrap();
    assert!(speed > 10_000.0 && speed < 80_000.0, "{speed}");
    assert!(progress["eta_secs"].as_f64().unwrap() > 0.0);
    wait_for(30, "the copy", || {
        (ls(&root.join("success")) == ["big.bin"]).then_some(())
    });
    assert_eq!(fs::read(dest.join("big.bin")).unwrap().len(), 200_000);
    stop_worker(child);
}

#[test]
fn engine_api_reports_events_and_requeues_on_shutdown() {
    let (dir, root) = queue(&["a", "b", "c"], "");
    let gate = dir.path().join("gate");
    let queue = Arc::new(Queue::open(&root).unwrap());
    let config = WorkerConfig {
        command: Some(vec![
            "sh".into(),
            "-c".into(),
            format!(
                "printf '50%%\\n'; while [ ! -e '{}' ]; do sleep 0.05; done",
                gate.display()
            ),
        ]),
        workers: 1,
        ..WorkerConfig::default()
    };
    let settings = Settings {
        config,
        on_conflict: fsq::queue::OnConflict::default(),
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let engine = Engine::start(queue, settings, move |event| {
        sink.lock().unwrap().push(event);
    })
    .unwrap();
    let seen = |pred: &dyn Fn(&EngineEvent) -> bool| events.lock().unwrap().iter().any(pred);
    wait_for(20, "a progress event", || {
        seen(&|e| matches!(e, EngineEvent::Progress { progress, .. } if progress.fraction == Some(0.5)))
            .then_some(())
    });
    assert_eq!(engine.status().busy, 1);
    engine.set_slots(2);
    wait_for(20, "a second job", || {
        (engine.status().busy == 2).then_some(())
    });
    assert_eq!(engine.status().slots, 2);
    engine.set_paused(true);
    assert!(engine.status().paused);
    engine.shutdown(StopMode::Requeue);
    let events = events.lock().unwrap();
    let requeued = events
        .iter()
        .filter(|e| {
            matches!(
                e,
                EngineEvent::Finished {
                    outcome: Outcome::Requeued,
                    ..
                }
            )
        })
        .count();
    assert_eq!(requeued, 2);
    assert!(matches!(events.last(), Some(EngineEvent::Stopped)));
    assert_eq!(ls_json(&root, "pending").as_array().unwrap().len(), 3);
    assert!(claimed(&root).is_empty());
}
