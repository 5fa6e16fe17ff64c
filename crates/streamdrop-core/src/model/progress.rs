//! How far a transfer is.

use serde::{Deserialize, Serialize};

/// One progress report.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    pub bytes_done: u64,
    pub bytes_total: u64,
    /// Of `bytes_done`, what an earlier run had already sent (a resumed upload).
    #[serde(default)]
    pub bytes_resumed: u64,
    /// Smoothed bytes per second; `None` until there is enough to measure.
    pub rate_bps: Option<u64>,
    pub eta_seconds: Option<u64>,
}
