//! Screens that once said something false, drawn as they must look now. Each test is named
//! after what broke.

use insta::assert_snapshot;

use crate::queue::{Progress, Speed, State as QState};

use super::super::event::Event;
use super::{Harness, item};

#[test]
fn init_then_open_shows_the_worker_off_and_how_to_set_a_command() {
    let mut h = Harness::new(QState::Pending, QState::Process, (80, 24));
    h.list_all(&[(QState::Pending, &["first.txt"])]);
    h.model.say(crate::tui::NO_COMMAND);
    let terminal = h.draw();
    let screen = format!("{:?}", terminal.backend());
    assert!(screen.contains("worker off"), "{screen}");
    assert!(
        screen.contains("set [worker] command in _meta/config.toml"),
        "{screen}"
    );
    assert_snapshot!(terminal.backend());
}

#[test]
fn ffmpeg_speed_reads_as_a_multiple_of_real_time_not_bytes() {
    let mut h = Harness::new(QState::Pending, QState::Process, (120, 12));
    h.list_all(&[(QState::Process, &["concert.mkv", "backup.tar"])]);
    h.stat_all();
    for (name, speed) in [
        ("concert.mkv", Speed::Realtime(2.5)),
        ("backup.tar", Speed::BytesPerSec(262_144.0)),
    ] {
        let progress = Progress {
            fraction: Some(0.4),
            speed: Some(speed),
            eta_secs: Some(30.0),
            worker: "host-1-1".into(),
            ..Progress::default()
        };
        h.send(Event::Worker(crate::worker::Event::Progress {
            item: item(QState::Process, name),
            progress,
        }));
    }
    let terminal = h.draw();
    let screen = format!("{:?}", terminal.backend());
    assert!(screen.contains("2.5x"), "{screen}");
    assert!(screen.contains("256 KiB/s"), "{screen}");
    assert!(!screen.contains(" 2 B/s"), "{screen}");
    assert_snapshot!(terminal.backend());
}
