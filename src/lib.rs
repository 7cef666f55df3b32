//! fsq: a terminal commander and worker for filesystem job queues.
//!
//! Three layers, one direction: `tui` uses `worker`, which uses `queue`. The queue layer is the
//! fsqueue format itself and the only code that changes a queue; `cli` parses the command line.

pub mod cli;
pub mod queue;
pub mod tui;
pub mod worker;
