//! The shapes jobs and intake outcomes cross IPC and `--json` in.

use serde::{Deserialize, Serialize};

use super::{
    string_enum, BatchId, ConnectionName, Job, JobId, JobState, LiveProgress, Problem, ProblemCode, ProblemView, Stage,
    StateName,
};

/// A job as the UI and `--json` consumers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct JobView {
    pub id: JobId,
    pub file_name: String,
    /// Where the file sat in what was given: `<folder or card>/<path under it>`,
    /// or the file's name when it was given by itself.
    pub relative_path: String,
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
    /// The key its upload has in the uploads bucket: `uploads/<batch>/<folder>/<path
    /// in it>` for a file from a folder, `uploads/<job id>/<name>` for one given by itself.
    pub upload_key: String,
    /// How many of the camera's files (metadata, thumbnails, proxies) travel with it.
    pub sidecars: u32,
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
            relative_path: job.relative_path.clone(),
            source_path: job.source.path.display().to_string(),
            size: job.source.size,
            state: job.state.name(),
            stage: job.state.stage(),
            bytes_done,
            bytes_resumed,
            sidecars: job.sidecars.len() as u32,
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
            upload_key: job.destination.key.clone(),
            connection: job.connection.clone(),
        }
    }
}

/// Which jobs to list, and which page of them, in the list's order (newest
/// batch first, each batch in drop order).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase", default)]
pub struct JobQuery {
    /// Only jobs in one of these states; every state when empty.
    pub states: Vec<StateName>,
    /// Only jobs whose relative path (card and file name) contains this, ignoring ASCII case.
    pub search: Option<String>,
    /// Jobs of the matching list to pass over.
    pub offset: u32,
    /// At most this many; every matching job when `None`.
    pub limit: Option<u32>,
}

/// One page of the jobs a [`JobQuery`] matches.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct JobsPage {
    pub jobs: Vec<JobView>,
    /// How many jobs match, on every page.
    pub total: u32,
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
        let rejected: Vec<_> = paths.iter().map(|p| Rejection::new(p, problem.clone())).collect();
        Self { rejected_counts: ReasonCount::of(&rejected), rejected, ..Self::default() }
    }
}

/// The outcome of handing a batch of paths to the engine: each item either
/// became a job, was rejected with its own reason, or was already there.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct IntakeReport {
    pub accepted: Vec<JobView>,
    pub rejected: Vec<Rejection>,
    /// `rejected` summed up by reason, most first: one line per reason, not per file.
    pub rejected_counts: Vec<ReasonCount>,
    /// Files left out because the same content is already on the connection
    /// (with [`IfExists::Skip`]).
    pub duplicates: Vec<Duplicate>,
}

impl IntakeReport {
    /// One sentence for all the rejections, e.g. "3 items were skipped: 2 not
    /// video, 1 unreadable."; `None` when there are none.
    pub fn rejection_summary(&self) -> Option<String> {
        let total: u32 = self.rejected_counts.iter().map(|c| c.count).sum();
        let reasons: Vec<String> = self.rejected_counts.iter().map(|c| format!("{} {}", c.count, c.label)).collect();
        match total {
            0 => None,
            1 => Some(format!("1 item was skipped: {}.", reasons.join(", "))),
            _ => Some(format!("{total} items were skipped: {}.", reasons.join(", "))),
        }
    }
}

/// How many of a drop's items were refused for one reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct ReasonCount {
    pub code: ProblemCode,
    pub count: u32,
    /// The reason in a few words, to follow the count ("2 not video").
    pub label: String,
}

impl ReasonCount {
    pub fn new(code: ProblemCode, count: u32) -> Self {
        let label = match code {
            ProblemCode::NotMedia => "not video",
            ProblemCode::StillImage => "still images",
            ProblemCode::CameraRaw => "camera raw (export first)",
            ProblemCode::Playlist => "playlists",
            ProblemCode::FileUnreadable => "unreadable",
            ProblemCode::FileNotFound => "not found",
            ProblemCode::FileEmpty => "empty",
            ProblemCode::FileTruncated => "still copying",
            ProblemCode::NotAFile => "not regular files",
            ProblemCode::Folder => "folders",
            ProblemCode::FolderWithoutVideo => "folders without video",
            ProblemCode::FolderLoop => "link loops",
            ProblemCode::ProbeTimeout => "too slow to read",
            ProblemCode::FfmpegMissing => "not checked (ffmpeg is missing)",
            _ => "for other reasons",
        };
        Self { code, count, label: label.to_owned() }
    }

    /// The rejections counted by reason: most first, then in the order first seen.
    pub fn of(rejected: &[Rejection]) -> Vec<ReasonCount> {
        let mut counts: Vec<ReasonCount> = Vec::new();
        for rejection in rejected {
            match counts.iter_mut().find(|c| c.code == rejection.problem.code) {
                Some(count) => count.count += 1,
                None => counts.push(ReasonCount::new(rejection.problem.code, 1)),
            }
        }
        counts.sort_by_key(|c| std::cmp::Reverse(c.count)); // stable: ties keep their order
        counts
    }
}

/// A file whose content is already on the connection as another job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
pub struct Duplicate {
    pub path: String,
    pub file_name: String,
    pub relative_path: String,
    /// The job that already has it, and how that job is.
    pub existing_job: JobId,
    pub existing_state: StateName,
}

string_enum! {
    /// What a person can do to one job (the window's buttons, the CLI's commands).
    pub enum JobAction "a job action" {
        /// Stop its upload, keeping what was sent.
        Pause = "pause",
        Resume = "resume",
        /// Stop it for good; its partial upload is removed.
        Cancel = "cancel",
        /// Run it again from the stage that failed.
        Retry = "retry",
        /// Read its file anew and upload it from the start.
        AddAgain = "add-again",
    }
}

string_enum! {
    /// What to do with a file whose content is already on the connection (a
    /// job of the same size and fingerprint that is queued, running, paused or
    /// ready; failed and cancelled ones do not count).
    #[derive(Default)]
    pub enum IfExists "an if-exists choice" {
        /// Leave it out, and say so in the report.
        #[default]
        Skip = "skip",
        /// Add it as a new job all the same.
        Again = "again",
        /// Add nothing of the batch, and say why.
        Fail = "fail",
    }
}
