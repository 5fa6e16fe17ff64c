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
