//! What a job is, and the states it moves through. The desktop UI and the CLI's
//! `--json` output both read [`JobView`], so it is the one wire shape of a job.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::credentials::ConnectionName;
use crate::problem::{Problem, ProblemView};
use crate::storage::ObjectRef;
use crate::transcode::MediaInfo;
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

/// The drop (or dialog pick, or `submit`) a job came in with: its jobs are
/// listed together, in the order they were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BatchId(uuid::Uuid);

impl BatchId {
    pub fn new() -> Self {
        Self(uuid::Uuid::new_v4())
    }
}

impl Default for BatchId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for BatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl FromStr for BatchId {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        uuid::Uuid::parse_str(s).map(Self)
    }
}

/// The stages of the pipeline, in order: upload to the temporary bucket, copy
/// to the distribution bucket (the original is kept there), transcode to HLS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Upload,
    Copy,
    Transcode,
}

impl Stage {
    pub fn name(self) -> &'static str {
        match self {
            Stage::Upload => "upload",
            Stage::Copy => "copy",
            Stage::Transcode => "transcode",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Stage::Upload, Stage::Copy, Stage::Transcode].into_iter().find(|s| s.name() == name)
    }

    /// The stage after this one; `None` after the last.
    pub fn next(self) -> Option<Self> {
        match self {
            Stage::Upload => Some(Stage::Copy),
            Stage::Copy => Some(Stage::Transcode),
            Stage::Transcode => None,
        }
    }
}

/// Where a job is in its life. Waiting and failed jobs know their stage, so a
/// restart or a retry picks up exactly there; a failure always carries its
/// [`Problem`], which says whether a retry can help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for its turn at `stage`.
    Queued {
        stage: Stage,
    },
    Uploading,
    /// Stopped by the user during upload; keeps its partial upload and resumes where it stopped.
    Paused,
    Copying,
    Transcoding,
    /// Transcoded: the stream can be played and linked.
    Ready,
    Failed {
        stage: Stage,
        problem: Problem,
    },
    /// Stopped by the user; its partial upload was removed.
    Cancelled,
}

impl JobState {
    pub const QUEUED: JobState = JobState::Queued { stage: Stage::Upload };

    /// Whether the engine should (re)start this job on its own.
    pub fn is_unfinished(&self) -> bool {
        matches!(self, JobState::Queued { .. } | JobState::Uploading | JobState::Copying | JobState::Transcoding)
    }

    /// Whether nothing more will happen to this job unless someone retries it.
    pub fn is_settled(&self) -> bool {
        matches!(self, JobState::Ready | JobState::Failed { .. } | JobState::Cancelled)
    }

    /// The stage this state is at, waits for, or failed in.
    pub fn stage(&self) -> Option<Stage> {
        match self {
            JobState::Queued { stage } | JobState::Failed { stage, .. } => Some(*stage),
            JobState::Uploading | JobState::Paused => Some(Stage::Upload),
            JobState::Copying => Some(Stage::Copy),
            JobState::Transcoding => Some(Stage::Transcode),
            JobState::Ready | JobState::Cancelled => None,
        }
    }

    /// The stable name used in the store and on the wire.
    pub fn name(&self) -> &'static str {
        match self {
            JobState::Queued { .. } => "queued",
            JobState::Uploading => "uploading",
            JobState::Paused => "paused",
            JobState::Copying => "copying",
            JobState::Transcoding => "transcoding",
            JobState::Ready => "ready",
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

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    /// The connection whose storage and transcoder run the job. Only an engine
    /// on that connection touches it.
    pub connection: ConnectionName,
    pub source: SourceFile,
    /// Where the upload stage puts the file: the temporary uploads bucket.
    pub destination: ObjectRef,
    /// Where the copy stage keeps the original, in the distribution bucket.
    /// `None` for jobs recorded before Streamdrop kept it here.
    pub original: Option<ObjectRef>,
    /// When its batch came in; every job of a batch has the same.
    pub created_ms: i64,
    pub batch: BatchId,
    /// Its place in the batch, from 0, in the order the files were given.
    pub position: u32,
    pub state: JobState,
    /// What an upload that resumed after a restart or a pause found already
    /// sent; 0 when the upload went in one go.
    pub resumed_bytes: u64,
    /// What the transcode stage learned and started, kept across restarts.
    pub transcode: TranscodeRecord,
}

/// The transcode stage's memory: the probed source, and the backend's id for
/// the submitted job so a restart polls it instead of submitting again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TranscodeRecord {
    pub media: Option<MediaInfo>,
    pub backend_job_id: Option<String>,
}

/// Live progress of a running stage; in memory only.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LiveProgress {
    pub upload: Option<Progress>,
    pub transcode_percent: Option<u8>,
    /// The transcoder has started working on the job (not still in its queue).
    pub transcode_started: bool,
}

/// A job as the UI and `--json` consumers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub id: JobId,
    pub file_name: String,
    pub source_path: String,
    pub size: u64,
    /// One of `queued`, `uploading`, `paused`, `copying`, `transcoding`, `ready`, `failed`, `cancelled`.
    pub state: String,
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
    pub connection: String,
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
            state: job.state.name().to_owned(),
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
            connection: job.connection.to_string(),
        }
    }
}

/// Why one given item was not turned into a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
