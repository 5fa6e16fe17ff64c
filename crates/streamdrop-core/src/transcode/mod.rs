//! Transcoding to HLS: one [`Transcoder`] trait with three backends (local
//! ffmpeg, AWS Elemental MediaConvert, and the legacy Elastic Transcoder),
//! each writing under the job's [`OutputLayout`] folders with its own names
//! ([`Naming`]); what it wrote is read back as the job's manifest
//! ([`manifest::scan`]), so links, previews and the local edge never care
//! which one ran.
//!
//! Intake probes the source once ([`MediaInfo`]); the pipeline picks the ABR
//! ladder from it ([`Rung`]s, never upscaled), submits, and polls until the
//! backend says complete or error.

use futures_util::future::BoxFuture;

use crate::model::{JobId, MediaInfo, ObjectRef, OutputLayout, Problem, ProblemCode, Rung};

pub mod elastic_transcoder;
pub mod ladder;
pub mod local_ffmpeg;
pub mod manifest;
pub mod mediaconvert;
pub mod probe;

pub use elastic_transcoder::ElasticTranscoder;
pub use ladder::ladder_for;
pub use local_ffmpeg::{LocalFfmpeg, LocalFfmpegOptions};
pub use manifest::{ManifestError, Naming};
pub use mediaconvert::MediaConvert;
pub use probe::{probe, ProbeError};

/// Everything a backend needs to transcode one job.
#[derive(Debug, Clone, PartialEq)]
pub struct TranscodeRequest {
    pub job: JobId,
    /// The original, in the distribution bucket.
    pub source: ObjectRef,
    pub media: MediaInfo,
    /// Empty for audio-only sources.
    pub ladder: Vec<Rung>,
    pub layout: OutputLayout,
}

/// When every backend takes the poster: 10 % into the clip (a first frame is
/// often black or a slate), or the first frame of clips under 2 s.
pub fn poster_time(duration_secs: f64) -> f64 {
    if duration_secs.is_finite() && duration_secs >= 2.0 {
        duration_secs * 0.1
    } else {
        0.0
    }
}

/// A backend's view of a submitted job.
#[derive(Debug, Clone, PartialEq)]
pub enum TranscodeStatus {
    Submitted,
    Progressing { percent: Option<u8> },
    Complete,
    Error { code: Option<String>, message: String },
}

#[derive(Debug, thiserror::Error)]
pub enum TranscodeError {
    /// The service cannot be used at all (e.g. discontinued); the message says what to use instead.
    #[error("{message}")]
    Unavailable { message: String },
    /// The backend does not know this job (a local transcode lost in a restart): submit again.
    #[error("the transcoder does not know job {backend_job_id}")]
    UnknownJob { backend_job_id: String },
    #[error("{backend} rejected the request: {message}")]
    Rejected { backend: &'static str, message: String },
    /// The service refused the connection's keys or its permissions.
    #[error("{backend} refused this connection: {message}")]
    Denied { backend: &'static str, message: String },
    /// Network or service trouble that a later poll may not have.
    #[error("{backend} could not be reached: {message}")]
    Transient { backend: &'static str, message: String },
}

/// A backend's name as people know it: `mediaconvert` → "MediaConvert".
pub fn backend_display_name(backend: &str) -> &str {
    match backend {
        "mediaconvert" => "MediaConvert",
        "elastic-transcoder" => "Elastic Transcoder",
        "local-ffmpeg" => "ffmpeg",
        other => other,
    }
}

impl TranscodeError {
    /// What a person is told when submitting or following a job of `file` failed.
    pub fn problem(&self, backend: &str, file: &str) -> Problem {
        let code = match self {
            TranscodeError::Unavailable { .. } => ProblemCode::TranscoderUnavailable,
            TranscodeError::UnknownJob { .. } => ProblemCode::Internal,
            TranscodeError::Rejected { .. } => ProblemCode::TranscoderRejected,
            TranscodeError::Denied { .. } => ProblemCode::TranscoderDenied,
            TranscodeError::Transient { .. } => ProblemCode::TranscoderUnreachable,
        };
        Problem::new(code).with("backend", backend_display_name(backend)).with("file", file).detail(self)
    }
}

/// What a person is told when `backend` reported job failure `code` for `file`.
pub fn failure_problem(backend: &str, code: Option<&str>, message: &str, file: &str) -> Problem {
    use local_ffmpeg::codes;
    let problem = match code {
        Some(codes::FFMPEG_MISSING) => ProblemCode::FfmpegMissing,
        Some(codes::STALLED) => ProblemCode::TranscodeStalled,
        Some(codes::TRUNCATED) => ProblemCode::FileTruncated,
        Some(codes::SOURCE_EMPTY) => ProblemCode::FileEmpty,
        Some(codes::WORK_DIR) => ProblemCode::DataDir,
        _ => ProblemCode::TranscodeFailed,
    };
    let detail = match code {
        Some(code) => format!("{} failed ({code}): {message}", backend_display_name(backend)),
        None => format!("{} failed: {message}", backend_display_name(backend)),
    };
    Problem::new(problem).with("backend", backend_display_name(backend)).with("file", file).detail(detail)
}

/// A transcoding backend. `submit` starts a job and returns the backend's id
/// for it, which the pipeline persists; `status` is polled with that id,
/// including after a restart.
pub trait Transcoder: Send + Sync {
    /// `local-ffmpeg`, `mediaconvert` or `elastic-transcoder`.
    fn name(&self) -> &'static str;

    fn submit<'a>(&'a self, request: &'a TranscodeRequest) -> BoxFuture<'a, Result<String, TranscodeError>>;

    fn status<'a>(
        &'a self,
        backend_job_id: &'a str,
        request: &'a TranscodeRequest,
    ) -> BoxFuture<'a, Result<TranscodeStatus, TranscodeError>>;

    /// Stops a submitted job whose Streamdrop job was cancelled, so it stops
    /// using (and, in the cloud, billing for) the transcoder. A job that has
    /// already ended is no error.
    fn cancel<'a>(&'a self, backend_job_id: &'a str) -> BoxFuture<'a, Result<(), TranscodeError>>;

    /// Where it puts what it writes, below the job's layout prefix: how the
    /// pipeline finds its outputs once it says it is done.
    fn naming(&self) -> Naming;

    /// How often this backend's jobs are worth polling, when more often than
    /// the engine's default (a local job's status is a read from memory).
    fn poll_interval(&self) -> Option<std::time::Duration> {
        None
    }

    /// Stops the work this process does for its jobs, because the engine is
    /// stopping (the app switches connection). Cloud jobs go on without us and
    /// are polled again by the next engine; a local one is killed and is
    /// submitted again then.
    fn stop_all(&self) {}
}
