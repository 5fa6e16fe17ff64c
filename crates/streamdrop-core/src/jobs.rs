//! What a job is, and the states it moves through. The desktop UI and the CLI's
//! `--json` output both read [`JobView`], so it is the one wire shape of a job.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::storage::ObjectRef;
use crate::transfer::Progress;

/// A job's identity; stable across restarts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct JobId(uuid::Uuid);

impl JobId {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for JobId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for JobId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for JobId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

/// Where a job is in its life. A failure always carries its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    Queued,
    Uploading,
    /// Stopped by the user; keeps its partial upload and resumes where it stopped.
    Paused,
    Uploaded,
    Failed { reason: String },
    /// Stopped by the user; its partial upload was removed.
    Cancelled,
}

impl JobState {
    /// Whether the engine should (re)start this job on its own.
    pub fn is_unfinished(&self) -> bool {
        matches!(self, JobState::Queued | JobState::Uploading)
    }

    /// Whether nothing more will happen to this job unless someone retries it.
    pub fn is_settled(&self) -> bool {
        matches!(self, JobState::Uploaded | JobState::Failed { .. } | JobState::Cancelled)
    }

    /// The stable name used in the store and on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Uploading => "uploading",
            JobState::Paused => "paused",
            JobState::Uploaded => "uploaded",
            JobState::Failed { .. } => "failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// A user's file as it was when the job was created. The file itself is only
/// ever read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    pub size: u64,
    /// Modification time in ms since the epoch, to notice a file changed under us.
    pub modified_ms: i64,
}

impl SourceFile {
    /// The file name shown to people; falls back to the whole path.
    pub fn display_name(&self) -> String {
        self.path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| self.path.display().to_string())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    pub id: JobId,
    pub source: SourceFile,
    pub destination: ObjectRef,
    pub created_ms: i64,
    pub state: JobState,
}

/// A job as the UI and `--json` consumers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub id: JobId,
    pub file_name: String,
    pub source_path: String,
    pub size: u64,
    /// One of `queued`, `uploading`, `paused`, `uploaded`, `failed`, `cancelled`.
    pub state: String,
    pub bytes_done: u64,
    /// Smoothed upload rate while uploading.
    pub rate_bps: Option<u64>,
    pub eta_seconds: Option<u64>,
    pub error: Option<String>,
    pub created_at: i64,
    pub destination: String,
}

impl JobView {
    /// The view of `job`, with live progress if it is uploading.
    pub fn of(job: &Job, progress: Option<&Progress>) -> Self {
        let live = progress.filter(|_| job.state == JobState::Uploading);
        let bytes_done = match job.state {
            JobState::Uploaded => job.source.size,
            _ => live.map_or(0, |p| p.bytes_done),
        };
        Self {
            id: job.id,
            file_name: job.source.display_name(),
            source_path: job.source.path.display().to_string(),
            size: job.source.size,
            state: job.state.name().to_owned(),
            bytes_done,
            rate_bps: live.and_then(|p| p.rate_bps),
            eta_seconds: live.and_then(|p| p.eta_seconds),
            error: match &job.state {
                JobState::Failed { reason } => Some(reason.clone()),
                _ => None,
            },
            created_at: job.created_ms,
            destination: job.destination.to_string(),
        }
    }
}

/// Why one dropped item was not turned into a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    pub path: String,
    pub reason: String,
}

/// The outcome of handing a batch of paths to the engine: each item either
/// became a job or was rejected with its own reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeReport {
    pub accepted: Vec<JobView>,
    pub rejected: Vec<Rejection>,
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}
