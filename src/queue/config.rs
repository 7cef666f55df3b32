//! `_meta/config.toml`: the settings of one queue (`[worker]`, `[processor]`, and `[tui]`, see
//! `tui_config`). Unknown keys are errors, reported with file, line and column (also for bytes
//! that are not UTF-8), so a typo never silently falls back to a default.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use super::error::{Error, Result};
use super::schedule::Schedule;
use super::tui_config::{RawTui, TuiConfig, line_and_column};

/// The whole configuration file.
#[derive(Clone, Debug, Default)]
pub struct Config {
    pub worker: WorkerConfig,
    pub processor: ProcessorConfig,
    pub tui: TuiConfig,
    /// `[hosts.NAME]`: settings that differ on one host.
    pub hosts: std::collections::BTreeMap<String, HostConfig>,
}

/// `[hosts.NAME]`: what one host does differently from `[worker]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HostConfig {
    #[serde(deserialize_with = "schedule")]
    pub schedule: Option<Schedule>,
    pub workers: Option<usize>,
}

/// What a worker does with running jobs when its schedule's window closes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutsideSchedule {
    /// Let them finish; claim nothing new.
    #[default]
    Finish,
    /// Freeze them until the next window opens.
    Freeze,
}

/// The file as read, before the places of `[tui.keys]` entries are turned into lines.
#[derive(Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
struct RawConfig {
    worker: WorkerConfig,
    processor: ProcessorConfig,
    tui: RawTui,
    hosts: std::collections::BTreeMap<String, HostConfig>,
}

/// `[processor]`: how the built-in processors write their results.
#[derive(Clone, Copy, Debug, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProcessorConfig {
    pub on_conflict: OnConflict,
}

/// What a built-in processor does when its destination already has a file of the name it
/// writes. It never replaces that file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnConflict {
    /// Write under the first free name `STEM (N).EXT`.
    #[default]
    Rename,
    /// Leave the existing file and write nothing there; the item succeeds.
    Skip,
    /// Write nothing there; the item fails with the reason.
    Fail,
}

/// `[worker]`: how items are processed. Every `fsq work` flag has its key here.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    pub command: Option<Vec<String>>,
    pub processor: Option<Processor>,
    pub destinations: Vec<PathBuf>,
    #[serde(deserialize_with = "size::<{ u64::MAX }, _>")]
    pub throttle: u64,
    pub output: PathBuf,
    pub workers: usize,
    #[serde(deserialize_with = "duration::<TIMEOUT, _>")]
    pub timeout: Duration,
    pub max_attempts: u32,
    #[serde(deserialize_with = "duration::<RETRY_DELAY, _>")]
    pub retry_delay: Duration,
    /// The longest wait between two runs, however many failures came before.
    #[serde(deserialize_with = "duration::<RETRY_DELAY, _>")]
    pub retry_delay_max: Duration,
    /// Bring delayed items back before their time when the root holds nothing at all.
    pub retry_when_idle: bool,
    /// Exit codes that mean the input is hopeless: the item goes to failed/ at once.
    pub no_retry_exit_codes: Vec<i32>,
    #[serde(deserialize_with = "optional_duration::<POLL, _>")]
    pub poll: Option<Duration>,
    /// Where the kernel cannot see writers: how long a dropped file must stay unchanged.
    /// `None`: the default for the filesystem (see `quiet_period_on`).
    #[serde(deserialize_with = "optional_duration::<QUIET_PERIOD, _>")]
    pub quiet_period: Option<Duration>,
    /// How long after its last close a file written in place waits before it is claimed.
    #[serde(deserialize_with = "duration::<QUIET_PERIOD, _>")]
    pub settle_time: Duration,
    #[serde(deserialize_with = "duration::<GRACE, _>")]
    pub grace: Duration,
    #[serde(deserialize_with = "size::<LOG_CAP_MAX, _>")]
    pub log_cap: u64,
    #[serde(deserialize_with = "duration::<HEARTBEAT, _>")]
    pub heartbeat: Duration,
    #[serde(deserialize_with = "duration::<HEARTBEAT_TIMEOUT, _>")]
    pub heartbeat_timeout: Duration,
    pub on_success: Option<Vec<String>>,
    pub on_failure: Option<Vec<String>>,
    /// A hook still running after this long is killed with everything it started.
    #[serde(deserialize_with = "duration::<TIMEOUT, _>")]
    pub hook_timeout: Duration,
    /// Crash leftovers (temp files of adds, saves, records and built-ins) older than this are
    /// removed by the worker's upkeep (0: never).
    #[serde(deserialize_with = "duration::<TIMEOUT, _>")]
    pub leftover_age: Duration,
    /// Logs of items in success/ or failed/ are removed once older than this (0: no age limit)...
    #[serde(deserialize_with = "duration::<TIMEOUT, _>")]
    pub log_retention: Duration,
    /// ...and beyond the newest this many (0 = no limit).
    pub log_keep: usize,
    /// Kill and fail a job that printed nothing and made no progress for this long; 0 = never.
    #[serde(deserialize_with = "duration::<TIMEOUT, _>")]
    pub stall: Duration,
    /// Run after the command succeeds; a non-zero exit fails the attempt.
    pub verify: Option<Vec<String>>,
    /// After this many failures in a row of different items, the host pauses itself; 0 = never.
    pub host_failure_limit: u32,
    /// Run once when the queue went from busy to drained (across all hosts).
    pub on_drained: Option<Vec<String>>,
    /// Run once per dead worker, by the worker that recovered its claims.
    pub on_worker_down: Option<Vec<String>>,
    /// When workers may claim (see `schedule`); none: always.
    #[serde(deserialize_with = "schedule")]
    pub schedule: Option<Schedule>,
    pub outside_schedule: OutsideSchedule,
}

/// The quiet period on a local filesystem, used only for files whose writers the kernel will
/// not name to this worker (another user's file, without `CAP_LEASE`).
pub const DEFAULT_QUIET_LOCAL: Duration = Duration::from_secs(2);
/// The quiet period on network filesystems, where quiet time is the only signal: longer than
/// an NFS client's write-back interval (30 s by default), so a slow upload whose data reaches
/// the server in bursts is not mistaken for a finished one.
pub const DEFAULT_QUIET_REMOTE: Duration = Duration::from_secs(60);
/// Settle time after a close: a shell's `>` then `>>`, or a program that creates a file and
/// fills it, reopens within milliseconds; a second costs only files written in place.
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(1);

impl WorkerConfig {
    /// The quiet period that applies on a filesystem where writers on other hosts cannot be
    /// seen (`remote`) or on a local one.
    pub fn quiet_period_on(&self, remote: bool) -> Duration {
        self.quiet_period.unwrap_or(if remote {
            DEFAULT_QUIET_REMOTE
        } else {
            DEFAULT_QUIET_LOCAL
        })
    }
}

/// The built-in processors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Processor {
    Copy,
    Gzip,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            command: None,
            processor: None,
            destinations: Vec::new(),
            throttle: 0,
            output: PathBuf::from("_out"),
            workers: 1,
            timeout: Duration::ZERO,
            max_attempts: 3,
            retry_delay: Duration::from_secs(30),
            retry_delay_max: Duration::from_secs(3600),
            retry_when_idle: false,
            no_retry_exit_codes: Vec::new(),
            poll: None,
            quiet_period: None,
            settle_time: DEFAULT_SETTLE,
            grace: Duration::from_secs(10),
            log_cap: 1 << 20,
            heartbeat: Duration::from_secs(2),
            heartbeat_timeout: Duration::from_secs(30),
            on_success: None,
            on_failure: None,
            hook_timeout: Duration::from_secs(60),
            leftover_age: Duration::from_secs(86400),
            log_retention: Duration::from_secs(7 * 86400),
            log_keep: 10_000,
            stall: Duration::ZERO,
            verify: None,
            host_failure_limit: 0,
            on_drained: None,
            on_worker_down: None,
            schedule: None,
            outside_schedule: OutsideSchedule::Finish,
        }
    }
}

impl Config {
    /// Reads a config file; a missing file gives the defaults, a broken one an error with the
    /// line and column of the problem.
    pub fn load(path: &Path) -> Result<Config> {
        load_toml(path, Config::parse)
    }

    /// The `[worker]` settings as they apply on `host`: its `[hosts.NAME]` overrides applied.
    pub fn worker_for(&self, host: &str) -> WorkerConfig {
        let mut worker = self.worker.clone();
        if let Some(overrides) = self.hosts.get(host) {
            if let Some(schedule) = &overrides.schedule {
                worker.schedule = Some(schedule.clone());
            }
            if let Some(workers) = overrides.workers {
                worker.workers = workers;
            }
        }
        worker
    }

    /// Parses config text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        let raw: RawConfig = parse_toml(text, path)?;
        Ok(Config {
            worker: raw.worker,
            processor: raw.processor,
            tui: raw.tui.locate(text),
            hosts: raw.hosts,
        })
    }
}

/// Reads a TOML settings file with `parse`; a missing file gives the defaults, bytes that are
/// not UTF-8 an error at the first of them.
pub(super) fn load_toml<T: Default>(
    path: &Path,
    parse: impl FnOnce(&str, &Path) -> Result<T>,
) -> Result<T> {
    match read_utf8(path) {
        Ok(text) => parse(&text, path),
        Err(Error::Io { cause, .. }) if cause.kind() == std::io::ErrorKind::NotFound => {
            Ok(T::default())
        }
        Err(err) => Err(err),
    }
}

/// The text of a settings file (a config, a theme): bytes that are not UTF-8 are an error that
/// names the line and column where they start.
pub fn read_utf8(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|err| Error::io(path, err))?;
    String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let valid = std::str::from_utf8(valid).unwrap_or("");
        let (line, column) = line_and_column(valid, valid.len());
        Error::Config {
            path: path.to_path_buf(),
            line,
            column,
            message: "not UTF-8 text (a settings file must be UTF-8)".into(),
        }
    })
}

/// Parses TOML text into `T`, naming `path`, the line and the column in errors.
pub fn parse_toml<T: DeserializeOwned>(text: &str, path: &Path) -> Result<T> {
    toml::from_str(text).map_err(|err| {
        let (line, column) = line_and_column(text, err.span().map_or(0, |span| span.start));
        Error::Config {
            path: path.to_path_buf(),
            line,
            column,
            message: err.message().to_string(),
        }
    })
}

/// Parses `500ms`, `30s`, `2m`, `2h`, `1d`, `1h30m` or a bare number of seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| out_of_range(text));
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let unit_len = rest[digits..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len() - digits);
        let (number, unit) = (&rest[..digits], rest[digits..digits + unit_len].trim());
        let value: f64 = number.parse().map_err(|_| bad_duration(text))?;
        let scale = match unit {
            "ms" => 0.001,
            "s" | "sec" => 1.0,
            "m" | "min" => 60.0,
            "h" => 3600.0,
            "d" => 86400.0,
            _ => return Err(bad_duration(text)),
        };
        total = Duration::try_from_secs_f64(value * scale)
            .ok()
            .and_then(|part| total.checked_add(part))
            .ok_or_else(|| out_of_range(text))?;
        rest = rest[digits + unit_len..].trim_start();
    }
    if text.is_empty() {
        return Err(bad_duration(text));
    }
    Ok(total)
}

fn out_of_range(text: &str) -> String {
    format!("{text:?} is out of range")
}

/// A duration the way people write it: `10m`, `90s`, `1h30m`, `250ms`.
pub fn format_duration(duration: Duration) -> String {
    let ms = duration.as_millis();
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let secs = ms / 1000;
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut text = String::new();
    for (value, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if value > 0 {
            text.push_str(&format!("{value}{unit}"));
        }
    }
    text
}

fn bad_duration(text: &str) -> String {
    format!("{text:?} is not a duration (try 500ms, 30s, 2m, 2h)")
}

/// Parses `1048576`, `512K`, `512KiB`, `1M`, `1MiB`, `2G` (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let number: u64 = text[..split].parse().map_err(|_| bad_size(text))?;
    let shift = match text[split..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(bad_size(text)),
    };
    number.checked_mul(1 << shift).ok_or_else(|| bad_size(text))
}

fn bad_size(text: &str) -> String {
    format!("{text:?} is not a size (try 1048576, 512KiB, 1MiB)")
}

#[derive(Deserialize)]
#[serde(untagged)]
enum NumberOrText {
    Number(u64),
    Text(String),
}

/// The range a duration setting may take, in milliseconds: beyond it a value is a mistake
/// (and a timer that far away would overflow the clock).
pub struct Range {
    pub min_ms: u64,
    pub max_ms: u64,
}

const DAY_MS: u64 = 86_400_000;
pub const TIMEOUT: usize = 0;
pub const RETRY_DELAY: usize = 1;
pub const POLL: usize = 2;
pub const QUIET_PERIOD: usize = 3;
pub const GRACE: usize = 4;
pub const HEARTBEAT: usize = 5;
pub const HEARTBEAT_TIMEOUT: usize = 6;
/// Per setting above: how short and how long it may be.
pub const RANGES: [Range; 7] = [
    Range {
        min_ms: 0,
        max_ms: 365 * DAY_MS,
    },
    Range {
        min_ms: 0,
        max_ms: 365 * DAY_MS,
    },
    Range {
        min_ms: 10,
        max_ms: 3_600_000,
    },
    Range {
        min_ms: 0,
        max_ms: DAY_MS,
    },
    Range {
        min_ms: 0,
        max_ms: DAY_MS,
    },
    Range {
        min_ms: 10,
        max_ms: 3_600_000,
    },
    Range {
        min_ms: 100,
        max_ms: DAY_MS,
    },
];
/// The largest `log_cap`: a log is read whole by the viewer.
pub const LOG_CAP_MAX: u64 = 1 << 30;

/// Checks a duration against the range of setting `which` (one of the constants above).
pub fn check_duration(which: usize, value: Duration) -> Result<Duration, String> {
    let range = &RANGES[which];
    let (min, max) = (
        Duration::from_millis(range.min_ms),
        Duration::from_millis(range.max_ms),
    );
    if value < min || value > max {
        return Err(format!(
            "{} is out of range: between {} and {}",
            format_duration(value),
            format_duration(min),
            format_duration(max)
        ));
    }
    Ok(value)
}

fn read_duration<'de, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    match NumberOrText::deserialize(de)? {
        NumberOrText::Number(secs) => Ok(Duration::from_secs(secs)),
        NumberOrText::Text(text) => parse_duration(&text).map_err(serde::de::Error::custom),
    }
}

fn duration<'de, const WHICH: usize, D: Deserializer<'de>>(de: D) -> Result<Duration, D::Error> {
    check_duration(WHICH, read_duration(de)?).map_err(serde::de::Error::custom)
}

fn optional_duration<'de, const WHICH: usize, D: Deserializer<'de>>(
    de: D,
) -> Result<Option<Duration>, D::Error> {
    let value = match NumberOrText::deserialize(de)? {
        NumberOrText::Text(text) if text.trim().is_empty() => return Ok(None),
        NumberOrText::Number(secs) => Duration::from_secs(secs),
        NumberOrText::Text(text) => parse_duration(&text).map_err(serde::de::Error::custom)?,
    };
    check_duration(WHICH, value)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

fn schedule<'de, D: Deserializer<'de>>(de: D) -> Result<Option<Schedule>, D::Error> {
    let windows = Vec::<String>::deserialize(de)?;
    if windows.is_empty() {
        return Err(serde::de::Error::custom(
            "a schedule needs at least one window (remove it to claim at any time)",
        ));
    }
    Schedule::parse(&windows).map(Some).map_err(|(n, err)| {
        serde::de::Error::custom(format!("window {} {:?}: {err}", n + 1, windows[n]))
    })
}

fn size<'de, const MAX: u64, D: Deserializer<'de>>(de: D) -> Result<u64, D::Error> {
    let bytes = match NumberOrText::deserialize(de)? {
        NumberOrText::Number(bytes) => bytes,
        NumberOrText::Text(text) => parse_size(&text).map_err(serde::de::Error::custom)?,
    };
    if bytes > MAX {
        return Err(serde::de::Error::custom(format!(
            "{bytes} bytes is out of range: at most {MAX}"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("2h").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5").unwrap(), Duration::from_millis(1500));
        assert!(parse_duration("5 parsecs").is_err());
        assert!(parse_duration("").is_err());
        assert_eq!(format_duration(Duration::from_secs(600)), "10m");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(parse_size("1MiB").unwrap(), 1 << 20);
        assert_eq!(parse_size("512k").unwrap(), 512 << 10);
        assert!(parse_size("lots").is_err());
    }

    #[test]
    fn the_default_config_parses_to_the_defaults() {
        let config = Config::parse(super::super::DEFAULT_CONFIG, Path::new("c")).unwrap();
        assert_eq!(config.worker.max_attempts, 3);
        assert_eq!(config.worker.output, PathBuf::from("_out"));
        assert_eq!(config.worker.settle_time, DEFAULT_SETTLE);
        assert_eq!(config.worker.quiet_period_on(true), DEFAULT_QUIET_REMOTE);
        assert_eq!(config.worker.quiet_period_on(false), DEFAULT_QUIET_LOCAL);
    }

    #[test]
    fn a_quiet_period_given_applies_on_every_filesystem() {
        let text = "[worker]\nquiet_period = \"5s\"\nsettle_time = \"200ms\"\n";
        let config = Config::parse(text, Path::new("c")).unwrap().worker;
        assert_eq!(config.quiet_period_on(true), Duration::from_secs(5));
        assert_eq!(config.quiet_period_on(false), Duration::from_secs(5));
        assert_eq!(config.settle_time, Duration::from_millis(200));
    }

    #[test]
    fn a_schedule_parses_per_host_and_a_bad_one_names_line_and_column() {
        let text = "[worker]\nworkers = 2\nschedule = [\"mon-fri 19:00-07:00\", \"sat,sun\"]\n\
                    [hosts.big]\nworkers = 8\nschedule = [\"00:00-24:00\"]\n";
        let config = Config::parse(text, Path::new("c")).unwrap();
        assert_eq!(config.worker_for("small").workers, 2);
        let big = config.worker_for("big");
        assert_eq!(big.workers, 8);
        assert!(big.schedule.unwrap().contains(3 * 24 * 60 + 12 * 60));
        let err = Config::parse("[worker]\nschedule = [\"mon-fry\"]\n", Path::new("c"))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("c:2:12:") && err.contains("\"fry\" is not a day"),
            "{err}"
        );
        let err = Config::parse("[worker]\nschedule = [\"9:00-9:00\"]\n", Path::new("c"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty window"), "{err}");
    }

    #[test]
    fn broken_config_names_line_and_column() {
        let text = "[worker]\nworkers = 2\ntimeout = \"soon\"\n";
        let err = Config::parse(text, Path::new("config.toml"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("config.toml:3:11:"), "{err}");
        let err = Config::parse("[worker]\nwokers = 2\n", Path::new("c"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c:2:1:") && err.contains("wokers"), "{err}");
        let err = Config::parse("[worker\n", Path::new("c"))
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("c:1:"), "{err}");
    }
}
