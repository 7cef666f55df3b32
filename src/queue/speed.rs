//! How fast a running item goes, with its unit in the type: bytes per second for built-in
//! processors, a multiple of real time for media tools (ffmpeg's `speed=`). A progress record
//! keeps the number in `speed` and names the unit in `speed_unit` (`"bytes/s"` or `"x"`), so a
//! reader never formats one as the other.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A speed and its unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Speed {
    /// Bytes per second.
    BytesPerSec(f64),
    /// Media seconds per wall-clock second (`2.5` reads "2.5x").
    Realtime(f64),
}

const BYTES: &str = "bytes/s";
const REALTIME: &str = "x";

impl Speed {
    /// The number, whatever its unit.
    pub fn value(self) -> f64 {
        match self {
            Speed::BytesPerSec(v) | Speed::Realtime(v) => v,
        }
    }

    /// The unit as `speed_unit` spells it.
    pub fn unit(self) -> &'static str {
        match self {
            Speed::BytesPerSec(_) => BYTES,
            Speed::Realtime(_) => REALTIME,
        }
    }
}

/// The two JSON fields a speed occupies in a progress record.
#[derive(Serialize, Deserialize)]
struct Fields {
    speed: Option<f64>,
    #[serde(default)]
    speed_unit: Option<String>,
}

impl Serialize for Speed {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Fields {
            speed: Some(self.value()),
            speed_unit: Some(self.unit().to_string()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Speed {
    /// A record without `speed_unit` was written before the unit existed, when built-ins (the
    /// only writers whose speed was meant as a rate) wrote bytes per second.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Speed, D::Error> {
        let fields = Fields::deserialize(deserializer)?;
        let value = fields
            .speed
            .filter(|v| v.is_finite() && *v >= 0.0)
            .ok_or_else(|| D::Error::custom("no speed"))?;
        match fields.speed_unit.as_deref() {
            None | Some(BYTES) => Ok(Speed::BytesPerSec(value)),
            Some(REALTIME) => Ok(Speed::Realtime(value)),
            Some(other) => Err(D::Error::custom(format!("unknown speed_unit {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Progress;
    use super::*;

    #[test]
    fn speed_keeps_its_number_in_speed_and_its_unit_in_speed_unit() {
        let progress = Progress {
            speed: Some(Speed::Realtime(2.5)),
            ..Progress::default()
        };
        let json: serde_json::Value = serde_json::to_value(&progress).unwrap();
        assert_eq!(json["speed"], 2.5);
        assert_eq!(json["speed_unit"], "x");
        let back: Progress = serde_json::from_value(json).unwrap();
        assert_eq!(back.speed, Some(Speed::Realtime(2.5)));
    }

    #[test]
    fn progress_without_a_speed_or_unit_still_reads() {
        let old: Progress = serde_json::from_str(r#"{"speed": 100.0, "worker": "w"}"#).unwrap();
        assert_eq!(old.speed, Some(Speed::BytesPerSec(100.0)));
        let none: Progress = serde_json::from_str(r#"{"speed": null, "worker": "w"}"#).unwrap();
        assert_eq!(none.speed, None);
        let odd: Progress =
            serde_json::from_str(r#"{"speed": 3.0, "speed_unit": "furlongs", "worker": "w"}"#)
                .unwrap();
        assert_eq!((odd.speed, odd.worker.as_str()), (None, "w"));
        let json = serde_json::to_value(&none).unwrap();
        assert!(json.get("speed").is_none(), "{json}");
    }
}
