//! How names and items are printed: escaped for a terminal, raw bytes for a pipe (as ls does),
//! and JSON for scripts.

use std::ffi::OsStr;
use std::io::{self, IsTerminal, Write};
use std::os::unix::ffi::OsStrExt;

use serde_json::{Map, Value, json};

use crate::queue::{Item, Queue, json_name, printable, unix_ms};

/// Writes a line on stderr in one write, dropped when nobody reads stderr any more (a pipe whose
/// reader is gone): a message never panics the command, and a worker's line per finished item
/// costs one system call, not one per piece of its format. See `say!`.
pub fn to_stderr(mut line: String) {
    line.push('\n');
    let _ = io::stderr().write_all(line.as_bytes());
}

/// Writes one name per line: escaped on a terminal, the exact bytes otherwise.
pub fn print_names<'a>(names: impl Iterator<Item = &'a OsStr>) -> io::Result<()> {
    let stdout = io::stdout();
    let tty = stdout.is_terminal();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    for name in names {
        if tty {
            out.write_all(printable(name).as_bytes())?;
        } else {
            out.write_all(name.as_bytes())?;
        }
        out.write_all(b"\n")?;
    }
    out.flush()
}

/// Inserts `key` (and `key_escaped: true` when the name is not UTF-8).
pub fn put_name(object: &mut Map<String, Value>, key: &str, name: &OsStr) {
    let (text, escaped) = json_name(name);
    object.insert(key.to_string(), Value::String(text));
    if escaped {
        object.insert(format!("{key}_escaped"), Value::Bool(true));
    }
}

/// The JSON object `fsq ls --json` prints for one item.
pub fn item_json(queue: &Queue, item: &Item, with_record: bool) -> Value {
    let meta = std::fs::symlink_metadata(queue.path_of(item)).ok();
    let record = if with_record {
        queue.record(item)
    } else {
        Default::default()
    };
    let mut object = Map::new();
    put_name(&mut object, "name", &queue.full_name(item));
    put_name(&mut object, "file", &item.file);
    object.insert("state".into(), json!(item.state));
    object.insert("size".into(), json!(meta.as_ref().map(|m| m.len())));
    let mtime = meta
        .and_then(|m| m.modified().ok())
        .map(|t| unix_ms(t) / 1000);
    object.insert("mtime".into(), json!(mtime));
    object.insert("attempts".into(), json!(record.attempts));
    object.insert("reason".into(), json!(record.reason));
    object.insert(
        "retry_at".into(),
        json!(record.retry_at.map(|ms| ms / 1000)),
    );
    match &item.owner {
        Some(owner) => put_name(&mut object, "worker", owner),
        None => {
            object.insert("worker".into(), Value::Null);
        }
    }
    Value::Object(object)
}

/// Prints a JSON value and a newline.
pub fn print_json(value: &Value) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    serde_json::to_writer(&mut out, value)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// Prints a JSON array one element at a time, so a long listing never sits in memory whole.
pub fn print_json_array(values: impl Iterator<Item = Value>) -> io::Result<()> {
    let mut out = io::BufWriter::with_capacity(1 << 16, io::stdout().lock());
    out.write_all(b"[")?;
    for (i, value) in values.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut out, &value)?;
    }
    out.write_all(b"]\n")?;
    out.flush()
}
