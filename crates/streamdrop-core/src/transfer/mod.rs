//! Moving bytes into and within S3: resumable, parallel, checksummed multipart
//! uploads, and server-side copies. The app's engine and the CLI both go
//! through [`Transfer`].
//!
//! - `plan`: part sizes and ranges.
//! - `checksum`: CRC32C of file ranges, combined per object.
//! - `body`: streaming request bodies (progress, bandwidth limit, stall watch).
//! - `retry`: backoff with jitter and what counts as transient.
//! - `control`: pause, resume, cancel.
//! - `progress`: byte counts, smoothed rate, ETA.
//! - `upload`, `copy`: the two operations.

mod body;
pub(crate) mod checksum;
mod control;
mod copy;
mod limiter;
mod plan;
mod progress;
mod retry;
mod upload;

use crate::model::{ObjectRef, Problem, ProblemCode, Progress};
use std::path::PathBuf;

use aws_sdk_s3::config::retry::RetryConfig;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::types::ChecksumMode;
use aws_sdk_s3::Client;

pub use control::{Cancelled, TransferControl};
pub use limiter::BandwidthLimiter;
pub use plan::{part_size_for, PartPlan, DEFAULT_PART_SIZE, MAX_OBJECT_SIZE, MAX_PARTS, MIN_PART_SIZE};
pub use retry::{AttemptError, FailureKind, RetryPolicy};

use retry::retrying;

use crate::store::{Store, StoreError};

/// CopyObject handles objects up to 5 GiB; larger ones need UploadPartCopy.
pub const COPY_OBJECT_LIMIT: u64 = 5 * 1024 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct TransferOptions {
    /// Preferred part size; grown as needed so any file fits in 10,000 parts.
    pub part_size: u64,
    /// Parts in flight at once.
    pub concurrency: usize,
    /// Files up to this size go in one PutObject.
    pub multipart_threshold: u64,
    /// Copies above this size use parallel UploadPartCopy.
    pub copy_multipart_threshold: u64,
    /// The limit this transfer's bytes share (with other transfers holding
    /// the same limiter, e.g. every job of an engine).
    pub bandwidth: Option<std::sync::Arc<BandwidthLimiter>>,
    pub retry: RetryPolicy,
    /// Discard a partial upload of this key instead of resuming it.
    pub restart: bool,
}

impl Default for TransferOptions {
    fn default() -> Self {
        Self {
            part_size: DEFAULT_PART_SIZE,
            concurrency: 4,
            multipart_threshold: DEFAULT_PART_SIZE,
            copy_multipart_threshold: COPY_OBJECT_LIMIT,
            bandwidth: None,
            retry: RetryPolicy::default(),
            restart: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReceipt {
    pub etag: Option<String>,
    /// 0 for a single PutObject.
    pub parts: u32,
    /// What this run sent; parts resumed from an earlier run are not counted.
    pub bytes_sent: u64,
    /// Parts an earlier run had already sent.
    pub resumed_parts: u32,
    /// The bytes of those parts.
    pub bytes_resumed: u64,
    /// CRC32C of the whole object.
    pub crc32c: u32,
    part_crcs: Vec<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReceipt {
    pub etag: Option<String>,
    pub size: u64,
    /// 0 for a single CopyObject.
    pub parts: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum TransferError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error(
        "{path} changed since it was added (size or modification time differs); add it again to upload the new version"
    )]
    SourceChangedSinceAdded { path: PathBuf },
    #[error("{path} changed while it was being uploaded (size or modification time differs); upload it again once it is final")]
    SourceChanged { path: PathBuf },
    #[error("{path} changed since its upload began, so the parts already sent belong to another version; run again with --restart to discard them and upload the new version")]
    SourceChangedSinceStart { path: PathBuf },
    #[error("the file is {size} bytes; S3 objects can be at most 5 TiB")]
    TooLarge { size: u64 },
    #[error("S3 {action} failed for {object}: {}{}", .failure.message, tries_suffix(*.attempts))]
    S3 { action: &'static str, object: String, failure: AttemptError, attempts: u32 },
    /// The server no longer holds the multipart upload being continued (aborted,
    /// expired, or never known to it). The upload starts afresh; this never
    /// reaches a job.
    #[error("the server no longer has the multipart upload of {object}")]
    UploadGone { object: String },
    #[error("{object} did not arrive intact ({detail}), so it does not count as transferred; try again")]
    Verification { object: String, detail: String },
    #[error("the transfer was cancelled")]
    Cancelled,
    #[error(transparent)]
    Journal(#[from] StoreError),
}

fn tries_suffix(attempts: u32) -> String {
    if attempts > 1 {
        format!(" (after {attempts} tries)")
    } else {
        String::new()
    }
}

impl TransferError {
    /// What a person is told: one sentence about `file` (the name they know), the rest in the detail.
    pub fn problem(&self, file: &str) -> Problem {
        let about = |code| Problem::new(code).with("file", file);
        match self {
            TransferError::Read { source, .. } => match source.kind() {
                std::io::ErrorKind::NotFound => about(ProblemCode::FileMissing),
                _ => about(ProblemCode::FileUnreadable),
            }
            .detail(self),
            TransferError::SourceChangedSinceAdded { .. } => about(ProblemCode::FileChanged),
            TransferError::SourceChanged { .. } => about(ProblemCode::FileChangedWhileUploading),
            TransferError::SourceChangedSinceStart { .. } => about(ProblemCode::FileChangedSinceUploadBegan),
            TransferError::TooLarge { .. } => about(ProblemCode::FileTooLarge),
            TransferError::S3 { action, failure, .. } => storage_problem(action, failure).detail(self),
            TransferError::Verification { .. } => Problem::new(ProblemCode::NotIntact).detail(self),
            TransferError::UploadGone { .. } | TransferError::Cancelled => {
                Problem::new(ProblemCode::Internal).detail(self)
            }
            TransferError::Journal(_) => Problem::new(ProblemCode::DataDir).detail(self),
        }
    }
}

/// A storage failure as a person should hear it: by what kind of failure it
/// was, not by the SDK's wording.
fn storage_problem(action: &str, failure: &AttemptError) -> Problem {
    let code = failure.code.as_deref().unwrap_or_default();
    match failure.kind {
        FailureKind::Network => Problem::new(ProblemCode::StorageUnreachable),
        // A success status whose body could not be read is no S3 answer either.
        FailureKind::BadReply | FailureKind::Service { status: 200..=299 } => {
            Problem::new(ProblemCode::StorageBadReply)
        }
        FailureKind::Damaged => Problem::new(ProblemCode::NotIntact),
        FailureKind::Service { .. } if code == "BadDigest" => Problem::new(ProblemCode::NotIntact),
        FailureKind::Service { status }
            if status == 403
                || matches!(code, "AccessDenied" | "InvalidAccessKeyId" | "SignatureDoesNotMatch" | "ExpiredToken") =>
        {
            Problem::new(ProblemCode::StorageDenied)
        }
        FailureKind::Service { status } => Problem::new(ProblemCode::StorageError)
            .with("action", storage_action(action))
            .with("code", if code.is_empty() { format!("HTTP {status}") } else { code.to_owned() }),
        FailureKind::Other => {
            Problem::new(ProblemCode::StorageError).with("action", storage_action(action)).with("code", "no answer")
        }
    }
}

/// `UploadPart` → "store part of the upload", for sentences.
fn storage_action(action: &str) -> &'static str {
    match action {
        "PutObject" | "UploadPart" | "CreateMultipartUpload" => "store the upload",
        "CompleteMultipartUpload" => "finish the upload",
        "CopyObject" | "UploadPartCopy" => "copy the file",
        "HeadObject" => "check the stored file",
        "ListParts" => "list what was already sent",
        _ => "do that",
    }
}

/// Reports nothing.
pub const NO_PROGRESS: &(dyn Fn(Progress) + Send + Sync) = &|_| {};

/// One transfer to `dest`: configure it, then [`upload`](Transfer::upload) a
/// file or [`copy_from`](Transfer::copy_from) another object.
pub struct Transfer<'a> {
    client: Client,
    target: &'a str,
    dest: &'a ObjectRef,
    options: &'a TransferOptions,
    journal: &'a Store,
    control: TransferControl,
    progress: &'a (dyn Fn(Progress) + Send + Sync),
}

impl<'a> Transfer<'a> {
    /// `target` names the storage (e.g. `local`, or an endpoint URL) so the
    /// journal never resumes an upload on the wrong server.
    pub fn new(
        client: &Client,
        target: &'a str,
        dest: &'a ObjectRef,
        options: &'a TransferOptions,
        journal: &'a Store,
    ) -> Self {
        // Retries happen here, part by part, with byte accounting the SDK cannot do.
        let client = Client::from_conf(client.config().to_builder().retry_config(RetryConfig::disabled()).build());
        Self { client, target, dest, options, journal, control: TransferControl::new(), progress: NO_PROGRESS }
    }

    pub fn with_control(mut self, control: TransferControl) -> Self {
        self.control = control;
        self
    }

    pub fn on_progress(mut self, progress: &'a (dyn Fn(Progress) + Send + Sync)) -> Self {
        self.progress = progress;
        self
    }

    /// HeadObject with retries; `checksums` asks the server to report the object's checksums.
    async fn head(&self, object: &ObjectRef, checksums: bool) -> Result<HeadObjectOutput, TransferError> {
        retrying(&self.options.retry, &self.control, || async {
            let mut request = self.client.head_object().bucket(&object.bucket).key(&object.key);
            if checksums {
                request = request.checksum_mode(ChecksumMode::Enabled);
            }
            request.send().await.map_err(AttemptError::from_sdk)
        })
        .await
        .map_err(|e| self.gave_up("HeadObject", e))
    }

    /// The destination's HEAD, once it holds exactly `expected` bytes (as `source` has).
    async fn head_dest_of_size(
        &self,
        expected: u64,
        source: &str,
        checksums: bool,
    ) -> Result<HeadObjectOutput, TransferError> {
        let head = self.head(self.dest, checksums).await?;
        let size = head.content_length().unwrap_or(-1);
        if size != expected as i64 {
            return Err(TransferError::Verification {
                object: self.dest.to_string(),
                detail: format!("the server holds {size} bytes, {source} has {expected}"),
            });
        }
        Ok(head)
    }
}
