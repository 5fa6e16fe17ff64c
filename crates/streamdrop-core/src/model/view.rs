//! The shapes jobs and intake outcomes cross IPC and `--json` in.

use serde::{Deserialize, Serialize};

use super::{BatchId, ConnectionName, Job, JobId, JobState, LiveProgress, Problem, ProblemView, Stage, StateName};

/// A job as the UI and `--json` consumers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub id: JobId,
    pub file_name: String,
    pub source_path: String,
    pub size: u64,
    pub state: StateName,
    /// The stage the job is at, waits for, or failed in: `upload`, `copy`, `transcode`; `null` when ready or cancelled.
    pub stage: Option<Stage>,
    pub bytes_done: u64,
    /// Of `bytes_done`, what was already sent before a restart or a pause (0 if none).
    pub bytes_resumed: u64,
    /// Smoothed rate of what this run sends, while uploading.
    pub rate_bps: Option<u64>,
    pub eta_seconds: Option<u64>,
    /// Transcode progress, 0–100, while transcoding (when the backend reports it).
    pub transcode_percent: Option<u8>,
    /// True while transcoding but still in the transcoder's queue (nothing converted yet).
    pub waiting: bool,
    /// Why the job failed, when it did: a sentence, what can be done, and the detail.
    pub error: Option<ProblemView>,
    /// When its batch came in (Unix ms).
    pub created_at: i64,
    pub batch_id: BatchId,
    /// Its place in its batch, from 0.
    pub position: u32,
    /// Where the file is stored now: the upload, then (once copied) the kept original.
    pub location: String,
    /// The connection the job runs on (`Local`, or an AWS connection's name).
    pub connection: ConnectionName,
}

impl JobView {
    /// The view of `job`, with its live progress.
    pub fn of(job: &Job, live: &LiveProgress) -> Self {
        let upload = live.upload.filter(|_| job.state == JobState::Uploading);
        let uploaded = !matches!(job.state.stage(), Some(Stage::Upload)) && job.state != JobState::Cancelled;
        let bytes_done = if uploaded { job.source.size } else { upload.map_or(0, |p| p.bytes_done) };
        let bytes_resumed = upload.map_or(job.resumed_bytes, |p| p.bytes_resumed.max(job.resumed_bytes));
        let copied = uploaded
            && !matches!(job.state, JobState::Queued { stage: Stage::Copy } | JobState::Copying)
            && !matches!(job.state, JobState::Failed { stage: Stage::Copy, .. });
        let location = match (&job.original, copied) {
            (Some(original), true) => original,
            _ => &job.destination,
        };
        Self {
            id: job.id,
            file_name: job.source.display_name(),
            source_path: job.source.path.display().to_string(),
            size: job.source.size,
            state: job.state.name(),
            stage: job.state.stage(),
            bytes_done,
            bytes_resumed,
            rate_bps: upload.and_then(|p| p.rate_bps),
            eta_seconds: upload.and_then(|p| p.eta_seconds),
            transcode_percent: live
                .transcode_percent
                .filter(|_| job.state == JobState::Transcoding && live.transcode_started),
            waiting: job.state == JobState::Transcoding && !live.transcode_started,
            error: match &job.state {
                JobState::Failed { problem, .. } => Some(problem.view()),
                _ => None,
            },
            created_at: job.created_ms,
            batch_id: job.batch,
            position: job.position,
            location: location.to_string(),
            connection: job.connection.clone(),
        }
    }
}

/// Why one given item was not turned into a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Rejection {
    pub path: String,
    pub file_name: String,
    pub problem: ProblemView,
}

impl Rejection {
    pub fn new(path: &std::path::Path, problem: Problem) -> Self {
        let file_name =
            path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| path.display().to_string());
        Self { path: path.display().to_string(), file_name, problem: problem.view() }
    }
}

impl IntakeReport {
    /// Every path refused for the same reason (nothing could take them).
    pub fn refused(paths: &[std::path::PathBuf], problem: &Problem) -> Self {
        Self { accepted: Vec::new(), rejected: paths.iter().map(|p| Rejection::new(p, problem.clone())).collect() }
    }
}

/// The outcome of handing a batch of paths to the engine: each item either
/// became a job or was rejected with its own reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
pub struct IntakeReport {
    pub accepted: Vec<JobView>,
    pub rejected: Vec<Rejection>,
}
