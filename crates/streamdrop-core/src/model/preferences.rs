//! How this computer's Streamdrop behaves, whatever the connection: uploads at
//! once, a bandwidth limit (with full speed outside working hours, if asked),
//! and how long a new link works unless told otherwise. Kept in the settings
//! file; checked here, so every face (window, CLI) gets the same rules.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Uploads at once, at least and at most.
pub const UPLOAD_CONCURRENCY: std::ops::RangeInclusive<u32> = 1..=8;
/// The slowest limit that still moves a part before its request times out.
pub const MIN_BANDWIDTH: u64 = 64 * 1024;
/// A link's lifetime: a minute to a year (a CloudFront policy can say more; nobody needs it).
pub const LINK_LIFETIME_SECS: std::ops::RangeInclusive<u64> = 60..=365 * 86_400;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Preferences {
    /// Uploads running at once (each sends several parts).
    pub upload_concurrency: u32,
    /// Bytes per second over all uploads together; `None`: as fast as the network goes.
    #[ts(type = "number | null")]
    pub bandwidth_limit: Option<u64>,
    /// With a limit: the hours it applies (local time); outside them, full speed.
    pub limit_during: Option<WorkingHours>,
    /// How long a new link works when no lifetime is given.
    #[ts(type = "number")]
    pub link_lifetime_secs: u64,
}

impl Default for Preferences {
    fn default() -> Self {
        Self { upload_concurrency: 2, bandwidth_limit: None, limit_during: None, link_lifetime_secs: 86_400 }
    }
}

/// Working hours, local time, every day: `start` up to (not including) `end`,
/// past midnight when `end` is earlier (a night shift's 22:00–06:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkingHours {
    /// `HH:MM`
    #[serde(with = "clock_time")]
    #[ts(type = "string")]
    pub start: u16,
    /// `HH:MM`
    #[serde(with = "clock_time")]
    #[ts(type = "string")]
    pub end: u16,
}

impl WorkingHours {
    /// Whether `minute` of the day (0..1440) falls in these hours.
    pub fn contains(&self, minute: u16) -> bool {
        if self.start <= self.end {
            (self.start..self.end).contains(&minute)
        } else {
            minute >= self.start || minute < self.end
        }
    }
}

/// A preference out of its range: which one, and what is allowed, in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{rule}")]
pub struct BadPreference {
    /// `uploadConcurrency`, `bandwidthLimit`, `limitDuring`, `linkLifetimeSecs`: the field to fix.
    pub setting: &'static str,
    pub rule: String,
}

impl Preferences {
    /// These preferences if each is in range, else the first that is not.
    pub fn checked(self) -> Result<Self, BadPreference> {
        if !UPLOAD_CONCURRENCY.contains(&self.upload_concurrency) {
            return Err(BadPreference {
                setting: "uploadConcurrency",
                rule: format!(
                    "Uploads at once must be from {} to {}.",
                    UPLOAD_CONCURRENCY.start(),
                    UPLOAD_CONCURRENCY.end()
                ),
            });
        }
        if self.bandwidth_limit.is_some_and(|limit| limit < MIN_BANDWIDTH) {
            return Err(BadPreference {
                setting: "bandwidthLimit",
                rule: "The bandwidth limit must be at least 64 KB/s (or no limit).".into(),
            });
        }
        if let Some(hours) = self.limit_during {
            if self.bandwidth_limit.is_none() {
                return Err(BadPreference {
                    setting: "limitDuring",
                    rule: "Limit hours need a bandwidth limit to apply in them.".into(),
                });
            }
            if hours.start == hours.end {
                return Err(BadPreference {
                    setting: "limitDuring",
                    rule: "Limit hours need a start and an end that differ (for all day, leave them out).".into(),
                });
            }
        }
        if !LINK_LIFETIME_SECS.contains(&self.link_lifetime_secs) {
            return Err(BadPreference {
                setting: "linkLifetimeSecs",
                rule: "A link's lifetime must be from 1 minute to 365 days.".into(),
            });
        }
        Ok(self)
    }

    /// The bandwidth limit at `minute` of the local day, if one applies then.
    pub fn limit_at(&self, minute: u16) -> Option<u64> {
        let limit = self.bandwidth_limit?;
        match self.limit_during {
            Some(hours) if !hours.contains(minute) => None,
            _ => Some(limit),
        }
    }
}

/// `HH:MM` ⇄ minutes since midnight.
mod clock_time {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(minute: &u16, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{:02}:{:02}", minute / 60, minute % 60))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).ok_or_else(|| serde::de::Error::custom(format!("{text:?} is not a time of day such as 09:00")))
    }

    pub fn parse(text: &str) -> Option<u16> {
        let (h, m) = text.trim().split_once(':')?;
        if !(1..=2).contains(&h.len()) || m.len() != 2 {
            return None;
        }
        let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    }
}

pub use clock_time::parse as parse_time_of_day;

/// Minutes since local midnight now (the system's time zone).
pub fn local_minute_now() -> u16 {
    let now = jiff::Zoned::now();
    (now.hour() as u16) * 60 + now.minute() as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hours(start: &str, end: &str) -> WorkingHours {
        WorkingHours { start: parse_time_of_day(start).unwrap(), end: parse_time_of_day(end).unwrap() }
    }

    #[test]
    fn working_hours_cover_the_day_or_wrap_past_midnight() {
        let day = hours("09:00", "18:00");
        assert!(day.contains(9 * 60) && day.contains(17 * 60 + 59));
        assert!(!day.contains(18 * 60) && !day.contains(8 * 60 + 59) && !day.contains(0));
        let night = hours("22:00", "06:00");
        assert!(night.contains(23 * 60) && night.contains(0) && night.contains(5 * 60 + 59));
        assert!(!night.contains(6 * 60) && !night.contains(12 * 60));
    }

    #[test]
    fn the_limit_applies_in_its_hours_and_full_speed_outside() {
        let limited = Preferences { bandwidth_limit: Some(1_000_000), ..Preferences::default() };
        assert_eq!(limited.limit_at(3 * 60), Some(1_000_000), "no hours: always");
        let office = Preferences { limit_during: Some(hours("09:00", "18:00")), ..limited };
        assert_eq!(office.limit_at(10 * 60), Some(1_000_000));
        assert_eq!(office.limit_at(20 * 60), None);
        assert_eq!(Preferences::default().limit_at(10 * 60), None);
    }

    #[test]
    fn out_of_range_preferences_say_what_is_allowed() {
        let bad = |p: Preferences| p.checked().unwrap_err().to_string();
        assert_eq!(
            bad(Preferences { upload_concurrency: 0, ..Preferences::default() }),
            "Uploads at once must be from 1 to 8."
        );
        assert!(bad(Preferences { upload_concurrency: 9, ..Preferences::default() }).starts_with("Uploads at once"));
        assert!(bad(Preferences { bandwidth_limit: Some(1000), ..Preferences::default() }).contains("64 KB/s"));
        assert!(bad(Preferences { limit_during: Some(hours("09:00", "18:00")), ..Preferences::default() })
            .contains("need a bandwidth limit"));
        let same = Preferences {
            bandwidth_limit: Some(MIN_BANDWIDTH),
            limit_during: Some(hours("09:00", "09:00")),
            ..Preferences::default()
        };
        assert!(bad(same).contains("differ"));
        assert!(bad(Preferences { link_lifetime_secs: 59, ..Preferences::default() }).starts_with("A link's lifetime"));
        assert!(Preferences::default().checked().is_ok());
    }

    #[test]
    fn hours_read_and_write_as_hh_mm() {
        let p = Preferences {
            bandwidth_limit: Some(2_000_000),
            limit_during: Some(hours("9:30", "18:05")),
            ..Preferences::default()
        };
        let json = serde_json::to_value(&p).unwrap();
        assert_eq!(json["limitDuring"], serde_json::json!({ "start": "09:30", "end": "18:05" }));
        assert_eq!(serde_json::from_value::<Preferences>(json).unwrap(), p);
        for bad in ["24:00", "12:60", "noon", "12", "12:5:0", "-1:00", "12:005"] {
            assert_eq!(parse_time_of_day(bad), None, "{bad}");
        }
    }
}
