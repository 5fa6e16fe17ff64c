//! A bandwidth limit shared by every part of every upload that holds it: a
//! transfer's own (`streamdrop upload --bandwidth-limit`), or the engine's one
//! limiter for all its jobs, whose rule the preferences change while uploads run.

use std::sync::RwLock;
use std::time::Duration;

use tokio::sync::Mutex;
// Tokio's clock, so tests can run with paused time.
use tokio::time::Instant;

use crate::model::{local_minute_now, Preferences, WorkingHours};

/// A token bucket measured in bytes, with no room to save up. Callers pay
/// before they send; a caller that overdraws waits until the debt is repaid,
/// which keeps the average at the limit without a background task.
#[derive(Debug)]
pub struct BandwidthLimiter {
    rule: RwLock<Rule>,
    state: Mutex<Bucket>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    Unlimited,
    Always(u64),
    /// The preferences' limit, applied in their working hours only.
    Preferences(LimitHours),
}

/// What of [`Preferences`] the limiter needs, `Copy` so reading it is cheap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LimitHours {
    bytes_per_sec: u64,
    during: Option<WorkingHours>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl BandwidthLimiter {
    /// At most `bytes_per_sec`, always.
    pub fn new(bytes_per_sec: u64) -> Self {
        Self::with_rule(Rule::Always(bytes_per_sec.max(1)))
    }

    /// No limit until [`BandwidthLimiter::follow`] sets one.
    pub fn unlimited() -> Self {
        Self::with_rule(Rule::Unlimited)
    }

    fn with_rule(rule: Rule) -> Self {
        Self { rule: RwLock::new(rule), state: Mutex::new(Bucket { tokens: 0.0, refilled: Instant::now() }) }
    }

    /// From now on, the limit `preferences` set (none, always, or in their hours).
    pub fn follow(&self, preferences: &Preferences) {
        let rule = match preferences.bandwidth_limit {
            None => Rule::Unlimited,
            Some(limit) => {
                Rule::Preferences(LimitHours { bytes_per_sec: limit.max(1), during: preferences.limit_during })
            }
        };
        *self.rule.write().unwrap_or_else(|p| p.into_inner()) = rule;
    }

    /// The limit in force at `minute` of the local day, if any.
    fn rate_at(&self, minute: impl FnOnce() -> u16) -> Option<u64> {
        match *self.rule.read().unwrap_or_else(|p| p.into_inner()) {
            Rule::Unlimited => None,
            Rule::Always(rate) => Some(rate),
            Rule::Preferences(p) => match p.during {
                Some(hours) if !hours.contains(minute()) => None,
                _ => Some(p.bytes_per_sec),
            },
        }
    }

    /// The limit in force now, if any.
    pub fn bytes_per_sec(&self) -> Option<u64> {
        self.rate_at(local_minute_now)
    }

    pub async fn acquire(&self, bytes: usize) {
        let Some(rate) = self.bytes_per_sec() else { return };
        let rate = rate as f64;
        let wait = {
            let mut bucket = self.state.lock().await;
            let now = Instant::now();
            // Nothing is saved up: an idle period (a pause, a gap between jobs) is
            // no licence to flood, so a resumed upload starts at the limit too.
            bucket.tokens = (bucket.tokens + now.duration_since(bucket.refilled).as_secs_f64() * rate).min(0.0);
            bucket.refilled = now;
            bucket.tokens -= bytes as f64;
            if bucket.tokens < 0.0 {
                Duration::from_secs_f64(-bucket.tokens / rate)
            } else {
                Duration::ZERO
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn average_rate_stays_at_the_limit() {
        let limiter = BandwidthLimiter::new(1_000_000);
        let start = tokio::time::Instant::now();
        for _ in 0..40 {
            limiter.acquire(100_000).await;
        }
        // 4 MB at 1 MB/s: about 4 s.
        let elapsed = start.elapsed().as_secs_f64();
        assert!((3.7..=4.1).contains(&elapsed), "{elapsed}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_changed_limit_applies_to_the_next_bytes() {
        let limiter = BandwidthLimiter::unlimited();
        let start = tokio::time::Instant::now();
        limiter.acquire(10_000_000).await;
        assert_eq!(start.elapsed(), Duration::ZERO, "no limit: no wait");
        limiter.follow(&Preferences { bandwidth_limit: Some(1_000_000), ..Preferences::default() });
        for _ in 0..20 {
            limiter.acquire(100_000).await;
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!((1.7..=2.1).contains(&elapsed), "2 MB at 1 MB/s: {elapsed}");
        limiter.follow(&Preferences::default());
        let before = tokio::time::Instant::now();
        limiter.acquire(50_000_000).await;
        assert_eq!(before.elapsed(), Duration::ZERO, "lifted at once");
    }

    #[test]
    fn the_preferences_limit_holds_in_its_hours_only() {
        let limiter = BandwidthLimiter::unlimited();
        let hours = WorkingHours { start: 9 * 60, end: 18 * 60 };
        limiter.follow(&Preferences {
            bandwidth_limit: Some(500_000),
            limit_during: Some(hours),
            ..Preferences::default()
        });
        assert_eq!(limiter.rate_at(|| 10 * 60), Some(500_000));
        assert_eq!(limiter.rate_at(|| 20 * 60), None, "full speed after hours");
        assert_eq!(BandwidthLimiter::new(7).rate_at(|| 20 * 60), Some(7), "a transfer's own limit has no hours");
    }
}
