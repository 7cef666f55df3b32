//! The header must agree with what runs: the queue's ETA with the running job's, no rate while
//! nothing claims, and other hosts' workers named when the embedded one is off.

use std::time::Duration;

use insta::assert_snapshot;

use crate::queue::{Heartbeat, Progress, State as QState, WorkerHealth, WorkerStatus};

use super::super::event::Event;
use super::{Harness, item};

/// A queue where 30 items finished in the last minute and `clip.mp4` runs with 4 minutes to go.
fn busy_header(engine: Option<crate::worker::EngineStatus>) -> Harness {
    let mut h = Harness::new(QState::Pending, QState::Process, (100, 16));
    let pending: Vec<String> = (0..5).map(|i| format!("p{i}")).collect();
    let pending: Vec<&str> = pending.iter().map(String::as_str).collect();
    h.list_all(&[
        (QState::Pending, &pending),
        (QState::Process, &["clip.mp4"]),
    ]);
    let done: Vec<String> = (0..30).map(|i| format!("s{i}")).collect();
    let done: Vec<&str> = done.iter().map(String::as_str).collect();
    h.model.now -= Duration::from_secs(60);
    h.list(QState::Success, &[]);
    h.model.now += Duration::from_secs(60);
    h.list(QState::Success, &done);
    h.send(Event::Worker(crate::worker::EngineEvent::Progress {
        item: item(QState::Process, "clip.mp4"),
        progress: Progress {
            fraction: Some(0.2),
            eta_secs: Some(240.0),
            worker: "host-1-1".into(),
            ..Progress::default()
        },
    }));
    if let Some(status) = engine {
        h.send(Event::Engine(status));
    }
    h
}

fn header_lines(h: &Harness) -> String {
    let terminal = h.draw();
    let buffer = terminal.backend().buffer();
    (0..2)
        .map(|y| {
            (0..buffer.area.width)
                .map(|x| buffer[(x, y)].symbol())
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn header_queue_eta_is_never_shorter_than_the_running_jobs() {
    let running = crate::worker::EngineStatus {
        slots: 1,
        busy: 1,
        paused: false,
        why: None,
    };
    let header = header_lines(&busy_header(Some(running)));
    // 180/min would finish the 6 items left in 2s; the running job alone needs 4 minutes.
    assert!(header.contains("180.0/min  ETA 4m00s"), "{header}");
    assert_snapshot!(header);
}

#[test]
fn header_shows_no_throughput_while_the_worker_is_paused_or_off() {
    let paused = crate::worker::EngineStatus {
        slots: 1,
        busy: 1,
        paused: true,
        why: None,
    };
    for h in [busy_header(Some(paused)), busy_header(None)] {
        let header = header_lines(&h);
        assert!(
            !header.contains("/min") && !header.contains("ETA"),
            "{header}"
        );
    }
}

#[test]
fn header_says_workers_on_other_hosts_run_when_ours_is_off() {
    let mut h = busy_header(None);
    let other = |host: &str| WorkerStatus {
        heartbeat: Heartbeat {
            id: format!("{host}-1-1"),
            host: host.into(),
            pid: 1,
            slots: 2,
            busy: 1,
            ..Heartbeat::default()
        },
        health: WorkerHealth::Alive,
        last_beat_secs: 1.0,
    };
    h.send(Event::Workers(vec![other("render-1"), other("render-2")]));
    let header = header_lines(&h);
    assert!(
        header.contains("worker off · 2 workers on other hosts"),
        "{header}"
    );
    assert!(header.contains("ETA 4m00s"), "they are working: {header}");
    assert_snapshot!(header);
}
