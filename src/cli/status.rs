//! `fsq status`: the whole queue at a glance — counts of every state, every worker with its
//! health, the running items with their progress, and why failed items failed.

use std::io::Write;
use std::process::ExitCode;

use serde_json::{Map, Value, json};

use super::output::{print_json, put_name};
use crate::queue::{
    Item, Paused, Queue, State, WorkerHealth, WorkerStatus, printable, this_host, until_time,
};
use crate::worker::clock::local_hhmm;

/// How many failed items the text view lists before summing up the rest.
const FAILED_SHOWN: usize = 10;

pub fn run(queue: &Queue, json: bool) -> anyhow::Result<ExitCode> {
    let config = queue.config()?.worker;
    let mut counts = Map::new();
    let (mut running, mut failed) = (Vec::new(), Vec::new());
    for state in State::ALL {
        let items = queue.list(state)?;
        counts.insert(state.as_str().into(), json!(items.len()));
        match state {
            State::Process => running = items,
            State::Failed => failed = items,
            _ => {}
        }
    }
    let workers = queue.workers(config.heartbeat_timeout)?;
    let running: Vec<Value> = running
        .iter()
        .map(|item| running_json(queue, item))
        .collect();
    let failed: Vec<Value> = failed.iter().map(|item| failed_json(queue, item)).collect();
    let pauses = pauses(queue, &workers);
    if json {
        let paused = queue.workers_paused(&this_host());
        print_json(&json!({
            "counts": counts, "workers": workers, "running": running,
            "failed": failed, "workers_paused": paused, "pauses": pauses,
        }))?;
    } else {
        let mut out = std::io::stdout().lock();
        print_text(&mut out, queue, &counts, &workers, &running, &failed)?;
        for pause in &pauses {
            writeln!(out, "  {}", pause_text(pause))?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn running_json(queue: &Queue, item: &Item) -> Value {
    let progress = queue.progress(item);
    let mut object = Map::new();
    put_name(&mut object, "item", item.display());
    put_name(
        &mut object,
        "worker",
        item.owner.as_deref().unwrap_or_default(),
    );
    let p = progress.as_ref();
    object.insert("progress".into(), json!(p.and_then(|p| p.fraction)));
    object.insert("elapsed_secs".into(), json!(p.map(|p| p.elapsed_secs)));
    object.insert("eta_secs".into(), json!(p.and_then(|p| p.eta_secs)));
    let speed = p.and_then(|p| p.speed);
    object.insert("speed".into(), json!(speed.map(|s| s.value())));
    object.insert("speed_unit".into(), json!(speed.map(|s| s.unit())));
    object.insert("frozen".into(), json!(p.is_some_and(|p| p.frozen)));
    Value::Object(object)
}

fn failed_json(queue: &Queue, item: &Item) -> Value {
    let record = queue.record(item);
    let mut object = Map::new();
    put_name(&mut object, "item", item.display());
    object.insert("attempts".into(), json!(record.attempts));
    object.insert("reason".into(), json!(record.reason));
    Value::Object(object)
}

fn print_text(
    out: &mut impl Write,
    queue: &Queue,
    counts: &Map<String, Value>,
    workers: &[WorkerStatus],
    running: &[Value],
    failed: &[Value],
) -> std::io::Result<()> {
    writeln!(out, "{}", printable(queue.root().as_os_str()))?;
    let line: Vec<String> = State::ALL
        .iter()
        .map(|s| format!("{s} {}", counts[s.as_str()]))
        .collect();
    writeln!(out, "  {}", line.join("  "))?;
    for worker in workers {
        let beat = &worker.heartbeat;
        let health = match &worker.health {
            WorkerHealth::Alive => "alive".to_string(),
            WorkerHealth::Down { why, .. } => format!("DOWN ({why})"),
        };
        let paused = if beat.paused { ", not claiming" } else { "" };
        let fs = beat
            .fs
            .as_ref()
            .map_or(String::new(), |fs| format!(" ({fs})"));
        let note = beat
            .note
            .as_ref()
            .map_or(String::new(), |n| format!(": {n}"));
        writeln!(
            out,
            "  worker {} on {}{fs} pid {}: {}/{} busy, {health}{paused}{note}",
            beat.id, beat.host, beat.pid, beat.busy, beat.slots
        )?;
    }
    let text = |value: &Value| printable(value.as_str().unwrap_or_default().as_ref());
    for object in running {
        let fraction = object["progress"]
            .as_f64()
            .map_or("--".to_string(), |f| format!("{:.0}%", f * 100.0));
        let frozen = if object["frozen"] == json!(true) {
            " (frozen)"
        } else {
            ""
        };
        writeln!(
            out,
            "  running {} [{fraction}] on {}{frozen}",
            text(&object["item"]),
            text(&object["worker"])
        )?;
    }
    for object in failed.iter().take(FAILED_SHOWN) {
        let reason = object["reason"].as_str().unwrap_or("no reason recorded");
        writeln!(
            out,
            "  failed {}: {}",
            text(&object["item"]),
            printable(reason.as_ref())
        )?;
    }
    if failed.len() > FAILED_SHOWN {
        writeln!(
            out,
            "  ... and {} more failed (fsq ls DIR failed --json)",
            failed.len() - FAILED_SHOWN
        )?;
    }
    Ok(())
}

/// The pause flags that hold now: the queue-wide one and one per host that has workers or a
/// flag, as `{"host", "until", "note"}` (`host` null for the queue-wide flag).
fn pauses(queue: &Queue, workers: &[WorkerStatus]) -> Vec<Value> {
    let mut hosts: Vec<String> = workers.iter().map(|w| w.heartbeat.host.clone()).collect();
    hosts.push(this_host());
    hosts.extend(queue.flagged_hosts());
    hosts.sort();
    hosts.dedup();
    let mut found: Vec<Paused> = Vec::new();
    for host in hosts {
        if let Some(paused) = queue.pause_of(&host)
            && !found.contains(&paused)
        {
            found.push(paused);
        }
    }
    found
        .into_iter()
        .map(|p| json!({"host": p.host, "until": p.flag.until, "note": p.flag.note}))
        .collect()
}

/// "workers paused until 19:00", "workers on vm2 paused: 5 failures in a row; ...".
fn pause_text(pause: &Value) -> String {
    let mut text = match pause["host"].as_str() {
        Some(host) => format!("workers on {host} paused"),
        None => "workers paused".to_string(),
    };
    if let Some(until) = pause["until"].as_u64() {
        text.push_str(&format!(" until {}", local_hhmm(until_time(until))));
    }
    if let Some(note) = pause["note"].as_str() {
        text.push_str(&format!(" ({note})"));
    }
    text
}
