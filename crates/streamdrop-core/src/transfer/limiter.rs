//! An optional bandwidth limit shared by every part of a transfer.

use std::time::Duration;

use tokio::sync::Mutex;
// Tokio's clock, so tests can run with paused time.
use tokio::time::Instant;

/// A token bucket measured in bytes. Callers pay before they send; a caller
/// that overdraws waits until the debt is repaid, which keeps the average at
/// the limit without a background task.
#[derive(Debug)]
pub struct BandwidthLimiter {
    bytes_per_sec: f64,
    state: Mutex<Bucket>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
}

impl BandwidthLimiter {
    pub fn new(bytes_per_sec: u64) -> Self {
        let bytes_per_sec = bytes_per_sec.max(1) as f64;
        Self { bytes_per_sec, state: Mutex::new(Bucket { tokens: 0.0, refilled: Instant::now() }) }
    }

    pub fn bytes_per_sec(&self) -> u64 {
        self.bytes_per_sec as u64
    }

    pub async fn acquire(&self, bytes: usize) {
        let wait = {
            let mut bucket = self.state.lock().await;
            let now = Instant::now();
            // A quarter second of burst at most, so an idle period is not a licence to flood.
            let burst = self.bytes_per_sec / 4.0;
            bucket.tokens =
                (bucket.tokens + now.duration_since(bucket.refilled).as_secs_f64() * self.bytes_per_sec).min(burst);
            bucket.refilled = now;
            bucket.tokens -= bytes as f64;
            if bucket.tokens < 0.0 {
                Duration::from_secs_f64(-bucket.tokens / self.bytes_per_sec)
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
        // 4 MB at 1 MB/s: about 4 s (less the initial burst allowance).
        let elapsed = start.elapsed().as_secs_f64();
        assert!((3.7..=4.1).contains(&elapsed), "{elapsed}");
    }
}
