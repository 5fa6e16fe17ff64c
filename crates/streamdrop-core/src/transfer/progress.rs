//! Honest progress: bytes the server has taken, a smoothed rate and an ETA,
//! reported a few times a second at most.

use crate::model::Progress;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often a transfer reports progress.
pub const REPORT_INTERVAL: Duration = Duration::from_millis(250);

/// Bytes moved so far. Bodies add as they stream; a failed attempt takes its
/// bytes back, so progress never counts data the server did not keep. Bytes an
/// earlier run sent are counted apart as well, so they never read as speed.
#[derive(Debug, Clone, Default)]
pub struct ByteCounter {
    done: Arc<AtomicU64>,
    resumed: Arc<AtomicU64>,
}

impl ByteCounter {
    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
    }
    pub fn sub(&self, n: u64) {
        self.done.fetch_sub(n, Ordering::Relaxed);
    }
    /// Counts `n` bytes the server already held when this run began.
    pub fn add_resumed(&self, n: u64) {
        self.resumed.fetch_add(n, Ordering::Relaxed);
        self.add(n);
    }
    /// Back to nothing: the upload starts afresh.
    pub fn reset(&self) {
        self.done.store(0, Ordering::Relaxed);
        self.resumed.store(0, Ordering::Relaxed);
    }
    pub fn get(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }
    pub fn resumed(&self) -> u64 {
        self.resumed.load(Ordering::Relaxed)
    }
}

/// Turns successive byte counts into rate and ETA with an exponentially
/// weighted moving average, so a burst or a stall does not swing the ETA wildly.
#[derive(Debug)]
pub struct RateMeter {
    total: u64,
    last: Option<(Instant, u64)>,
    rate: Option<f64>,
}

/// Weight of the newest sample: about a 2-second memory at 4 samples/s.
const SMOOTHING: f64 = 0.12;

impl RateMeter {
    pub fn new(total: u64) -> Self {
        Self { total, last: None, rate: None }
    }

    /// `resumed` of the `done` bytes were sent by an earlier run: they count as
    /// done, never as speed (a resume at 90 % must not read as a burst).
    pub fn sample(&mut self, at: Instant, done: u64, resumed: u64) -> Progress {
        let sent = done.saturating_sub(resumed);
        if let Some((then, before)) = self.last {
            let secs = at.duration_since(then).as_secs_f64();
            if secs > 0.0 {
                let instant = sent.saturating_sub(before) as f64 / secs;
                self.rate = Some(match self.rate {
                    None => instant,
                    Some(rate) => rate + SMOOTHING * (instant - rate),
                });
            }
        }
        self.last = Some((at, sent));
        let rate = self.rate.filter(|r| *r >= 1.0);
        Progress {
            bytes_done: done,
            bytes_total: self.total,
            bytes_resumed: resumed,
            rate_bps: rate.map(|r| r as u64),
            eta_seconds: rate.map(|r| (self.total.saturating_sub(done) as f64 / r).ceil() as u64),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steady_rate_gives_a_steady_eta() {
        let mut meter = RateMeter::new(10_000);
        let t0 = Instant::now();
        assert_eq!(meter.sample(t0, 0, 0).rate_bps, None, "no rate from one sample");
        let mut last = None;
        for i in 1..=8u64 {
            last = Some(meter.sample(t0 + Duration::from_millis(250 * i), 250 * i, 0));
        }
        let p = last.unwrap();
        assert_eq!(p.bytes_done, 2000);
        assert_eq!(p.rate_bps, Some(1000));
        assert_eq!(p.eta_seconds, Some(8));
    }

    #[test]
    fn a_stall_lowers_the_rate_gradually() {
        let mut meter = RateMeter::new(1_000_000);
        let t0 = Instant::now();
        meter.sample(t0, 0, 0);
        meter.sample(t0 + Duration::from_secs(1), 1000, 0);
        let stalled = meter.sample(t0 + Duration::from_secs(2), 1000, 0);
        let rate = stalled.rate_bps.unwrap();
        assert!(rate > 0 && rate < 1000, "{rate}");
    }

    #[test]
    fn bytes_already_sent_before_a_resume_are_not_speed() {
        let mut meter = RateMeter::new(1_000_000);
        let t0 = Instant::now();
        // The first sample comes before the journal is read; then 900 kB turn out to be there already.
        meter.sample(t0, 0, 0);
        let mut last = None;
        for i in 1..=8u64 {
            last = Some(meter.sample(t0 + Duration::from_millis(250 * i), 900_000 + 250 * i, 900_000));
        }
        let p = last.unwrap();
        assert_eq!(p.rate_bps, Some(1000), "only what this run sent counts: {p:?}");
        assert_eq!((p.bytes_done, p.bytes_resumed), (902_000, 900_000));
        assert_eq!(p.eta_seconds, Some(98));
    }
}
