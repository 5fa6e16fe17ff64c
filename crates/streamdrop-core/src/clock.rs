//! The one clock: Unix time, as the store (milliseconds) and signed policies
//! (seconds) count it.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch (0 if the system clock is before it).
pub fn now_ms() -> i64 {
    since_epoch().map_or(0, |d| d.as_millis() as i64)
}

/// Seconds since the Unix epoch (0 if the system clock is before it).
pub fn now_secs() -> u64 {
    since_epoch().map_or(0, |d| d.as_secs())
}

/// A time as milliseconds since the Unix epoch (0 before it).
pub fn ms_since_epoch(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
}

fn since_epoch() -> Option<std::time::Duration> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok()
}

/// `2026-12-03 16:40 UTC`: a moment for a person, in plain text (messages
/// and plans; the UI formats per locale itself).
pub fn utc_minute(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let (hour, minute) = ((secs % 86_400) / 3600, (secs % 3600) / 60);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {hour:02}:{minute:02} UTC")
}

#[cfg(test)]
mod tests {
    use super::utc_minute;

    #[test]
    fn moments_read_as_utc_dates() {
        assert_eq!(utc_minute(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc_minute(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc_minute(1_796_315_400), "2026-12-03 16:30 UTC");
        assert_eq!(utc_minute(4_107_542_399), "2100-02-28 23:59 UTC");
    }
}
