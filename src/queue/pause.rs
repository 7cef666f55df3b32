//! The flags that stop workers from claiming: `_meta/pause` for every worker, `_meta/pause.<host>`
//! for one host. A flag may say until when it holds (a time on the shared filesystem's clock, so
//! hosts whose clocks differ agree when it ends) and why (a host that paused itself after a run
//! of failures says so). An empty flag file, as older versions and plain `touch` write, holds
//! until it is removed.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use super::Queue;
use super::error::{IoContext, Result};
use super::meta::{replace_file, unix_ms};

/// What a pause flag says.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PauseFlag {
    /// When the pause ends by itself, Unix milliseconds on the shared filesystem's clock.
    pub until: Option<u64>,
    /// Why, in words, when it was not an operator's plain pause.
    pub note: Option<String>,
}

/// Why workers of a host are not claiming, as the flags say.
#[derive(Clone, Debug, PartialEq)]
pub struct Paused {
    /// `None` for every host, else the host the flag names.
    pub host: Option<String>,
    pub flag: PauseFlag,
}

impl Queue {
    fn pause_flag(&self, host: Option<&str>) -> PathBuf {
        match host {
            Some(host) => self.meta_path(format!("pause.{host}")),
            None => self.meta_path("pause"),
        }
    }

    /// Sets or clears the flag that stops all workers (or those of `host`) from claiming.
    pub fn set_workers_paused(&self, host: Option<&str>, paused: bool) -> Result<()> {
        if paused {
            return self.pause_workers(host, &PauseFlag::default());
        }
        let flag = self.pause_flag(host);
        match fs::remove_file(&flag) {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(err).at(&flag),
            _ => Ok(()),
        }
    }

    /// Pauses all workers (or those of `host`) as `flag` says. A flag without `until` or `note`
    /// is written empty, as a plain `touch` would.
    pub fn pause_workers(&self, host: Option<&str>, flag: &PauseFlag) -> Result<()> {
        let path = self.pause_flag(host);
        let bytes = if *flag == PauseFlag::default() {
            Vec::new()
        } else {
            serde_json::to_vec(flag)
                .map_err(std::io::Error::other)
                .at(&path)?
        };
        replace_file(&path, &bytes)
    }

    /// The time `wait` from now by the shared filesystem's clock, for `PauseFlag::until`.
    pub fn shared_time_in(&self, wait: Duration) -> u64 {
        unix_ms(self.shared_now() + wait)
    }

    /// Why workers on `host` must not claim, if they must: the queue-wide flag first. A flag
    /// whose `until` has passed no longer counts (and is left for the next pause to replace).
    pub fn pause_of(&self, host: &str) -> Option<Paused> {
        [None, Some(host)].into_iter().find_map(|which| {
            let bytes = fs::read(self.pause_flag(which)).ok()?;
            let flag: PauseFlag = serde_json::from_slice(&bytes).unwrap_or_default();
            if let Some(until) = flag.until
                && unix_ms(self.shared_now()) >= until
            {
                return None;
            }
            Some(Paused {
                host: which.map(str::to_string),
                flag,
            })
        })
    }

    /// The hosts that have a pause flag of their own.
    pub fn flagged_hosts(&self) -> Vec<String> {
        let Ok(dir) = fs::read_dir(self.meta_path("")) else {
            return Vec::new();
        };
        dir.flatten()
            .filter_map(|e| Some(e.file_name().to_str()?.strip_prefix("pause.")?.to_string()))
            .collect()
    }

    /// Whether workers on `host` must not claim: `_meta/pause` or `_meta/pause.<host>` holds.
    pub fn workers_paused(&self, host: &str) -> bool {
        self.pause_of(host).is_some()
    }
}

/// `until` as a `SystemTime`, for showing it.
pub fn until_time(until: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(until)
}

#[cfg(test)]
mod tests {
    use super::super::testutil::queue_with;
    use super::*;

    #[test]
    fn a_timed_pause_ends_by_the_shared_clock_and_a_plain_one_holds() {
        let (_dir, q) = queue_with(&[]);
        assert!(!q.workers_paused("h"));
        q.set_workers_paused(Some("h"), true).unwrap();
        assert_eq!(fs::read(q.meta_path("pause.h")).unwrap(), b"");
        assert!(q.workers_paused("h") && !q.workers_paused("other"));
        let past = PauseFlag {
            until: Some(q.shared_time_in(Duration::ZERO) - 1),
            note: None,
        };
        q.pause_workers(None, &past).unwrap();
        assert_eq!(q.pause_of("other"), None, "an ended pause no longer holds");
        let future = PauseFlag {
            until: Some(q.shared_time_in(Duration::from_secs(3600))),
            note: Some("why".into()),
        };
        q.pause_workers(None, &future).unwrap();
        let paused = q.pause_of("h").unwrap();
        assert_eq!((paused.host, paused.flag), (None, future));
        q.set_workers_paused(None, false).unwrap();
        assert_eq!(q.pause_of("h").unwrap().host.as_deref(), Some("h"));
    }
}
