//! Screens that once said something false, drawn as they must look now. Each test is named
//! after what broke.

use insta::assert_snapshot;

use crate::queue::State as QState;

use super::Harness;

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
