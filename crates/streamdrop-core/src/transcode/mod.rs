//! Transcoding to HLS: one [`Transcoder`] trait with three backends (local
//! ffmpeg, AWS Elemental MediaConvert, and the legacy Elastic Transcoder), all
//! writing the same [`OutputLayout`], so links, previews and the local edge
//! never care which one ran.
//!
//! The pipeline probes the source once ([`MediaInfo`]), picks the ABR ladder
//! from it ([`Rung`]s, never upscaled), submits, and polls until the backend
//! says complete or error.

use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::jobs::JobId;
use crate::problem::{Problem, ProblemCode};
use crate::storage::ObjectRef;

pub mod elastic_transcoder;
pub mod ladder;
pub mod local_ffmpeg;
pub mod mediaconvert;
pub mod probe;

pub use elastic_transcoder::ElasticTranscoder;
pub use ladder::ladder_for;
pub use local_ffmpeg::{LocalFfmpeg, LocalFfmpegOptions};
pub use mediaconvert::MediaConvert;
pub use probe::{probe, ProbeError};

/// What the source holds, from ffprobe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MediaInfo {
    pub duration_secs: f64,
    /// `None` for audio-only sources.
    pub video: Option<VideoInfo>,
    pub has_audio: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VideoInfo {
    /// As displayed, after any rotation metadata is applied.
    pub width: u32,
    pub height: u32,
    pub frame_rate: f64,
    pub codec: String,
    /// Bits per sample of the luma plane (8, 10, …).
    pub bit_depth: u8,
}

/// One rendition of the ABR ladder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    /// Used in output names, e.g. `720p`.
    pub name: String,
    pub width: u32,
    pub height: u32,
    /// Peak video bitrate, bits per second.
    pub video_max_bitrate: u32,
    pub audio_bitrate: u32,
}

/// Segment and keyframe cadence shared by every backend (Apple's authoring spec).
pub const SEGMENT_SECONDS: u32 = 6;
pub const GOP_SECONDS: u32 = 2;

/// Where a job's outputs live, identical for every backend:
///
/// ```text
/// <prefix>/hls/master.m3u8          master playlist
/// <prefix>/hls/<rung>/index.m3u8    variant playlists, segments beside them
/// <prefix>/thumbs/thumb-00001.jpg   thumbnails, one every 10 s
/// <prefix>/poster.jpg               poster image
/// <prefix>/original/<file name>     the uploaded original, kept
/// <prefix>/links/<link-id>/…        per-link signed playlists
/// ```
/// with `<prefix>` = `jobs/<job-id>` in the distribution bucket, so one
/// wildcard policy over `<prefix>/*` covers everything a job's link needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputLayout {
    pub bucket: String,
    pub prefix: String,
}

impl OutputLayout {
    pub fn for_job(bucket: &str, job: JobId) -> Self {
        Self { bucket: bucket.to_owned(), prefix: format!("jobs/{job}") }
    }

    pub fn master_playlist(&self) -> ObjectRef {
        ObjectRef::new(&self.bucket, format!("{}/hls/master.m3u8", self.prefix))
    }

    /// Folder of one rendition's playlist and segments.
    pub fn rendition_prefix(&self, rung: &str) -> String {
        format!("{}/hls/{rung}/", self.prefix)
    }

    pub fn variant_playlist(&self, rung: &str) -> ObjectRef {
        ObjectRef::new(&self.bucket, format!("{}index.m3u8", self.rendition_prefix(rung)))
    }

    pub fn thumbnails_prefix(&self) -> String {
        format!("{}/thumbs/", self.prefix)
    }

    pub fn poster(&self) -> ObjectRef {
        ObjectRef::new(&self.bucket, format!("{}/poster.jpg", self.prefix))
    }

    pub fn original(&self, file_name: &str) -> ObjectRef {
        ObjectRef::new(&self.bucket, format!("{}/original/{file_name}", self.prefix))
    }
}

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

    /// How often this backend's jobs are worth polling, when more often than
    /// the engine's default (a local job's status is a read from memory).
    fn poll_interval(&self) -> Option<std::time::Duration> {
        None
    }
}
