//! What a job is, and the states it moves through.

use std::path::PathBuf;

use super::{string_enum, BatchId, ConnectionName, JobId, MediaInfo, ObjectRef, OutputManifest, Problem, Progress};

string_enum! {
    /// The stages of the pipeline, in order: upload to the temporary bucket, copy
    /// to the distribution bucket (the original is kept there), transcode to HLS.
    pub enum Stage "a stage" {
        Upload = "upload",
        Copy = "copy",
        Transcode = "transcode",
    }
}

impl Stage {
    /// The stage after this one; `None` after the last.
    pub fn next(self) -> Option<Self> {
        match self {
            Stage::Upload => Some(Stage::Copy),
            Stage::Copy => Some(Stage::Transcode),
            Stage::Transcode => None,
        }
    }
}

string_enum! {
    /// A [`JobState`] without what it carries: the name the store, the UI and
    /// `--json` use.
    pub enum StateName "a job state" {
        Queued = "queued",
        Uploading = "uploading",
        Paused = "paused",
        Copying = "copying",
        Transcoding = "transcoding",
        Ready = "ready",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl StateName {
    /// Whether nothing more happens to the job until someone acts on it:
    /// ready, failed, cancelled or paused (what `settled` waits for).
    pub fn is_at_rest(self) -> bool {
        matches!(self, StateName::Ready | StateName::Failed | StateName::Cancelled | StateName::Paused)
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

    pub fn name(&self) -> StateName {
        match self {
            JobState::Queued { .. } => StateName::Queued,
            JobState::Uploading => StateName::Uploading,
            JobState::Paused => StateName::Paused,
            JobState::Copying => StateName::Copying,
            JobState::Transcoding => StateName::Transcoding,
            JobState::Ready => StateName::Ready,
            JobState::Failed { .. } => StateName::Failed,
            JobState::Cancelled => StateName::Cancelled,
        }
    }
}

/// A camera's file that belongs with a clip (its metadata, thumbnail or proxy,
/// found on the same card): uploaded next to the clip and kept beside its
/// original as a plain object, never a job of its own. Read as it is when
/// sent: it carries no media to protect from a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sidecar {
    pub path: PathBuf,
    /// `<folder or card>/<path under it>`, as a clip's `relative_path`.
    pub relative_path: String,
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

impl Job {
    /// Where the upload stage puts `sidecar`: beside the clip, under the path it had on the card.
    pub fn sidecar_destination(&self, sidecar: &Sidecar) -> ObjectRef {
        let prefix = self.destination.key.strip_suffix(&self.relative_path).unwrap_or("");
        ObjectRef::new(&self.destination.bucket, format!("{prefix}{}", sidecar.relative_path))
    }
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
    /// Where the file sat in what was given: `<folder or card>/<path under it>`
    /// for a file found in a folder, its name for a file given by itself. The
    /// upload key ends with it.
    pub relative_path: String,
    /// What identifies the file's content (see `intake::fingerprint`), to find
    /// the same file added again; `None` for jobs recorded before fingerprints.
    pub fingerprint: Option<String>,
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
    /// What the transcode stage learned, started and made, kept across restarts.
    pub transcode: TranscodeRecord,
    /// The camera's files that belong with this clip (found next to it on a card).
    pub sidecars: Vec<Sidecar>,
}

/// The transcode stage's memory: the probed source, the backend's id for the
/// submitted job (a restart polls it instead of submitting again), and once
/// done, what the backend wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TranscodeRecord {
    pub media: Option<MediaInfo>,
    pub backend_job_id: Option<String>,
    pub manifest: Option<OutputManifest>,
}

/// Live progress of a running stage; in memory only.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LiveProgress {
    pub upload: Option<Progress>,
    pub transcode_percent: Option<u8>,
    /// The transcoder has started working on the job (not still in its queue).
    pub transcode_started: bool,
}
